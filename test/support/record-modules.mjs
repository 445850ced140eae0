// Preloaded with `node --import` by test/e2e/server-modules.test.ts: records the URL of every module the process
// loads and writes the list (one URL a line) to MODULE_LIST_FILE when the process exits.
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const loaded = new Set()
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url)
    return nextLoad(url, context)
  },
})
process.on('exit', () => {
  if (process.env.MODULE_LIST_FILE) writeFileSync(process.env.MODULE_LIST_FILE, [...loaded].join('\n'))
})
