import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileSyncStateStore, RedisSyncStateStore } from '../../src/catalog/sync/state-store.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts'

/** The store lock and checkpoint of catalog syncs: real Redis (shared by replicas and the CLI) and the local files. */
const prefix = uniquePrefix('catalog-state')
let redis: RedisClient
let dir: string

beforeAll(async () => {
  redis = await connectRedis()
  dir = mkdtempSync(join(tmpdir(), 'catalog-state-'))
})

afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`)
  await redis?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('Redis sync state', () => {
  it('lets one job hold the store lock; only the holder renews or releases it', async () => {
    const store = new RedisSyncStateStore(redis, prefix)
    expect(await store.acquire('job-a', 5_000)).toEqual({ ok: true })
    expect(await store.acquire('job-b', 5_000)).toEqual({ ok: false, holder: 'job-a' })
    expect(await store.renew('job-b', 5_000)).toBe(false)
    expect(await store.renew('job-a', 5_000)).toBe(true)
    await store.release('job-b')
    expect(await store.acquire('job-b', 5_000)).toEqual({ ok: false, holder: 'job-a' })
    await store.release('job-a')
    expect(await store.acquire('job-b', 5_000)).toEqual({ ok: true })
    await store.release('job-b')
  })

  it('frees the lock of a holder that stopped renewing once it expires', async () => {
    const store = new RedisSyncStateStore(redis, `${prefix}:ttl`)
    expect(await store.acquire('crashed', 100)).toEqual({ ok: true })
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(await store.acquire('next', 5_000)).toEqual({ ok: true })
  })

  it('keeps checkpoints and job statuses', async () => {
    const store = new RedisSyncStateStore(redis, prefix)
    const checkpoint = {
      jobId: 'j',
      feedHash: 'h',
      startedAt: 's',
      updatedAt: 'u',
      done: ['a'],
      writes: 3,
      batch: null,
    }
    await store.saveCheckpoint(checkpoint)
    expect(await store.loadCheckpoint()).toEqual(checkpoint)
    await store.clearCheckpoint()
    expect(await store.loadCheckpoint()).toBeNull()
    expect(await store.loadJob('missing')).toBeNull()
  })
})

describe('file sync state', () => {
  it('excludes a second holder while the first process lives, and takes over a dead holder', async () => {
    const file = join(dir, 'state.json')
    const store = new FileSyncStateStore(file)
    expect(await store.acquire('job-a', 0)).toEqual({ ok: true })
    expect(await new FileSyncStateStore(file).acquire('job-b', 0)).toEqual({ ok: false, holder: 'job-a' })
    await store.release('job-a')
    // A lock left by a process that no longer exists (SIGKILL) is stale.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, jobId: 'ghost' }))
    expect(await store.acquire('job-c', 0)).toEqual({ ok: true })
    await store.release('job-c')
  })

  it('writes checkpoints atomically and clears them', async () => {
    const store = new FileSyncStateStore(join(dir, 'cp.json'))
    const checkpoint = {
      jobId: 'j',
      feedHash: 'h',
      startedAt: 's',
      updatedAt: 'u',
      done: [],
      writes: 0,
      batch: { id: '1', type: 'bulk_plans_create', submitted: true },
    }
    await store.saveCheckpoint(checkpoint)
    expect(await store.loadCheckpoint()).toEqual(checkpoint)
    await store.clearCheckpoint()
    expect(await store.loadCheckpoint()).toBeNull()
  })
})
