import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * No processor token, processor field or full card number reaches a storefront from the payment-method routes, even
 * when Recharge's payment-method records carry more than the documented fields: the simulator's own answer is
 * rewritten with extra secrets (served by a fault rule) and every shopper route that shows payment data is read.
 */
let h: ShopperHarness
let app: FastifyInstance
let frank: string

const SECRETS = [
  'cus_LEAKED_customer_token',
  'pm_LEAKED_method_token',
  '4242424242424242',
  'tok_LEAKED_card',
  'LEAKED_fingerprint',
  'LEAKED_processor_name',
  'LEAKED_billing_street',
]

function withSecrets(row: Record<string, unknown>): Record<string, unknown> {
  return {
    ...row,
    processor_customer_token: SECRETS[0],
    processor_payment_method_token: SECRETS[1],
    processor_name: SECRETS[5],
    card_number: SECRETS[2],
    token: SECRETS[3],
    fingerprint: SECRETS[4],
    billing_address: { ...(row.billing_address as object), address1: SECRETS[6] },
    payment_details: {
      ...(row.payment_details as object),
      number: SECRETS[2],
      fingerprint: SECRETS[4],
      processor_token: SECRETS[3],
    },
    include: { processor: { token: SECRETS[3] } },
  }
}

beforeAll(async () => {
  h = await startShopperHarness('pmmask', { addressWriteWindowMs: 0 })
  app = await h.bridge()
  frank = await h.mint(app, 'frank@example.com')
})

afterAll(async () => {
  await h?.close()
})

describe('payment methods never leak processor data', () => {
  it('drops every extra field of the upstream record from the list, /v1/me and the update-link answer', async () => {
    const customerId = await h.customerId('frank@example.com')
    const page = await h.sim.api('GET', `/payment_methods?customer_id=${customerId}`)
    expect(page.status).toBe(200)
    const methods = page.body.payment_methods as Record<string, unknown>[]
    expect(JSON.stringify(methods)).toMatch(/cus_sim/)
    await h.sim.setFaults([
      {
        match: { method: 'GET', path: '^/payment_methods' },
        status: 200,
        body: { ...page.body, payment_methods: methods.map(withSecrets) },
      },
    ])
    try {
      const list = await h.call(app, frank, 'GET', '/v1/payment-methods')
      expect(list.statusCode).toBe(200)
      expect(list.json().payment_methods).toHaveLength(methods.length)
      const me = await h.call(app, frank, 'GET', '/v1/me')
      expect(me.statusCode).toBe(200)
      const link = await h.call(app, frank, 'POST', `/v1/payment-methods/${methods[0]?.id}/update-link`)
      expect(link.statusCode).toBe(202)
      for (const response of [list, me, link]) {
        for (const secret of [...SECRETS, 'cus_sim', 'pm_sim']) expect(response.body).not.toContain(secret)
        expect(response.body).not.toMatch(/processor|fingerprint|token|card_number|billing/i)
      }
    } finally {
      await h.sim.clearFaults()
    }
  })
})
