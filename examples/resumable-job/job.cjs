// A resumable job, written the way a user would: it processes items and keeps its progress in /tmp. With `persist`,
// scf-graceful restores /tmp from the store when a new instance starts, checkpoints it every second, and flushes it
// when the platform sends SIGTERM (TerminateAsyncEvent with GraceShutdown). So the job survives both a graceful stop
// (nothing lost) and a forced one (back to the last checkpoint).
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { graceful } = require('scf-graceful')
const { fsStore } = require('scf-graceful/stores/fs')

const store = fsStore({ dir: process.env.DEMO_STORE_DIR ?? '.demo-data/store' })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function load(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { done: 0 }
}

function save(file, progress) {
  // temp + rename: a snapshot taken at any moment sees the old file or the new one, never half of one
  writeFileSync(`${file}.tmp`, JSON.stringify(progress))
  renameSync(`${file}.tmp`, file)
}

exports.main_handler = graceful(
  async (event, context, inv) => {
    const { job = 'default', items = 30, itemMs = 100 } = event
    const file = join(tmpdir(), `progress-${job}.json`)
    const progress = load(file)
    console.log(progress.done > 0 ? `job ${job}: resuming at item ${progress.done + 1}/${items} (pid ${process.pid})` : `job ${job}: starting at item 1/${items} (pid ${process.pid})`)
    while (progress.done < items) {
      if (inv.shouldStop) {
        console.log(`job ${job}: asked to stop after item ${progress.done}/${items}; the progress stays in /tmp and is flushed to the store`)
        return { job, stopped: true, done: progress.done }
      }
      await sleep(itemMs) // the real work of one item
      progress.done++
      save(file, progress)
      if (progress.done % 5 === 0) console.log(`job ${job}: ${progress.done}/${items} items done`)
    }
    console.log(`job ${job}: all ${items} items done`)
    return { job, finished: true, done: progress.done }
  },
  { persist: { store, key: 'demo/resumable-job', checkpointIntervalMs: 1000 } },
)
