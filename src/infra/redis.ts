import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'
import type { RedisClientType } from 'redis'
import { withDeadline } from './deadline.ts'
import { connectInBackground, createTopologyClient, type RedisTopology } from './redis-topology.ts'

export type RedisClient = RedisClientType

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared Redis client, or null when REDIS_URL is unset (in-process state, one replica). */
    redis: RedisClient | null
  }
}

export interface RedisPluginOptions {
  /** One server, a cluster or Sentinel (config.redis); `url` is the short form of a single server. */
  topology?: RedisTopology | null | undefined
  url?: string | undefined
  /** An injected client (tests, CLI): used as is and never closed by this plugin. */
  client?: RedisClient | null
}

/**
 * Every Redis call on a request path must have a deadline: Redis down degrades, it never hangs a request. The
 * deadline runs from the call to its reply, so it covers a command waiting to be written as well as a connection that
 * stopped answering (black-holed network, a frozen server), which would otherwise hold written commands until the
 * socket dies. A disconnected client fails at once (no offline queue). It is not tighter because on a CPU-starved
 * host (2 cores, a busy event loop) a healthy command can wait tens of ms to be written.
 *
 * node-redis's own `commandOptions.timeout` is turned off: it only covers the wait before a command is written, and it
 * arms an `AbortSignal.timeout` per command that cannot be cancelled, so every command built a DOMException when its
 * timer fired long after the reply (about 4 % of the bridge's CPU on the uncached route).
 */
export const REDIS_REPLY_DEADLINE_MS = 300

export class RedisDeadlineError extends Error {
  constructor(command: string, ms: number) {
    super(`redis ${command} had no reply within ${ms} ms`)
    this.name = 'RedisDeadlineError'
  }
}

/**
 * Connection management passes through unbounded: connect has its own connectTimeout and reconnect strategy, and
 * close/quit drain what is pending. Every other call that returns a promise gets the deadline.
 */
const connectionCalls = new Set(['connect', 'close', 'destroy', 'disconnect', 'quit'])

/** Calls whose answer is another client (same connection with other options, or a new connection): wrapped too. */
const clientFactories = new Set(['duplicate', 'withCommandOptions', 'withTypeMapping', 'withAbortSignal', 'asap'])

/** A MULTI (also run as a pipeline): commands are queued synchronously, and only these calls talk to Redis. */
const multiExecutors = ['exec', 'execTyped', 'execAsPipeline', 'execAsPipelineTyped'] as const

type AnyFunction = (...args: unknown[]) => unknown

/**
 * The client the app hands to its components: every command is awaited at most `ms` from the call, after which the
 * caller gets a RedisDeadlineError and takes its degraded path (each component has one). The abandoned command is
 * left to the connection, which the supervisor replaces if it has stopped answering.
 *
 * Everything node-redis offers works through it: commands and their UPPERCASE forms, scripts (eval, evalSha and
 * defined scripts), module namespaces (`client.json.get`), `multi()` (its `exec`/`execAsPipeline` are bounded),
 * scan iterators (each step is bounded), `sendCommand`, pub/sub (`subscribe` is bounded; messages are not
 * commands), and clients derived from it (`duplicate()`, `withTypeMapping()`, …), which carry the same deadline.
 * A duplicate asked for with `commandOptions.timeout` (a connection for blocking reads) gets that as its deadline
 * instead. Methods always run on the real client, never on the wrapper: node-redis reads private state and
 * constructors (`this.Multi`) from `this`.
 */
export function withReplyDeadline(client: RedisClient, ms = REDIS_REPLY_DEADLINE_MS): RedisClient {
  // Wrapping a wrapped client sets another deadline on the same client (a component that may wait longer).
  return bounded(unwrapped.get(client) ?? client, ms) as RedisClient
}

/** Each wrapper's real client. */
const unwrapped = new WeakMap<object, object>()

