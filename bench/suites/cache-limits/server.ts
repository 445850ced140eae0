/**
 * One server of the cache benchmark, in its own process (so no two servers share an event loop):
 *
 *   node bench/suites/cache-limits/server.ts hello                 bare Fastify hello-world on the same route shape
 *   node bench/suites/cache-limits/server.ts simulator             the Recharge simulator (bucket effectively unlimited)
 *   SIM_URL=… node bench/suites/cache-limits/server.ts proxy        @fastify/reply-from pass-through to the simulator
 *   SIM_URL=… REDIS_URL=… node bench/suites/cache-limits/server.ts bridge    the bridge (buildApp); CACHE_L1_MAX_BYTES=0 for L2 only
 *
 * Prints one JSON line `{"port": …, …}` when listening.
 */
import replyFrom from '@fastify/reply-from'
import Fastify from 'fastify'
import { buildApp } from '../../../src/app.ts'
import { sendCached } from '../../../src/cache/reply.ts'
import { testConfigValues } from './config.ts'

const mode = process.argv[2]
const simUrl = process.env.SIM_URL ?? ''
const token = process.env.SIM_TOKEN ?? 'sk_test_simulator'

async function hello() {
  const app = Fastify({ logger: false })
  app.get('/products/:id', async () => ({ hello: 'world' }))
  return { port: await listen(app) }
}

async function simulator() {
  const { buildSimulator } = await import('../../../src/simulator/app.ts')
  const app = await buildSimulator({ bucketSize: 1_000_000_000, leakRate: 1_000_000_000 })
  const port = await listen(app)
  const product = app.sim.state.products.values().next().value as { external_product_id: string } | undefined
  return { port, token: app.sim.options.apiTokens[0], productId: product?.external_product_id }
}

async function proxy() {
  const app = Fastify({ logger: false })
  await app.register(replyFrom, { base: simUrl })
  app.get<{ Params: { id: string } }>('/products/:id', (request, reply) =>
    reply.from(`/products/${encodeURIComponent(request.params.id)}`, {
      rewriteRequestHeaders: (_request, headers) => ({
        ...headers,
        'x-recharge-access-token': token,
        'x-recharge-version': '2021-11',
      }),
    }),
  )
  return { port: await listen(app) }
}

async function bridge() {
  const app = await buildApp(testConfigValues(process.env), { backgroundWorkers: false })
  const catalogRoute = app.hasRoute({ method: 'GET', url: '/v1/catalog/products/:externalProductId' })
  // The harness route: the catalog route's shape (one cached product read through app.recharge, sent with
  // sendCached). `?miss=<n>` makes every request its own key, to measure the miss path.
  const name = `bench.catalog.product.${process.env.BENCH_RUN ?? process.pid}`
  const product = app.cache.define(name, {
    key: (args: { id: string; miss: string | undefined }) => (args.miss ? `${args.id}:${args.miss}` : args.id),
    fetch: (args, context) =>
      app.recharge.products.get(args.id, { lane: context.lane, deadlineMs: context.deadlineMs }),
    ttlMs: 600_000,
    staleWhileRevalidateMs: 600_000,
    staleIfErrorMs: 3_600_000,
    tags: (args) => [`product:${args.id}`],
  })
  app.get<{ Params: { id: string }; Querystring: { miss?: string } }>(
    '/bench/catalog/products/:id',
    async (request, reply) => sendCached(reply, await product({ id: request.params.id, miss: request.query.miss })),
  )
  // The same app answering without the cache: separates what the app's shared plugins (security headers, CORS,
  // metrics, request ids) cost from what the cache costs.
  app.get('/bench/hello/:id', async () => ({ hello: 'world' }))
  await app.ready()
  const port = await listen(app)
  return { port, catalogRoute }
}

async function listen(app: { listen(options: { port: number; host: string }): Promise<string> }): Promise<number> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return Number(new URL(address).port)
}

const modes: Record<string, () => Promise<Record<string, unknown>>> = { hello, simulator, proxy, bridge }
const start = mode ? modes[mode] : undefined
if (!start) {
  process.stderr.write(`usage: server.ts ${Object.keys(modes).join('|')}\n`)
  process.exit(2)
}
process.stdout.write(`${JSON.stringify(await start())}\n`)
process.on('SIGTERM', () => process.exit(0))
