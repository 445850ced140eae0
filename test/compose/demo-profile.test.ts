import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComposeProject, json, report } from './harness.ts'
import { demoShopperFlow, demoSignIn } from './shopper.ts'

/**
 * `docker compose --profile demo up`: a standalone simulator and a development bridge wired to it over the compose
 * network, as production is wired to Recharge; the shopper's writes reach the simulator through the bridge.
 */
let project: ComposeProject

beforeAll(async () => {
  project = await ComposeProject.create('demo')
  report('time to healthy, demo profile (redis, app, simulator, demo)', (await project.up()).toFixed(1), 's')
})

afterAll(async () => {
  await project?.down()
})

interface LedgerEntry {
  method: string
  path: string
  status: number
}

describe('docker compose --profile demo up', () => {
  it('runs the simulator and the demo bridge beside the default services, healthy, on 127.0.0.1 only', async () => {
    const services = (await project.compose(['ps', '--format', '{{.Service}} {{.Health}}'])).trim().split('\n')
    expect(services.sort()).toEqual(['app healthy', 'demo healthy', 'redis healthy', 'simulator healthy'])
    expect(new Set(await project.publishedAddresses())).toEqual(new Set(['127.0.0.1']))
  })

  it('answers /healthz and /readyz on the demo bridge', async () => {
    const base = project.url('DEMO_PORT')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect(await json(ready)).toMatchObject({ ready: true, checks: { redis: { ok: true } } })
  })

  it("serves a shopper's flow through the bridge, and the skip reaches the standalone simulator", async () => {
    const base = project.url('DEMO_PORT')
    const simulator = project.url('SIMULATOR_PORT')
    await fetch(`${simulator}/__sim/requests`, { method: 'DELETE' })
    await demoShopperFlow(base, await demoSignIn(base))
    const { requests } = await json<{ requests: LedgerEntry[] }>(await fetch(`${simulator}/__sim/requests?method=POST`))
    expect(requests.filter((entry) => /^\/charges\/\d+\/skip$/.test(entry.path) && entry.status === 200)).toHaveLength(
      1,
    )
  })
})
