// An SCF Job image function: no HTTP server; the event arrives in SCF_CUSTOM_CONTAINER_EVENT and the exit code is
// the outcome. Progress lives in /tmp and is flushed to a store on the way out (SIGTERM, timeout, or done), so the
// next run picks up where this one stopped.
import { appendFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runJob } from 'scf-graceful'
import { fsStore } from 'scf-graceful/stores/fs'

const progressFile = join(tmpdir(), 'progress.log')

await runJob(
  async (event, context, inv) => {
    const done = new Set((await readFile(progressFile, 'utf8').catch(() => '')).split('\n').filter(Boolean))
    const files = Array.isArray(event.files) ? event.files : ['a.csv', 'b.csv', 'c.csv', 'd.csv']
    for (const file of files) {
      if (done.has(file)) continue
      // stopping by throwing the ShutdownError exits 143 (stopped); returning instead would exit 0
      inv.throwIfStopped()
      console.log(`converting ${file}`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      await appendFile(progressFile, `${file}\n`)
    }
    console.log(`all ${files.length} files converted`)
  },
  // on SCF, use a durable store instead (s3Store for COS, redisStore); fsStore keeps the example self-contained
  { persist: { store: fsStore({ dir: process.env.JOB_STORE_DIR ?? join(tmpdir(), 'job-store') }), key: 'convert-job' } },
)
