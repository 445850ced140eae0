import { DisposableRedisCluster } from '../../tools/redis-cluster.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'

/**
 * The run's Redis as the suites use it: its URL for the bridges, a process id for CPU time, and a way to lose it
 * under load and get it back empty (the cache suite's "Redis killed" phase). `--redis cluster` runs the queue and
 * cache suites on a 3-primary, 3-replica cluster (tools/redis-cluster.ts) instead of one server: there `stop()` kills
 * every node and `restart()` makes a new, empty cluster on the same ports.
 */
export interface BenchRedis {
  readonly kind: 'single' | 'cluster'
  readonly url: string
  /** The process whose CPU time the throughput suite reads (a cluster's first node). */
  readonly pid: number | undefined
  /** Lose it (SIGKILL). */
  stop(): Promise<void>
  /** Back, empty, at the same address. */
  restart(): Promise<void>
  /** The end of the run: stopped and its files removed. */
  dispose(): Promise<void>
}

export async function startBenchRedis(kind: 'single' | 'cluster'): Promise<BenchRedis> {
  if (kind === 'single') {
    const server = await DisposableRedis.start()
    return {
      kind,
      url: server.url,
      get pid() {
        return server.pid
      },
      stop: () => server.stop(),
      restart: () => server.restart(),
      dispose: () => server.stop(),
    }
  }
  const cluster = await DisposableRedisCluster.start()
  return {
    kind,
    url: cluster.url,
    get pid() {
      return cluster.nodes[0]?.pid
    },
    stop: () => cluster.killAll(),
    restart: () => cluster.recreate(),
    dispose: () => cluster.stop(),
  }
}
