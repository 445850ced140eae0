import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * docs/sdk-parity.md lists every value `@rechargeapps/storefront-client` exports, with the bridge route that does the
 * same. The names are read from the installed SDK's type declarations with the TypeScript parser, so an SDK
 * upgrade that adds or removes a function fails here until the page is updated; a route marked "now" must exist in
 * the OpenAPI document.
 */
const ROOT = new URL('../../', import.meta.url)
const require = createRequire(import.meta.url)

function sdkExportedValues(): string[] {
  const path = require
    .resolve('@rechargeapps/storefront-client/package.json')
    .replace(/package\.json$/, 'dist/index.d.ts')
  // Parsed, not type-checked: the value exports are the names of `export { … }` (types come in `export type { … }`),
  // each declared in the file as a function or a constant.
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest)
  const declared = new Set<string>()
  const exported: string[] = []
  for (const statement of source.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) declared.add(statement.name.text)
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name)) declared.add(declaration.name.text)
    }
    if (
      ts.isExportDeclaration(statement) &&
      !statement.isTypeOnly &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const element of statement.exportClause.elements) if (!element.isTypeOnly) exported.push(element.name.text)
    }
  }
  expect(exported.filter((name) => !declared.has(name))).toEqual([])
  return exported.sort()
}

interface Row {
  name: string
  status: string
  route: string
}

function documentedRows(): Row[] {
  const page = readFileSync(new URL('docs/sdk-parity.md', ROOT), 'utf8')
  const rows: Row[] = []
  for (const line of page.split('\n')) {
    const match = /^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|/.exec(line)
    if (match)
      rows.push({ name: match[1] as string, status: (match[2] as string).trim(), route: (match[3] as string).trim() })
  }
  return rows
}

function openapiOperations(): Set<string> {
  const document = JSON.parse(readFileSync(new URL('openapi/openapi.json', ROOT), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>
  }
  const operations = new Set<string>()
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const method of Object.keys(methods)) operations.add(`${method.toUpperCase()} ${path}`)
  }
  return operations
}

describe('docs/sdk-parity.md', () => {
  const rows = documentedRows()

  it('lists every function the installed storefront SDK exports, and nothing it does not', () => {
    const exported = sdkExportedValues()
    expect(exported.length).toBeGreaterThan(100)
    expect(rows.map((row) => row.name).sort()).toEqual(exported)
  })

  it('gives each function one row with a known status, and a route unless it is not offered', () => {
    const names = rows.map((row) => row.name)
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([])
    for (const row of rows) {
      expect(['now', 'planned', 'not offered'], row.name).toContain(row.status)
      if (row.status === 'not offered') expect(row.route, row.name).toBe('—')
      else expect(row.route, row.name).toMatch(/`(GET|POST|PATCH|PUT|DELETE) \/v1\//)
    }
  })

  it('marks as "now" only routes that exist in the OpenAPI document', () => {
    const operations = openapiOperations()
    const missing: string[] = []
    for (const row of rows.filter((candidate) => candidate.status === 'now')) {
      for (const [, method, path] of row.route.matchAll(/`(GET|POST|PATCH|PUT|DELETE) (\/[^`\s]+)`/g)) {
        const operation = `${method} ${(path as string).replace(/:(\w+)/g, '{$1}')}`
        if (!operations.has(operation)) missing.push(`${row.name}: ${operation}`)
      }
    }
    expect(missing).toEqual([])
  })
})
