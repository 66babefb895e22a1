// Bundles the compiled CLI (dist/cli/main.js) and the chunk-worker entry into dist/bundle/, after
// `tsc` (`npm run build`); bin/sluice.js runs the bundle. Node 20's ESM loader spends ~135 ms
// resolving and compiling the ~230 modules the CLI imports (zod alone is 95 files): `sluice
// validate` 369 → 266 ms, and 354 → 55 files opened.
//
//   dist/bundle/launch.js    what bin/sluice.js loads first: the memory_limit launcher (cli/launch.ts)
//   dist/bundle/cli.js       the CLI (bin/sluice.js imports `main` from it when it runs here)
//   dist/bundle/worker.js    chunk worker: core/threads/pool.ts starts `new URL('./worker.js', import.meta.url)`,
//                            and import.meta.url is the URL of the chunk that holds pool.ts — also in dist/bundle/
//   dist/bundle/chunk-*.js   code shared by the entries and lazy chunks
//   dist/bundle/source-*.js, sink-*.js   the kafka components' `import()`s, loaded on first use
//
// Every output file sits directly in dist/bundle/ (no subfolders): code that resolves paths from
// import.meta.url (package.json in cli/main.ts, worker.js in pool.ts, createRequire for avsc and
// protobufjs) counts on being two levels below the package root, as in dist/<dir>/.
// dist/index.js (the library API) is not bundled: its users import it through their own tools.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist', 'bundle')

/**
 * Loaded at run time from node_modules, not bundled:
 * - better-sqlite3: a native addon.
 * - pino, pino-pretty: pino starts its transports (pino-pretty on a TTY) in a worker thread
 *   that loads files by path from pino's own folder.
 * - tsx: loaded by the `function` transform for TypeScript modules only; it registers loader
 *   hooks that resolve its own files.
 * - @platformatic/kafka: reached only through the kafka components' `import()`; bundling it
 *   would only move its load time into a lazy chunk.
 * - avsc, protobufjs: loaded with createRequire when a pipeline uses them (not seen by esbuild;
 *   listed so that a later static import does not pull them into the bundle).
 * - picomatch: fdir (under tinyglobby) requires it from node_modules at load time anyway; bundled,
 *   it would be loaded twice.
 */
const external = ['better-sqlite3', 'pino', 'pino-pretty', 'tsx', 'tsx/*', '@platformatic/kafka', 'avsc', 'protobufjs', 'picomatch']

rmSync(outdir, { recursive: true, force: true })
const result = await build({
  absWorkingDir: root,
  entryPoints: { launch: 'dist/cli/launch.js', cli: 'dist/cli/main.js', worker: 'dist/core/threads/worker.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external,
  // CommonJS dependencies bundled into ESM (commander, cli-progress) call `require` for Node
  // built-ins, which an ES module does not have.
  banner: { js: "import { createRequire as __sluiceCreateRequire } from 'node:module'; const require = __sluiceCreateRequire(import.meta.url);" },
  // Maps through tsc's own maps back to src/*.ts, for `node --enable-source-maps`.
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
})

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'))
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0)
console.log(`bundle: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(root, outdir)}/`)
