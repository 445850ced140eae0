import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateOpenApi } from '../../src/openapi/generate.ts'

describe('OpenAPI document', () => {
  it('is a 3.1 document generated from the route schemas', async () => {
    const document = JSON.parse(await generateOpenApi())
    expect(document.openapi).toBe('3.1.0')
    expect(document.paths['/healthz']).toBeDefined()
  })

  it('matches the committed openapi/openapi.json (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')
    expect(await generateOpenApi()).toBe(committed)
  })
})
