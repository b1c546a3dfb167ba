// The cycle's deadlines end with the cycle: a cycle that finished in time leaves no timer behind that would abort its
// deadline signals later (and make an Error for nobody, graceMs after every SIGTERM of a long-lived process), while a
// step that outlasts the deadline still sees its signal abort. In-process: the controller of this test worker, with
// no signal listeners installed (shutdown() is called directly).
import { describe, expect, it } from 'vitest'
import { getController } from '../../src/shutdown/controller.js'

const GRACE_MS = 80

describe('the shutdown cycle deadline', () => {
  const controller = getController()
  controller.configure({ graceMs: GRACE_MS, logger: false, exitAfterShutdown: false }, 'cycle-deadline.test')

  it('a cycle that finished in time leaves its deadline signal unaborted afterwards', async () => {
    let seen: AbortSignal | undefined
    const leave = controller.addParticipant({
      async onFlush(signal) {
        seen = signal
      },
    })
    try {
      await controller.shutdown('manual')
      expect(controller.state).toBe('running')
      expect(seen?.aborted).toBe(false)
      // a positive barrier, not a guess: timers of one duration fire in the order they were set, and the cycle set
      // its deadline timers (GRACE_MS) before this one, so a deadline timer still alive has fired by now
      await new Promise((resolve) => setTimeout(resolve, GRACE_MS))
      expect(seen?.aborted).toBe(false)
    } finally {
      leave()
    }
  })

  it('a flush that outlasts the deadline sees its signal abort, and the cycle ends', async () => {
    let seen: AbortSignal | undefined
    const leave = controller.addParticipant({
      onFlush(signal) {
        seen = signal
        // never settles by itself: only the deadline ends this step
        return new Promise(() => {})
      },
    })
    try {
      await controller.shutdown('manual')
      expect(seen?.aborted).toBe(true)
      expect(String((seen?.reason as Error | undefined)?.message)).toMatch(/deadline of \d+ ms passed/)
      expect(controller.state).toBe('running')
    } finally {
      leave()
    }
  })
})
