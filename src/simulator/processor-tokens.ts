import { fieldError, SimError } from './errors.ts'

/**
 * What `POST /payment_methods` accepts from a payment processor: the processors Recharge vaults cards with outside
 * its own checkout, and the shape of each one's customer and payment-method tokens (Stripe `cus_`/`pm_`, Braintree
 * customer and payment-method ids, Authorize.net numeric profile ids, Mollie `cst_`/`mdt_`). A token of the wrong
 * shape is refused the way Recharge refuses a token its processor does not know: 422 on the field.
 */
interface ProcessorRule {
  customer: RegExp
  paymentMethod: RegExp
}

export const PROCESSOR_RULES: Record<string, ProcessorRule> = {
  stripe: { customer: /^cus_\w{4,}$/, paymentMethod: /^(pm|card|src)_\w{4,}$/ },
  braintree: { customer: /^[A-Za-z0-9_-]{3,36}$/, paymentMethod: /^[A-Za-z0-9_-]{3,36}$/ },
  authorize: { customer: /^\d{3,20}$/, paymentMethod: /^\d{3,20}$/ },
  mollie: { customer: /^cst_\w{4,}$/, paymentMethod: /^mdt_\w{4,}$/ },
}

const PAYMENT_TYPES = new Set(['CREDIT_CARD', 'PAYPAL', 'APPLE_PAY', 'GOOGLE_PAY', 'SEPA_DEBIT'])
const BILLING_REQUIRED = ['address1', 'city', 'country_code', 'first_name', 'last_name', 'zip'] as const

export interface ProcessorTokens {
  processorName: string
  customerToken: string
  paymentMethodToken: string
  paymentType: string
}

/**
 * The processor fields of a create body, or a 2021-11-shaped 422. The recorded answer to an unknown customer token is
 * `{"processor_customer_token": ["Not found"]}`, given before any other field is looked at; a method created without
 * a billing address has every billing field null (recorded 201), so the address is only checked when sent.
 */
export function readProcessorTokens(body: Record<string, unknown>): ProcessorTokens {
  const processorName = body.processor_name === undefined ? 'stripe' : String(body.processor_name)
  const rule = PROCESSOR_RULES[processorName]
  if (!rule) throw fieldError('processor_name', `Must be one of: ${Object.keys(PROCESSOR_RULES).join(', ')}.`)
  const customerToken = typeof body.processor_customer_token === 'string' ? body.processor_customer_token : ''
  if (!rule.customer.test(customerToken)) throw fieldError('processor_customer_token', 'Not found')
  const paymentMethodToken =
    typeof body.processor_payment_method_token === 'string' ? body.processor_payment_method_token : ''
  if (!rule.paymentMethod.test(paymentMethodToken)) throw fieldError('processor_payment_method_token', 'Not found')
  const paymentType = body.payment_type === undefined ? 'CREDIT_CARD' : String(body.payment_type).toUpperCase()
  if (!PAYMENT_TYPES.has(paymentType))
    throw fieldError('payment_type', `Must be one of: ${[...PAYMENT_TYPES].join(', ')}.`)
  const billing = body.billing_address
  if (billing === undefined || billing === null)
    return { processorName, customerToken, paymentMethodToken, paymentType }
  if (typeof billing !== 'object') throw fieldError('billing_address', 'Not a valid mapping type.')
  const errors: Record<string, string[]> = {}
  for (const key of BILLING_REQUIRED) {
    const value = (billing as Record<string, unknown>)[key]
    if (typeof value !== 'string' || value.trim() === '') errors[key] = ['Missing data for required field.']
  }
  if (Object.keys(errors).length > 0) throw new SimError(422, { errors: { billing_address: errors } })
  return { processorName, customerToken, paymentMethodToken, paymentType }
}
