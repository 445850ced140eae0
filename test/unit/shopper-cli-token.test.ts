import { Command } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { registerTokenCommands } from '../../src/cli/token.ts'
import { secretKey, verifyCustomerToken } from '../../src/identity/customer-token.ts'

const secret = 'cli-secret-0123456789abcdef0123456789ab'

async function run(args: string[]): Promise<{ stdout: string; error: string | null }> {
  const program = new Command('recharge-bridge').exitOverride()
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerTokenCommands(program)
  let stdout = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    await program.parseAsync(['node', 'recharge-bridge', 'token', 'mint', ...args])
    return { stdout, error: null }
  } catch (error) {
    return { stdout, error: (error as Error).message }
  } finally {
    write.mockRestore()
  }
}

describe('recharge-bridge token mint', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    vi.unstubAllEnvs()
  })

  it('prints a token the bridge accepts for that shopper', async () => {
    vi.stubEnv('CUSTOMER_TOKEN_SECRET', secret)
    const { stdout, error } = await run(['--email', 'Alice@Example.com', '--ttl', '120'])
    expect(error).toBeNull()
    const verified = await verifyCustomerToken(stdout.trim(), secretKey(secret))
    expect(verified.subject).toEqual({ kind: 'email', email: 'alice@example.com' })
    expect(verified.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000)
  })

  it('refuses without the secret, with both or neither subject, and with a ttl over an hour', async () => {
    vi.stubEnv('CUSTOMER_TOKEN_SECRET', '')
    expect((await run(['--email', 'a@b.c'])).error).toMatch(/CUSTOMER_TOKEN_SECRET/)
    vi.stubEnv('CUSTOMER_TOKEN_SECRET', secret)
    expect((await run([])).error).toMatch(/exactly one/)
    expect((await run(['--email', 'a@b.c', '--external-id', '7'])).error).toMatch(/exactly one/)
    expect((await run(['--external-id', '7', '--ttl', '7200'])).error).toMatch(/--ttl/)
  })
})
