import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.ts'

/**
 * A private redis-server on a free loopback port, no persistence, a child of this process: the tests that kill,
 * freeze and restart Redis (the shared one must never be stopped), and each benchmark run (the cache suite restarts
 * it to measure a Redis loss). `restart()` comes back on the same port, empty. The one copy for test/ and bench/:
 * tools/ imports neither of them, so neither layer reaches into the other.
 */
export class DisposableRedis {
  readonly port: number
  private child: ChildProcess | null = null

  private constructor(port: number) {
    this.port = port
  }

  static async start(): Promise<DisposableRedis> {
    const server = new DisposableRedis(await freePort())
    await server.launch()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The running server's process id (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    this.child = null
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    if (child.exitCode === null) await once(child, 'exit')
  }

  /** Freeze the server (SIGSTOP): connections stay open and nothing answers, like a hung Redis. */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.launch()
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { stdio: 'ignore' },
    )
    this.child = child
    // Ready when it accepts a connection.
    for (let attempt = 0; attempt < 100; attempt++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      if (await accepts(this.port)) return
      await sleep(20)
    }
    throw new Error('redis-server did not start')
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = connect({ host: '127.0.0.1', port })
    client.once('connect', () => {
      client.destroy()
      resolve(true)
    })
    client.once('error', () => resolve(false))
  })
}
