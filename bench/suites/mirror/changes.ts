/**
 * Changes made "in Recharge": directly in the simulator with a token of the same store that is not the bridge's (so
 * they spend none of its budget), as the merchant's admin, a flow or another app would; and how the bridge shows the
 * changed record to its shopper (a customer token minted by the admin route, the shopper routes).
 */
import type { BridgeProcess } from '../../harness/bridge.ts'
import { type MirrorStack, mintToken, type Shopper, type StoreState, sleep } from './stack.ts'

export type ChangeKind = 'subscription' | 'customer' | 'address'

export interface Change {
  kind: ChangeKind
  customer: Shopper
  recordId: number
  /** The field changed and the value it was set to. */
  field: 'quantity' | 'last_name' | 'first_name'
  value: string | number
}

const PATHS: Record<ChangeKind, string> = {
  subscription: 'subscriptions',
  customer: 'customers',
  address: 'addresses',
}

/** The record of `kind` a change to this customer's account touches (their first active subscription, etc.). */
export function planChange(state: StoreState, kind: ChangeKind, customer: Shopper, sequence: number): Change {
  if (kind === 'subscription') {
    const subscription = state.subscriptions.find(
      (row) => row.customer_id === customer.id && row.status.toLowerCase() === 'active',
    )
    if (!subscription) throw new Error(`customer ${customer.id} has no active subscription`)
    // Quantities 11 and up: the seed never has them, so the new value differs from the old.
    return { kind, customer, recordId: subscription.id, field: 'quantity', value: 11 + (sequence % 50) }
  }
  if (kind === 'address') {
    const address = state.addresses.find((row) => row.customer_id === customer.id)
    if (!address) throw new Error(`customer ${customer.id} has no address`)
    return { kind, customer, recordId: address.id, field: 'first_name', value: `Changed${sequence}` }
  }
  return { kind, customer, recordId: customer.id, field: 'last_name', value: `Changed${sequence}` }
}

/**
 * Make the change in the simulator directly; throws unless it answers 200. The direct token has a budget of its own
 * (40, 2/s): a 429 (not processed) is sent again a second later. Answers when the change that was made was sent
 * (performance.now()).
 */
export async function applyDirectly(stack: MirrorStack, change: Change): Promise<number> {
  let response: Response
  let sentAt: number
  for (let attempt = 1; ; attempt++) {
    sentAt = performance.now()
    response = await fetch(`${stack.simulator.url}/${PATHS[change.kind]}/${change.recordId}`, {
      method: 'PUT',
      headers: { ...stack.direct, 'content-type': 'application/json' },
      body: JSON.stringify({ [change.field]: change.value }),
    })
    if (response.status !== 429 || attempt >= 10) break
    await response.arrayBuffer()
    await sleep(1_000)
  }
  if (response.status !== 200) {
    throw new Error(`PUT /${PATHS[change.kind]}/${change.recordId} → ${response.status}: ${await response.text()}`)
  }
  await response.arrayBuffer()
  return sentAt
}

/** A shopper's view through the bridge: their token, once. */
export async function shopperToken(bridge: BridgeProcess, customer: Shopper): Promise<string> {
  const minted = await mintToken(bridge, customer.email)
  if (!minted.token) throw new Error(`minting a token for customer ${customer.id} → ${minted.status}`)
  return minted.token
}

/** The changed field as the bridge's shopper route shows it now (undefined when the read did not answer 200). */
export async function bridgeView(bridge: BridgeProcess, token: string, change: Change): Promise<unknown> {
  const path =
    change.kind === 'subscription'
      ? `/v1/subscriptions/${change.recordId}`
      : change.kind === 'address'
        ? `/v1/addresses/${change.recordId}`
        : '/v1/me'
  const response = await fetch(`${bridge.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  if (response.status !== 200) {
    await response.arrayBuffer()
    return undefined
  }
  return ((await response.json()) as Record<string, unknown>)[change.field]
}

/** The changed field in the simulator's store now. */
export function storeView(state: StoreState, change: Change): unknown {
  const rows: { id: number }[] =
    change.kind === 'subscription' ? state.subscriptions : change.kind === 'address' ? state.addresses : state.customers
  return (rows.find((row) => row.id === change.recordId) as Record<string, unknown> | undefined)?.[change.field]
}
