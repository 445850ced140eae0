import { defineConfig } from 'vitest/config'

/**
 * The Redis suites again on a Redis Cluster and on Sentinel (`npm run test:redis-topologies`): REDIS_TOPOLOGY=cluster
 * or sentinel makes test/support/redis-global-setup.ts start that topology on loopback for the run. The files are the
 * ones whose subject lives in Redis: the queue's budget book and locks, the cache and its invalidation channel,
 * idempotency, the webhook stream and its consumer group, the write limits; and each topology's failover test and its
 * idempotency replication test (a keyed write waits for a replica).
 * Tests inside them that start their own single Redis to kill or freeze it stay single-Redis (see docs/redis.md).
 */
export default defineConfig({
  root: new URL('../../', import.meta.url).pathname,
  test: {
    name: 'redis-topologies',
    globalSetup: ['test/support/redis-global-setup.ts'],
    include: [
      'test/integration/recharge-queue-redis.test.ts',
      'test/integration/recharge-plugin.test.ts',
      'test/integration/cache-redis.test.ts',
      'test/integration/cache-simulator.test.ts',
      'test/integration/shopper-idempotency-redis.test.ts',
      'test/integration/checkout-redis-stores.test.ts',
      'test/integration/catalog-state-store.test.ts',
      'test/integration/webhooks-queue.test.ts',
      'test/integration/webhooks-intake.test.ts',
      'test/integration/webhooks-watchdog.test.ts',
      'test/security/checkout-idempotency-scope.test.ts',
      'test/security/write-limit-replicas.test.ts',
      'test/redis-topologies/*.test.ts',
    ],
    sequence: { shuffle: true },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
