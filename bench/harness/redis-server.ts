/**
 * The private redis-server of a benchmark run, on a free port, no persistence; the cache suite restarts it (same
 * port, empty) to measure a Redis loss. A child of the harness like every other process of the run.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './processes.ts'

export class BenchRedis {
  readonly port: number
  private child: ChildProcess | null = null

  private constructor(port: number) {
    this.port = port
  }

  static async start(): Promise<BenchRedis> {
    const server = new BenchRedis(await freePort())
    await server.launch()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The server's process id (the suites read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    this.child = null
    child.kill('SIGKILL')
    if (child.exitCode === null) await once(child, 'exit')
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.launch()
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    const child = spawn('redis-server', [...args, '--loglevel', 'warning'], { stdio: 'ignore' })
    this.child = child
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
