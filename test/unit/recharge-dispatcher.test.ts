import { type Dispatcher, MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRechargeDispatcher, rechargeHeaders } from '../../src/recharge/dispatcher.ts'

/**
 * Pins the interceptor order we rely on. undici's docs disagree with each other about compose order; the code runs
 * the LAST interceptor of `compose(a, b)` first (outermost). The credentials interceptor must be composed so that
 * whatever sits under it (retry, dedupe, a test's recorder) sees the header, and nothing above can remove it.
 */
const ORIGIN = 'http://upstream.test'
const TOKEN = 'sk_test_dispatcher_token'

let agent: MockAgent
let received: Record<string, unknown>[]

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
  received = []
  agent
    .get(ORIGIN)
    .intercept({ path: '/store', method: 'GET' })
    .reply((options) => {
      received.push({ ...(options.headers as Record<string, unknown>) })
      return { statusCode: 200, data: '{}' }
    })
    .persist()
})

afterEach(async () => {
  await agent.close()
})

function stripToken(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const headers = { ...(opts.headers as Record<string, string>) }
    delete headers['x-recharge-access-token']
    return dispatch({ ...opts, headers }, handler)
  }
}

async function get(dispatcher: Dispatcher): Promise<void> {
  const response = await dispatcher.request({ origin: ORIGIN, path: '/store', method: 'GET' })
  await response.body.text()
}

describe('credentials interceptor order', () => {
  it('compose(a, b) runs b first: an interceptor composed after ours runs before it and cannot strip the token', async () => {
    await get(agent.compose(rechargeHeaders({ token: TOKEN, apiVersion: '2021-11' }), stripToken()))
    expect(received[0]?.['x-recharge-access-token']).toBe(TOKEN)
  })

  it('an interceptor composed before ours runs after it (this order would lose the token)', async () => {
    await get(agent.compose(stripToken(), rechargeHeaders({ token: TOKEN, apiVersion: '2021-11' })))
    expect(received[0]?.['x-recharge-access-token']).toBeUndefined()
  })

  it('createRechargeDispatcher puts the credentials outermost on an injected dispatcher', async () => {
    const seenInside: Record<string, unknown>[] = []
    const recorder: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
      seenInside.push({ ...(opts.headers as Record<string, unknown>) })
      return dispatch(opts, handler)
    }
    const { dispatcher, close } = createRechargeDispatcher({
      baseUrl: ORIGIN,
      token: TOKEN,
      apiVersion: '2021-11',
      dispatcher: agent.compose(recorder),
    })
    await get(dispatcher)
    expect(seenInside[0]?.['x-recharge-access-token']).toBe(TOKEN)
    expect(received[0]).toMatchObject({ 'x-recharge-access-token': TOKEN, 'x-recharge-version': '2021-11' })
    // The injected dispatcher belongs to the caller: close() leaves it usable.
    await close()
    await get(agent)
  })
})
