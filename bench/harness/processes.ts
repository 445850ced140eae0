/**
 * The processes of one benchmark run: every server is its own OS process (so no two share an event loop, and none
 * shares the load generator's), all children of the harness, all stopped by `stopAll()` at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

export const repoRoot = new URL('../../', import.meta.url).pathname

const children = new Set<ChildProcess>()

export interface Spawned {
  child: ChildProcess
  /** The tail of what the process wrote (stdout and stderr), for error messages. */
  output(): string
  /** Called with every chunk the process writes from now on (counting log lines of one kind). */
  onOutput(listener: (chunk: string) => void): void
}

export function spawnNode(script: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let output = ''
  const listeners: ((chunk: string) => void)[] = []
  const keep = (chunk: Buffer) => {
    const text = chunk.toString()
    // Bounded: a chatty child must not grow the harness's memory for the whole run.
    output = (output + text).slice(-20_000)
    for (const listener of listeners) listener(text)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output: () => output, onOutput: (listener) => void listeners.push(listener) }
}

/** Poll `url` until it answers `status` (default 200); fail early when the process dies. */
export async function waitForHttp(url: string, process_: Spawned, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (process_.child.exitCode !== null) {
      throw new Error(`${what} exited with ${process_.child.exitCode}:\n${process_.output()}`)
    }
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms:\n${process_.output()}`)
}

/** Wait for a line matching `pattern` in the process output and return its first group. */
export async function waitForOutput(process_: Spawned, pattern: RegExp, what: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const match = pattern.exec(process_.output())
    if (match) return match[1] ?? match[0]
    if (process_.child.exitCode !== null) {
      throw new Error(`${what} exited with ${process_.child.exitCode}:\n${process_.output()}`)
    }
    await sleep(25)
  }
  throw new Error(`${what}: no output matching ${pattern} within ${timeoutMs} ms:\n${process_.output()}`)
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)))
}