function bounded(target: object, ms: number): object {
  const cache = new Map<PropertyKey, unknown>()
  const proxy: object = new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown
      // Internal members (`_self`, `_commandOptions`) and symbols are node-redis's own business.
      if (typeof property !== 'string' || property.startsWith('_')) return value
      if (typeof value === 'object' && value !== null && Object.hasOwn(value, '_self')) {
        // A module namespace (`client.json`): its functions are commands of this client.
        let namespace = cache.get(property)
        if (namespace === undefined) {
          namespace = bounded(value, ms)
          cache.set(property, namespace)
        }
        return namespace
      }
      if (typeof value !== 'function' || isClass(value)) return value
      let wrapped = cache.get(property)
      if (wrapped === undefined) {
        wrapped = boundedCall(value as AnyFunction, object, proxy, property, ms)
        cache.set(property, wrapped)
      }
      return wrapped
    },
  })
  unwrapped.set(proxy, target)
  return proxy
}

function boundedCall(fn: AnyFunction, target: object, proxy: object, name: string, ms: number): AnyFunction {
  if (connectionCalls.has(name)) {
    return (...args) => {
      const result = fn.apply(target, args)
      return result instanceof Promise ? result.then((value) => (value === target ? proxy : value)) : result
    }
  }
  if (clientFactories.has(name)) {
    return (...args) => {
      const derived = fn.apply(target, args) as object
      const overrides = args[0] as { commandOptions?: { timeout?: unknown } } | undefined
      const own = name === 'duplicate' ? overrides?.commandOptions?.timeout : undefined
      return bounded(derived, typeof own === 'number' && own > 0 ? own : ms)
    }
  }
  return (...args) => {
    const result = fn.apply(target, args)
    if (result instanceof Promise) return withDeadline(result, ms, () => new RedisDeadlineError(name, ms))
    // Event-emitter calls answer the client itself, for chaining: keep the chain on the wrapper.
    if (result === target) return proxy
    if (isMulti(result)) return boundedMulti(result, ms)
    if (isAsyncIterator(result)) return boundedIterator(result, name, ms)
    return result
  }
}

/** The multi's own methods use private fields, so its executors are replaced on the instance (it is the caller's). */
function boundedMulti(multi: Record<string, unknown>, ms: number): unknown {
  for (const name of multiExecutors) {
    const exec = multi[name]
    if (typeof exec !== 'function') continue
    multi[name] = (...args: unknown[]) =>
      withDeadline((exec as AnyFunction).apply(multi, args) as Promise<unknown>, ms, () => {
        return new RedisDeadlineError(`multi.${name}`, ms)
      })
  }
  return multi
}

function boundedIterator(
  iterator: AsyncIterableIterator<unknown>,
  name: string,
  ms: number,
): AsyncIterableIterator<unknown> {
  return {
    next: (...args) => withDeadline(iterator.next(...args), ms, () => new RedisDeadlineError(name, ms)),
    return: (value) => iterator.return?.(value) ?? Promise.resolve({ done: true, value }),
    [Symbol.asyncIterator]() {
      return this
    },
  }
}

function isClass(value: unknown): boolean {
  return Function.prototype.toString.call(value).startsWith('class')
}

function isMulti(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { exec?: unknown }).exec === 'function' &&
    typeof (value as { addCommand?: unknown }).addCommand === 'function'
  )
}

function isAsyncIterator(value: unknown): value is AsyncIterableIterator<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { next?: unknown }).next === 'function' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  )
}

/**
 * A client for one server (a cluster or Sentinel: createTopologyClient). A command issued while disconnected fails at
 * once instead of waiting in an unbounded offline queue, and node-redis's default per-command timeout (5 s, an
 * AbortSignal.timeout each) is off: the deadline is withReplyDeadline's (the app wraps every client it hands out).
 */
export function createRedisClient(url: string, name = 'recharge-bridge'): RedisClient {
  return createTopologyClient({ kind: 'single', url }, { name })
}

/**
 * A client for blocking or long commands (stream reads, lease waits): same connection settings, and only node-redis's
 * default 5 s command timeout as a backstop, because each caller bounds its own blocking time.
 */
export function createBlockingRedisClient(
  target: string | RedisTopology,
  name = 'recharge-bridge-blocking',
): RedisClient {
  const topology: RedisTopology = typeof target === 'string' ? { kind: 'single', url: target } : target
  return createTopologyClient(topology, { name, blocking: true })
}

export interface SupervisionOptions {
  intervalMs?: number
  probeTimeoutMs?: number
  /** Consecutive failed probes before the connection is replaced. */
  maxFailures?: number
  onReset?: () => void
}

