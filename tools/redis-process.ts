import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'

/**
 * One redis-server (or sentinel) child process on a loopback port: the piece tools/redis-cluster.ts and
 * tools/redis-sentinel.ts are built of. Killed with SIGKILL (a crash, not a shutdown) so a test sees what production
 * sees when a machine dies.
 */
export class RedisProcess {
  readonly port: number
  private readonly args: string[]
  private child: ChildProcess | null = null

  constructor(port: number, args: string[]) {
    this.port = port
    this.args = args
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', this.args, { stdio: 'ignore' })
    this.child = child
    for (let attempt = 0; attempt < 250; attempt++) {
      if (child.exitCode !== null) throw new Error(`redis-server ${this.args.join(' ')} exited with ${child.exitCode}`)
      if (await accepts(this.port)) return
      await sleep(20)
    }
    throw new Error(`redis-server on port ${this.port} did not start`)
  }

  /** SIGKILL: the process dies with everything it had not yet replicated. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    this.child = null
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    if (child.exitCode === null) await once(child, 'exit')
  }

  /** SIGSTOP: the process keeps its connections open but reads and answers nothing (a frozen machine). */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  /** SIGCONT: a paused process carries on where it stopped. */
  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** One command on a short-lived connection (topology set-up and inspection, never the code under test). */
  async command(args: string[]): Promise<unknown> {
    const client = createClient({ socket: { host: '127.0.0.1', port: this.port, connectTimeout: 1_000 } })
    client.on('error', () => {})
    await client.connect()
    try {
      return await client.sendCommand(args)
    } finally {
      client.destroy()
    }
  }

  /** `INFO <section>` as a record of its `name:value` lines. */
  async info(section: string): Promise<Record<string, string>> {
    const text = String(await this.command(['INFO', section]))
    return parseInfo(text)
  }
}

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1).trim()
  }
  return fields
}

/** Poll `check` until it answers true; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch {
      // Not up yet: ask again.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
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
