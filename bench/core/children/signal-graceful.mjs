// scf-graceful child: a code-deployment function (graceful()) invoked in a loop the way SCF's runtime would
// call main_handler; each SIGTERM aborts the invocation in flight, which returns; graceful re-arms after the cycle.
import { graceful } from 'scf-graceful'
import { serve, sleep, waitForAbort } from './signal-common.mjs'

serve()
const main_handler = graceful(
  async (event, context, inv) => {
    // still stopping from the previous SIGTERM: not re-armed yet, try again shortly
    if (inv.signal.aborted) return 'not-armed'
    await waitForAbort(inv.signal)
    return 'stopped'
  },
  { logger: false },
)

const context = {
  request_id: '',
  memory_limit_in_mb: 128,
  time_limit_in_ms: 900_000,
  function_name: 'signal-bench',
  function_version: '$LATEST',
  namespace: 'default',
}
for (let i = 0; ; i++) {
  let result
  try {
    result = await main_handler({ n: i }, { ...context, request_id: `req-${i}` })
  } catch {
    result = 'error'
  }
  if (result !== 'stopped') await sleep(1)
}
