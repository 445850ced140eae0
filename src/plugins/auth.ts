import fp from 'fastify-plugin'

// Placeholder: filled in by the auth capability.
export default fp(async function authPlugin() {}, { name: 'auth', dependencies: ['redis', 'metrics'] })
