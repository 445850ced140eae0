import fp from 'fastify-plugin'

// Placeholder: filled in by the cache capability.
export default fp(async function cachePlugin() {}, { name: 'cache', dependencies: ['redis', 'metrics'] })
