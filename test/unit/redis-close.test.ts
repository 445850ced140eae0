import { describe, expect, it, vi } from 'vitest'
import { closeRedisClient } from '../../src/plugins/redis.ts'

/**
 * Shutdown must not wait on a Redis that will never answer: a connection to a killed Redis container is
 * black-holed, so QUIT gets no reply and the process would outlive its grace period.
 */
function fakeClient(close: () => Promise<unknown>, isOpen = true) {
  const client = {
    isOpen,
    close: vi.fn(close),
    destroy: vi.fn(() => {
      client.isOpen = false
    }),
  }
  return client
}

describe('closeRedisClient', () => {
  it('quits a connection that answers, without destroying it', async () => {
    const client = fakeClient(async () => {
      client.isOpen = false
    })
    await closeRedisClient(client as never)
    expect(client.close).toHaveBeenCalledOnce()
    expect(client.destroy).not.toHaveBeenCalled()
  })

  it('destroys a connection whose QUIT never gets a reply once the deadline passes', async () => {
    const client = fakeClient(() => new Promise(() => {}))
    await closeRedisClient(client as never, 20)
    expect(client.destroy).toHaveBeenCalledOnce()
    expect(client.isOpen).toBe(false)
  })

  it('destroys a connection whose QUIT fails, and one that is not open at all', async () => {
    const failing = fakeClient(async () => {
      throw new Error('Socket closed unexpectedly')
    })
    await closeRedisClient(failing as never)
    expect(failing.destroy).toHaveBeenCalledOnce()
    const closed = fakeClient(async () => {}, false)
    await closeRedisClient(closed as never)
    expect(closed.close).not.toHaveBeenCalled()
    expect(closed.destroy).toHaveBeenCalledOnce()
  })
})
