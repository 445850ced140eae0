import { setTimeout as delay } from 'node:timers/promises'
import { conflict } from './errors.ts'

/**
 * Recharge answers 409 when two requests edit an address or one of its children (subscriptions, charges,
 * onetimes) at the same time. A write holds its address for `windowMs` (the mutation applies at once, the answer
 * comes at the end of the window), so two writes that genuinely overlap produce the 409 a real race would.
 */
export class AddressLocks {
  readonly #held = new Set<number>()
  readonly #windowMs: number

  constructor(windowMs: number) {
    this.#windowMs = windowMs
  }

  async write<T>(addressId: number, mutate: () => T): Promise<T> {
    if (this.#held.has(addressId)) {
      throw conflict('A call to this route is already in progress.')
    }
    this.#held.add(addressId)
    try {
      const result = mutate()
      if (this.#windowMs > 0) await delay(this.#windowMs)
      return result
    } finally {
      this.#held.delete(addressId)
    }
  }

  clear(): void {
    this.#held.clear()
  }
}
