import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { passThrough } from '../cache/reply.ts'
import { CATALOG_CACHE_CONTROL, matchesIfNoneMatch } from '../catalog/document.ts'
import { validateFeed } from '../catalog/feed.ts'
import { fetchFeed, MAX_FEED_BYTES } from '../catalog/feed-source.ts'
import {
  pageQuerySchema,
  productDocumentSchema,
  productPageSchema,
  productParamsSchema,
  settingsSchema,
  syncJobEnvelope,
  syncJobParamsSchema,
  syncRequestSchema,
} from '../catalog/http-schemas.ts'
import { FeedInvalidError } from '../catalog/sync/feed-invalid.ts'
import type { CatalogDocumentResult } from '../catalog/types.ts'
import { trustProxySetting } from '../config.ts'
import { AppError } from '../errors.ts'
import { spendAs } from '../recharge/budget/spender.ts'
import { catalogProductFastRead } from './catalog-fast-read.ts'

/** The sync feed route takes catalogs far larger than the 64 KiB JSON default. */
const SYNC_BODY_LIMIT = MAX_FEED_BYTES

/**
 * Send a precomputed document: strong ETag, Cache-Control, X-Cache/Age from the cache, and 304 when the client's
 * If-None-Match holds the same ETag. The body string is sent as is (no serialisation on a hit).
 */
function sendDocument(request: FastifyRequest, reply: FastifyReply, document: CatalogDocumentResult): FastifyReply {
  reply
    .header('etag', document.etag)
    .header('cache-control', CATALOG_CACHE_CONTROL)
    .header('x-cache', document.state)
    .header('age', String(Math.floor(document.ageMs / 1000)))
  if (matchesIfNoneMatch(request.headers['if-none-match'], document.etag)) return reply.code(304).send()
  return reply.type('application/json; charset=utf-8').serializer(passThrough).send(document.body)
}

/** Catalog reads are anonymous: what they cost upstream is charged to the client's and the public allowance. */
function publicClient(request: FastifyRequest) {
  return { kind: 'public', client: request.ip } as const
}

export default async function catalogRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>()

  // Fresh L1 hits of the product route are answered before routing, with the same response (src/fast-reads.ts).
  app.fastReads.add(
    catalogProductFastRead({
      pathPrefix: `${app.prefix}/catalog/products/`,
      routePattern: `${app.prefix}/catalog/products/:externalProductId`,
      catalog: app.catalog,
      policy: app.apiResponsePolicy,
      metrics: app.metrics,
      log: app.log,
      behindProxy: trustProxySetting(app.config.TRUST_PROXY) !== false,
    }),
  )

  app.get(
    '/catalog/products',
    {
      schema: {
        tags: ['catalog'],
        summary: 'List products with plans and discounted prices (CDN shape), cursor-paginated',
        querystring: pageQuerySchema,
        response: { 200: productPageSchema },
      },
    },
    async (request, reply) =>
      spendAs(publicClient(request), async () =>
        sendDocument(
          request,
          reply,
          await app.catalog.pageDocument({
            limit: request.query.limit,
            ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
          }),
        ),
      ),
  )

  app.get(
    '/catalog/products/:externalProductId',
    {
      schema: {
        tags: ['catalog'],
        summary: 'One product with plans and discounted prices (Recharge CDN product JSON shape)',
        params: productParamsSchema,
        response: { 200: productDocumentSchema },
      },
    },
    async (request, reply) =>
      spendAs(publicClient(request), async () => {
        const document = await app.catalog.productDocument(request.params.externalProductId)
        if (!document) throw new AppError('NOT_FOUND', { detail: 'No such product in the catalog' })
        return sendDocument(request, reply, document)
      }),
  )

  app.get(
    '/catalog/settings',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Store currency and widget settings for the subscription widget',
        response: { 200: settingsSchema },
      },
    },
    async (request, reply) =>
      spendAs(publicClient(request), async () => sendDocument(request, reply, await app.catalog.settingsDocument())),
  )

  app.post(
    '/admin/catalog/sync',
    {
      bodyLimit: SYNC_BODY_LIMIT,
      preHandler: app.requireAdmin,
      schema: {
        tags: ['catalog', 'admin'],
        summary: 'Start a catalog sync (feed → Recharge products and plans); one per store at a time',
        security: [{ adminKey: [] }],
        body: syncRequestSchema,
        response: { 202: syncJobEnvelope },
      },
    },
    async (request, reply) => {
      const body = request.body
      const feed = body.feed_url
        ? await fetchFeed(body.feed_url, {
            allowPrivate: app.config.CATALOG_FEED_ALLOW_PRIVATE,
            httpsOnly: app.config.NODE_ENV === 'production',
          })
        : body.feed
      // The shape is checked before a job exists, so a broken feed is a 400 with every problem listed at once.
      const validation = validateFeed(feed)
      if (!validation.ok) throw new FeedInvalidError(validation.issues, { fetched: Boolean(body.feed_url) })
      const started = await app.catalogSync.start({
        feed,
        dryRun: body.dry_run,
        deleteMissing: body.delete_missing,
        allowMassDelete: body.allow_mass_delete,
        planStrategy: body.plan_strategy,
        source: 'api',
      })
      if (!started.ok) {
        throw new AppError('CONFLICT', {
          detail: `A catalog sync is already running for this store (job ${started.holder})`,
          extensions: { jobId: started.holder },
        })
      }
      return reply
        .code(202)
        .header('location', `${request.url.replace(/\/$/, '')}/${started.job.id}`)
        .send({ job: started.job })
    },
  )

  app.get(
    '/admin/catalog/sync/:id',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['catalog', 'admin'],
        summary: 'Progress and report of a catalog sync job',
        security: [{ adminKey: [] }],
        params: syncJobParamsSchema,
        response: { 200: syncJobEnvelope },
      },
    },
    async (request) => {
      const job = await app.catalogSync.get(request.params.id)
      if (!job) throw new AppError('NOT_FOUND', { detail: 'No such catalog sync job' })
      return { job }
    },
  )
}
