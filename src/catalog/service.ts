import type { Cache, CachedFunction, CacheResult, FetchContext } from '../cache/types.ts'
import { spendAs } from '../recharge/budget/spender.ts'
import type { PlansResource } from '../recharge/resources/plans.ts'
import type { ProductsResource } from '../recharge/resources/products.ts'
import type { CallOptions } from '../recharge/types.ts'
import { createCursorCodec } from './cursor.ts'
import { toDocument } from './document.ts'
import { minorUnits } from './money.ts'
import type {
  CatalogDocument,
  CatalogDocumentResult,
  CatalogDocuments,
  CatalogPage,
  CatalogProduct,
  CatalogService,
  CatalogSettings,
} from './types.ts'
import { catalogTags } from './types.ts'
import { toCatalogProduct, toViewPlan, type ViewPlan } from './view.ts'
import { defaultWidgetSettings } from './widget.ts'

/** The store facts the catalog needs (from Recharge `GET /store`). */
export interface StoreInfo {
  currency: string
  name: string
}

/** The Recharge operations the storefront view reads. */
export interface CatalogUpstream {
  products: Pick<ProductsResource, 'get' | 'list' | 'listAll'>
  plans: Pick<PlansResource, 'forProduct' | 'listAll'>
  store(options: CallOptions): Promise<StoreInfo>
}

export interface CatalogServiceOptions {
  cache: Cache
  upstream: CatalogUpstream
  /** Freshness of product and page entries (default 60 s; webhooks invalidate sooner). */
  ttlMs?: number
  /** Prefix of every cache key: the store (token fingerprint), so stores sharing a Redis stay apart. */
  scope?: string
  /** Root secret of the list cursors' MAC (CUSTOMER_TOKEN_SECRET): the same on every replica. Default: per process. */
  cursorSecret?: string
}

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 100
export const CDN_VERSION = '2021-08'

/** A missing product is cached too (briefly, and dropped by the `product:<id>` tag when it is created). */
type ProductEntry = CatalogDocument | { missing: true }

function isMissing(entry: ProductEntry): entry is { missing: true } {
  return 'missing' in entry
}

/** True for an upstream 404, whatever error class the transport throws. */
export function isUpstreamNotFound(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const candidate = error as { status?: unknown; upstreamStatus?: unknown; code?: unknown; toAppError?: unknown }
  if (candidate.status === 404 || candidate.upstreamStatus === 404) return true
  if (typeof candidate.toAppError === 'function') {
    const appError = (candidate.toAppError as () => { status?: number; code?: string })()
    return appError.status === 404
  }
  return false
}

function callOptions(context: FetchContext): CallOptions {
  return { lane: context.lane, deadlineMs: context.deadlineMs, ...(context.signal ? { signal: context.signal } : {}) }
}

function withState(result: CacheResult<CatalogDocument>): CatalogDocumentResult {
  return { etag: result.value.etag, body: result.value.body, state: result.state, ageMs: result.ageMs }
}

/**
 * The storefront catalog: Recharge products and plans in the CDN JSON shape, cached per product (tags
 * `product:<external id>`, `catalog`, `store`), per list page (`catalog`, `store`), with the whole-catalog plan index
 * (`catalog`) and the store facts (`store`). Entries are documents — body serialised and ETag hashed once when
 * stored — so a hit is sent as is.
 */
