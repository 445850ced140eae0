import { AppError } from '../errors.ts'

/**
 * A NotFound answer served from the negative cache (or reported by another replica's lease holder). It carries
 * `status: 404` like the Recharge client's own NotFound error, so one check (`isNotFound`) covers both.
 */
export class CachedNotFoundError extends Error {
  readonly status = 404
  constructor() {
    super('Not found (cached answer)')
    this.name = 'CachedNotFoundError'
  }
  toAppError(): AppError {
    return new AppError('NOT_FOUND')
  }
}

/** The value was not ready by the caller's deadline and there was nothing stale to serve. */
export class CacheDeadlineError extends Error {
  constructor() {
    super('Cached value not ready before the deadline')
    this.name = 'CacheDeadlineError'
  }
  toAppError(): AppError {
    return new AppError('UPSTREAM_TIMEOUT')
  }
}

/** Another replica's fetch of this key just failed; we do not repeat it at once (and serve stale if we can). */
export class CacheOriginFailedError extends Error {
  constructor() {
    super('The origin failed for this key on another replica')
    this.name = 'CacheOriginFailedError'
  }
  toAppError(): AppError {
    return new AppError('UPSTREAM_UNAVAILABLE')
  }
}

/**
 * A NotFound from the origin: the Recharge client's NotFound error (status 404, or mapped to a 404 by its
 * `toAppError()`) or our cached one. Duck-typed because the cache sits below the Recharge layer. Only these are ever
 * cached as a failure (negative caching); every other throw is never cached. The one check for "is this a not-found".
 */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const candidate = error as { status?: unknown; statusCode?: unknown; toAppError?: unknown }
  if (candidate.status === 404 || candidate.statusCode === 404) return true
  if (typeof candidate.toAppError !== 'function') return false
  return (candidate.toAppError as () => { status?: unknown }).call(error).status === 404
}
