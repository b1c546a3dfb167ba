// A code-deployment function as SCF loads it: a CommonJS index.js whose handler is index.main_handler. SCF's
// Node.js runtime require()s the entry, so it is CommonJS; scf-graceful ships a CommonJS build for exactly this.
'use strict'
const { graceful } = require('scf-graceful')

// an async event: works in steps until done, or until it is told to stop (TerminateAsyncEvent with
// GraceShutdown, or its own timeout coming near), then returns what it did
exports.main_handler = graceful(async (event, context, inv) => {
  const steps = Number(event.steps ?? 50)
  let done = 0
  while (done < steps && !inv.shouldStop) {
    done += 1
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  console.log(`worked ${done}/${steps} steps${inv.shouldStop ? `, stopped: ${inv.signal.reason.reason}` : ''}`)
  return { done, steps, stopped: inv.shouldStop }
})
