import fp from 'fastify-plugin'

// Placeholder: filled in by the idempotency capability.
export default fp(async function idempotencyPlugin() {}, { name: 'idempotency', dependencies: ['redis', 'metrics'] })
