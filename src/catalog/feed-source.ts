import { readFile, stat } from 'node:fs/promises'
import { type Dispatcher, request } from 'undici'
import { AppError } from '../errors.ts'
import {
  type FeedAddressPolicy,
  feedDispatcher,
  isPublicAddress,
  literalAddress,
  RefusedAddressError,
} from './feed-address.ts'

/** Largest feed we read (file, URL or request body): ~20k products with a few variants each. */
export const MAX_FEED_BYTES = 10 * 1024 * 1024

function invalid(detail: string, cause?: unknown): AppError {
  return new AppError('UNPROCESSABLE', { detail, ...(cause === undefined ? {} : { cause }) })
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // The parser's message quotes the text; a fetched document is never echoed back.
    throw invalid(`The feed at ${where} is not valid JSON`)
  }
}

export interface FeedFetchOptions extends FeedAddressPolicy {
  /** Refuse plain http (production). */
  httpsOnly: boolean
  timeoutMs?: number
}

/** Redirects followed, each re-checked like the first URL. */
const MAX_REDIRECTS = 5

function checkTarget(target: URL, options: FeedFetchOptions): void {
  const allowed = options.httpsOnly ? ['https:'] : ['https:', 'http:']
  if (!allowed.includes(target.protocol)) {
    throw invalid(options.httpsOnly ? 'The feed URL must be https' : 'The feed URL must be http(s)')
  }
  const literal = literalAddress(target)
  if (literal && !options.allowPrivate && !(options.isAllowed ?? isPublicAddress)(literal)) throw refused()
}

function refused(cause?: unknown): AppError {
  return invalid(
    'The feed URL points at an address that is not allowed (loopback, private, link-local, unique-local, multicast or unspecified)',
    cause,
  )
}

/**
 * Fetch a feed over http(s): bounded in time and size, JSON only, never from a refused address (src/catalog/
 * feed-address.ts), redirects followed by hand so each hop is checked. Errors describe what went wrong, never what
 * was fetched.
 */
export async function fetchFeed(url: string, options: FeedFetchOptions): Promise<unknown> {
  let target = new URL(url)
  const dispatcher = feedDispatcher(options)
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000)
  try {
    for (let hop = 0; ; hop++) {
      checkTarget(target, options)
      let response: Dispatcher.ResponseData
      try {
        response = await request(target, { dispatcher, signal, headers: { accept: 'application/json' } })
      } catch (error) {
        if (error instanceof RefusedAddressError || (error as Error).cause instanceof RefusedAddressError) {
          throw refused(error)
        }
        throw invalid(`The feed URL could not be fetched (${(error as Error).name})`, error)
      }
      const location = response.headers.location
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump()
        if (hop >= MAX_REDIRECTS) throw invalid('The feed URL redirects too many times')
        target = new URL(location, target)
        continue
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump()
        throw invalid(`The feed URL answered ${response.statusCode}`)
      }
      const declared = Number(response.headers['content-length'] ?? '0')
      if (declared > MAX_FEED_BYTES) {
        await response.body.dump()
        throw invalid(`The feed is larger than ${MAX_FEED_BYTES} bytes`)
      }
      const parts: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += (chunk as Buffer).byteLength
        if (size > MAX_FEED_BYTES) {
          response.body.destroy()
          throw invalid(`The feed is larger than ${MAX_FEED_BYTES} bytes`)
        }
        parts.push(chunk as Buffer)
      }
      return parseJson(Buffer.concat(parts).toString('utf8'), target.origin + target.pathname)
    }
  } finally {
    await dispatcher.close().catch(() => {})
  }
}

/** A feed from a file path or an http(s) URL. */
export async function loadFeed(source: string): Promise<unknown> {
  // The operator's own machine: any address it can reach is its own to read.
  if (/^https?:\/\//i.test(source)) return fetchFeed(source, { allowPrivate: true, httpsOnly: false })
  const info = await stat(source).catch(() => null)
  if (!info?.isFile()) throw invalid(`No feed file at ${source}`)
  if (info.size > MAX_FEED_BYTES) throw invalid(`The feed file is larger than ${MAX_FEED_BYTES} bytes`)
  return parseJson(await readFile(source, 'utf8'), source)
}
