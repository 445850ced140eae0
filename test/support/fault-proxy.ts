import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy that injects network faults between the bridge and a dependency (the simulator, Redis). Faults apply
 * to connections opened after `set()` and, for latency/slice/limit, to data still flowing on open ones.
 *
 * - latencyMs: delay every chunk in both directions
 * - reset:     destroy the client connection as soon as it sends anything (RST-like)
 * - hang:      accept, read and never forward or answer
 * - sliceBytes: forward responses in slices of this many bytes (exercises partial reads)
 * - limitBytes: forward at most this many response bytes, then close (truncated response)
 * - blackhole: on every connection, open or new, silently drop all data (a frozen peer: nothing is refused)
 * - refuse:    stop listening, so new connections are refused; `set({})` listens again on the same port
 */
export interface Fault {
  latencyMs?: number
  reset?: boolean
  hang?: boolean
  sliceBytes?: number
  limitBytes?: number
  blackhole?: boolean
  refuse?: boolean
}

export interface FaultProxy {
  /** host:port the code under test connects to. */
  readonly host: string
  readonly port: number
  /** Connections accepted so far (a test waits for one to exist before changing the fault it was opened under). */
  readonly accepted: number
  url(scheme: string): string
  set(fault: Fault): Promise<void>
  /** Close every open connection (both sides), as a network blip would. */
  dropConnections(): void
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let fault: Fault = {}
  const sockets = new Set<Socket>()
  let server: Server
  let port = 0
  let accepted = 0

  function track(socket: Socket): void {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }

  /** Pipe `from` → `to` applying the current fault; `limited` counts response bytes only. */
  function pump(from: Socket, to: Socket, direction: 'request' | 'response'): void {
    let forwarded = 0
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      from.pause()
      chain = chain.then(async () => {
        const current = fault
        if (current.blackhole) {
          from.resume()
          return
        }
        if (current.latencyMs) await sleep(current.latencyMs)
        let data = chunk
        if (direction === 'response' && current.limitBytes !== undefined) {
          const room = Math.max(0, current.limitBytes - forwarded)
          data = chunk.subarray(0, room)
        }
        const slice = direction === 'response' && current.sliceBytes ? current.sliceBytes : data.length || 1
        for (let offset = 0; offset < data.length; offset += slice) {
          if (to.destroyed) return
          to.write(data.subarray(offset, offset + slice))
          // Yield between slices so each goes out as its own write.
          if (slice < data.length) await new Promise((resolve) => setImmediate(resolve))
        }
        forwarded += data.length
        if (direction === 'response' && current.limitBytes !== undefined && forwarded >= current.limitBytes) {
          to.end()
          from.destroy()
          return
        }
        from.resume()
      })
    })
    from.on('end', () => {
      chain = chain.then(() => {
        if (!to.destroyed) to.end()
      })
    })
  }

  function onConnection(client: Socket): void {
    accepted++
    track(client)
    const current = fault
    if (current.reset) {
      client.once('data', () => client.resetAndDestroy())
      return
    }
    if (current.hang) {
      client.on('data', () => {})
      return
    }
    const upstream = connect(target)
    track(upstream)
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
    pump(client, upstream, 'request')
    pump(upstream, client, 'response')
  }

  async function listen(): Promise<void> {
    server = createServer(onConnection)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (typeof address === 'object' && address) port = address.port
  }

  async function stopListening(): Promise<void> {
    if (!server.listening) return
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  await listen()

  return {
    host: '127.0.0.1',
    get port() {
      return port
    },
    get accepted() {
      return accepted
    },
    url(scheme) {
      return `${scheme}://127.0.0.1:${port}`
    },
    async set(next) {
      fault = next
      if (next.refuse) {
        for (const socket of sockets) socket.destroy()
        await stopListening()
      } else if (!server.listening) {
        await listen()
      }
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy()
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await stopListening()
    },
  }
}
