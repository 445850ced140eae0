import { createHash, randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { RedisClient } from '../infra/redis.ts'
import { type PortalPage, portalPages } from './account-schemas.ts'

/**
 * Single-use, short-lived links to the hosted portal, for a plain `<a href>` on the storefront: an authenticated
 * call mints `…/v1/portal/redirect?token=<random>`, and the redirect route consumes the token once (Redis GETDEL,
 * so two clicks on two replicas cannot both succeed) and 302s to the portal. The token maps to a customer id and the
 * portal page to open (stored as `<customer id>` or `<customer id>/<page>`);
 * the customer hash is fetched at redirect time and never stored. Keys are a hash of the token, so the token itself
 * never appears in Redis (or in MONITOR output).
 */
export const PORTAL_LINK_TTL_MS = 120_000

/** What a single-use link opens: whose portal, and which page of it. */
export interface PortalLink {
  customerId: string
  page: PortalPage
}

export interface PortalLinkStore {
  issue(customerId: string, page?: PortalPage): Promise<{ token: string; expiresAt: Date }>
  /** What the token was issued for, once; null when unknown, expired or already used. */
  consume(token: string): Promise<PortalLink | null>
}

function storedValue(customerId: string, page: PortalPage | undefined): string {
  return page === undefined || page === 'subscriptions' ? customerId : `${customerId}/${page}`
}

function parseStored(value: string | undefined | null): PortalLink | null {
  if (!value) return null
  const [customerId, page = 'subscriptions'] = value.split('/')
  if (!customerId || !(portalPages as readonly string[]).includes(page)) return null
  return { customerId, page: page as PortalPage }
}

const validToken = /^[A-Za-z0-9_-]{43}$/

function newToken(): string {
  return randomBytes(32).toString('base64url')
}

function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

export class MemoryPortalLinkStore implements PortalLinkStore {
  private readonly links = new LRUCache<string, string>({ max: 100_000, ttl: PORTAL_LINK_TTL_MS })

  async issue(customerId: string, page?: PortalPage): Promise<{ token: string; expiresAt: Date }> {
    const token = newToken()
    this.links.set(tokenDigest(token), storedValue(customerId, page))
    return { token, expiresAt: new Date(Date.now() + PORTAL_LINK_TTL_MS) }
  }

  async consume(token: string): Promise<PortalLink | null> {
    if (!validToken.test(token)) return null
    const digest = tokenDigest(token)
    const value = this.links.get(digest)
    this.links.delete(digest)
    return parseStored(value)
  }
}

/** Redis first; while Redis fails, this replica's memory (a link then works on the replica that minted it). */
export class RedisPortalLinkStore implements PortalLinkStore {
  private readonly redis: RedisClient
  private readonly prefix: string
  private readonly fallback = new MemoryPortalLinkStore()
  private readonly log: FastifyBaseLogger

  constructor(redis: RedisClient, log: FastifyBaseLogger, prefix = 'rb:portal-link:') {
    this.redis = redis
    this.log = log
    this.prefix = prefix
  }

  async issue(customerId: string, page?: PortalPage): Promise<{ token: string; expiresAt: Date }> {
    const token = newToken()
    try {
      await this.redis.set(this.key(token), storedValue(customerId, page), {
        expiration: { type: 'PX', value: PORTAL_LINK_TTL_MS },
      })
      return { token, expiresAt: new Date(Date.now() + PORTAL_LINK_TTL_MS) }
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'portal links: Redis unavailable, link is local')
      return this.fallback.issue(customerId, page)
    }
  }

  async consume(token: string): Promise<PortalLink | null> {
    if (!validToken.test(token)) return null
    const local = await this.fallback.consume(token)
    if (local) return local
    try {
      const value = await this.redis.getDel(this.key(token))
      return value === null ? null : parseStored(String(value))
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'portal links: Redis unavailable at redirect')
      return null
    }
  }

  private key(token: string): string {
    return `${this.prefix}{${tokenDigest(token)}}`
  }
}
