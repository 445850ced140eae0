import type { FastifyInstance } from 'fastify'

// Placeholder: filled in by the capability that owns these routes.
export default async function checkoutsRoutes(_app: FastifyInstance): Promise<void> {}
