// Vitest global setup: builds nothing (npm test builds first); starts the real servers the store tests need
// (redis-server and a single-node Ceph radosgw, concurrently) and hands their addresses to the tests through
// `inject('servers')`. SCFG_TEST_SERVERS=none skips them (quick local runs of unrelated tests).
import type { TestProject } from 'vitest/node'
import { startServers, type ServersInfo } from './servers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    servers: ServersInfo
  }
}

export default async function setup(project: TestProject): Promise<void | (() => Promise<void>)> {
  if (process.env.SCFG_TEST_SERVERS === 'none') {
    project.provide('servers', { redisSkip: 'SCFG_TEST_SERVERS=none', cephSkip: 'SCFG_TEST_SERVERS=none' })
    return undefined
  }
  const { info, stop } = await startServers()
  project.provide('servers', info)
  return stop
}
