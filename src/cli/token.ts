import type { Command } from 'commander'
import { request } from 'undici'
import { MAX_TOKEN_LIFETIME_S, mintCustomerToken, parseSubject, secretKey } from '../shopper/customer-token.ts'

interface MintOptions {
  email?: string
  externalId?: string
  ttl: string
  server?: string
  adminKey?: string
}

/**
 * `recharge-bridge token mint --email <e> | --external-id <id> [--ttl <s>] [--server <url>]`. Signs a customer token
 * locally with CUSTOMER_TOKEN_SECRET, or, with --server, asks that running bridge for one (POST
 * /v1/admin/customer-tokens with ADMIN_API_KEY): the only way to get a token a demo-mode server accepts, since its
 * secret is random and never leaves the process. Prints the token on stdout, its expiry on stderr.
 */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Customer tokens for the shopper routes (development)')
  token
    .command('mint')
    .description(
      'Sign a customer token with CUSTOMER_TOKEN_SECRET, or ask a running bridge for one with --server (prints the JWT)',
    )
    .option('--email <email>', "the shopper's email")
    .option('--external-id <id>', "the shopper's external customer id")
    .option('--ttl <seconds>', `lifetime in seconds (max ${MAX_TOKEN_LIFETIME_S})`, '900')
    .option(
      '--server <url>',
      'mint through this running bridge (its admin route) instead of signing locally; a demo server needs this',
    )
    .option('--admin-key <key>', "the server's ADMIN_API_KEY (default: $ADMIN_API_KEY; a demo server prints its own)")
    .addHelpText(
      'after',
      '\nA demo-mode server (no RECHARGE_API_TOKEN) signs with a random secret and prints its admin key at start:\n' +
        '  recharge-bridge token mint --server http://localhost:3000 --admin-key <demo admin key> --email alice@example.com',
    )
    .action(async (options: MintOptions) => {
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
      if (options.server) {
        const minted = await mintThroughServer(program, options.server, options, Math.max(60, ttl))
        process.stdout.write(`${minted.token}\n`)
        process.stderr.write(`expires at ${minted.expires_at}\n`)
        return
      }
      const secret = process.env.CUSTOMER_TOKEN_SECRET
      if (!secret || secret.length < 32) {
        program.error(
          'CUSTOMER_TOKEN_SECRET must be set (at least 32 characters), the same value the bridge uses; ' +
            'against a demo server, which keeps its secret to itself, pass --server <its URL> and its --admin-key',
        )
      }
      const minted = await mintCustomerToken(subject, secretKey(secret as string), { lifetimeS: ttl })
      process.stdout.write(`${minted.token}\n`)
      process.stderr.write(`expires at ${minted.expiresAt.toISOString()}\n`)
    })
}

async function mintThroughServer(
  program: Command,
  server: string,
  options: MintOptions,
  ttl: number,
): Promise<{ token: string; expires_at: string }> {
  const adminKey = options.adminKey ?? process.env.ADMIN_API_KEY
  if (!adminKey) program.error('--server needs the admin key: pass --admin-key or set ADMIN_API_KEY')
  let url: URL
  try {
    url = new URL('/v1/admin/customer-tokens', server)
  } catch {
    program.error(`--server must be the bridge's base URL, such as http://localhost:3000 (got ${server})`)
  }
  const body = options.email
    ? { email: options.email, expires_in: ttl }
    : { external_customer_id: options.externalId, expires_in: ttl }
  let answer: Awaited<ReturnType<typeof request>>
  try {
    answer = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  } catch (error) {
    program.error(`cannot reach ${url.origin}: ${(error as Error).message}`)
  }
  const text = await answer.body.text()
  if (answer.statusCode !== 201) {
    let detail = text
    try {
      const problem = JSON.parse(text) as { code?: string; detail?: string; title?: string }
      detail = `${problem.code ?? answer.statusCode}: ${problem.detail ?? problem.title ?? ''}`
    } catch {}
    program.error(`the bridge refused to mint a token (${answer.statusCode}) ${detail}`)
  }
  return JSON.parse(text) as { token: string; expires_at: string }
}
