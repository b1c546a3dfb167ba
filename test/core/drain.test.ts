// The transport-agnostic drain (src/runtime/drain.ts), driven through a recorded participant: pure logic, no process.
import { describe, expect, it } from 'vitest'
import { createDrain } from '../../src/runtime/drain.js'
import type { CycleParticipant, ShutdownControl } from '../../src/shutdown/controller.js'

function control(): ShutdownControl & { participants: Set<CycleParticipant> } {
  const participants = new Set<CycleParticipant>()
  return {
    participants,
    logger: { info() {}, warn() {}, error() {} },
    graceMs: 1000,
    state: 'running',
    track: () => {
      throw new Error('not used')
    },
    addParticipant(p) {
      participants.add(p)
      return () => participants.delete(p)
    },
    awaitCycle: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  }
}

describe('createDrain', () => {
  it('drains from the start of a cycle until the controller re-arms', () => {
    const c = control()
    const drain = createDrain(c)
    const [p] = [...c.participants]
    expect(drain.isDraining).toBe(false)
    p!.onStopping!('SIGTERM')
    expect(drain.isDraining).toBe(true)
    p!.onRearm!()
    expect(drain.isDraining).toBe(false)
  })

  it("the cycle's last step waits for every owed response, bounded by its signal", async () => {
    const c = control()
    const drain = createDrain(c)
    const [p] = [...c.participants]
    const a = drain.exchange()
    const b = drain.exchange()
    let finalized = false
    const done = p!.onFinalize!(new AbortController().signal).then(() => (finalized = true))
    a.settle()
    a.settle() // idempotent: still one owed
    // a macrotask turn: whatever the settles set off (a promise chain, no timer) has run by then
    await new Promise((r) => setImmediate(r))
    expect(finalized).toBe(false)
    b.settle()
    await done
    expect(finalized).toBe(true)

    drain.exchange()
    const deadline = new AbortController()
    const cut = p!.onFinalize!(deadline.signal)
    deadline.abort()
    await cut
  })

  it('an exchange whose client went away: a real AbortSignal (made on first read, before or after) and the runtime listener', () => {
    const drain = createDrain(control())
    const early = drain.exchange()
    const seen: string[] = []
    early.onClientGone = () => seen.push('gone')
    const signal = early.signal
    expect(signal).toBeInstanceOf(AbortSignal)
    expect(signal.aborted).toBe(false)
    early.clientGone()
    early.clientGone()
    expect(signal.aborted).toBe(true)
    expect(seen).toEqual(['gone'])
    expect(early.isClientGone).toBe(true)

    const late = drain.exchange()
    late.clientGone()
    expect(late.signal).toBeInstanceOf(AbortSignal)
    expect(late.signal.aborted).toBe(true)
  })

  it('close() leaves the cycle', () => {
    const c = control()
    const drain = createDrain(c)
    expect(c.participants.size).toBe(1)
    drain.close()
    expect(c.participants.size).toBe(0)
  })
})
