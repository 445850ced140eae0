import { once } from 'node:events'
import { createServer } from 'node:net'

/**
 * A loopback port free right now, for a server that must be told its port up front (a redis-server, a bridge whose
 * PUBLIC_URL names it). Shared by test/ and bench/ (tools/ imports neither, nor src/).
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  server.close()
  await once(server, 'close')
  if (!port) throw new Error('no free port')
  return port
}
