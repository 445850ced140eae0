import type { Lane } from '../infra/lane.ts'
import type { FetchContext } from './types.ts'

/** What an origin fetch passes on to its upstream call: the lane, the deadline and the abort signal of the fetch. */
export function callOptions(context: Pick<FetchContext, 'lane' | 'deadlineMs' | 'signal'>): {
  lane: Lane
  deadlineMs: number
  signal?: AbortSignal
} {
  return { lane: context.lane, deadlineMs: context.deadlineMs, ...(context.signal ? { signal: context.signal } : {}) }
}
