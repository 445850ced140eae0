import type { FastifyReply } from 'fastify'
import type { CacheResult } from './types.ts'

/**
 * Send a cached result as is: the stored JSON string goes out without re-serialisation (Fastify sends strings
 * untouched), with `X-Cache: HIT|MISS|STALE` and `Age` (whole seconds since the value was fetched). The stored value
 * was validated when fetched, so the route's response schema need not run again on a hit.
 */
export function sendCached(reply: FastifyReply, result: CacheResult<unknown>): FastifyReply {
  return reply
    .header('x-cache', result.state)
    .header('age', String(Math.floor(result.ageMs / 1000)))
    .type('application/json; charset=utf-8')
    .serializer(passThrough)
    .send(result.json)
}

/** A serializer that sends an already serialised JSON string untouched. */
export function passThrough(payload: unknown): string {
  return payload as string
}
