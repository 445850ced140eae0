import { readFile, stat } from 'node:fs/promises'
import { AppError } from '../errors.ts'

/** Largest feed we read (file, URL or request body): ~20k products with a few variants each. */
export const MAX_FEED_BYTES = 10 * 1024 * 1024

function invalid(detail: string, cause?: unknown): AppError {
  return new AppError('UNPROCESSABLE', { detail, ...(cause === undefined ? {} : { cause }) })
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalid(`The feed at ${where} is not valid JSON (${(error as Error).message.slice(0, 120)})`)
  }
}

/** Fetch a feed over http(s): bounded in time and size, JSON only. */
export async function fetchFeed(url: string, timeoutMs = 30_000): Promise<unknown> {
  const target = new URL(url)
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw invalid('The feed URL must be http(s)')
  let response: Response
  try {
    response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' })
  } catch (error) {
    throw invalid(`The feed URL could not be fetched (${(error as Error).name})`, error)
  }
  if (!response.ok) throw invalid(`The feed URL answered ${response.status}`)
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > MAX_FEED_BYTES) throw invalid(`The feed is larger than ${MAX_FEED_BYTES} bytes`)
  const reader = response.body?.getReader()
  if (!reader) throw invalid('The feed URL answered without a body')
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_FEED_BYTES) {
      await reader.cancel()
      throw invalid(`The feed is larger than ${MAX_FEED_BYTES} bytes`)
    }
    parts.push(value)
  }
  return parseJson(Buffer.concat(parts).toString('utf8'), target.origin + target.pathname)
}

/** A feed from a file path or an http(s) URL. */
export async function loadFeed(source: string): Promise<unknown> {
  if (/^https?:\/\//i.test(source)) return fetchFeed(source)
  const info = await stat(source).catch(() => null)
  if (!info?.isFile()) throw invalid(`No feed file at ${source}`)
  if (info.size > MAX_FEED_BYTES) throw invalid(`The feed file is larger than ${MAX_FEED_BYTES} bytes`)
  return parseJson(await readFile(source, 'utf8'), source)
}
