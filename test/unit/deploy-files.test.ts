import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { envKeys } from '../../src/config.ts'

/**
 * Static checks of the deployment files (CI has no Docker engine): the compose file starts what the README says,
 * health-gated, with env names the app actually reads; the Dockerfile builds a non-root, health-checked image from
 * files that exist.
 */
const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

interface Healthcheck {
  test: string[] | string
}
interface Service {
  image?: string
  build?: string | { context: string }
  command?: string[]
  profiles?: string[]
  init?: boolean
  environment?: Record<string, string>
  env_file?: Array<{ path: string; required?: boolean }>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: Healthcheck
  ports?: string[]
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> }
const services = compose.services
const bridgeServices = ['app', 'replica', 'demo'] as const

/** `src/x.ts` for `dist/x.js`: what the image runs must be something the build produces. */
function sourceOf(distPath: string): string {
  return distPath.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')
}

describe('docker-compose.yml', () => {
  it('defines redis and the app by default, the simulator under "demo" and a second replica under "prod"', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'demo', 'redis', 'replica', 'simulator'])
    expect(services.redis?.profiles).toBeUndefined()
    expect(services.app?.profiles).toBeUndefined()
    expect(services.simulator?.profiles).toEqual(['demo'])
    expect(services.demo?.profiles).toEqual(['demo'])
    expect(services.replica?.profiles).toEqual(['prod'])
  })

  it('health-checks every service and starts the bridge only once its dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeDefined()
    }
    expect(services.redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping'])
    for (const name of bridgeServices) {
      const service = services[name]
      expect(service?.depends_on?.redis?.condition, name).toBe('service_healthy')
      expect(service?.init, `${name} runs under an init process`).toBe(true)
      // slim images have no curl: the probe is Node's fetch against the liveness route.
      expect(JSON.stringify(service?.healthcheck?.test)).toContain("fetch('http://127.0.0.1:3000/healthz')")
    }
    expect(services.demo?.depends_on?.simulator?.condition).toBe('service_healthy')
  })

  it('points every replica at the same Redis and the demo bridge at the simulator service', () => {
    const redisUrls = bridgeServices.map((name) => services[name]?.environment?.REDIS_URL)
    expect(new Set(redisUrls)).toEqual(new Set(['redis://redis:6379']))
    expect(services.demo?.environment?.RECHARGE_API_URL).toBe('http://simulator:4010')
    expect(services.demo?.environment?.RECHARGE_API_TOKEN).toBe(services.simulator?.environment?.SIM_API_TOKEN)
  })

  it('uses only env names the app reads, all of them listed in .env.example', () => {
    const example = new Set(
      read('.env.example')
        .split('\n')
        .map((line) => /^([A-Z0-9_]+)=/.exec(line)?.[1])
        .filter(Boolean),
    )
    for (const name of bridgeServices) {
      for (const key of Object.keys(services[name]?.environment ?? {})) {
        expect(envKeys, `${name}: ${key}`).toContain(key)
        expect(example.has(key), `${name}: ${key} in .env.example`).toBe(true)
      }
    }
    // The default services read the operator's .env when there is one, and start in demo mode when there is not.
    expect(services.app?.env_file).toEqual([{ path: '.env', required: false }])
  })

  it('publishes the port the app listens on inside the container', () => {
    for (const name of bridgeServices) {
      const service = services[name]
      expect(service?.environment?.PORT).toBe('3000')
      expect(service?.ports?.[0]).toMatch(/:3000$/)
    }
    expect(services.simulator?.ports?.[0]).toMatch(/:4010$/)
    expect(services.simulator?.environment?.SIM_PORT).toBe('4010')
  })

  it('configures the simulator only with variables the simulator reads', () => {
    const simulatorSource = read('src/simulator/server.ts') + read('src/simulator/options.ts')
    for (const key of Object.keys(services.simulator?.environment ?? {})) {
      expect(simulatorSource, key).toContain(key)
    }
  })

  it('builds the bridge and the simulator from this repository and runs files the build produces', () => {
    for (const name of [...bridgeServices, 'simulator']) {
      expect(services[name]?.build, name).toBe('.')
      expect(services[name]?.image, name).toBe('recharge-bridge:local')
    }
    const simulatorEntry = services.simulator?.command?.[1] ?? ''
    expect(services.simulator?.command?.[0]).toBe('node')
    expect(existsSync(new URL(sourceOf(simulatorEntry), root)), `${simulatorEntry} is built from its source`).toBe(true)
    expect(services.redis?.image).toMatch(/^redis:\d+(-alpine)?$/)
  })
})

interface Instruction {
  keyword: string
  args: string
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/)
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') }
    })
}

describe('Dockerfile', () => {
  const steps = instructions(read('Dockerfile'))
  const stages = steps.filter((step) => step.keyword === 'FROM')
  const finalStageStart = steps.lastIndexOf(stages.at(-1) as Instruction)
  const runtime = steps.slice(finalStageStart)

  it('builds in stages on node:24-slim and ends in a runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3)
    for (const stage of stages) expect(stage.args).toMatch(/^(node:24-slim|deps|build)\b/)
    expect(stages.at(-1)?.args).toBe('node:24-slim AS runtime')
  })

  it('runs as the unprivileged node user, under tini, with an exec-form CMD of the built server', () => {
    const user = runtime.filter((step) => step.keyword === 'USER').at(-1)
    expect(user?.args).toBe('node')
    const cmd = runtime.find((step) => step.keyword === 'CMD')
    expect(JSON.parse(cmd?.args ?? 'null')).toEqual(['node', 'dist/server.js'])
    expect(existsSync(new URL(sourceOf('dist/server.js'), root))).toBe(true)
    expect(JSON.parse(runtime.find((step) => step.keyword === 'ENTRYPOINT')?.args ?? 'null')).toEqual([
      '/usr/bin/tini',
      '--',
    ])
  })

  it('health-checks /healthz with Node (slim has no curl)', () => {
    const healthcheck = runtime.find((step) => step.keyword === 'HEALTHCHECK')
    expect(healthcheck?.args).toMatch(/CMD \["node", "-e", .*\/healthz/)
    expect(healthcheck?.args).not.toMatch(/curl|wget/)
  })

  it('ships production dependencies only', () => {
    const build = steps.find((step) => step.keyword === 'RUN' && step.args.includes('npm run build'))
    expect(build?.args).toContain('npm prune --omit=dev')
    expect(runtime.some((step) => step.keyword === 'COPY' && /--from=build\b.*node_modules/.test(step.args))).toBe(true)
  })

  it('copies only files that exist in the build context and are not docker-ignored', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
    const sources = steps
      .filter((step) => step.keyword === 'COPY' && !step.args.includes('--from='))
      .flatMap((step) => {
        const parts = step.args.split(/\s+/).filter((part) => !part.startsWith('--'))
        return parts.slice(0, -1)
      })
    expect(sources.length).toBeGreaterThan(0)
    for (const source of sources) {
      expect(existsSync(new URL(source, root)), `${source} exists`).toBe(true)
      expect(ignored, `${source} is not docker-ignored`).not.toContain(source)
    }
    for (const secret of ['.env', 'node_modules', '.git']) expect(ignored).toContain(secret)
  })
})