export function createCatalogService(options: CatalogServiceOptions): CatalogService & CatalogDocuments {
  const { cache, upstream } = options
  const scope = options.scope ?? 'default'
  const ttlMs = options.ttlMs ?? 60_000
  const freshness = { ttlMs, staleWhileRevalidateMs: 300_000, staleIfErrorMs: 3_600_000 }
  const cursors = createCursorCodec(options.cursorSecret)

  const store = cache.define<null, StoreInfo>('catalog.store', {
    key: () => `${scope}:store`,
    // Store facts are the store's own read (one entry for everyone): charged to no anonymous client.
    fetch: (_args, context) => spendAs(null, () => upstream.store(callOptions(context))),
    ttlMs: 300_000,
    staleWhileRevalidateMs: 3_600_000,
    staleIfErrorMs: 86_400_000,
    shareValue: true,
    tags: () => [catalogTags.store],
  })

  const currency = async (context: FetchContext) =>
    (await store(null, { deadlineMs: context.deadlineMs, ...(context.signal ? { signal: context.signal } : {}) })).value
      .currency

  /**
   * Every external product id of the store, read page by page (250 a call) and refreshed like any catalog entry: a
   * product id it does not name is answered 404 with no upstream call, so made-up ids cost the bucket nothing however
   * many are sent. The read is the store's own work, charged to no anonymous client (`spendAs(null)`), and runs once
   * per freshness period whoever asks. A product created outside the bridge's sync is served once the index is
   * re-read (at most `ttlMs` later; a sync drops the index at once through the `catalog` tag).
   */
  const productIndex = cache.define<null, string[]>('catalog.product-index', {
    key: () => `${scope}:ids`,
    fetch: (_args, context) =>
      spendAs(null, async () => {
        const ids: string[] = []
        for await (const page of upstream.products.listAll(callOptions(context))) {
          for (const item of page) ids.push(item.external_product_id)
        }
        return ids
      }),
    ...freshness,
    shareValue: true,
    maxEntryBytes: 32 * 1024 * 1024,
    tags: () => [catalogTags.catalog, catalogTags.store],
  })
  /** A Set per shared index value: built once per cached entry, not per lookup. */
  const indexSets = new WeakMap<readonly string[], Set<string>>()

  async function inIndex(externalProductId: string, call: { deadlineMs?: number }): Promise<boolean> {
    const ids = (await productIndex(null, call)).value
    let set = indexSets.get(ids)
    if (!set) {
      set = new Set(ids)
      indexSets.set(ids, set)
    }
    return set.has(externalProductId)
  }

  const product: CachedFunction<string, ProductEntry> = cache.define<string, ProductEntry>('catalog.product', {
    key: (externalProductId) => `${scope}:${externalProductId}`,
    fetch: async (externalProductId, context) => {
      const call = callOptions(context)
      const [found, plans, storeCurrency] = await Promise.all([
        upstream.products.get(externalProductId, call).catch((error: unknown) => {
          if (isUpstreamNotFound(error)) return null
          throw error
        }),
        upstream.plans.forProduct(externalProductId, call),
        currency(context),
      ])
      if (!found) return { missing: true }
      const view = plans.map(toViewPlan).filter((plan): plan is ViewPlan => plan !== null)
      return toDocument({ product: toCatalogProduct(found, view, storeCurrency), meta: { version: CDN_VERSION } })
    },
    ...freshness,
    shareValue: true,
    tags: (externalProductId) => [catalogTags.product(externalProductId), catalogTags.catalog, catalogTags.store],
  })

  /** Every plan of the store grouped by product: one read per 250 plans instead of one per listed product. */
  const planIndex = cache.define<null, Record<string, ViewPlan[]>>('catalog.plan-index', {
    key: () => `${scope}:all`,
    // One store-wide entry whoever asks: charged to no anonymous client.
    fetch: (_args, context) => spendAs(null, () => readPlanIndex(context)),
    ...freshness,
    shareValue: true,
    maxEntryBytes: 32 * 1024 * 1024,
    tags: () => [catalogTags.catalog],
  })

  async function readPlanIndex(context: FetchContext): Promise<Record<string, ViewPlan[]>> {
    const index: Record<string, ViewPlan[]> = {}
    for await (const page of upstream.plans.listAll({}, callOptions(context))) {
      for (const plan of page) {
        const view = toViewPlan(plan)
        if (!view) continue
        index[plan.external_product_id] ??= []
        index[plan.external_product_id]!.push(view)
      }
    }
    return index
  }

  const page = cache.define<{ upstreamCursor: string | null; limit: number }, CatalogDocument>('catalog.page', {
    key: ({ upstreamCursor, limit }) => `${scope}:${limit}:${upstreamCursor ?? ''}`,
    fetch: async ({ upstreamCursor, limit }, context) => {
      const call = callOptions(context)
      const deadline = { deadlineMs: context.deadlineMs, ...(context.signal ? { signal: context.signal } : {}) }
      const [products, plans, storeCurrency] = await Promise.all([
        upstream.products.list({ cursor: upstreamCursor, limit }, call),
        planIndex(null, deadline),
        currency(context),
      ])
      const body: CatalogPage = {
        products: products.products.map((item) =>
          toCatalogProduct(item, plans.value[item.external_product_id] ?? [], storeCurrency),
        ),
        next_cursor: cursors.encode(products.next_cursor),
        previous_cursor: cursors.encode(products.previous_cursor),
      }
      return toDocument(body)
    },
    ...freshness,
    shareValue: true,
    tags: () => [catalogTags.catalog, catalogTags.store],
  })

  const settings = cache.define<null, CatalogDocument>('catalog.settings', {
    key: () => `${scope}:settings`,
    fetch: async (_args, context) => {
      const info = (
        await store(null, { deadlineMs: context.deadlineMs, ...(context.signal ? { signal: context.signal } : {}) })
      ).value
      const body: CatalogSettings = {
        currency: info.currency,
        currency_decimals: minorUnits(info.currency),
        store_name: info.name,
        widget: { ...defaultWidgetSettings },
      }
      return toDocument(body)
    },
    ttlMs: 300_000,
    staleWhileRevalidateMs: 3_600_000,
    staleIfErrorMs: 86_400_000,
    shareValue: true,
    tags: () => [catalogTags.store],
  })

  /**
   * Parsed products per cached document object. Entries use `shareValue`: every L1 hit returns the same frozen
   * document, so its body is parsed once per entry, and the product handed out is frozen too (shared by callers).
   */
  const parsed = new WeakMap<CatalogDocument, CatalogProduct>()

  async function productDocument(
    externalProductId: string,
    call: { deadlineMs?: number } = {},
  ): Promise<(CatalogDocumentResult & { document: CatalogDocument }) | null> {
    if (!(await inIndex(externalProductId, call))) return null
    const result = await product(externalProductId, call)
    if (isMissing(result.value)) return null
    const document = result.value
    return { ...withState({ ...result, value: document }), document }
  }

  function clampLimit(limit: number | undefined): number {
    if (limit === undefined) return DEFAULT_PAGE_SIZE
    return Math.min(Math.max(Math.trunc(limit), 1), MAX_PAGE_SIZE)
  }

  async function pageDocument(request: { cursor?: string; limit?: number }): Promise<CatalogDocumentResult> {
    const upstreamCursor = request.cursor ? cursors.decode(request.cursor) : null
    return withState(await page({ upstreamCursor, limit: clampLimit(request.limit) }))
  }

  return {
    hasProduct: (externalProductId, call = {}) => inIndex(externalProductId, call),
    async getProduct(externalProductId, call) {
      const found = await productDocument(externalProductId, call)
      if (!found) return null
      let value = parsed.get(found.document)
      if (!value) {
        value = deepFreeze((JSON.parse(found.body) as { product: CatalogProduct }).product)
        parsed.set(found.document, value)
      }
      return value
    },
    async listProducts(request) {
      const document = await pageDocument(request)
      return JSON.parse(document.body) as CatalogPage
    },
    async getSettings() {
      return JSON.parse((await settings(null)).value.body) as CatalogSettings
    },
    async productDocument(externalProductId, call) {
      const found = await productDocument(externalProductId, call)
      if (!found) return null
      const { document: _document, ...result } = found
      return result
    },
    freshProductDocument(externalProductId) {
      const result = product.peek(externalProductId)
      if (result === undefined) return undefined
      const document = result.value
      if (isMissing(document)) return undefined
      return { etag: document.etag, body: document.body, state: result.state, ageMs: result.ageMs }
    },
    pageDocument,
    async settingsDocument() {
      return withState(await settings(null))
    },
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
