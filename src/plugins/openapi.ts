import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

export interface OpenApiOptions {
  version: string
  serveUi: boolean
}

/** The OpenAPI 3.1 document is generated from the zod route schemas; `npm run openapi` writes the committed copy. */
export default fp<OpenApiOptions>(
  async function openapi(app, options) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'recharge-bridge',
          version: options.version,
          description:
            'Storefront-safe routes in front of the Recharge subscriptions API. Shopper routes take a customer ' +
            'token (`Authorization: Bearer <jwt>`); admin routes take the `ADMIN_API_KEY`. Errors are ' +
            '`application/problem+json` with a stable `code`.',
        },
        components: {
          securitySchemes: {
            customerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            adminKey: { type: 'http', scheme: 'bearer' },
            webhookSignature: { type: 'apiKey', in: 'header', name: 'X-Recharge-Webhook-Signature' },
            appProxySignature: { type: 'apiKey', in: 'query', name: 'signature' },
          },
        },
        tags: [
          { name: 'shopper', description: "The signed-in shopper's own data and self-serve actions" },
          { name: 'catalog', description: 'Public catalog for subscription widgets' },
          { name: 'checkout', description: 'Recharge Checkouts API, priced from the catalog' },
          { name: 'shopify', description: 'Sign in with Shopify: exchange a Shopify credential for a customer token' },
          { name: 'admin', description: 'Merchant backend routes (ADMIN_API_KEY)' },
          { name: 'webhooks', description: 'Recharge webhook intake' },
          { name: 'ops', description: 'Health and readiness' },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    })
    app.get('/openapi.json', { schema: { hide: true }, logLevel: 'warn' }, async () => app.swagger())
    if (options.serveUi) {
      await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
    }
  },
  { name: 'openapi' },
)
