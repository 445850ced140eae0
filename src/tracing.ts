import { AsyncLocalStorage } from 'node:async_hooks'
import type { Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace'
import type { RechargeTracer, TraceSpan } from './recharge/observability.ts'
import type { Lane } from './recharge/types.ts'

type Api = typeof import('@opentelemetry/api')

/** What the bridge tells the tracer about an inbound request: its route pattern, never its raw URL or query. */
export interface InboundRequest {
  id: string
  method: string
  route: string
  headers: Record<string, string | string[] | undefined>
}

/**
 * OpenTelemetry traces of the bridge: one SERVER span per inbound request (route pattern and status), and under it a
 * span per Recharge call's queue wait and per upstream attempt (operation, Recharge resource, status). Attributes are
 * route and path templates, lanes and status codes: never an id from a URL, a query string, a token or an email.
 * The upstream spans find their request through the request id the routes pass to the Recharge layer or, for calls
 * made deeper down (cache fetches), through `scope`, which the tracing plugin enters around each route's handler.
 */
export class Tracing implements RechargeTracer {
  /** The id of the request whose handler is running. */
  readonly scope = new AsyncLocalStorage<string>()
  private readonly inbound = new Map<string, Span>()
  private readonly api: Api
  private readonly tracer: Tracer
  private readonly propagator: TextMapPropagator
  private readonly shutdownProvider: () => Promise<void>

  constructor(api: Api, tracer: Tracer, propagator: TextMapPropagator, shutdown: () => Promise<void>) {
    this.api = api
    this.tracer = tracer
    this.propagator = propagator
    this.shutdownProvider = shutdown
  }

  requestStarted(request: InboundRequest): void {
    // A caller's W3C traceparent continues its trace; the bridge never forwards it to Recharge.
    const parent = this.propagator.extract(this.api.ROOT_CONTEXT, request.headers, this.api.defaultTextMapGetter)
    const span = this.tracer.startSpan(
      `${request.method} ${request.route}`,
      {
        kind: this.api.SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': request.route },
      },
      parent,
    )
    this.inbound.set(request.id, span)
  }

  requestFinished(id: string, status: number | undefined): void {
    const span = this.inbound.get(id)
    if (!span) return
    this.inbound.delete(id)
    if (status === undefined) {
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: 'client closed the connection' })
    } else {
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) span.setStatus({ code: this.api.SpanStatusCode.ERROR })
    }
    span.end()
  }

  queueWait(operation: string, lane: Lane, requestId: string | undefined): TraceSpan {
    const span = this.tracer.startSpan(
      'recharge.queue_wait',
      {
        attributes: {
          'recharge.operation': operation,
          'recharge.resource': resourceOf(operation),
          'recharge.lane': lane,
        },
      },
      this.parent(requestId),
    )
    return once(() => span.end())
  }

  upstreamCall(operation: string, attempt: number, requestId: string | undefined): TraceSpan {
    const [method = 'GET', template = ''] = operation.split(' ')
    const span = this.tracer.startSpan(
      operation,
      {
        kind: this.api.SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.template': template,
          'recharge.resource': resourceOf(operation),
          'http.request.resend_count': attempt - 1,
        },
      },
      this.parent(requestId),
    )
    return once((status) => {
      if (typeof status === 'number') {
        span.setAttribute('http.response.status_code', status)
        if (status >= 400) span.setStatus({ code: this.api.SpanStatusCode.ERROR })
      } else {
        span.setAttribute('error.type', 'transport')
        span.setStatus({ code: this.api.SpanStatusCode.ERROR })
      }
      span.end()
    })
  }

  /** Flushes what is buffered and stops exporting (app close). */
  async shutdown(): Promise<void> {
    for (const id of [...this.inbound.keys()]) this.requestFinished(id, undefined)
    await this.shutdownProvider()
  }

  private parent(requestId: string | undefined): Context {
    const id = requestId ?? this.scope.getStore()
    const span = id === undefined ? undefined : this.inbound.get(id)
    return span ? this.api.trace.setSpan(this.api.ROOT_CONTEXT, span) : this.api.ROOT_CONTEXT
  }
}

/** `GET /subscriptions/:id/skip` → `subscriptions`: the Recharge resource a call touches. */
function resourceOf(operation: string): string {
  return operation.split(' ')[1]?.split('/')[1] ?? ''
}

function once(end: (status?: number | 'error') => void): TraceSpan {
  let ended = false
  return {
    end(status) {
      if (ended) return
      ended = true
      end(status)
    },
  }
}

/**
 * Tracing for an app, or undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset and no exporter is injected. The
 * OpenTelemetry packages load only here, only then: a bridge without tracing never imports them.
 */
export async function startTracing(options: {
  endpoint: string | undefined
  serviceName: string
  serviceVersion: string
  /** Tests inject an InMemorySpanExporter; spans are then exported one by one as they end. */
  exporter?: SpanExporter
}): Promise<Tracing | undefined> {
  if (!options.endpoint && !options.exporter) return undefined
  const [api, sdk, core, resources, semconv] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ])
  let processor: import('@opentelemetry/sdk-trace').SpanProcessor
  if (options.exporter) {
    processor = new sdk.SimpleSpanProcessor({ exporter: options.exporter })
  } else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    const url = `${(options.endpoint as string).replace(/\/$/, '')}/v1/traces`
    processor = new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) })
  }
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: options.serviceName,
      [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion,
    }),
    spanProcessors: [processor],
  })
  // Nothing is registered globally: several apps in one process (tests) each keep their own provider.
  const tracer = provider.getTracer('recharge-bridge', options.serviceVersion)
  return new Tracing(api, tracer, new core.W3CTraceContextPropagator(), () => provider.shutdown())
}
