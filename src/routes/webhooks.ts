import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../errors.ts'
import { problemSchema } from '../schemas/problem.ts'
import { planRegistration, reconcileWebhooks, webhookAddress } from '../webhooks/registration.ts'

/** Recharge payloads grow with included_objects; the JSON routes' 64 KiB limit is too small here. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024

const problem = problemSchema

const acknowledged = z.object({ received: z.literal(true), topic: z.string(), resource: z.string() })

const webhookView = z.object({
  id: z.string(),
  topic: z.string(),
  address: z.string(),
  status: z.enum(['registered', 'redundant', 'foreign']),
})

const registrationReport = z.object({
  address: z.string().describe('Where this bridge receives webhooks (one ?topic= per topic)'),
  created: z.array(z.string()),
  failed: z.array(z.object({ topic: z.string(), error: z.string() })),
  pruned: z.array(z.string()),
  registered: z.array(z.string()),
})

function rechargeWebhooksOrThrow(app: FastifyInstance) {
  const webhooks = app.webhooks.rechargeWebhooks()
  if (!webhooks) throw new AppError('SERVICE_UNAVAILABLE', { detail: 'The Recharge client is not available' })
  return webhooks
}

/**
 * `POST /v1/webhooks/recharge` (Recharge → us) and the registration admin routes. The intake route lives in its own
 * encapsulated context whose only body parser hands over the raw bytes: signatures are computed over exactly what
 * was sent, and JSON parsing everywhere else is untouched.
 */
export default async function webhooksRoutes(app: FastifyInstance): Promise<void> {
  await app.register(async (intake) => {
    intake.removeAllContentTypeParsers()
    intake.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) =>
      done(null, body),
    )
    intake.withTypeProvider<ZodTypeProvider>().post(
      '/webhooks/recharge',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        schema: {
          tags: ['webhooks'],
          summary: 'Recharge webhook intake (signature-verified, acknowledged once stored)',
          description:
            'Verifies X-Recharge-Webhook-Signature (t=…,v1=…) or, when absent, X-Recharge-Hmac-Sha256 on the raw body; ' +
            'stores the delivery durably and answers 200; processing (cache invalidation, forwarding) happens after, once per ' +
            'signed body whatever the ?topic= (no signature covers the topic).',
          querystring: z.object({ topic: z.string().max(100).optional() }),
          response: {
            200: acknowledged,
            400: problem.describe('Signed, but not JSON (code BAD_REQUEST)'),
            401: problem.describe(
              'Signature missing, malformed, expired or wrong, or legacy-signed without an updated_at of the last 72 h (code UNAUTHENTICATED)',
            ),
            413: problem.describe('Body over 1 MiB (code PAYLOAD_TOO_LARGE)'),
            503: problem.describe(
              'RECHARGE_WEBHOOK_SECRET unset, or the delivery could not be stored: not acknowledged, Recharge retries',
            ),
          },
        },
      },
      async (request, reply) => {
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
        const accepted = await app.webhooks.accept({
          rawBody,
          headers: request.headers,
          urlTopic: request.query.topic,
        })
        if (accepted.mismatch) {
          request.log.warn({ topic: accepted.topic, resource: accepted.resource }, 'webhook topic and payload disagree')
        }
        return reply.send({ received: true as const, topic: accepted.topic, resource: accepted.resource })
      },
    )
  })

  const typed = app.withTypeProvider<ZodTypeProvider>()
  const requireAdmin = app.requireAdmin

  typed.get(
    '/admin/webhooks',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['admin'],
        summary: "List the token's webhooks and which needed topics are missing",
        security: [{ adminKey: [] }],
        response: {
          200: z.object({ address: z.string(), missing: z.array(z.string()), webhooks: z.array(webhookView) }),
          401: problem.describe('Missing or wrong admin key (code UNAUTHENTICATED)'),
        },
      },
    },
    async () => {
      const existing = await rechargeWebhooksOrThrow(app).list()
      const plan = planRegistration(existing, app.webhooks.publicUrl)
      const view =
        (status: 'registered' | 'redundant' | 'foreign') =>
        (webhook: { id: string; topic: string; address: string }) => ({
          id: webhook.id,
          topic: webhook.topic,
          address: webhook.address,
          status,
        })
      return {
        address: webhookAddress(app.webhooks.publicUrl, '<topic>'),
        missing: plan.missing,
        webhooks: [
          ...plan.kept.map(view('registered')),
          ...plan.prunable.map(view('redundant')),
          ...plan.foreign.map(view('foreign')),
        ],
      }
    },
  )

  typed.post(
    '/admin/webhooks/register',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['admin'],
        summary:
          'Register the webhook topics the bridge needs at PUBLIC_URL (idempotent); ?prune=true also deletes ours that are redundant',
        security: [{ adminKey: [] }],
        querystring: z.object({ prune: z.enum(['true', 'false']).optional() }),
        response: {
          200: registrationReport,
          401: problem.describe('Missing or wrong admin key (code UNAUTHENTICATED)'),
        },
      },
    },
    async (request) => {
      const result = await reconcileWebhooks(rechargeWebhooksOrThrow(app), app.webhooks.publicUrl, {
        prune: request.query.prune === 'true',
      })
      return {
        address: webhookAddress(app.webhooks.publicUrl, '<topic>'),
        created: result.created,
        failed: result.failed,
        pruned: result.pruned,
        registered: [...result.plan.kept.map((webhook) => webhook.topic), ...result.created],
      }
    },
  )
}
