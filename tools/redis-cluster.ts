import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './free-port.ts'
import { RedisProcess, waitFor } from './redis-process.ts'

const run = promisify(execFile)

/**
 * A throwaway Redis Cluster on loopback: 3 primaries and 3 replicas (`--cluster-enabled yes`, then
 * `redis-cli --cluster create … --cluster-replicas 1`), no persistence, each node in a temp directory removed on
 * stop(). For the integration suites on a cluster (REDIS_TOPOLOGY=cluster) and the failover test, which kills the
 * primary that holds a key's slot and waits for its replica to take over.
 *
 * cluster-node-timeout is 1 s so a dead primary is failed over in seconds; cluster-require-full-coverage is off so the
 * other two shards keep serving while one is failing over (as a production cluster should be set up, docs/redis.md).
 */
export class DisposableRedisCluster {
  readonly nodes: RedisProcess[]
  private readonly dir: string

  private constructor(nodes: RedisProcess[], dir: string) {
    this.nodes = nodes
    this.dir = dir
  }

  static async start(options: { primaries?: number } = {}): Promise<DisposableRedisCluster> {
    const primaries = options.primaries ?? 3
    const dir = await mkdtemp(join(tmpdir(), 'rb-redis-cluster-'))
    const nodes: RedisProcess[] = []
    for (let index = 0; index < primaries * 2; index++) {
      const port = await freePort()
      // The bus port is given explicitly: port + 10000 (the default) may be taken or out of range.
      const busPort = await freePort()
      nodes.push(
        new RedisProcess(port, [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '1000',
          '--cluster-require-full-coverage',
          'no',
          '--cluster-replica-validity-factor',
          '0',
          '--repl-diskless-sync-delay',
          '0',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--loglevel',
          'warning',
        ]),
      )
    }
    const cluster = new DisposableRedisCluster(nodes, dir)
    try {
      await cluster.create()
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  private async create(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.start()))
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.nodes.map((node) => node.address),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ])
    await this.waitUntilHealthy()
  }

  /** Every node killed at once (the whole cluster lost). */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()))
  }

  /** A new, empty cluster on the same ports (what clients know as the seed list), after killAll(). */
  async recreate(): Promise<void> {
    await this.killAll()
    for (const file of await readdir(this.dir)) await rm(join(this.dir, file), { force: true })
    await this.create()
  }

  /** The seed list as the bridge reads it (REDIS_URL). */
  get url(): string {
    return `redis+cluster://${this.nodes.map((node) => node.address).join(',')}`
  }

  /** Every live node says cluster_state:ok, every slot is served and each primary has a linked replica. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'the cluster to be healthy',
      async () => {
        for (const node of this.nodes.filter((candidate) => candidate.running)) {
          const info = parseClusterInfo(String(await node.command(['CLUSTER', 'INFO'])))
          if (info.cluster_state !== 'ok' || info.cluster_slots_ok !== '16384') return false
        }
        const roles = await this.roles()
        return roles.every((role) => role.role !== 'replica' || role.linked)
      },
      timeoutMs,
    )
  }

  /** The live node serving `key`'s slot as primary, as the cluster itself says (CLUSTER SHARDS on any live node). */
  async primaryFor(key: string): Promise<RedisProcess> {
    const live = this.nodes.find((node) => node.running)
    if (!live) throw new Error('no node is running')
    const slot = Number(await live.command(['CLUSTER', 'KEYSLOT', key]))
    const roles = await this.roles()
    const primary = roles.find((role) => role.role === 'primary' && role.slots.some(([a, b]) => slot >= a && slot <= b))
    if (!primary) throw new Error(`no primary serves slot ${slot}`)
    return primary.node
  }

  /**
   * Wait until a node other than `dead` is primary for `key`'s slot and answers: the replica's promotion. Returns the
   * new primary.
   */
  async waitForPromotion(key: string, dead: RedisProcess, timeoutMs = 30_000): Promise<RedisProcess> {
    let promoted: RedisProcess | null = null
    await waitFor(
      `a replica to take over ${key}'s slot`,
      async () => {
        const primary = await this.primaryFor(key)
        if (primary === dead) return false
        const info = parseClusterInfo(String(await primary.command(['CLUSTER', 'INFO'])))
        if (info.cluster_state !== 'ok') return false
        promoted = primary
        return true
      },
      timeoutMs,
    )
    return promoted as unknown as RedisProcess
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()))
    await rm(this.dir, { recursive: true, force: true })
  }

  /** Each live node's role as it reports it (ROLE), with the slots of primaries (CLUSTER MYSHARDID is 7.2+). */
  private async roles(): Promise<NodeRole[]> {
    const roles: NodeRole[] = []
    const live = this.nodes.filter((node) => node.running)
    const first = live[0]
    if (!first) return roles
    // CLUSTER NODES lists every node with its flags and slot ranges: one line per node.
    const text = String(await first.command(['CLUSTER', 'NODES']))
    for (const line of text.trim().split('\n')) {
      const [, address = '', flags = '', , , , , linkState = '', ...slotRanges] = line.split(' ')
      const port = Number(address.split('@')[0]?.split(':')[1])
      const node = this.nodes.find((candidate) => candidate.port === port)
      if (!node?.running || flags.includes('fail')) continue
      const slots = slotRanges
        .filter((range) => !range.startsWith('['))
        .map((range) => {
          const [from, to = from] = range.split('-')
          return [Number(from), Number(to)] as [number, number]
        })
      if (flags.includes('master')) roles.push({ node, role: 'primary', slots, linked: true })
      else {
        const replication = await node.info('replication')
        roles.push({
          node,
          role: 'replica',
          slots,
          linked: replication.master_link_status === 'up' && linkState === 'connected',
        })
      }
    }
    return roles
  }
}

interface NodeRole {
  node: RedisProcess
  role: 'primary' | 'replica'
  slots: [number, number][]
  linked: boolean
}

function parseClusterInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const [name, value] = line.split(':')
    if (name && value !== undefined) fields[name] = value.trim()
  }
  return fields
}
