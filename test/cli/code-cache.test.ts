// The code caches of the CLI bundles (cli/code-cache.ts): a node started with V8 flags (the
// memory_limit child) cannot use the build's cache, so it leaves one for its flags, which the
// next run with the same flags uses. Run through the compiled module, in child nodes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { tempDirs } from '../support/temp-dirs.js'

const freshDir = tempDirs('sluice-code-cache-')
const CODE_CACHE = pathToFileURL(resolve(import.meta.dirname, '../../dist/cli/code-cache.js')).href

/** Loads `bundle` with requireCached in a node started with `flags`, then saves as the CLI does. */
function load(bundle: string, flags: string[]): string {
  const script = join(dirname(bundle), 'load.mjs')
  writeFileSync(
    script,
    `import { requireCached, saveLocalCodeCaches } from ${JSON.stringify(CODE_CACHE)}
const m = requireCached(${JSON.stringify(bundle)})
console.log(m.answer())
saveLocalCodeCaches()`,
  )
  const r = spawnSync(process.execPath, [...flags, script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim()
}

test('under V8 flags a bundle leaves a cache for them, used by the next run with the same flags; other flags or an edited bundle make a new one', () => {
  const dir = freshDir()
  const bundle = join(dir, 'b.cjs')
  const local = `${bundle}.local.v8cache`
  writeFileSync(bundle, 'function answer() { return [1, 2, 3].reduce((a, b) => a + b, 36) }\nmodule.exports = { answer }\n')

  assert.equal(load(bundle, []), '42')
  assert.equal(existsSync(local), false, 'without flags only the build writes caches')

  assert.equal(load(bundle, ['--max-old-space-size=64']), '42')
  assert.ok(existsSync(local), 'the flags run left its cache')
  const first = readFileSync(local)
  const made = statSync(local).mtimeMs

  assert.equal(load(bundle, ['--max-old-space-size=64']), '42')
  assert.equal(statSync(local).mtimeMs, made, 'the same flags: the cache was used, not made again')

  assert.equal(load(bundle, ['--max-old-space-size=72']), '42')
  const other = readFileSync(local)
  assert.ok(!other.subarray(0, 48).equals(first.subarray(0, 48)), 'other flags: a cache under another key')

  writeFileSync(bundle, 'function answer() { return 6 * 7 }\nmodule.exports = { answer }\n')
  assert.equal(load(bundle, ['--max-old-space-size=72']), '42')
  assert.ok(!readFileSync(local).subarray(0, 32).equals(other.subarray(0, 32)), 'an edited bundle: its own hash heads the new cache')
})

test('a cache that cannot be written leaves the run as it was, and no temporary file behind', () => {
  const dir = freshDir()
  const bundle = join(dir, 'b.cjs')
  writeFileSync(bundle, 'module.exports = { answer: () => 42 }\n')
  // A folder where the cache would go: the rename onto it fails (as a read-only folder would).
  mkdirSync(`${bundle}.local.v8cache`)
  assert.equal(load(bundle, ['--max-old-space-size=64']), '42')
  assert.deepEqual(readdirSync(dir).sort(), ['b.cjs', 'b.cjs.local.v8cache', 'load.mjs'])
})
