import fp from 'fastify-plugin'

// Placeholder: filled in by the recharge capability.
export default fp(async function rechargePlugin() {}, { name: 'recharge', dependencies: ['redis', 'metrics'] })
