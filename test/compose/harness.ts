import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { appendFileSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

/**
 * Drives `docker compose` on the repository's own docker-compose.yml, one throwaway project per profile: a unique
 * project name, free host ports published on 127.0.0.1 only, and `down -v` at the end whatever happened.
 */
const run = promisify(execFile)
export const repoRoot = new URL('../../', import.meta.url).pathname
export const IMAGE = 'recharge-bridge:local'
const figuresFile = new URL('../artifacts/compose-figures.jsonl', import.meta.url)

export async function docker(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run('docker', args, {
      cwd: repoRoot,
      env: { ...env, DOCKER_BUILDKIT: '0' },
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`docker ${args.join(' ')} failed:\n${stderr ?? ''}${stdout ?? ''}`.trimEnd())
  }
}

export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  return typeof address === 'object' && address ? address.port : 0
}

/** A measured figure: printed, and appended to test/artifacts/compose-figures.jsonl for the docs. */
export function report(name: string, value: number | string, unit = ''): void {
  console.log(`[compose] ${name}: ${value}${unit ? ` ${unit}` : ''}`)
  mkdirSync(new URL('.', figuresFile), { recursive: true })
  appendFileSync(figuresFile, `${JSON.stringify({ at: new Date().toISOString(), name, value, unit })}\n`)
}

type PortName = 'APP_PORT' | 'DEMO_PORT' | 'SIMULATOR_PORT' | 'PROD_1_PORT' | 'PROD_2_PORT'

export class ComposeProject {
  readonly name: string
  readonly ports: Record<PortName, number>
  readonly #profile: string | undefined

  private constructor(profile: string | undefined, ports: Record<PortName, number>) {
    this.#profile = profile
    this.name = `rb-compose-${profile ?? 'default'}-${randomBytes(3).toString('hex')}`
    this.ports = ports
  }

  static async create(profile?: 'demo' | 'prod'): Promise<ComposeProject> {
    const names: PortName[] = ['APP_PORT', 'DEMO_PORT', 'SIMULATOR_PORT', 'PROD_1_PORT', 'PROD_2_PORT']
    const ports = {} as Record<PortName, number>
    for (const name of names) ports[name] = await freePort()
    return new ComposeProject(profile, ports)
  }

  url(port: PortName): string {
    return `http://127.0.0.1:${this.ports[port]}`
  }

  compose(args: string[]): Promise<string> {
    const profile = this.#profile ? ['--profile', this.#profile] : []
    const env: NodeJS.ProcessEnv = { ...process.env, PUBLISH_ADDRESS: '127.0.0.1' }
    for (const [name, port] of Object.entries(this.ports)) env[name] = String(port)
    return docker(['compose', '-p', this.name, ...profile, ...args], env)
  }

  /** `up -d --wait`; answers the seconds until every service reported healthy. */
  async up(): Promise<number> {
    const started = performance.now()
    try {
      await this.compose(['up', '-d', '--wait', '--no-build'])
    } catch (error) {
      const logs = await this.compose(['logs', '--no-color', '--tail', '40']).catch(() => '')
      throw new Error(`${(error as Error).message}\n--- logs ---\n${logs}`)
    }
    return (performance.now() - started) / 1000
  }

  async down(): Promise<void> {
    await this.compose(['down', '-v', '--remove-orphans', '--timeout', '20'])
  }

  /** Host addresses every published port of the project is bound to. */
  async publishedAddresses(): Promise<string[]> {
    const ids = (await this.compose(['ps', '-q'])).split('\n').filter(Boolean)
    const addresses: string[] = []
    for (const id of ids) {
      const bindings = JSON.parse(
        await docker(['inspect', '--format', '{{json .NetworkSettings.Ports}}', id]),
      ) as Record<string, { HostIp: string; HostPort: string }[] | null>
      for (const list of Object.values(bindings)) for (const binding of list ?? []) addresses.push(binding.HostIp)
    }
    return addresses
  }

  async containerId(service: string): Promise<string> {
    return (await this.compose(['ps', '-q', '--all', service])).trim()
  }
}

export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T
}

/** Poll until `check` answers true; throws with the last error after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (error) {
      last = error
    }
    await sleep(250)
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
}
