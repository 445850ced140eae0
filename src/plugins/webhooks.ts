import fp from 'fastify-plugin'

// Placeholder: filled in by the webhooks capability.
export default fp(async function webhooksPlugin() {}, { name: 'webhooks', dependencies: ['redis', 'metrics'] })
