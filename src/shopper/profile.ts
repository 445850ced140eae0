import { AppError } from '../errors.ts'
import { RechargeValidationError } from '../recharge/errors.ts'
import type { CustomerUpdate } from '../recharge/resources/customers.ts'
import type { Customer } from '../recharge/schemas/customers.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import type { ShopperAction } from './policy.ts'
import { subjectTag } from './records.ts'

export interface ProfilePatch {
  first_name?: string | undefined
  last_name?: string | undefined
  phone?: string | null | undefined
  email?: string | undefined
}

/**
 * The shopper's own profile (Recharge `PUT /customers/{id}`): first and last name and phone under the policy switch
 * `update_profile`; the email under `change_email` too, which is off by default, because the email is what most
 * merchants sign shoppers in with (a customer token whose subject is the old email stops resolving once it changes).
 */
export class ProfileActions {
  private readonly pipeline: WritePipeline

  constructor(options: { pipeline: WritePipeline }) {
    this.pipeline = options.pipeline
  }

  async update(context: ActionContext, patch: ProfilePatch): Promise<Customer> {
    const { pipeline } = this
    const customerId = context.shopper.customerId
    const actions: ShopperAction[] = ['update_profile']
    if (patch.email !== undefined) actions.push('change_email')
    await pipeline.admit(context, actions)

    const fields: CustomerUpdate = {}
    if (patch.first_name !== undefined) fields.first_name = patch.first_name
    if (patch.last_name !== undefined) fields.last_name = patch.last_name
    // Recharge clears a phone with null; "" is the same wish.
    if (patch.phone !== undefined) fields.phone = patch.phone === '' ? null : patch.phone
    if (patch.email !== undefined) fields.email = patch.email.toLowerCase()

    const current = (await pipeline.records.customer(customerId)).value
    // The identity lookups of both emails: the old one must stop resolving to this customer, the new one start.
    const tags =
      fields.email !== undefined
        ? [fields.email, current.email]
            .filter((email): email is string => typeof email === 'string' && email !== '')
            .map((email) => subjectTag({ kind: 'email', email: email.toLowerCase() }))
        : []
    try {
      const updated = await pipeline.write(
        context,
        tags,
        () => pipeline.upstream().customers.update(customerId, fields, pipeline.writeOptions(context, null)),
        async () => {
          const read = await pipeline.upstream().customers.get(customerId, pipeline.confirmingReadOptions(context))
          return showsProfile(read, fields) ? read : undefined
        },
      )
      return { ...updated, hash: null }
    } catch (error) {
      throw emailInUse(error) ?? error
    }
  }
}

/** The customer shows every field of the update (emails compared case-insensitively, a cleared phone as null). */
export function showsProfile(customer: Customer, update: CustomerUpdate): boolean {
  if (update.first_name !== undefined && customer.first_name !== update.first_name) return false
  if (update.last_name !== undefined && customer.last_name !== update.last_name) return false
  if (update.phone !== undefined && (customer.phone ?? null) !== (update.phone ?? null)) return false
  if (update.email !== undefined && customer.email?.toLowerCase() !== update.email.toLowerCase()) return false
  return true
}

/** Recharge refuses an email another customer of the store has: a specific 422 the storefront can explain. */
function emailInUse(error: unknown): AppError | undefined {
  if (!(error instanceof RechargeValidationError)) return undefined
  const onEmail = error.fieldErrors.some((field) => field.field === 'email' || field.field.startsWith('email.'))
  if (!onEmail || !/exist|taken|in use/i.test(error.fieldErrors.map((field) => field.message).join(' '))) {
    return undefined
  }
  return new AppError('EMAIL_IN_USE', {
    detail: 'Another account already uses this email address.',
    errors: [{ field: 'body.email', message: 'is already used by another account' }],
    cause: error,
  })
}
