// The examples as they deploy, each run in the emulator on Nodejs18.15: the code function from its zip layout
// (handler index.main_handler) terminated gracefully, the image function (port 9000 server) and the job.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { startEmulator, waitForEnd } from '../emulator/helpers.js'
import { describeOnRuntimes, unpackedZip } from './binaries.js'
import { waitFor } from '../setup/wait.js'

const example = (path: string) => fileURLToPath(new URL(`../../examples/${path}`, import.meta.url))

async function logsOf(local: Awaited<ReturnType<typeof startEmulator>>['local'], id: string): Promise<string> {
  const logs = (await local.emulator.getEventLogs(id)) as unknown as Array<{ line: string }> | string
  return typeof logs === 'string' ? logs : JSON.stringify(logs)
}

describeOnRuntimes('examples in the emulator', (runtime) => {
  it('code-function (zip layout, index.main_handler): loops, TerminateAsyncEvent with GraceShutdown ends it ABORTED/200 with its hook run', async () => {
    const zip = await unpackedZip(example('code-function'))
    const { local, scf } = await startEmulator({ functions: [{ name: 'loop', entry: zip.dir, handler: 'index.main_handler', runtime, timeoutMs: 60_000 }] })
    try {
      const id = (await scf.Invoke({ FunctionName: 'loop', InvocationType: 'Event', ClientContext: '{}' })).Result.FunctionRequestId as string
      let seen = ''
      await waitFor(async () => (seen = await logsOf(local, id)).includes('sleep: 1'), { what: () => `"sleep: 1" in ${seen}`, timeoutMs: 20_000, intervalMs: 100 })
      await scf.TerminateAsyncEvent({ FunctionName: 'loop', InvokeRequestId: id, GraceShutdown: true })
      expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'ABORTED', StatusCode: 200 })
      const logs = await logsOf(local, id)
      expect(logs).toContain('do something before shutdown (SIGTERM)')
      expect(logs).toMatch(/Graceful shutdown after \d+ rounds: SIGTERM/)
    } finally {
      await local.close()
      await zip.remove()
    }
  })

  it('image-function (node server.mjs on port 9000): an event runs to FINISHED', async () => {
    const { local, scf } = await startEmulator({ functions: [{ name: 'web', entry: example('image-function/server.mjs'), mode: 'image', runtime, timeoutMs: 60_000, asyncRunEnable: false }] })
    try {
      const out = await scf.Invoke({ FunctionName: 'web', InvocationType: 'RequestResponse', ClientContext: JSON.stringify({ items: [1, 2] }) })
      expect(JSON.stringify(out)).toContain('\\"done\\":2')
    } finally {
      await local.close()
    }
  })

  it('job-function (node job.mjs, event in SCF_CUSTOM_CONTAINER_EVENT): an event runs to FINISHED', async () => {
    const store = await mkdtemp(join(tmpdir(), 'scfg-example-job-'))
    const { local, scf } = await startEmulator({ functions: [{ name: 'job', entry: example('job-function/job.mjs'), mode: 'job', runtime, timeoutMs: 60_000, env: { JOB_STORE_DIR: store } }] })
    try {
      const id = (await scf.Invoke({ FunctionName: 'job', InvocationType: 'Event', ClientContext: JSON.stringify({ files: ['a.csv'] }) })).Result.FunctionRequestId as string
      expect(await waitForEnd(scf, id)).toMatchObject({ Status: 'FINISHED', StatusCode: 200 })
      expect(await logsOf(local, id)).toContain('all 1 files converted')
    } finally {
      await local.close()
      await rm(store, { recursive: true, force: true })
    }
  })
}, ['Nodejs18.15'])
