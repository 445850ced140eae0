import type { SimState } from './state.ts'
import type { Charge, Order } from './types.ts'

/** The order Recharge creates when a charge succeeds: the charge's contents under an order envelope. */
export function orderFromCharge(state: SimState, charge: Charge): Order {
  const id = state.nextId('order', 510_000_001)
  return {
    id,
    address_id: charge.address_id,
    billing_address: { ...charge.billing_address },
    charge: { id: charge.id, external_transaction_id: { ...charge.external_transaction_id } },
    client_details: { ...charge.client_details },
    created_at: charge.processed_at ?? charge.updated_at,
    currency: charge.currency,
    customer: { ...charge.customer, external_customer_id: { ...charge.customer.external_customer_id } },
    discounts: [...charge.discounts],
    error: null,
    external_cart_token: null,
    external_order_id: { ...charge.external_order_id },
    external_order_number: { ecommerce: String(1000 + (id % 100_000)) },
    is_prepaid: false,
    line_items: charge.line_items.map((item) => ({ ...item })),
    note: charge.note,
    order_attributes: [...charge.order_attributes],
    processed_at: charge.processed_at,
    scheduled_at: `${charge.scheduled_at}T00:00:00+00:00`,
    shipping_address: { ...charge.shipping_address },
    shipping_lines: charge.shipping_lines.map((line) => ({ ...line })),
    status: 'success',
    subtotal_price: charge.subtotal_price,
    tags: charge.tags,
    tax_lines: [],
    taxable: charge.taxable,
    total_discounts: charge.total_discounts,
    total_duties: charge.total_duties,
    total_line_items_price: charge.total_line_items_price,
    total_price: charge.total_price,
    total_refunds: state.money(0),
    total_tax: charge.total_tax,
    total_weight_grams: charge.total_weight_grams,
    type: charge.type,
    updated_at: charge.updated_at,
  }
}
