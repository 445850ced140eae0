/**
 * The simulator's notion of "now". Real time by default; frozen clocks only move when told to, so rate-limit and
 * retry tests are exact instead of racing the wall clock.
 */
export class SimClock {
  #frozenAt: number | null
  #offsetMs = 0

  constructor(frozen = false) {
    this.#frozenAt = frozen ? Date.now() : null
  }

  now(): number {
    return this.#frozenAt ?? Date.now() + this.#offsetMs
  }

  get frozen(): boolean {
    return this.#frozenAt !== null
  }

  advance(ms: number): void {
    if (this.#frozenAt !== null) this.#frozenAt += ms
    else this.#offsetMs += ms
  }

  freeze(): void {
    this.#frozenAt ??= this.now()
  }

  /** Back to the real time (still frozen, at the current real time, if it was frozen). */
  reset(): void {
    this.#offsetMs = 0
    if (this.#frozenAt !== null) this.#frozenAt = Date.now()
  }

  unfreeze(): void {
    if (this.#frozenAt === null) return
    this.#offsetMs = this.#frozenAt - Date.now()
    this.#frozenAt = null
  }
}
