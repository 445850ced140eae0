import type { FastifyInstance } from 'fastify'

// Placeholder: filled in by the capability that owns these routes.
export default async function portalRoutes(_app: FastifyInstance): Promise<void> {}
