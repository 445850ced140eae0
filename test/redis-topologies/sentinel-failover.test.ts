import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisProcess } from '../../tools/redis-process.ts'
import { DisposableRedisSentinel } from '../../tools/redis-sentinel.ts'
import { describeFigures, type FailoverFigures, runFailover } from './failover-run.ts'

/**
 * The primary is SIGKILLed while two bridges take ten times their Recharge budget; the sentinels promote the replica
 * and the bridges follow it without a restart. The set-up is this file's own: killing the run's shared primary would
 * fail the other files. Runs with npm run test:redis-topologies (the Sentinel pass).
 */
describe.runIf(process.env.REDIS_TOPOLOGY === 'sentinel')(
  'a Sentinel primary killed under 10× oversubscription',
  () => {
    let sentinel: DisposableRedisSentinel
    let figures: FailoverFigures

    beforeAll(async () => {
      sentinel = await DisposableRedisSentinel.start()
      let killed: RedisProcess | null = null
      figures = await runFailover({
        env: { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name },
        async kill() {
          killed = await sentinel.primary()
          await killed.kill()
        },
        async waitForPromotion() {
          await sentinel.waitForPromotion(killed as unknown as RedisProcess)
        },
      })
      console.log(describeFigures('sentinel', figures))
    }, 120_000)

    afterAll(async () => {
      await sentinel?.stop()
    })

    it('answers every request, sends Recharge no 429 and no write twice, and keeps idempotency', () => {
      expect(figures.unanswered).toBe(0)
      expect(figures.answers).toHaveLength(figures.requests)
      expect(figures.upstream429).toBe(0)
      expect(figures.duplicateWrites).toEqual([])
      expect(figures.broken).toEqual([])
    })

    it('went degraded while there was no primary and uses the shared budget on the promoted replica again', () => {
      expect(figures.degradedSeen).toBe(true)
      expect(figures.sharedAgainAfterMs).not.toBeNull()
    })
  },
)
