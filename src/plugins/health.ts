import fp from 'fastify-plugin'
import { z } from 'zod'

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness
  }
}

export type ReadinessCheck = () => Promise<{ ok: boolean; detail?: string }>

/** Components add their own readiness checks (Redis ping, webhook registration state). */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>()
  shuttingDown = false

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check)
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          return [name, await check()] as const
        } catch (error) {
          return [name, { ok: false, detail: error instanceof Error ? error.message : 'check failed' }] as const
        }
      }),
    )
    const checks = Object.fromEntries(entries)
    checks.shutdown = { ok: !this.shuttingDown, ...(this.shuttingDown ? { detail: 'shutting down' } : {}) }
    return { ready: Object.values(checks).every((c) => c.ok), checks }
  }
}

const checkResult = z.object({ ok: z.boolean(), detail: z.string().optional() })

export default fp(
  async function health(app) {
    const readiness = new Readiness()
    app.decorate('readiness', readiness)
    if (app.redis) {
      const redis = app.redis
      readiness.add('redis', async () => {
        if (!redis.isReady) return { ok: false, detail: 'disconnected' }
        await redis.ping()
        return { ok: true }
      })
    }
    app.addHook('preClose', async () => {
      readiness.shuttingDown = true
    })

    app.get(
      '/healthz',
      {
        logLevel: 'warn',
        schema: {
          tags: ['ops'],
          summary: 'Liveness: the process answers (no dependencies checked)',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    )

    app.get(
      '/readyz',
      {
        logLevel: 'warn',
        schema: {
          tags: ['ops'],
          summary: 'Readiness: Redis reachable when configured, not shutting down, component checks',
          response: {
            200: z.object({ ready: z.boolean(), checks: z.record(z.string(), checkResult) }),
            503: z.object({ ready: z.boolean(), checks: z.record(z.string(), checkResult) }),
          },
        },
      },
      async (_request, reply) => {
        const report = await readiness.report()
        return reply.code(report.ready ? 200 : 503).send(report)
      },
    )
  },
  { name: 'health', dependencies: ['redis'] },
)
