import { freePort } from './free-port.ts'
import { RedisProcess } from './redis-process.ts'

/**
 * A private redis-server on a free loopback port, no persistence, a child of this process: the tests that kill,
 * freeze and restart Redis (the shared one must never be stopped), and each benchmark run (the cache suite restarts
 * it to measure a Redis loss). `restart()` comes back on the same port, empty. The one copy for test/ and bench/:
 * tools/ imports neither of them, so neither layer reaches into the other.
 */
export class DisposableRedis {
  readonly port: number
  private readonly server: RedisProcess

  private constructor(port: number) {
    this.port = port
    this.server = new RedisProcess(port, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ])
  }

  static async start(): Promise<DisposableRedis> {
    const redis = new DisposableRedis(await freePort())
    await redis.server.start()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The running server's process id (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.server.pid
  }

  /** SIGKILL: gone at once, with whatever it held. */
  async stop(): Promise<void> {
    await this.server.kill()
  }

  /** Freeze the server (SIGSTOP): connections stay open and nothing answers, like a hung Redis. */
  pause(): void {
    this.server.pause()
  }

  resume(): void {
    this.server.resume()
  }

  async restart(): Promise<void> {
    await this.server.kill()
    await this.server.start()
  }
}
