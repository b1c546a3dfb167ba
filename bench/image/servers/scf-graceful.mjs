// this adapter: serveEventFunction does all of it (503 while draining, idle sockets, exit 0)
import { serveEventFunction } from 'scf-graceful/express'
import { instrument, work } from './common.mjs'

const { server } = serveEventFunction(
  async (event, context, inv) => {
    if (event.fast) return { ok: true }
    await work()
    // inv.signal is deliberately ignored: the same 1 s of work as the other contenders
    return { ok: true }
  },
  { logger: false },
)
instrument(server)
