// Loading the CLI bundles with a V8 code cache. Node 20 compiles every ES module from source on
// each start and has no compile cache (`module.enableCompileCache` arrived in Node 22), and
// compiling the CLI took ~50 ms of every `sluice run` (`compileSourceTextModule` in a profile of
// a 20k-row W1). The bundles in dist/bundle/ are therefore CommonJS scripts compiled here through
// `vm.Script` with the code V8 cached at build time (scripts/bundle.ts): 20k-row W1 264 → 223 ms,
// W1 869 → 828 ms (medians of 9 interleaved runs).
//
// Each `<bundle>.cjs` has a `<bundle>.cjs.v8cache` beside it: the SHA-256 of the bundle's bytes,
// then V8's data. V8 checks only the source's length, so the hash keeps an edited bundle from
// running stale code. V8 rejects the data by itself when node's version or V8 flags differ from
// the build's, and a run under `memory_limit` starts node with heap flags: such a run compiles
// from source (~80 ms more for `sluice --version`: 283 against 200 ms), then leaves a cache for
// its flags in `<bundle>.cjs.local.v8cache` when the command ends (saveLocalCodeCaches; nothing
// where the folder is read-only), headed by the bundle's hash and a key of node's version and
// flags. One such file per bundle: the last flags run. Only node:* and a constant are imported:
// this loads first.
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire, Module } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'
import { LENT_IMPORT } from '../core/dynamic-import.js'

const HASH_BYTES = 32

/** Where the code cache of `file` (a bundle) is kept. */
export const codeCachePath = (file: string): string => `${file}.v8cache`

/** Where a run under V8 flags keeps the cache it made (see above). */
const localCachePath = (file: string): string => `${file}.local.v8cache`

/** node's version and options (V8's flags among them), hashed; undefined for a node started without any (the build's case). */
function flagsKey(): Buffer | undefined {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim()
  return flags === '' ? undefined : createHash('sha256').update(`${process.version} ${flags}`).digest().subarray(0, 16)
}

/** Bundles this thread compiled from source under V8 flags: saveLocalCodeCaches writes their caches. */
const unsaved: { script: Script; file: string; head: Buffer }[] = []

/** The data of the cache at `path` when it starts with `head`. */
function stored(path: string, head: Buffer): Buffer | undefined {
  try {
    const data = readFileSync(path)
    if (data.length > head.length && data.subarray(0, head.length).equals(head)) return data.subarray(head.length)
  } catch {
    // No cache (not built yet, removed, or never made under these flags): compile from source.
  }
  return undefined
}

/** `file` compiled, with its code cache when V8 accepts it, and the bundle's hash. */
function compile(file: string, cache: 'use' | 'ignore'): { script: Script; hash: Buffer } {
  const source = readFileSync(file)
  const hash = createHash('sha256').update(source).digest()
  const key = cache === 'use' ? flagsKey() : undefined
  const head = key === undefined ? hash : Buffer.concat([hash, key])
  // With node options, a cache made under them first; the build's fits options V8 ignores.
  const cachedData = cache === 'ignore' ? undefined : ((key && stored(localCachePath(file), head)) ?? stored(codeCachePath(file), hash))
  // The bundles are ASCII (esbuild escapes other characters), so latin1 decodes them exactly.
  const script = new Script(Module.wrap(source.toString('latin1')), {
    filename: file,
    cachedData,
  })
  if (key !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) unsaved.push({ script, file, head })
  return { script, hash }
}

/**
 * Write the caches of the bundles this thread compiled from source under V8 flags, with what
 * they compiled during the command (call it when the command ends). Written to a temporary file
 * and renamed, so that concurrent runs never read half a cache; a folder that cannot be written
 * leaves things as they were.
 */
export function saveLocalCodeCaches(): void {
  for (const { script, file, head } of unsaved.splice(0)) {
    const path = localCachePath(file)
    const partial = `${path}.${process.pid}.tmp`
    try {
      writeFileSync(partial, Buffer.concat([head, script.createCachedData()]))
      renameSync(partial, path)
    } catch {
      try {
        rmSync(partial, { force: true })
      } catch {
        // Nothing was written.
      }
    }
  }
}

/** The bundle's import()s go through core/dynamic-import.ts, which calls this one. */
function lendImport(): void {
  ;(globalThis as Record<symbol, unknown>)[LENT_IMPORT] ??= (specifier: string) => import(specifier)
}

/** Runs a compiled CommonJS bundle and returns its exports. */
function run(script: Script, file: string): unknown {
  lendImport()
  const module = { exports: {} as unknown }
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file))
  return module.exports
}

/**
 * `require(file)` for a bundle, compiled with its code cache when V8 accepts it. Under
 * `node --enable-source-maps` it is a plain `require`: Node 20 maps the stack traces of code the
 * module loader compiled, not of a `vm.Script`'s.
 */
export function requireCached<T>(file: string): T {
  if (process.sourceMapsEnabled) {
    lendImport()
    return createRequire(import.meta.url)(file) as T
  }
  return run(compile(file, 'use').script, file) as T
}

/**
 * Write the code cache of `file`. With `warmUp`, the bundle runs first and `warmUp` exercises its
 * exports: V8 caches the functions compiled so far, so code that ran is not compiled lazily
 * again on the next start. Without, only what V8 compiles up front is cached (the chunk worker,
 * which cannot run outside a worker thread). Returns the size of V8's data.
 */
export async function writeCodeCache(file: string, warmUp?: (exports: unknown) => Promise<void>): Promise<number> {
  const { script, hash } = compile(file, 'ignore')
  if (warmUp) await warmUp(run(script, file))
  const data = script.createCachedData()
  writeFileSync(codeCachePath(file), Buffer.concat([hash, data]))
  return data.length
}
