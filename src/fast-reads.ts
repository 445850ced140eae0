import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { answerClosing } from './edge-problems.ts'

/**
 * Answers a request completely and returns true, or returns false without touching it (Fastify then routes it).
 * A fast read must send exactly the response Fastify's route would send, headers included: the fast-reads
 * integration test compares the two paths header by header.
 */
export type FastRead = (request: IncomingMessage, response: ServerResponse) => boolean

/** The http options Fastify applies to the server it creates, which a server factory must apply itself. */
interface ServerSettings {
  http?: object | null
  keepAliveTimeout?: number
  requestTimeout?: number
  connectionTimeout?: number
  maxRequestsPerSocket?: number
}

/**
 * Reads answered from memory before Fastify sees the request. A cached catalog product is the storefront's hottest
 * read; its answer is a stored string and a dozen fixed headers, yet running it through routing, request and reply
 * objects, three onRequest hooks and an onResponse hook cost more than the answer itself (half the throughput of a
 * bare server on these machines). Only complete, fresh in-memory answers are taken here; everything else — misses,
 * stale entries, conditional requests, HEAD, query strings, odd paths, a closing server — goes to Fastify unchanged.
 */
export class FastReads {
  private readonly reads: FastRead[] = []
  private open = true
  private shuttingDown = false
  private server: Server | undefined
  /** While shutting down: how long a connection may stay idle after its last answer. */
  static readonly DRAIN_KEEP_ALIVE_MS = 500

  add(read: FastRead): void {
    this.reads.push(read)
  }

  /** Stop answering from memory: every request goes to Fastify. */
  close(): void {
    this.open = false
  }

  /** From the start of app.close(): every new request is answered 503 problem+json (answerClosing) while it drains. */
  shutdown(): void {
    this.open = false
    this.shuttingDown = true
    // server.close() waits for every connection to end, and a keep-alive client keeps the connection of a request
    // that was in flight at SIGTERM open after its answer (until keepAliveTimeout, far past the grace period). So the
    // connections idle now are closed, and one whose answer is still to come stays open only briefly after it (a
    // request pipelined behind it is still answered, with the closing 503).
    const server = this.server
    if (!server) return
    server.keepAliveTimeout = Math.min(server.keepAliveTimeout, FastReads.DRAIN_KEEP_ALIVE_MS)
    server.closeIdleConnections()
  }

  private serve(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.open || request.method !== 'GET') return false
    for (const read of this.reads) if (read(request, response)) return true
    return false
  }

  /** Fastify's `serverFactory`: the HTTP/1.1 server Fastify would create, with the fast reads in front. */
  readonly serverFactory = (
    handler: (request: IncomingMessage, response: ServerResponse) => void,
    settings: ServerSettings,
  ): Server => {
    const server = createServer(settings.http ?? {}, (request, response) => {
      // Fastify's own closing answer (return503OnClosing) is not problem+json; this one is.
      if (this.shuttingDown) answerClosing(request, response)
      else if (!this.serve(request, response)) handler(request, response)
    })
    // What Fastify sets on a server it creates itself (lib/server.js), from the same options.
    if (settings.keepAliveTimeout !== undefined) server.keepAliveTimeout = settings.keepAliveTimeout
    if (settings.requestTimeout !== undefined) server.requestTimeout = settings.requestTimeout
    if (settings.connectionTimeout !== undefined) server.setTimeout(settings.connectionTimeout)
    if (settings.maxRequestsPerSocket !== undefined && settings.maxRequestsPerSocket > 0) {
      server.maxRequestsPerSocket = settings.maxRequestsPerSocket
    }
    this.server = server
    return server
  }
}
