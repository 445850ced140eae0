import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.ts'
import { RedisProcess, waitFor } from './redis-process.ts'

/**
 * A throwaway Sentinel set-up on loopback: one primary, one replica and three sentinels (quorum 2), no persistence,
 * config files in a temp directory removed on stop(). Debian ships no separate redis-sentinel binary in every
 * package, so each sentinel is `redis-server <conf> --sentinel`. down-after-milliseconds is 1 s so a killed primary is
 * replaced in a few seconds.
 */
export class DisposableRedisSentinel {
  readonly name = 'bridge'
  readonly servers: RedisProcess[]
  readonly sentinels: RedisProcess[]
  private readonly dir: string

  private constructor(servers: RedisProcess[], sentinels: RedisProcess[], dir: string) {
    this.servers = servers
    this.sentinels = sentinels
    this.dir = dir
  }

  static async start(): Promise<DisposableRedisSentinel> {
    const dir = await mkdtemp(join(tmpdir(), 'rb-redis-sentinel-'))
    const primaryPort = await freePort()
    const replicaPort = await freePort()
    // A replica's first sync starts at once (the diskless default waits 5 s for more replicas).
    const common = [
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ]
    const primary = new RedisProcess(primaryPort, ['--port', String(primaryPort), ...common])
    const replica = new RedisProcess(replicaPort, [
      '--port',
      String(replicaPort),
      '--replicaof',
      '127.0.0.1',
      String(primaryPort),
      ...common,
    ])
    const sentinels: RedisProcess[] = []
    for (let index = 0; index < 3; index++) {
      const port = await freePort()
      // A sentinel rewrites its config file (what it learned about the set-up), so each has its own.
      const file = join(dir, `sentinel-${port}.conf`)
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor bridge 127.0.0.1 ${primaryPort} 2`,
          'sentinel down-after-milliseconds bridge 1000',
          'sentinel failover-timeout bridge 5000',
          'sentinel parallel-syncs bridge 1',
          '',
        ].join('\n'),
      )
      sentinels.push(new RedisProcess(port, [file, '--sentinel', '--loglevel', 'warning']))
    }
    const setup = new DisposableRedisSentinel([primary, replica], sentinels, dir)
    try {
      await primary.start()
      await replica.start()
      await Promise.all(sentinels.map((sentinel) => sentinel.start()))
      await setup.waitUntilHealthy()
    } catch (error) {
      await setup.stop()
      throw error
    }
    return setup
  }

  /** REDIS_SENTINELS as the bridge reads it. */
  get sentinelList(): string {
    return this.sentinels.map((sentinel) => sentinel.address).join(',')
  }

  /** The server the sentinels name as primary now. */
  async primary(): Promise<RedisProcess> {
    for (const sentinel of this.sentinels.filter((candidate) => candidate.running)) {
      try {
        const [, port] = (await sentinel.command(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name])) as string[]
        const server = this.servers.find((candidate) => candidate.port === Number(port))
        if (server) return server
      } catch {
        // Ask the next sentinel.
      }
    }
    throw new Error('no sentinel names a primary')
  }

  /**
   * Every sentinel knows the primary, its linked replica and the two other sentinels, and the primary's replica is in
   * sync: a failover can happen from here on.
   */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'the sentinels to agree on a primary with a replica',
      async () => {
        const primary = await this.primary()
        const replication = await primary.info('replication')
        if (replication.role !== 'master' || replication.connected_slaves !== '1') return false
        const replica = this.servers.find((server) => server !== primary && server.running)
        if (!replica || (await replica.info('replication')).master_link_status !== 'up') return false
        for (const sentinel of this.sentinels) {
          const fields = pairs(await sentinel.command(['SENTINEL', 'MASTER', this.name]))
          if (fields['num-slaves'] !== '1' || fields['num-other-sentinels'] !== '2') return false
          if (fields.flags !== 'master') return false
        }
        return true
      },
      timeoutMs,
    )
  }

  /** Wait until the sentinels name another server than `dead` as primary and it answers as one. */
  async waitForPromotion(dead: RedisProcess, timeoutMs = 30_000): Promise<RedisProcess> {
    let promoted: RedisProcess | null = null
    await waitFor(
      'the sentinels to promote the replica',
      async () => {
        const primary = await this.primary()
        if (primary === dead) return false
        if ((await primary.info('replication')).role !== 'master') return false
        promoted = primary
        return true
      },
      timeoutMs,
    )
    return promoted as unknown as RedisProcess
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((process) => process.kill()))
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** A field list as RESP2 sends it (name, value, …) or the map RESP3 sends. */
function pairs(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return Object.fromEntries(Object.entries(reply as object).map(([k, v]) => [k, String(v)]))
  const fields: Record<string, string> = {}
  for (let index = 0; index + 1 < reply.length; index += 2) fields[String(reply[index])] = String(reply[index + 1])
  return fields
}
