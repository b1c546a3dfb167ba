// An SCF image function (event type): SCF sends each event as POST /event-invoke to port 9000.
// The work is a loop over the event's items that stops when told (SIGTERM, the client going away, or the
// invocation's own timeout coming up) and says how far it got.
import { onShutdown } from 'scf-graceful'
import { serveEventFunction } from 'scf-graceful/express'

onShutdown((reason) => console.log(`closing connections before exit (${reason})`), { name: 'goodbye', timeoutMs: 2000 })

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
  })

serveEventFunction(async (event, context, inv) => {
  const items = Array.isArray(event.items) ? event.items : Array.from({ length: 30 }, (_, i) => i)
  let done = 0
  for (const item of items) {
    if (inv.shouldStop) break
    console.log(`request ${context.requestId}: item ${item}`)
    await sleep(1000, inv.signal)
    if (!inv.shouldStop) done += 1
  }
  if (inv.shouldStop) return { stopped: inv.signal.reason.reason, done, of: items.length }
  return { done, of: items.length }
})
