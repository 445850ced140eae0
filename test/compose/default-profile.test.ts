import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComposeProject, json, report } from './harness.ts'
import { demoShopperFlow, demoSignIn } from './shopper.ts'

/**
 * `docker compose up` on a fresh clone (no .env): Redis and the bridge in demo mode (embedded simulator, demo
 * storefront), health-gated, on a port published on 127.0.0.1 only.
 */
let project: ComposeProject

beforeAll(async () => {
  project = await ComposeProject.create()
  report('time to healthy, default profile (redis, app)', (await project.up()).toFixed(1), 's')
})

afterAll(async () => {
  await project?.down()
})

describe('docker compose up (default profile, no .env)', () => {
  it('runs redis and the app, healthy, with ports published on 127.0.0.1 only', async () => {
    const services = (await project.compose(['ps', '--format', '{{.Service}} {{.Health}}'])).trim().split('\n')
    expect(services.sort()).toEqual(['app healthy', 'redis healthy'])
    const addresses = await project.publishedAddresses()
    expect(addresses.length).toBeGreaterThan(0)
    expect(new Set(addresses)).toEqual(new Set(['127.0.0.1']))
  })

  it('answers /healthz and /readyz (Redis reachable) on the published port', async () => {
    const base = project.url('APP_PORT')
    expect(await json(await fetch(`${base}/healthz`))).toEqual({ status: 'ok' })
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect(await json(ready)).toMatchObject({ ready: true, checks: { redis: { ok: true } } })
  })

  it("serves a shopper's flow: sign in, list, skip, follow the Manage Subscriptions link to the portal", async () => {
    const base = project.url('APP_PORT')
    await demoShopperFlow(base, await demoSignIn(base))
  })
})
