// Baseline child: the least a process can do, a SIGTERM listener that aborts an AbortController.
import { serve, waitForAbort } from './signal-common.mjs'

serve()
let controller
process.on('SIGTERM', () => controller?.abort(new Error('SIGTERM')))
for (;;) {
  controller = new AbortController()
  await waitForAbort(controller.signal)
}
