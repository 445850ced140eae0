import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenFingerprint } from '../../src/recharge/fingerprint.ts'
import { gcraParams } from '../../src/recharge/queue/gcra.ts'
import { RedisGcra } from '../../src/recharge/queue/redis-gcra.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * An account page opened while the bucket is busy (the mirror's fill, another app, a burst of shoppers): the
 * subscription list's upcoming-charges read is optional and refused when the bucket is past the optional line, while
 * the page's own /v1/charges, which needs the same list, is interactive and fits. The two reads share one fetch
 * (single-flight): the charges must not be answered with the optional read's refusal.
 */
let h: ShopperHarness

beforeAll(async () => {
  // Recharge's real budget, on the simulator and in the bridge's queue.
  h = await startShopperHarness('optr', { bucketSize: 40, leakRate: 2 })
})

afterAll(async () => {
  await h?.close()
})

describe('a required read sharing a fetch with an optional one', () => {
  it('is answered although the optional read that led the fetch was refused', async () => {
    const app = await h.bridge(undefined, {}, { RECHARGE_BUCKET_SIZE: '40', RECHARGE_LEAK_RATE: '2' })
    const book = new RedisGcra({
      redis: h.redis,
      keyPrefix: `${app.config.REDIS_KEY_PREFIX}:{${tokenFingerprint(h.sim.apiToken)}}`,
      params: gcraParams({ capacity: 40, ratePerSecond: 2 }),
    })
    const state = await h.sim.state()
    const shoppers = state.customers
      .filter((row) =>
        state.subscriptions.some((sub) => sub.customer_id === row.id && String(sub.status).toLowerCase() === 'active'),
      )
      .slice(0, 4)
    expect(shoppers.length).toBe(4)
    let optionalRefused = 0
    for (const shopper of shoppers) {
      const token = await h.mint(app, shopper.email)
      // Who the shopper is, read (and cached) before the page, so the page's reads are the two lists.
      expect((await h.call(app, token, 'GET', '/v1/me')).statusCode).toBe(200)
      // The bucket as busy as the mirror's fill keeps it: 35 of 40, above the optional line (33), below the top.
      await book.reconcile(35)
      const [subscriptions, charges] = await Promise.all([
        h.call(app, token, 'GET', '/v1/subscriptions'),
        h.call(app, token, 'GET', '/v1/charges'),
      ])
      expect(subscriptions.statusCode).toBe(200)
      expect(charges.statusCode).toBe(200)
      if (subscriptions.json().actions_complete === false) optionalRefused += 1
      // Let the book drain to below where it was set, so each page meets the same level.
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
    // The situation the test is about happened: the optional read was refused (it led the shared fetch).
    expect(optionalRefused).toBeGreaterThan(0)
  })
})
