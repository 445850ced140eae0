import { createClient, createCluster, createSentinel } from 'redis'
import type { RedisClient } from './redis.ts'

/**
 * Where the shared Redis is and how to reach it: one server (`redis://`), a cluster reached through a seed list
 * (`redis+cluster://h:p,h:p`), or a primary found through Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_NAME). The rest of
 * the app never asks which: `createTopologyClient` hands out a client with the same interface for all three.
 */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNodeAddress[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel'
      sentinels: RedisNodeAddress[]
      name: string
      username?: string
      password?: string
      sentinelPassword?: string
      tls: boolean
    }

export interface RedisNodeAddress {
  host: string
  port: number
}

export interface RedisTopologySettings {
  REDIS_URL?: string | undefined
  REDIS_SENTINELS?: string | undefined
  REDIS_SENTINEL_NAME?: string | undefined
  REDIS_SENTINEL_PASSWORD?: string | undefined
  REDIS_PASSWORD?: string | undefined
  REDIS_TLS?: 'on' | 'off' | undefined
}

/** Parsed settings, or one line per problem (config.ts reports them with the rest). */
export function parseRedisTopology(settings: RedisTopologySettings): {
  topology: RedisTopology | null
  problems: string[]
} {
  const problems: string[] = []
  const url = settings.REDIS_URL
  const sentinels = settings.REDIS_SENTINELS
  if (url && sentinels) {
    problems.push('REDIS_SENTINELS: set either REDIS_URL or REDIS_SENTINELS, not both')
    return { topology: null, problems }
  }
  if (!sentinels) {
    for (const key of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PASSWORD', 'REDIS_TLS'] as const) {
      if (settings[key] !== undefined) {
        problems.push(
          key === 'REDIS_PASSWORD' || key === 'REDIS_TLS'
            ? `${key}: only used with REDIS_SENTINELS; with REDIS_URL put the password in the URL (redis://:password@host) and use rediss:// for TLS`
            : `${key}: only used with REDIS_SENTINELS`,
        )
      }
    }
  }
  if (url) {
    const parsed = parseUrl(url)
    if (typeof parsed === 'string') problems.push(`REDIS_URL: ${parsed}`)
    return { topology: problems.length === 0 && typeof parsed !== 'string' ? parsed : null, problems }
  }
  if (!sentinels) return { topology: null, problems }
  const nodes = parseNodeList(sentinels)
  if (typeof nodes === 'string') problems.push(`REDIS_SENTINELS: ${nodes}`)
  if (!settings.REDIS_SENTINEL_NAME) {
    problems.push("REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the primary's name in the sentinels' config)")
  }
  if (problems.length > 0 || typeof nodes === 'string' || !settings.REDIS_SENTINEL_NAME) {
    return { topology: null, problems }
  }
  return {
    topology: {
      kind: 'sentinel',
      sentinels: nodes,
      name: settings.REDIS_SENTINEL_NAME,
      ...(settings.REDIS_PASSWORD ? { password: settings.REDIS_PASSWORD } : {}),
      ...(settings.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: settings.REDIS_SENTINEL_PASSWORD } : {}),
      tls: settings.REDIS_TLS === 'on',
    },
    problems,
  }
}

function parseUrl(value: string): RedisTopology | string {
  const scheme = /^([a-z+]+):\/\//i.exec(value)?.[1]?.toLowerCase()
  if (scheme === 'redis' || scheme === 'rediss') {
    try {
      const url = new URL(value)
      if (!url.hostname) return 'has no host'
    } catch {
      return `"${redact(value)}" is not a URL`
    }
    return { kind: 'single', url: value }
  }
  if (scheme !== 'redis+cluster' && scheme !== 'rediss+cluster') {
    return 'must start with redis://, rediss://, redis+cluster:// or rediss+cluster://'
  }
  // redis+cluster://[user:password@]host:port,host:port[/]: the seed list is not a URL host, so it is split by hand.
  let rest = value.slice(scheme.length + 3).replace(/\/$/, '')
  if (rest.includes('/') || rest.includes('?')) return 'a cluster URL has no path or query (cluster has one database)'
  let username: string | undefined
  let password: string | undefined
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    const credentials = rest.slice(0, at)
    rest = rest.slice(at + 1)
    const colon = credentials.indexOf(':')
    const user = decodeURIComponent(colon >= 0 ? credentials.slice(0, colon) : credentials)
    const secret = colon >= 0 ? decodeURIComponent(credentials.slice(colon + 1)) : ''
    if (user) username = user
    if (secret) password = secret
  }
  const nodes = parseNodeList(rest)
  if (typeof nodes === 'string') return nodes
  return {
    kind: 'cluster',
    nodes,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: scheme === 'rediss+cluster',
  }
}

