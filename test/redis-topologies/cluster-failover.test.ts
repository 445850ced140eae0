import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DisposableRedisCluster } from '../../tools/redis-cluster.ts'
import type { RedisProcess } from '../../tools/redis-process.ts'
import { describeFigures, type FailoverFigures, runFailover } from './failover-run.ts'

/**
 * The primary that holds the queue's budget book is SIGKILLed (a crash, not CLUSTER FAILOVER) while two bridges take
 * ten times their Recharge budget; its replica takes over the slot. The cluster is this file's own: killing a node of
 * the run's shared cluster would fail the other files. Runs with npm run test:redis-topologies (the cluster pass).
 */
describe.runIf(process.env.REDIS_TOPOLOGY === 'cluster')('a cluster primary killed under 10× oversubscription', () => {
  let cluster: DisposableRedisCluster
  let figures: FailoverFigures

  beforeAll(async () => {
    cluster = await DisposableRedisCluster.start()
    let killed: RedisProcess | null = null
    figures = await runFailover({
      env: { REDIS_URL: cluster.url },
      async kill(key) {
        killed = await cluster.primaryFor(key)
        await killed.kill()
      },
      async waitForPromotion(key) {
        await cluster.waitForPromotion(key, killed as unknown as RedisProcess)
      },
    })
    console.log(describeFigures('cluster', figures))
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
  })

  it('answers every request, sends Recharge no 429 and no write twice, and keeps idempotency', () => {
    expect(figures.unanswered).toBe(0)
    expect(figures.answers).toHaveLength(figures.requests)
    expect(figures.upstream429).toBe(0)
    expect(figures.duplicateWrites).toEqual([])
    expect(figures.broken).toEqual([])
  })

  it('went degraded while the slot had no primary and uses the shared budget on the promoted replica again', () => {
    expect(figures.degradedSeen).toBe(true)
    expect(figures.sharedAgainAfterMs).not.toBeNull()
  })
})
