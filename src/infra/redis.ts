import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'
import { createClient, type RedisClientType } from 'redis'
import { withDeadline } from './deadline.ts'

export type RedisClient = RedisClientType

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared Redis client, or null when REDIS_URL is unset (in-process state, one replica). */
    redis: RedisClient | null
  }
}

export interface RedisPluginOptions {
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

/** Calls that are not commands (or that manage the connection) and pass through unbounded. */
const unbounded = new Set([
  'connect',
  'close',
  'destroy',
  'disconnect',
  'quit',
  'duplicate',
  'multi',
  'MULTI',
  'on',
  'once',
  'off',
  'addListener',
  'removeListener',
  'removeAllListeners',
  'emit',
  'withCommandOptions',
  'withTypeMapping',
  'scanIterator',
  'hScanIterator',
  'sScanIterator',
  'zScanIterator',
])

/**
 * The client the app hands to its components: every command is awaited at most `ms` from the call, after which the caller
 * gets a RedisDeadlineError and takes its degraded path (each component has one). The abandoned command is left to
 * the connection, which the supervisor replaces if it has stopped answering.
 */
export function withReplyDeadline(client: RedisClient, ms = REDIS_REPLY_DEADLINE_MS): RedisClient {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || typeof property !== 'string' || unbounded.has(property)) return value
      let bounded = wrapped.get(property)
      if (!bounded) {
        bounded = (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args)
          if (!(result instanceof Promise)) return result
          return withDeadline(result, ms, () => new RedisDeadlineError(property, ms))
        }
        wrapped.set(property, bounded)
      }
      return bounded
    },
  })
}

export function createRedisClient(url: string, name = 'recharge-bridge'): RedisClient {
  return createClient({
    url,
    name,
    // A command issued while disconnected fails at once instead of waiting in an unbounded offline queue.
    disableOfflineQueue: true,
    // 0 turns node-redis's default per-command timeout (5 s, an AbortSignal.timeout each) off; the deadline is
    // withReplyDeadline's (the app wraps every client it hands out).
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100),
    },
  }) as RedisClient
}

/**
 * A client for blocking or long commands (stream reads, lease waits): same connection settings, and only node-redis's
 * default 5 s command timeout as a backstop, because each caller bounds its own blocking time.
 */
export function createBlockingRedisClient(url: string, name = 'recharge-bridge-blocking'): RedisClient {
  return createClient({
    url,
    name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000),
    },
  }) as RedisClient
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
 * command times out. A PING probe with its own timeout finds that; after a few failures the client is destroyed and
 * connected afresh. Returns a function that stops the supervision (call it before closing the client).
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
      await probe.ping()
      failures = 0
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

export default fp<RedisPluginOptions>(
  async function redisPlugin(app, options) {
    if (options.client !== undefined) {
      app.decorate('redis', options.client ? withReplyDeadline(options.client) : null)
      return
    }
    if (!options.url) {
      app.decorate('redis', null)
      return
    }
    const client = createRedisClient(options.url)
    // Without a listener node-redis would crash the process on a connection error; we log and keep reconnecting.
    let lastLogged = 0
    client.on('error', (error: Error) => {
      const now = Date.now()
      if (now - lastLogged > 5_000) {
        lastLogged = now
        app.log.warn({ err: { message: error.message } }, 'redis connection error; serving degraded')
      }
    })
    // connect() keeps retrying while Redis is down; start-up waits a bounded time, then goes on degraded.
    const connecting = client.connect().catch((error: unknown) => {
      app.log.warn({ err: error }, 'redis connect failed')
    })
    const connected = await Promise.race([connecting.then(() => true), sleep(2_000).then(() => false)])
    if (!connected || !client.isReady) {
      app.log.warn('redis not reachable at start; serving degraded and reconnecting in the background')
    }
    app.decorate('redis', withReplyDeadline(client))
    const stopSupervision = superviseRedisConnection(client, {
      onReset: () => app.log.warn('redis connection stopped answering; replacing it'),
    })
    app.addHook('onClose', async () => {
      stopSupervision()
      // quit() flushes pending replies; destroy() if the connection is already gone.
      if (client.isOpen) await client.close().catch(() => client.destroy())
      else client.destroy()
    })
  },
  { name: 'redis' },
)
