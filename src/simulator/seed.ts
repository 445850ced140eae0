import { isoNaive, isoOffset } from './dates.ts'
import { SeededRandom } from './random.ts'
import { seedCatalog } from './seed-catalog.ts'
import { seedCustomers } from './seed-customers.ts'
import { DISCOUNT_CODES, localPrice } from './seed-data.ts'
import { seedDunningShopper } from './seed-dunning.ts'
import type { SimState } from './state.ts'

/**
 * The deterministic data set: a small coffee roaster with six products (subscription, prepaid and onetime plans),
 * five customers (alice@example.com and bob@example.com are the documented demo shoppers), their addresses,
 * payment methods, active and cancelled subscriptions, queued charges and past charges with orders.
 * Same SIM_SEED → same ids, names, hashes and prices; dates are relative to the simulator's "today".
 */
export function seedState(state: SimState): void {
  const random = new SeededRandom(state.options.seed)
  const now = state.now()
  const created = now - 400 * 86_400_000
  const createdOffset = isoOffset(created)
  const createdNaive = isoNaive(created)
  const currency = state.options.currency

  state.store = {
    id: 100_000 + random.int(1, 89_999),
    checkout_logo_url: null,
    checkout_platform: 'recharge',
    created_at: createdOffset,
    currency,
    customer_portal_domain: '',
    disabled_currencies_historical: [],
    domain: `${state.options.storeSubdomain}.example.com`,
    email: `owner@${state.options.storeSubdomain}.example.com`,
    enabled_presentment_currencies: [currency],
    enabled_presentment_currencies_symbols: [
      { currency, location: 'before', suffix: '', symbol: currency === 'JPY' ? '¥' : currency === 'EUR' ? '€' : '$' },
    ],
    external_platform: 'headless',
    iana_timezone: 'UTC',
    merchant_portal_domain: `${state.options.storeSubdomain}.admin.rechargeapps.com`,
    name: state.options.storeName,
    phone: null,
    platform: 'api',
    subdomain: state.options.storeSubdomain,
    timezone: '(GMT+00:00) UTC',
    updated_at: createdOffset,
    weight_unit: 'g',
  }

  for (const discount of DISCOUNT_CODES) {
    const value = discount.value_type === 'fixed_amount' ? state.money(localPrice(state, 500)) : discount.value
    state.discounts.set(discount.code, { code: discount.code, value, value_type: discount.value_type })
  }

  seedCatalog(state, createdOffset)
  seedCustomers({ state, random, now, createdOffset, createdNaive })
  seedDunningShopper(state)
}
