import { deepFreeze } from '../infra/deep-freeze.ts'
import type { ValueMemo } from './memory-tier.ts'
import type { CacheResult, CacheState } from './types.ts'

/**
 * What a cached function resolves to. `json` is the stored serialisation, sent as is by routes; `value` is parsed
 * from it on first access only, so a hit that is just sent never parses, and every caller gets its own copy (no
 * shared object to mutate) with the same shape whatever tier answered.
 */
export class CachedResult<T> implements CacheResult<T> {
  readonly json: string
  readonly state: CacheState
  readonly ageMs: number
  private parsed: T | undefined
  private isParsed = false
  private readonly memo: ValueMemo | undefined

  /** With `memo` (a `shareValue` definition's L1 entry), every result of that entry shares one frozen value. */
  constructor(json: string, state: CacheState, ageMs: number, memo?: ValueMemo) {
    this.json = json
    this.state = state
    this.ageMs = ageMs
    this.memo = memo
  }

  get value(): T {
    const memo = this.memo
    if (memo !== undefined) {
      if (!memo.parsed) {
        memo.value = deepFreeze(JSON.parse(this.json))
        memo.parsed = true
      }
      return memo.value as T
    }
    if (!this.isParsed) {
      this.parsed = JSON.parse(this.json) as T
      this.isParsed = true
    }
    return this.parsed as T
  }
}
