// SHA-256 of one chunk, on the calling thread. A worker pool over shared buffers was tried (the former `hashWorkers`
// option): on the 2-core machine it saved no wall time, because the second core is already busy with the kernel's
// copies and the I/O thread pool, so it was dropped (issue 14 item 7).
import { createHash } from 'node:crypto'

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