/**
 * Replace a zombie connection. node-redis reconnects when a socket closes, but not when the network black-holes it:
 * a connection that stopped answering (or a reconnect stuck in its handshake) stays "open" forever, and every
 * command times out. A probe with its own timeout finds that; after a few failures the client is destroyed and
 * connected afresh. Returns a function that stops the supervision (call it before closing the client).
 *
 * The probe is an ECHO of a fresh token, not a PING: once the network comes back, a connection that lost commands
 * in a black hole is out of step (node-redis hands each reply to the oldest command still waiting, so every command
 * gets the answer of one sent later). With enough traffic a PING then still gets a PONG in time, a later one, and
 * the broken connection was kept while every caller's command timed out. Any answer but our token is replaced now.
 */
export function superviseRedisConnection(client: RedisClient, options: SupervisionOptions = {}): () => void {
  const { intervalMs = 1_000, probeTimeoutMs = 1_000, maxFailures = 3 } = options
  let failures = 0
  let probing = false
  let stopped = false
  const probe = withReplyDeadline(client, probeTimeoutMs)
  const timer = setInterval(async () => {
    if (probing || stopped || !client.isOpen) return
    probing = true
    try {
      const token = `probe-${randomBytes(6).toString('hex')}`
      const answer = await probe.echo(token)
      if (answer === token) failures = 0
      else failures = maxFailures // someone else's answer: replies are out of step, replace it at once
    } catch {
      failures += 1
    } finally {
      probing = false
    }
    if (failures >= maxFailures && !stopped) {
      failures = 0
      options.onReset?.()
      client.destroy()
      client.connect().catch(() => {})
    }
  }, intervalMs)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}

/** The longest a client's orderly close may take before its socket is destroyed. */
export const REDIS_CLOSE_DEADLINE_MS = 2_000

/**
 * Close a client at shutdown: QUIT (pending replies are flushed) when the connection answers, destroy when it does
 * not. A connection to a Redis container that was killed is black-holed, not reset: QUIT would wait for a reply that
 * never comes and hold the process past its shutdown grace (it then exits 1 instead of 0).
 */
export async function closeRedisClient(
  client: Pick<RedisClient, 'isOpen' | 'close' | 'destroy'>,
  deadlineMs = REDIS_CLOSE_DEADLINE_MS,
): Promise<void> {
  if (!client.isOpen) {
    client.destroy()
    return
  }
  let timer: NodeJS.Timeout | undefined
  const closed = await Promise.race([
    client.close().then(
      () => true,
      () => false,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs)
    }),
  ])
  clearTimeout(timer)
  if (!closed && client.isOpen) client.destroy()
}

export default fp<RedisPluginOptions>(
  async function redisPlugin(app, options) {
    if (options.client !== undefined) {
      app.decorate('redis', options.client ? withReplyDeadline(options.client) : null)
      return
    }
    const topology = options.topology ?? (options.url ? { kind: 'single' as const, url: options.url } : null)
    if (!topology) {
      app.decorate('redis', null)
      return
    }
    const client = createTopologyClient(topology, { name: 'recharge-bridge' })
    // Without a listener node-redis would crash the process on a connection error; we log and keep reconnecting.
    let lastLogged = 0
    client.on('error', (error: Error) => {
      const now = Date.now()
      if (now - lastLogged > 5_000) {
        lastLogged = now
        app.log.warn({ err: { message: error.message } }, 'redis connection error; serving degraded')
      }
    })
    // Connecting keeps retrying while Redis is down; start-up waits a bounded time, then goes on degraded.
    const connecting = connectInBackground(client, (error) => {
      app.log.warn({ err: error }, 'redis connect failed')
    })
    const connected = await Promise.race([connecting.connected.then(() => true), sleep(2_000).then(() => false)])
    if (!connected || !client.isReady) {
      app.log.warn('redis not reachable at start; serving degraded and reconnecting in the background')
    }
    app.decorate('redis', withReplyDeadline(client))
    // The probe watches one connection. A cluster or Sentinel client holds one per node and replaces them itself
    // (topology refresh, switch-master), so only a single server's connection is supervised here.
    const stopSupervision =
      topology.kind === 'single'
        ? superviseRedisConnection(client, {
            onReset: () => app.log.warn('redis connection stopped answering; replacing it'),
          })
        : () => {}
    app.addHook('onClose', async () => {
      connecting.stop()
      stopSupervision()
      await closeRedisClient(client)
    })
  },
  { name: 'redis' },
)
