import fp from 'fastify-plugin'

// Placeholder: filled in by the catalog capability (decorates app.catalog: CatalogService).
export default fp(async function catalogPlugin() {}, { name: 'catalog', dependencies: ['redis', 'metrics'] })
