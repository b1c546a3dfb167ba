// Shared by the drain contenders: the same 1-second request and the same timestamps, printed on stdout.
const t = () => performance.now().toFixed(2)
export const mark = (what) => process.stdout.write(`${what} ${t()}\n`)

process.on('SIGTERM', () => mark('SIGTERM'))

/** The in-flight work: 1 s, whatever the signal says (as the alternatives cannot tell it anything). */
export const work = () => new Promise((r) => setTimeout(r, 1000))

/** Express route handler of the contenders without the adapter. */
export async function slowRoute(req, res) {
  if (req.body?.fast) return res.json({ ok: true })
  await work()
  res.json({ ok: true })
}

export function instrument(server) {
  server.on('close', () => mark('CLOSED'))
  // the slow request carries x-slow; its last byte handed to the socket is the "last response"
  server.on('request', (req, res) => {
    if (req.headers['x-slow']) res.once('finish', () => mark('RESPONDED'))
  })
  server.on('listening', () => mark('READY'))
}
