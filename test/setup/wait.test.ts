import { describe, expect, it } from 'vitest'
import { quietPeriod, waitFor } from './wait.js'

describe('waitFor', () => {
  it('returns the first truthy value of the check', async () => {
    let n = 0
    await expect(waitFor(() => (++n >= 3 ? `n=${n}` : undefined), { what: 'three checks', intervalMs: 1 })).resolves.toBe('n=3')
  })

  it('throws naming what it waited for once the bound passed', async () => {
    await expect(waitFor(() => false, { what: "the 'started' line", timeoutMs: 30, intervalMs: 5 })).rejects.toThrow("timed out after 30 ms waiting for the 'started' line")
    await expect(waitFor(() => 0, { what: () => 'logs: a, b', timeoutMs: 1 })).rejects.toThrow('waiting for logs: a, b')
  })

  it('a check that throws fails the wait at once', async () => {
    await expect(waitFor(() => { throw new Error('broken check') }, { what: 'x' })).rejects.toThrow('broken check')
  })
})

describe('quietPeriod', () => {
  it('needs a reason', async () => {
    await expect(quietPeriod(1, ' ')).rejects.toThrow('quietPeriod needs a reason')
    await expect(quietPeriod(1, 'nothing to observe')).resolves.toBeUndefined()
  })
})
