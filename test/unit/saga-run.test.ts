import { describe, expect, it } from 'vitest'
import type { Clock } from '../../src/infra/clock.ts'
import {
  loadSagaCheckpoint,
  type SagaCheckpoint,
  type SagaCheckpointStore,
  SagaRun,
  type SagaRunOptions,
  type SagaStepFailure,
} from '../../src/infra/saga.ts'

type Pending = { batch: string }

function memoryStore(initial: SagaCheckpoint<Pending> | null = null) {
  const saved: SagaCheckpoint<Pending>[] = []
  let current = initial
  const store: SagaCheckpointStore<Pending> = {
    load: async () => current,
    save: async (checkpoint) => {
      current = structuredClone(checkpoint)
      saved.push(current)
    },
    clear: async () => {
      current = null
    },
  }
  return { store, saved, current: () => current }
}

function manualClock(start = Date.parse('2026-12-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start
  return { now: () => now, sleep: async () => {}, advance: (ms) => (now += ms) }
}

function run(options: Partial<SagaRunOptions<Pending>> & Pick<SagaRunOptions<Pending>, 'store'>) {
  const failures: SagaStepFailure[] = []
  const saga = new SagaRun<Pending>({
    name: 'test run',
    jobId: 'job-2',
    inputHash: 'hash-a',
    previous: null,
    log: { warn() {} },
    writes: () => 0,
    describeError: (error) => ({ code: 'FAILED', message: error instanceof Error ? error.message : 'error' }),
    onFailure: (failure) => failures.push(failure),
    clock: manualClock(),
    ...options,
  })
  return { saga, failures }
}

const interrupted: SagaCheckpoint<Pending> = {
  jobId: 'job-1',
  inputHash: 'hash-a',
  startedAt: '2026-11-30T00:00:00.000Z',
  updatedAt: '2026-11-30T00:01:00.000Z',
  done: ['p1'],
  writes: 5,
  pending: { batch: 'b1' },
}

describe('SagaRun', () => {
  it('resumes a checkpoint of the same input: keeps its start, done items and write count', async () => {
    const { store, current } = memoryStore(interrupted)
    const previous = await loadSagaCheckpoint(store)
    const { saga } = run({ store, previous, writes: () => 2 })
    expect(saga.resumed).toBe(true)
    expect(saga.isDone('p1')).toBe(true)
    saga.complete('p2')
    await saga.save(true)
    expect(current()).toMatchObject({ jobId: 'job-2', startedAt: interrupted.startedAt, done: ['p1', 'p2'], writes: 7 })
  })

  it('starts over when the checkpoint is of another input', async () => {
    const { store, current } = memoryStore({ ...interrupted, inputHash: 'hash-b' })
    const { saga } = run({ store, previous: await loadSagaCheckpoint(store) })
    expect(saga.resumed).toBe(false)
    await saga.save(true)
    expect(current()).toMatchObject({ done: [], writes: 0, pending: null })
  })

  it('saves unforced checkpoints at most once per interval, and the work in flight at once', async () => {
    const { store, saved } = memoryStore()
    const clock = manualClock()
    const { saga } = run({ store, clock, saveEveryMs: 500 })
    await saga.save()
    await saga.save()
    expect(saved).toHaveLength(1)
    await saga.track({ batch: 'b2' })
    expect(saved.at(-1)?.pending).toEqual({ batch: 'b2' })
    clock.advance(500)
    await saga.save()
    expect(saved).toHaveLength(3)
  })

  it('records a failed step and goes on; an aborted run stops', async () => {
    const { store } = memoryStore()
    const touched: string[] = []
    const controller = new AbortController()
    const { saga, failures } = run({ store, signal: controller.signal, onTouched: (item) => touched.push(item) })
    expect(await saga.attempt('p1', 'create', async () => {})).toBe(true)
    expect(await saga.attempt('p2', 'update', () => Promise.reject(new Error('boom')))).toBe(false)
    expect(failures).toEqual([{ item: 'p2', operation: 'update', code: 'FAILED', message: 'boom' }])
    expect(touched).toEqual(['p1', 'p2'])
    controller.abort()
    await expect(saga.attempt('p3', 'delete', async () => {})).rejects.toThrow()
    expect(touched).toEqual(['p1', 'p2'])
  })

  it('clears the checkpoint when the run finishes', async () => {
    const { store, current } = memoryStore(interrupted)
    const { saga } = run({ store, previous: interrupted })
    await saga.finish()
    expect(current()).toBeNull()
  })
})