function parseNodeList(value: string): RedisNodeAddress[] | string {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) return 'give at least one host:port'
  const nodes: RedisNodeAddress[] = []
  for (const entry of entries) {
    const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d{1,5})$/i.exec(entry)
    const port = Number(match?.[2])
    if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65_535) {
      return `"${entry}" is not host:port`
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port })
  }
  return nodes
}

/** A URL or node list as it may be logged: credentials replaced. */
export function redact(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@')
}

/** How long a connection attempt may take before it is retried (the TCP connect and the handshake). */
const CONNECT_TIMEOUT_MS = 2_000

/** Reconnect soon, then back off to 2 s, with jitter so replicas do not reconnect in step. */
function reconnectStrategy(retries: number): number {
  return Math.min(50 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100)
}

/**
 * After a node stopped answering, how soon the cluster client asks the surviving nodes for the slot map again (the
 * default is 5 s). A replica promoted in place of a dead primary is found this long after the client first retried the
 * dead one, so the queue's budget is shared again soon after the promotion.
 */
const CLUSTER_TOPOLOGY_REFRESH_MS = 500

/** Sentinel: how often the client asks the sentinels who the primary is, besides their switch-master messages. */
const SENTINEL_SCAN_INTERVAL_MS = 1_000

export interface TopologyClientOptions {
  /** CLIENT SETNAME of each connection. */
  name: string
  /**
   * A connection for blocking reads (stream consumers, lease waits): keeps node-redis's own command timeout as a
   * backstop (each caller bounds its blocking time) instead of turning it off.
   */
  blocking?: boolean
}

/**
 * A client for the topology, unconnected (the caller connects it and listens for 'error'). Every kind is made with
 * the same settings: no offline queue (a command while disconnected fails at once, the caller degrades), node-redis's
 * per-command timeout off for ordinary clients (the deadline is `withReplyDeadline`'s), a short connect timeout and a
 * capped reconnect backoff.
 *
 * The cluster and Sentinel clients are handed out as `RedisClient`: the app calls the commands the three share (key
 * commands, EVAL/EVALSHA, MULTI on one slot, streams, SCAN through `scanKeys`, pub/sub through invalidation-channel
 * helpers), which node-redis routes by the first key on a cluster and to the current primary under Sentinel. The
 * integration suites run on all three topologies to keep that true (npm run test:redis-topologies).
 */
export function createTopologyClient(topology: RedisTopology, options: TopologyClientOptions): RedisClient {
  const commandOptions = options.blocking ? {} : { timeout: 0 }
  const socket = { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy }
  if (topology.kind === 'single') {
    return createClient({
      url: topology.url,
      name: options.name,
      disableOfflineQueue: true,
      commandOptions,
      socket,
    }) as RedisClient
  }
  const credentials = {
    ...(topology.username ? { username: topology.username } : {}),
    ...(topology.password ? { password: topology.password } : {}),
  }
  if (topology.kind === 'cluster') {
    const nodeSocket = topology.tls ? { ...socket, tls: true as const } : socket
    return createCluster({
      rootNodes: topology.nodes.map((node) => ({ socket: { ...nodeSocket, host: node.host, port: node.port } })),
      // rootNodes only discover the slot map: credentials and TLS for every node connection are in `defaults`.
      defaults: { ...credentials, name: options.name, disableOfflineQueue: true, socket: nodeSocket },
      commandOptions,
      topologyRefreshOnReconnectionAttemptStrategy: CLUSTER_TOPOLOGY_REFRESH_MS,
      maxCommandRedirections: 8,
    }) as unknown as RedisClient
  }
  const nodeSocket = topology.tls ? { ...socket, tls: true as const } : socket
  return createSentinel({
    name: topology.name,
    sentinelRootNodes: topology.sentinels,
    nodeClientOptions: { ...credentials, name: options.name, disableOfflineQueue: true, socket: nodeSocket },
    sentinelClientOptions: {
      ...(topology.sentinelPassword ? { password: topology.sentinelPassword } : {}),
      socket: nodeSocket,
    },
    commandOptions,
    scanInterval: SENTINEL_SCAN_INTERVAL_MS,
    // One primary connection per client, shared by concurrent commands (pipelined, as on a single server). With a pool
    // of two, node-redis 6.3 left concurrent EVALs and MULTIs unanswered; a blocking reader has a client of its own.
    masterPoolSize: 1,
    // Reserved: every command goes down that one connection. Unreserved, node-redis leases the connection per burst
    // of commands and a burst that starts while a lease is being released waits for it, so a stampede of cache reads
    // queued behind one another past their 100 ms deadline (and each replica then fetched on its own).
    reserveClient: true,
  }) as unknown as RedisClient
}

