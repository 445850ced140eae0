import { SeededRandom } from './random.ts'
import type { SimState } from './state.ts'
import type { Customer } from './types.ts'
import { customerView } from './views.ts'

/** A new customer (API create or first checkout with an unknown email); emits customer/created. */
export function createCustomer(
  state: SimState,
  input: { email: string; firstName: string; lastName: string; externalId: string | null },
): Customer {
  const now = state.naiveTimestamp()
  const customer: Customer = {
    id: state.nextId('customer-created', 83_000_001),
    analytics_data: { utm_params: [] },
    created_at: now,
    email: input.email,
    external_customer_id: { ecommerce: input.externalId },
    first_charge_processed_at: null,
    first_name: input.firstName,
    has_payment_method_in_dunning: false,
    has_valid_payment_method: false,
    hash: new SeededRandom(`${state.options.seed}:${input.email}:${now}`).hex(30),
    last_name: input.lastName,
    updated_at: now,
  }
  state.customers.set(customer.id, customer)
  state.emit('customer/created', () => ({ customer: customerView(state, customer) }))
  return customer
}
