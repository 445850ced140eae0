/**
 * Recharge's leaky bucket, per access token: each call adds one unit, the bucket drains `leakRate` units per second
 * in whole units, and a call that would overflow it is refused (429) without being processed or counted.
 * Whole-unit draining keeps `X-Recharge-Limit: <used>/<size>` an integer, as Recharge sends it.
 */
export interface BucketDecision {
  allowed: boolean
  used: number
  size: number
}

interface BucketState {
  used: number
  /** Time up to which draining has been accounted for. */
  drainedAt: number
}

export class LeakyBuckets {
  readonly size: number
  readonly #msPerUnit: number
  readonly #buckets = new Map<string, BucketState>()

  constructor(size: number, leakRatePerSecond: number) {
    this.size = size
    this.#msPerUnit = 1000 / leakRatePerSecond
  }

  take(key: string, now: number): BucketDecision {
    const bucket = this.#drain(key, now)
    if (bucket.used + 1 > this.size) return { allowed: false, used: bucket.used, size: this.size }
    bucket.used += 1
    return { allowed: true, used: bucket.used, size: this.size }
  }

  peek(key: string, now: number): number {
    return this.#drain(key, now).used
  }

  reset(): void {
    this.#buckets.clear()
  }

  #drain(key: string, now: number): BucketState {
    let bucket = this.#buckets.get(key)
    if (!bucket) {
      bucket = { used: 0, drainedAt: now }
      this.#buckets.set(key, bucket)
      return bucket
    }
    if (bucket.used === 0) {
      bucket.drainedAt = now
      return bucket
    }
    const units = Math.floor((now - bucket.drainedAt) / this.#msPerUnit)
    if (units > 0) {
      const drained = Math.min(units, bucket.used)
      bucket.used -= drained
      bucket.drainedAt = bucket.used === 0 ? now : bucket.drainedAt + units * this.#msPerUnit
    }
    return bucket
  }
}
