/**
 * The baselines, each in its own process (spawned by the harness):
 *
 *   node bench/harness/baseline-server.ts hello   bare Fastify answering GET /products/:id with the catalog product's
 *                                                 exact JSON (BASELINE_BODY), pre-serialised: the cost floor of one
 *                                                 Node process answering this response from memory
 *   node bench/harness/baseline-server.ts proxy   a plain @fastify/reply-from pass-through to the simulator
 *                                                 (SIM_URL) that adds the token header: what a merchant would
 *                                                 otherwise deploy. Routes GET /products/:id, GET /customers/:id,
 *                                                 GET /subscriptions and GET /charges (query passed through).
 *   node bench/harness/baseline-server.ts hook    bare Fastify accepting a JSON POST (webhook baseline)
 *
 * Listens on PORT (127.0.0.1); exits on SIGTERM.
 */
import replyFrom from '@fastify/reply-from'
import Fastify from 'fastify'

const mode = process.argv[2]
const app = Fastify({ logger: false })

if (mode === 'hello') {
  const body = process.env.BASELINE_BODY ?? '{"hello":"world"}'
  app.get('/products/:id', (_request, reply) => {
    reply.type('application/json; charset=utf-8').send(body)
  })
} else if (mode === 'proxy') {
  const token = process.env.SIM_TOKEN ?? ''
  await app.register(replyFrom, { base: process.env.SIM_URL ?? '' })
  const upstream = { rewriteRequestHeaders: withToken }
  function withToken(_request: unknown, headers: Record<string, unknown>) {
    return { ...headers, 'x-recharge-access-token': token, 'x-recharge-version': '2021-11' }
  }
  app.get<{ Params: { id: string } }>('/products/:id', (request, reply) =>
    reply.from(`/products/${encodeURIComponent(request.params.id)}`, upstream),
  )
  app.get<{ Params: { id: string } }>('/customers/:id', (request, reply) =>
    reply.from(`/customers/${encodeURIComponent(request.params.id)}`, upstream),
  )
  // The lists an account page reads (`?customer_id=…`, the query passed as sent).
  app.get('/subscriptions', (request, reply) => reply.from(request.url, upstream))
  app.get('/charges', (request, reply) => reply.from(request.url, upstream))
} else if (mode === 'hook') {
  app.post('/hook', async () => ({ received: true }))
} else {
  process.stderr.write('usage: baseline-server.ts hello|proxy|hook\n')
  process.exit(2)
}

app.get('/healthz', async () => ({ ok: true }))
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
