import type { FastifyInstance } from 'fastify'

// Placeholder: filled in by the capability that owns these routes.
export default async function demoRoutes(_app: FastifyInstance): Promise<void> {}
