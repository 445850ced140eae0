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

  constructor(json: string, state: CacheState, ageMs: number) {
    this.json = json
    this.state = state
    this.ageMs = ageMs
  }

  get value(): T {
    if (!this.isParsed) {
      this.parsed = JSON.parse(this.json) as T
      this.isParsed = true
    }
    return this.parsed as T
  }
}
