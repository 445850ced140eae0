import type { Command } from 'commander'
import { MAX_TOKEN_LIFETIME_S, mintCustomerToken, parseSubject, secretKey } from '../identity/customer-token.ts'

/**
 * `recharge-bridge token mint --email <e> | --external-id <id> [--ttl <s>]`: sign a customer token locally with
 * CUSTOMER_TOKEN_SECRET from the environment (development; in production the merchant backend mints tokens, itself
 * or through POST /v1/admin/customer-tokens). Prints the token on stdout, its expiry on stderr.
 */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Customer tokens for the shopper routes (development)')
  token
    .command('mint')
    .description('Sign a customer token with CUSTOMER_TOKEN_SECRET (prints the JWT)')
    .option('--email <email>', "the shopper's email")
    .option('--external-id <id>', "the shopper's external customer id")
    .option('--ttl <seconds>', `lifetime in seconds (max ${MAX_TOKEN_LIFETIME_S})`, '900')
    .action(async (options: { email?: string; externalId?: string; ttl: string }) => {
      const secret = process.env.CUSTOMER_TOKEN_SECRET
      if (!secret || secret.length < 32) {
        program.error('CUSTOMER_TOKEN_SECRET must be set (at least 32 characters), the same value the bridge uses')
      }
      if (Boolean(options.email) === Boolean(options.externalId)) {
        program.error('pass exactly one of --email or --external-id')
      }
      const ttl = Number(options.ttl)
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_LIFETIME_S) {
        program.error(`--ttl must be an integer between 1 and ${MAX_TOKEN_LIFETIME_S}`)
      }
      let subject: ReturnType<typeof parseSubject>
      try {
        subject = parseSubject(options.email ?? options.externalId)
      } catch (error) {
        program.error((error as Error).message)
      }
      const minted = await mintCustomerToken(subject, secretKey(secret as string), { lifetimeS: ttl })
      process.stdout.write(`${minted.token}\n`)
      process.stderr.write(`expires at ${minted.expiresAt.toISOString()}\n`)
    })
}
