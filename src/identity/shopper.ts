/**
 * Who the shopper behind a request is, once their customer token is verified and mapped to Recharge (src/plugins/auth.ts
 * sets it as `request.shopper`). Every id a shopper sends is checked against `customerId` before any upstream call.
 */
export interface Shopper {
  /** Recharge customer id (string form). */
  customerId: string
  email: string
  externalCustomerId: string | null
}