/** True for a cluster client (SCAN walks each primary there; PUBSUB counts are per node). */
export function isClusterClient(client: RedisClient): boolean {
  return typeof (client as unknown as { getMasters?: unknown }).getMasters === 'function'
}

/**
 * Every key matching `match`, a page at a time, on any topology. A single server and Sentinel's primary have a
 * `scanIterator`; the cluster client has none, and its SCAN walks the primaries one after another behind a cursor of
 * its own, so a plain SCAN loop covers the whole cluster.
 */
export async function* scanKeys(
  client: RedisClient,
  options: { MATCH: string; COUNT?: number },
): AsyncGenerator<string[], void, undefined> {
  const count = options.COUNT ?? 500
  if (!isClusterClient(client) && typeof client.scanIterator === 'function') {
    yield* client.scanIterator({ MATCH: options.MATCH, COUNT: count })
    return
  }
  let cursor = '0'
  do {
    const reply = await client.scan(cursor, { MATCH: options.MATCH, COUNT: count })
    cursor = String(reply.cursor)
    if (reply.keys.length > 0) yield reply.keys
  } while (cursor !== '0')
}

/** How long to wait before asking a cluster's seeds or the sentinels again when none answered. */
const RECONNECT_TOPOLOGY_MS = 1_000

export interface BackgroundConnection {
  /** Resolves once connected; never rejects (errors go to onError). */
  connected: Promise<void>
  /** Stop trying (the app is closing). */
  stop(): void
}

/**
 * Connect without ever failing start-up. A single server's connect() keeps retrying by itself (reconnectStrategy);
 * a cluster's or Sentinel's gives up when no seed or sentinel answers, so it is tried again every second until one
 * does or `stop()` is called.
 */
export function connectInBackground(client: RedisClient, onError: (error: unknown) => void): BackgroundConnection {
  let stopped = false
  const retries = isClusterClient(client) || isSentinelClient(client)
  const connected = (async () => {
    for (;;) {
      try {
        await client.connect()
        return
      } catch (error) {
        onError(error)
        if (!retries || stopped) return
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_TOPOLOGY_MS).unref())
      if (stopped) return
    }
  })()
  return {
    connected,
    stop() {
      stopped = true
    },
  }
}

/**
 * `WAIT replicas timeoutMs` on the connection that wrote `key`: how many replicas have acknowledged every write this
 * connection made so far (Redis answers once `replicas` did, or at the timeout with fewer). WAIT counts the writes
 * of its own connection, so it goes where the key's write went: the node owning the key's slot on a cluster (one
 * connection per node), the primary's single pooled connection under Sentinel (masterPoolSize 1), the connection
 * itself on one server. The connection is blocked while Redis waits, so `timeoutMs` is kept short.
 */
export async function waitForReplicas(
  client: RedisClient,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const args = ['WAIT', String(replicas), String(timeoutMs)]
  if (isClusterClient(client)) {
    const cluster = client as unknown as {
      sendCommand(key: string, readonly: boolean, args: string[]): Promise<unknown>
    }
    return Number(await cluster.sendCommand(key, false, args))
  }
  if (isSentinelClient(client)) {
    const sentinel = client as unknown as { sendCommand(readonly: boolean, args: string[]): Promise<unknown> }
    return Number(await sentinel.sendCommand(false, args))
  }
  return Number(await client.sendCommand(args))
}

/** True for a Sentinel client (it acquires a primary connection per command from its pool). */
export function isSentinelClient(client: RedisClient): boolean {
  return typeof (client as unknown as { getMasterNode?: unknown }).getMasterNode === 'function'
}

/**
 * Calls `listener` whenever a connection came back after a loss (not on the first connect): a subscriber missed what
 * was published while it was away. A cluster reports each node connection, Sentinel a change of primary.
 */
export function onReconnected(client: RedisClient, listener: () => void): void {
  const emitter = client as unknown as NodeJS.EventEmitter
  if (isClusterClient(client)) {
    let ready = false
    emitter.on('connect', () => {
      ready = true
    })
    emitter.on('node-ready', () => {
      if (ready) listener()
    })
    return
  }
  if (isSentinelClient(client)) emitter.on('topology-change', listener)
  let readyOnce = false
  emitter.on('ready', () => {
    if (readyOnce) listener()
    readyOnce = true
  })
}
