// A code-deployment function in the spirit of the platform's own Python sample: a loop that works until it is
// told to stop (TerminateAsyncEvent with GraceShutdown, or its own timeout coming up), then says so and returns.
// CommonJS, as SCF's Node.js runtime require()s the entry (handler `index.main_handler`).
const { graceful, onShutdown } = require('scf-graceful')

onShutdown((reason) => console.log(`do something before shutdown (${reason})`), { name: 'goodbye' })

exports.main_handler = graceful(async (event, context, inv) => {
  let rounds = 0
  while (!inv.shouldStop) {
    rounds += 1
    console.log(`sleep: ${rounds}`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  console.log(`Graceful shutdown after ${rounds} rounds: ${inv.signal.reason.reason}`)
  return 'END'
})
