import type { Clock } from '../../src/infra/clock.ts'

/** Lets every promise chain that can run now run (one macrotask turn, twice: a woken call may book and sleep again). */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve))
}

/**
 * Virtual time for components that take a Clock: `now()` moves only when the test says, sleepers wake in time order.
 * `advance` is time passing normally; `stall` is a frozen event loop: the time jumps and every sleeper that came due
 * meanwhile wakes at once, late.
 */
export class ManualClock implements Clock {
  #now: number
  #sleepers: { at: number; wake: () => void }[] = []

  constructor(start = 1_000_000) {
    this.#now = start
  }

  now = (): number => this.#now

  sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      this.#sleepers.push({ at: this.#now + ms, wake: resolve })
    })

  /** Let `ms` pass, waking each sleeper at its own time. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms
    await settle()
    for (;;) {
      const next = this.#sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0]
      if (!next) break
      this.#sleepers.splice(this.#sleepers.indexOf(next), 1)
      this.#now = Math.max(this.#now, next.at)
      next.wake()
      await settle()
    }
    this.#now = target
  }

  /** The process froze for `ms`: time jumps, then every sleeper now due wakes together. */
  async stall(ms: number): Promise<void> {
    this.#now += ms
    const due = this.#sleepers.filter((s) => s.at <= this.#now)
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now)
    for (const sleeper of due) sleeper.wake()
    await settle()
  }
}
