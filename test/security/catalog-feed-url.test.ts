import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { fetchFeed } from '../../src/catalog/feed-source.ts'
import { sampleFeed } from '../../src/catalog/sample-feed.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * Someone holding the admin key (or a stolen one) points the catalog sync's feed_url at the bridge's own network:
 * loopback, a private or link-local address (cloud metadata), a name that resolves to loopback, a redirect to one.
 * Each is refused with a 4xx problem+json before anything is fetched from there, and nothing fetched is ever quoted.
 */
const namespace = `security-feed-url-${randomBytes(4).toString('hex')}`
const internalSecret = 'internal-only-7f3a9c'
const adminKey = 'test-admin-key-0123456789abcdef'
const auth = { authorization: `Bearer ${adminKey}` }

let simulator: TestSimulator
let redis: RedisClient
let internal: Server
let internalPort: number
let internalHits = 0
const apps: FastifyInstance[] = []

async function bridge(overrides: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp(
    testConfig({
      RECHARGE_API_TOKEN: simulator.apiToken,
      RECHARGE_API_URL: simulator.url,
      REDIS_KEY_PREFIX: namespace,
      ...overrides,
    }),
    { redis, backgroundWorkers: false, catalog: { namespace } },
  )
  apps.push(app)
  return app
}

async function sync(app: FastifyInstance, feedUrl: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/admin/catalog/sync',
    headers: auth,
    payload: { feed_url: feedUrl, dry_run: true },
  })
}

beforeAll(async () => {
  redis = await connectRedis()
  simulator = await startTestSimulator()
  // An internal service: answers anything with a secret (and, at /feed, a valid catalog feed).
  internal = createServer((request, response) => {
    internalHits++
    if (request.url === '/feed') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sampleFeed({ products: 2 })))
      return
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end(`{"token": "${internalSecret}"`)
  })
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve))
  internalPort = (internal.address() as AddressInfo).port
}, 60_000)

afterAll(async () => {
  for (const app of apps) await app.close()
  await simulator?.close()
  await new Promise((resolve) => internal?.close(resolve))
  if (redis) {
    await deleteKeys(redis, `${namespace}:*`)
    await redis.close()
  }
})

describe('POST /v1/admin/catalog/sync feed_url', () => {
  it('refuses loopback, private, link-local, unique-local and unspecified addresses without fetching them', async () => {
    const hitsBefore = internalHits
    // From a mark: the CATALOG_FEED_ALLOW_PRIVATE test's sync legitimately reads /products when it runs first.
    const ledgerBefore = (await simulator.ledger({ path: '/products*' })).length
    const app = await bridge()
    const targets = [
      `http://127.0.0.1:${internalPort}/secret`,
      // A host name: judged after DNS resolution (localhost resolves to loopback).
      `http://localhost:${internalPort}/secret`,
      `http://[::1]:${internalPort}/secret`,
      `http://[::ffff:127.0.0.1]:${internalPort}/secret`,
      // Another spelling of 127.0.0.1 (the URL parser normalises it; the check sees the address).
      `http://2130706433:${internalPort}/secret`,
      `http://0.0.0.0:${internalPort}/secret`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/feed',
      'http://192.168.1.1/feed',
      'http://[fd00::1]/feed',
      'http://[fe80::1]/feed',
      'http://224.0.0.1/feed',
    ]
    for (const target of targets) {
      const response = await sync(app, target)
      expect(response.statusCode, target).toBe(422)
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(response.json()).toMatchObject({ code: 'UNPROCESSABLE' })
      expect(response.body).toMatch(/not allowed/)
      expect(response.body).not.toContain(internalSecret)
    }
    expect(internalHits).toBe(hitsBefore)
    expect((await simulator.ledger({ path: '/products*' })).slice(ledgerBefore)).toHaveLength(0)
  })

  it('accepts only https in production, refusing before any connection', async () => {
    const hitsBefore = internalHits
    const app = await bridge({ NODE_ENV: 'production', CATALOG_FEED_ALLOW_PRIVATE: 'true' })
    const response = await sync(app, `http://127.0.0.1:${internalPort}/feed`)
    expect(response.statusCode).toBe(422)
    expect(response.json()).toMatchObject({ code: 'UNPROCESSABLE', detail: 'The feed URL must be https' })
    expect(internalHits).toBe(hitsBefore)
  })

  it('with CATALOG_FEED_ALLOW_PRIVATE (a local feed or simulator) reads loopback, and still quotes nothing it fetched', async () => {
    const hitsBefore = internalHits
    const app = await bridge({ CATALOG_FEED_ALLOW_PRIVATE: 'true' })
    const feed = await sync(app, `http://127.0.0.1:${internalPort}/feed`)
    expect(feed.statusCode).toBe(202)
    // The (dry-run) job reads the simulator's catalog in the background: let it finish here, not during another test.
    const { job } = feed.json() as { job: { id: string } }
    await until(async () => {
      const polled = await app.inject({ method: 'GET', url: `/v1/admin/catalog/sync/${job.id}`, headers: auth })
      return (polled.json() as { job: { state: string } }).job.state !== 'running'
    })
    const notJson = await sync(app, `http://127.0.0.1:${internalPort}/secret`)
    expect(notJson.statusCode).toBe(422)
    expect(notJson.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(notJson.body).not.toContain(internalSecret)
    expect(notJson.body).not.toContain('token')
    expect(internalHits - hitsBefore).toBe(2)
  })
})

describe('fetchFeed address pinning and redirects', () => {
  // 127.0.0.2 stands in for a public feed host (Linux routes all of 127/8 to loopback); 127.0.0.1 is "internal".
  const standIn = '127.0.0.2'
  const isAllowed = (address: string) => address === standIn
  let publicHost: Server
  let publicPort: number

  beforeAll(async () => {
    publicHost = createServer((request, response) => {
      const redirects: Record<string, string> = {
        '/to-literal': `http://127.0.0.1:${internalPort}/secret`,
        '/to-name': `http://internal.test:${internalPort}/secret`,
      }
      const location = redirects[request.url ?? '']
      if (location) response.writeHead(302, { location }).end()
      else
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sampleFeed({ products: 1 })))
    })
    await new Promise<void>((resolve) => publicHost.listen(0, standIn, resolve))
    publicPort = (publicHost.address() as AddressInfo).port
  })

  afterAll(async () => {
    await new Promise((resolve) => publicHost?.close(resolve))
  })

  it('connects to the address it checked, refuses a host with any refused address, and checks every redirect', async () => {
    const lookups: string[] = []
    const resolver = async (hostname: string) => {
      lookups.push(hostname)
      if (hostname === 'feeds.test') return [{ address: standIn, family: 4 }]
      if (hostname === 'mixed.test')
        return [
          { address: standIn, family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]
      return [{ address: '127.0.0.1', family: 4 }]
    }
    const options = { allowPrivate: false, httpsOnly: false, resolver, isAllowed }
    const hitsBefore = internalHits

    await expect(fetchFeed(`http://feeds.test:${publicPort}/feed`, options)).resolves.toMatchObject({ products: [{}] })
    for (const url of [
      `http://mixed.test:${publicPort}/feed`,
      `http://feeds.test:${publicPort}/to-literal`,
      `http://feeds.test:${publicPort}/to-name`,
    ]) {
      await expect(fetchFeed(url, options), url).rejects.toMatchObject({
        code: 'UNPROCESSABLE',
        detail: expect.stringMatching(/not allowed/),
      })
    }
    expect(internalHits).toBe(hitsBefore)
    expect(lookups).toContain('internal.test')
  })
})
