import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../errors.ts'
import { toAppError } from '../plugins/error-handler.ts'
import { type PortalPage, portalLinkBodySchema, portalPages } from '../shopper/account-schemas.ts'
import { privateResponse, problems, shopperDocs, shopperOf } from '../shopper/http.ts'
import { portalUrlBuilder } from '../shopper/portal-url.ts'

/**
 * The "Manage Subscriptions" hand-off to Recharge's hosted portal.
 *  - GET /v1/portal/url[?page=]: the portal URL as JSON, for a storefront script that navigates itself.
 *  - POST /v1/portal/links [{"page"}]: a single-use link (valid 2 min) to /v1/portal/redirect, for a plain `<a href>`.
 * Both open the portal on one of its pages (overview, subscriptions, orders, payment_methods, addresses).
 *  - GET /v1/portal/redirect?token=: consumes the link and answers 302 to the portal.
 * The customer hash in the portal URL authenticates the shopper there, so it is read fresh from Recharge for each
 * hand-off and never cached, logged or returned anywhere else; responses carrying it are `no-store`, no-referrer.
 */
/**
 * The URLs these routes answer are built here from configuration and a Recharge hash: documented as URIs, not parsed
 * again by the response serializer on every answer (`z.url()` would run the URL parser per response).
 */
const builtUrl = z.string().meta({ format: 'uri' })

export default async function portalRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const services = app.shopperServices
  const portalUrl = portalUrlBuilder(app.config)

  async function portalUrlFor(customerId: string, requestId: string, page?: PortalPage): Promise<string> {
    const customer = await services.upstream().customers.portalReference(customerId, { requestId })
    if (!customer.hash) {
      throw new AppError('UPSTREAM_UNAVAILABLE', { detail: 'Recharge returned no customer portal reference' })
    }
    return portalUrl(customer.hash, page)
  }

  routes.get(
    '/portal/url',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'The hosted customer portal URL',
        description: 'The URL authenticates the shopper on the portal: use it at once, do not store or log it.',
        querystring: z.object({
          page: z.enum(portalPages).optional().describe('The portal page to open (default subscriptions)'),
        }),
        response: { 200: z.object({ url: builtUrl }), ...problems },
      },
    },
    async (request, reply) => {
      const url = await portalUrlFor(shopperOf(request).customerId, request.id, request.query.page)
      privateResponse(reply).header('referrer-policy', 'no-referrer')
      return { url }
    },
  )

  routes.post(
    '/portal/links',
    {
      preHandler: app.requireShopper,
      // A POST without a body (the usual call) is the same as `{}` (Fastify would validate it as null).
      preValidation: async (request) => {
        if (request.body == null) request.body = {}
      },
      schema: {
        ...shopperDocs,
        summary: 'A single-use "Manage Subscriptions" link',
        description:
          'Returns a link to GET /v1/portal/redirect that works once within 2 minutes: put it in a plain <a href>. ' +
          'It opens the portal on `page` (default subscriptions; payment_methods is where a shopper in dunning ' +
          'updates their card). Each call mints a new link, so retrying is safe.',
        body: portalLinkBodySchema.optional(),
        response: { 200: z.object({ url: builtUrl, expires_at: z.string() }), ...problems },
      },
    },
    async (request, reply) => {
      const { token, expiresAt } = await services.portalLinks.issue(shopperOf(request).customerId, request.body?.page)
      privateResponse(reply)
      const url = new URL(`${app.config.PUBLIC_URL}/v1/portal/redirect`)
      url.searchParams.set('token', token)
      return { url: url.toString(), expires_at: expiresAt.toISOString() }
    },
  )

  routes.get(
    '/portal/redirect',
    {
      schema: {
        tags: ['shopper'],
        summary: 'Follow a single-use portal link (302 to the hosted portal)',
        querystring: z.object({ token: z.string().min(1).max(128).describe('From POST /v1/portal/links') }),
        response: {
          302: z.null().describe('Location: the hosted customer portal'),
          410: problems[404].describe('The link expired or was already used (code PORTAL_LINK_INVALID)'),
        },
      },
    },
    async (request, reply) => {
      const link = await services.portalLinks.consume(request.query.token)
      if (!link) {
        // A person who clicked a stale link gets a page they can read; API clients get problem+json.
        if (prefersHtml(request.headers.accept)) {
          return privateResponse(reply).code(410).type('text/html; charset=utf-8').send(expiredLinkPage)
        }
        throw new AppError('PORTAL_LINK_INVALID', {
          detail: 'Go back to your account page and use the "Manage Subscriptions" link again.',
        })
      }
      let url: string
      try {
        url = await portalUrlFor(link.customerId, request.id, link.page)
      } catch (error) {
        // The shopper clicked a link: a page they can read (the portal not configured, Recharge down), not JSON.
        if (!prefersHtml(request.headers.accept)) throw error
        const problem = toAppError(error)
        request.log.warn({ code: problem.code, detail: problem.detail }, 'portal hand-off failed; answered a page')
        if (problem.retryAfter !== undefined) reply.header('retry-after', String(Math.ceil(problem.retryAfter)))
        return privateResponse(reply).code(problem.status).type('text/html; charset=utf-8').send(unavailablePage)
      }
      return privateResponse(reply).header('referrer-policy', 'no-referrer').redirect(url, 302)
    },
  )
}

function prefersHtml(accept: string | undefined): boolean {
  return typeof accept === 'string' && /\btext\/html\b/.test(accept)
}

const unavailablePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Subscription management is unavailable</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.5}</style>
</head><body><h1>Subscription management is unavailable</h1>
<p>We could not open the subscription management page just now. Your subscriptions are unchanged.</p>
<p>Please try again in a few minutes from your account page.</p>
</body></html>
`

const expiredLinkPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>This link has expired</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222;line-height:1.5}</style>
</head><body><h1>This link has expired</h1>
<p>For your security, subscription management links work once and only for a few minutes.</p>
<p>Go back to your account page and choose <strong>Manage Subscriptions</strong> again.</p>
</body></html>
`
