import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import { json } from './harness.ts'

/** What a shopper's browser does against a published bridge port, step by step, with what each step must answer. */

export interface PublicSubscription {
  id: number
  status: string
  next_charge_date: string | null
  allowed_actions: string[]
}

export const SHOPPER_EMAIL = 'alice@example.com'

/** The demo storefront's password-less sign-in (demo mode, or a development bridge pointed at a simulator). */
export async function demoSignIn(base: string, email = SHOPPER_EMAIL): Promise<string> {
  const response = await fetch(`${base}/demo/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  })
  expect(response.status).toBe(200)
  return (await json<{ token: string }>(response)).token
}

/** What the merchant backend does in production: mint the shopper's token with the admin key. */
export async function adminMint(base: string, adminKey: string, email = SHOPPER_EMAIL): Promise<string> {
  const response = await fetch(`${base}/v1/admin/customer-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ email }),
  })
  expect(response.status).toBe(201)
  return (await json<{ token: string }>(response)).token
}

export function shopperHeaders(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra }
}

export async function listSubscriptions(base: string, token: string): Promise<PublicSubscription[]> {
  const response = await fetch(`${base}/v1/subscriptions`, { headers: shopperHeaders(token) })
  expect(response.status).toBe(200)
  return (await json<{ subscriptions: PublicSubscription[] }>(response)).subscriptions
}

export async function getSubscription(base: string, token: string, id: number): Promise<PublicSubscription> {
  const response = await fetch(`${base}/v1/subscriptions/${id}`, { headers: shopperHeaders(token) })
  expect(response.status).toBe(200)
  return json<PublicSubscription>(response)
}

export async function subscriptionAction(
  base: string,
  token: string,
  id: number,
  action: 'skip' | 'unskip',
  idempotencyKey = randomUUID(),
): Promise<Response> {
  return fetch(`${base}/v1/subscriptions/${id}/${action}`, {
    method: 'POST',
    headers: shopperHeaders(token, { 'idempotency-key': idempotencyKey }),
  })
}

/** The first active subscription the shopper may skip now. */
export async function skippable(base: string, token: string): Promise<PublicSubscription> {
  const subscriptions = await listSubscriptions(base, token)
  const candidate = subscriptions.find((row) => row.status === 'active' && row.allowed_actions.includes('skip'))
  if (!candidate) throw new Error(`no skippable subscription among ${JSON.stringify(subscriptions)}`)
  return candidate
}

/**
 * "Manage Subscriptions": a single-use link from POST /v1/portal/links, opened through the published port (its
 * origin is the bridge's PUBLIC_URL, which names the container's port when unset). Answers the link as issued and
 * the portal address the link redirects to.
 */
export async function portalHandOff(base: string, token: string): Promise<{ link: URL; portal: string }> {
  const issued = await fetch(`${base}/v1/portal/links`, { method: 'POST', headers: shopperHeaders(token) })
  expect(issued.status).toBe(200)
  const link = new URL((await json<{ url: string }>(issued)).url)
  expect(link.pathname).toBe('/v1/portal/redirect')
  const redirect = await fetch(`${base}${link.pathname}${link.search}`, { redirect: 'manual' })
  expect(redirect.status).toBe(302)
  const portal = redirect.headers.get('location') ?? ''
  expect(portal).toMatch(/\/portal\/[A-Za-z0-9_-]{6,128}\/subscriptions$/)
  // Single use: the same link a second time is refused.
  const again = await fetch(`${base}${link.pathname}${link.search}`, { redirect: 'manual' })
  expect(again.status).toBe(410)
  return { link, portal }
}

/**
 * The whole flow against a bridge serving the demo storefront: list, skip (seen on a fresh read), then the portal
 * link followed to the simulator's stand-in portal page, served through the bridge.
 */
export async function demoShopperFlow(base: string, token: string): Promise<PublicSubscription> {
  const before = await skippable(base, token)
  const skip = await subscriptionAction(base, token, before.id, 'skip')
  expect(skip.status).toBe(200)
  const skipped = await json<PublicSubscription>(skip)
  expect(skipped.allowed_actions).toContain('unskip')
  expect(await getSubscription(base, token, before.id)).toMatchObject(skipped)

  const { portal } = await portalHandOff(base, token)
  const page = await fetch(`${base}${new URL(portal).pathname}`)
  expect(page.status).toBe(200)
  expect(page.headers.get('content-type')).toMatch(/^text\/html/)
  return skipped
}
