import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { envKeys, loadConfig } from '../../src/config.ts'

/**
 * Static checks of the deployment files: the compose file starts what the README says, health-gated, on loopback
 * unless told otherwise, with env names the app (or the image's entrypoint) reads; the Dockerfile builds a non-root,
 * health-checked image from files that exist. `npm run test:compose` runs them for real on a Docker engine.
 */
const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

interface Healthcheck {
  test: string[] | string
}
interface Service {
  image?: string
  build?: string | { context: string; dockerfile?: string }
  command?: string[]
  profiles?: string[]
  init?: boolean
  environment?: Record<string, string>
  env_file?: Array<{ path: string; required?: boolean }>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: Healthcheck
  ports?: string[]
  volumes?: string[]
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>
  volumes: Record<string, unknown>
}
const services = compose.services
const bridgeServices = ['app', 'demo', 'prod-1', 'prod-2'] as const
const prodReplicas = ['prod-1', 'prod-2'] as const
/** Read by docker/entrypoint.sh, not by the app: where the prod replicas' shared secrets live. */
const entrypointKeys = ['SHARED_SECRETS_DIR']

/** `src/x.ts` for `dist/x.js`: what the image runs must be something the build produces. */
function sourceOf(distPath: string): string {
  return distPath.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')
}

describe('docker-compose.yml', () => {
  it('defines redis and the app by default, the simulator under "demo" and "prod", two replicas under "prod"', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'demo', 'prod-1', 'prod-2', 'redis', 'simulator'])
    expect(services.redis?.profiles).toBeUndefined()
    expect(services.app?.profiles).toBeUndefined()
    expect(services.simulator?.profiles).toEqual(['demo', 'prod'])
    expect(services.demo?.profiles).toEqual(['demo'])
    for (const name of prodReplicas) expect(services[name]?.profiles).toEqual(['prod'])
  })

  it('health-checks every service and starts the bridge only once its dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeDefined()
    }
    expect(services.redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping'])
    for (const name of bridgeServices) {
      const service = services[name]
      expect(service?.depends_on?.redis?.condition, name).toBe('service_healthy')
      // The image's tini is PID 1 (signals, zombies); a second init would demote it and make it warn.
      expect(service?.init, `${name}: no second init process`).toBeUndefined()
      // slim images have no curl: the probe is Node's fetch against the liveness route.
      expect(JSON.stringify(service?.healthcheck?.test)).toContain("fetch('http://127.0.0.1:3000/healthz')")
    }
    for (const name of ['demo', ...prodReplicas]) {
      expect(services[name]?.depends_on?.simulator?.condition, name).toBe('service_healthy')
    }
  })

  it('points every bridge at the same Redis and the demo and prod bridges at the simulator service', () => {
    const redisUrls = bridgeServices.map((name) => services[name]?.environment?.REDIS_URL)
    expect(new Set(redisUrls)).toEqual(new Set(['redis://redis:6379']))
    for (const name of ['demo', ...prodReplicas]) {
      expect(services[name]?.environment?.RECHARGE_API_URL, name).toBe('http://simulator:4010')
      expect(services[name]?.environment?.RECHARGE_API_TOKEN, name).toBe(services.simulator?.environment?.SIM_API_TOKEN)
    }
    // Each profile's bridges keep their own keys: they talk to different simulators on one Redis.
    const prefixes = ['app', 'demo', 'prod-1'].map((name) => services[name]?.environment?.REDIS_KEY_PREFIX ?? 'rb')
    expect(new Set(prefixes).size).toBe(3)
  })

  it('runs Redis with the configuration in docker/: persistent, never evicting', () => {
    expect(services.redis?.volumes).toContain('./docker/redis.conf:/usr/local/etc/redis/redis.conf:ro')
    expect(services.redis?.command).toEqual(['redis-server', '/usr/local/etc/redis/redis.conf'])
    const conf = read('docker/redis.conf')
    expect(conf).toMatch(/^appendonly yes$/m)
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m)
  })

  it('uses only env names the app (or the entrypoint) reads, the app ones listed in .env.example', () => {
    const example = new Set(
      read('.env.example')
        .split('\n')
        .map((line) => /^([A-Z0-9_]+)=/.exec(line)?.[1])
        .filter(Boolean),
    )
    const entrypoint = read('docker/entrypoint.sh')
    for (const name of bridgeServices) {
      for (const key of Object.keys(services[name]?.environment ?? {})) {
        if (entrypointKeys.includes(key)) {
          expect(entrypoint, `${name}: ${key} read by docker/entrypoint.sh`).toContain(key)
          continue
        }
        expect(envKeys, `${name}: ${key}`).toContain(key)
        expect(example.has(key), `${name}: ${key} in .env.example`).toBe(true)
      }
    }
    // The default services read the operator's .env when there is one, and start in demo mode when there is not.
    expect(services.app?.env_file).toEqual([{ path: '.env', required: false }])
    // The demo and prod bridges are self-contained: an operator's .env must not half-configure them.
    for (const name of ['demo', ...prodReplicas]) expect(services[name]?.env_file, name).toEqual([])
  })

  it('publishes every port on 127.0.0.1 unless PUBLISH_ADDRESS says otherwise, on the port the app listens on', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^\$\{PUBLISH_ADDRESS:-127\.0\.0\.1\}:/)
    }
    for (const name of bridgeServices) {
      const service = services[name]
      expect(service?.environment?.PORT).toBe('3000')
      expect(service?.ports?.[0]).toMatch(/:3000$/)
    }
    expect(services.simulator?.ports?.[0]).toMatch(/:4010$/)
    expect(services.simulator?.environment?.SIM_PORT).toBe('4010')
  })

  it('runs the prod replicas in production mode with one configuration and one shared secrets volume', () => {
    const [first, second] = prodReplicas.map((name) => services[name] as Service)
    const { PUBLIC_URL: _a, ...firstEnv } = first?.environment ?? {}
    const { PUBLIC_URL: _b, ...secondEnv } = second?.environment ?? {}
    expect(firstEnv).toEqual(secondEnv)
    expect(firstEnv.NODE_ENV).toBe('production')
    // Secrets are never written in the compose file: the entrypoint shares them through the volume.
    expect(firstEnv.CUSTOMER_TOKEN_SECRET).toBeUndefined()
    expect(firstEnv.ADMIN_API_KEY).toBeUndefined()
    for (const service of [first, second]) {
      expect(service?.volumes).toEqual([`shared-secrets:${firstEnv.SHARED_SECRETS_DIR}`])
    }
    expect(Object.keys(compose.volumes)).toContain('shared-secrets')
  })

  it('gives the prod replicas a configuration production accepts once the entrypoint has filled the secrets', () => {
    for (const name of prodReplicas) {
      const env = { ...services[name]?.environment }
      for (const [key, value] of Object.entries(env)) env[key] = value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')
      const config = loadConfig({ ...env, CUSTOMER_TOKEN_SECRET: 'c'.repeat(43), ADMIN_API_KEY: 'a'.repeat(32) })
      expect(config.NODE_ENV).toBe('production')
      expect(config.demoMode).toBe(false)
    }
  })

  it('configures the simulator only with variables the simulator reads', () => {
    const simulatorSource = read('src/simulator/server.ts') + read('src/simulator/options.ts')
    for (const key of Object.keys(services.simulator?.environment ?? {})) {
      expect(simulatorSource, key).toContain(key)
    }
  })

  it('builds the bridge and the simulator from this repository with docker/Dockerfile and runs what the build produces', () => {
    for (const name of [...bridgeServices, 'simulator']) {
      expect(services[name]?.build, name).toEqual({ context: '.', dockerfile: 'docker/Dockerfile' })
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
  const steps = instructions(read('docker/Dockerfile'))
  const stages = steps.filter((step) => step.keyword === 'FROM')
  const finalStageStart = steps.lastIndexOf(stages.at(-1) as Instruction)
  const runtime = steps.slice(finalStageStart)

  it('builds in stages on node:24-slim and ends in a runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3)
    for (const stage of stages) expect(stage.args).toMatch(/^(node:24-slim|deps|build)\b/)
    expect(stages.at(-1)?.args).toBe('node:24-slim AS runtime')
  })

  it('runs as the unprivileged node user, under tini and the entrypoint, with an exec-form CMD of the built server', () => {
    const user = runtime.filter((step) => step.keyword === 'USER').at(-1)
    expect(user?.args).toBe('node')
    const cmd = runtime.find((step) => step.keyword === 'CMD')
    expect(JSON.parse(cmd?.args ?? 'null')).toEqual(['node', 'dist/server.js'])
    expect(existsSync(new URL(sourceOf('dist/server.js'), root))).toBe(true)
    expect(JSON.parse(runtime.find((step) => step.keyword === 'ENTRYPOINT')?.args ?? 'null')).toEqual([
      '/usr/bin/tini',
      '--',
      '/usr/local/bin/docker-entrypoint.sh',
    ])
    const copied = runtime.find(
      (step) => step.keyword === 'COPY' && step.args.endsWith('/usr/local/bin/docker-entrypoint.sh'),
    )
    expect(copied?.args.split(/\s+/)[0]).toBe('docker/entrypoint.sh')
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
