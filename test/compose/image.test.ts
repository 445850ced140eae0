import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { docker, IMAGE, report, until } from './harness.ts'

/** The runtime image on its own: what it weighs, what it contains, and that a terminal does not break it. */
describe('the runtime image', () => {
  it('reports its size, and what it adds to its base image', async () => {
    const size = async (image: string) =>
      Number((await docker(['image', 'inspect', '--format', '{{.Size}}', image])).trim())
    const bytes = await size(IMAGE)
    const base = await size('node:24-slim')
    expect(bytes).toBeGreaterThan(base)
    report('image size', (bytes / 1_000_000).toFixed(0), 'MB')
    report('image size over node:24-slim', ((bytes - base) / 1_000_000).toFixed(0), 'MB')
  })

  it('holds production dependencies only, and runs as the unprivileged node user', async () => {
    const probe = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'node',
      IMAGE,
      '-e',
      `const has = (id) => { try { require.resolve(id); return true } catch { return false } }
       console.log(JSON.stringify({ uid: process.getuid(), fastify: has('fastify'), pinoPretty: has('pino-pretty'),
         vitest: has('vitest'), typescript: has('typescript') }))`,
    ])
    expect(JSON.parse(probe)).toEqual({ uid: 1000, fastify: true, pinoPretty: false, vitest: false, typescript: false })
  })

  it('starts and serves with a terminal attached (docker run -t), logging JSON lines', async () => {
    const id = (await docker(['run', '-d', '-t', IMAGE])).trim()
    try {
      await until(
        async () => (await docker(['logs', id])).includes('Server listening'),
        60_000,
        'the server to listen with a TTY',
      )
      await sleep(500)
      const state = (await docker(['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', id])).trim()
      expect(state).toBe('true 0')
      const health = await docker([
        'exec',
        id,
        'node',
        '-e',
        "fetch('http://127.0.0.1:3000/healthz').then(async (r) => console.log(r.status, await r.text()))",
      ])
      expect(health.trim()).toBe('200 {"status":"ok"}')
      const listening = (await docker(['logs', id])).split(/\r?\n/).find((line) => line.includes('Server listening'))
      expect(JSON.parse(listening ?? 'null')).toMatchObject({
        level: 30,
        msg: expect.stringContaining('Server listening'),
      })
    } finally {
      await docker(['rm', '-f', id])
    }
  })
})
