import { type Dispatcher, Pool } from 'undici'

/**
 * The undici side of the Recharge layer: a Pool with explicit timeouts and a response size cap (undici's defaults are
 * 300 s timeouts and no size limit), composed with the interceptor that adds the credentials. The token exists only
 * inside `rechargeHeaders`' closure: nothing else in the process holds it after start-up, so it cannot leak into an
 * error, a log line or a metric.
 */

export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024

export interface DispatcherOptions {
  baseUrl: string
  token: string
  apiVersion: string
  /** An injected transport (MockAgent, a fault proxy's Pool). The credentials interceptor is still composed onto it. */
  dispatcher?: Dispatcher | undefined
  connections?: number
  connectTimeoutMs?: number
  headersTimeoutMs?: number
  bodyTimeoutMs?: number
}

export interface RechargeDispatcher {
  dispatcher: Dispatcher
  /** Closes the pool we created (waits for in-flight requests); an injected dispatcher belongs to its owner. */
  close(): Promise<void>
}

const TOKEN_HEADER = 'x-recharge-access-token'
const VERSION_HEADER = 'x-recharge-version'

type HeaderRecord = Record<string, string | string[] | undefined>

/** Normalise undici's accepted header shapes to a lower-cased record. */
function headerRecord(headers: Dispatcher.DispatchOptions['headers']): HeaderRecord {
  const record: HeaderRecord = {}
  if (!headers) return record
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2) {
      record[String(headers[index]).toLowerCase()] = String(headers[index + 1])
    }
    return record
  }
  const entries =
    typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
      ? [...(headers as Iterable<[string, string | string[] | undefined]>)]
      : Object.entries(headers as HeaderRecord)
  for (const [name, value] of entries) record[name.toLowerCase()] = value
  return record
}

/**
 * Adds `X-Recharge-Access-Token` and `X-Recharge-Version` to every request, replacing whatever a caller put there.
 * Compose it last (outermost) so no later interceptor can observe or drop the header before the wire.
 */
export function rechargeHeaders(options: {
  token: string
  apiVersion: string
}): Dispatcher.DispatcherComposeInterceptor {
  const { token, apiVersion } = options
  return (dispatch) =>
    function rechargeHeadersInterceptor(opts, handler) {
      const headers = headerRecord(opts.headers)
      headers[TOKEN_HEADER] = token
      headers[VERSION_HEADER] = apiVersion
      headers.accept ??= 'application/json'
      return dispatch({ ...opts, headers }, handler)
    }
}

/**
 * Upper bound on open connections to Recharge. The queue decides how many calls go out; the pool must not be a second,
 * hidden queue in front of it: a full bucket (40 calls) booked at once is sent at once, not 16 at a time behind one
 * another. Connections open on demand and idle ones close after `keepAliveTimeout`, so a generous bound costs nothing
 * at Recharge's 2 calls/s. (Measured with the benchmark's unlimited budget, a bound of 16 in front of 50 concurrent
 * shoppers held calls back in the pool and cost about a fifth of the uncached route's throughput.)
 */
const DEFAULT_MAX_CONNECTIONS = 128

export function createRechargeDispatcher(options: DispatcherOptions): RechargeDispatcher {
  const owned =
    options.dispatcher === undefined
      ? new Pool(new URL(options.baseUrl).origin, {
          connections: options.connections ?? DEFAULT_MAX_CONNECTIONS,
          pipelining: 1,
          connect: { timeout: options.connectTimeoutMs ?? 5_000 },
          headersTimeout: options.headersTimeoutMs ?? 20_000,
          bodyTimeout: options.bodyTimeoutMs ?? 20_000,
          keepAliveTimeout: 10_000,
          maxResponseSize: MAX_RESPONSE_BYTES,
        })
      : undefined
  const base = owned ?? (options.dispatcher as Dispatcher)
  const dispatcher = base.compose(rechargeHeaders({ token: options.token, apiVersion: options.apiVersion }))
  return {
    dispatcher,
    async close() {
      if (owned) await owned.close()
    },
  }
}
