import { fieldError, SimError } from './errors.ts'
import type { SimState } from './state.ts'
import type { Customer, SentNotification } from './types.ts'

/**
 * `POST /customers/{id}/notifications`, as the 2021-11 reference documents it (and as the storefront SDK sends it):
 * `{"type": "email", "template_type": "…", "template_vars": {…}}`. (A demo portal posts
 * `{"type": "SHOPIFY_UPDATE_PAYMENT_INFO"}` to another path; that is the SDK's own enum name, not the wire body.)
 * Nothing is emailed: the notification is recorded and listed by `GET /__sim/notifications`. Recharge has no webhook
 * topic for notifications, so none is emitted.
 */
export const TEMPLATE_TYPES = [
  'get_account_access',
  'upcoming_charge',
  'shopify_update_payment_information',
  'shopify_migrate_payment_information',
] as const

export function sendNotification(state: SimState, customer: Customer, body: Record<string, unknown>): SentNotification {
  if (body.type === undefined || body.type === null) throw fieldError('type', 'Missing data for required field.')
  if (body.type !== 'email') throw fieldError('type', 'Must be one of: email.')
  const templateType = body.template_type
  if (templateType === undefined || templateType === null)
    throw fieldError('template_type', 'Missing data for required field.')
  if (typeof templateType !== 'string' || !(TEMPLATE_TYPES as readonly string[]).includes(templateType))
    throw fieldError('template_type', `Must be one of: ${TEMPLATE_TYPES.join(', ')}.`)
  const rawVars = body.template_vars ?? {}
  if (typeof rawVars !== 'object' || Array.isArray(rawVars)) throw fieldError('template_vars', 'Not a valid mapping.')
  const vars = rawVars as Record<string, unknown>

  const errors: Record<string, string[]> = {}
  const addressId = optionalId(vars.address_id)
  const chargeId = optionalId(vars.charge_id)
  const paymentMethodId = optionalId(vars.payment_method_id)
  if (templateType === 'upcoming_charge') {
    if (addressId === undefined) errors.address_id = ['Missing data for required field.']
    if (chargeId === undefined) errors.charge_id = ['Missing data for required field.']
  }
  if (addressId !== undefined && state.addresses.get(addressId)?.customer_id !== customer.id)
    errors.address_id = ['Address not found for this customer.']
  if (chargeId !== undefined) {
    const charge = state.charges.get(chargeId)
    if (charge?.customer.id !== customer.id) errors.charge_id = ['Charge not found for this customer.']
    else if (charge.status !== 'queued') errors.charge_id = ['Charge is not queued.']
    else if (addressId !== undefined && charge.address_id !== addressId)
      errors.charge_id = ['Charge does not belong to this address.']
  }
  if (paymentMethodId !== undefined && state.paymentMethods.get(paymentMethodId)?.customer_id !== customer.id)
    errors.payment_method_id = ['Payment method not found for this customer.']
  if (Object.keys(errors).length > 0) throw new SimError(422, { errors: { template_vars: errors } })

  const notification: SentNotification = {
    id: state.nextId('notification', 1),
    customer_id: customer.id,
    email: customer.email,
    type: 'email',
    template_type: templateType,
    template_vars: structuredClone(vars),
    sent_at: state.timestamp(),
  }
  state.notifications.push(notification)
  return notification
}

/** undefined when absent; NaN-like values become -1 so they fail the ownership checks as "not found". */
function optionalId(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const id = Number(value)
  return Number.isSafeInteger(id) ? id : -1
}
