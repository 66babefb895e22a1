// Bundles the compiled CLI (dist/cli/main.js), its launcher and the chunk worker into
// dist/bundle/, after `tsc` (`npm run build`), and writes their code caches; bin/sluice.js runs
// the bundle. Node 20's ESM loader spends ~135 ms
// resolving and compiling the ~230 modules the CLI imports (zod alone is 95 files): `sluice
// validate` 369 → 266 ms, and 354 → 55 files opened.
//
//   dist/bundle/launch.cjs   what bin/sluice.js loads first: the memory_limit launcher and the
//                            worker prewarm (cli/launch.ts)
//   dist/bundle/cli.cjs      the CLI; bin/sluice.js runs its `main` unless the launcher ran a child
//   dist/bundle/worker.cjs   the chunk worker (core/threads/worker.ts)
//   dist/bundle/worker.js    what a chunk worker starts: core/threads/spawn.ts starts
//                            `new URL('./worker.js', import.meta.url)`; it loads worker.cjs
//   dist/bundle/boot.cjs     cli/code-cache.ts, which bin/sluice.js and worker.js load the bundles with
//   dist/bundle/package.json `"type": "commonjs"`: worker.js is CommonJS, as bin/sluice.js is
//                            (bin/package.json). Node's ES module loader, started for an ES entry,
//                            cost 10-16 ms of every start and of every worker's.
//   dist/bundle/*.cjs.v8cache   V8 code caches (cli/code-cache.ts, written by scripts/code-cache.mjs)
//
// The bundles are CommonJS, one self-contained file per entry, so that they can be compiled with
// a V8 code cache (cli/code-cache.ts): Node 20 has no compile cache for ES modules. They are
// loaded with `requireCached` from boot.cjs (cli/code-cache.ts), never by `require`.
// Code that resolves paths from import.meta.url (package.json in cli/main.ts, worker.js in
// spawn.ts, createRequire for avsc and protobufjs) gets the bundle's own URL, and counts on it
// being two levels below the package root, as in dist/<dir>/.
//
// Whitespace and comments are minified away, and zod's 49 translations of its messages (358 KiB,
// never used: zod registers English itself) are left out: the bundle went from 1,843 to 1,058 KiB
// and became ASCII, which V8 holds as one byte per character (the comments' arrows and dashes
// made the two largest chunks two-byte strings, 2.5 MB of heap). `sluice --version` 155 → 145 ms,
// its RSS 67.2 → 64.0 MB; the names in a profile stay readable.
//
// dist/index.js (the library API) is not bundled: its users import it through their own tools.
import { build, type Plugin } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist', 'bundle')

/**
 * Loaded at run time from node_modules, not bundled (each a `require` in the bundle):
 * - better-sqlite3: a native addon.
 * - pino-pretty: pino starts it (on a TTY) in a worker thread, which loads it by path. pino
 *   itself is bundled (its 28 files took ~20 ms to resolve and compile on every start);
 *   observe/log.ts tells thread-stream where its installed worker file is.
 * - tsx: loaded by the `function` transform for TypeScript modules only; it registers loader
 *   hooks that resolve its own files.
 * - @platformatic/kafka: required only when a kafka component starts (its `import()` becomes a
 *   lazily run module of the bundle); bundling it would only add its code to every start.
 * - avsc, protobufjs: loaded with createRequire when a pipeline uses them (not seen by esbuild;
 *   listed so that a later static import does not pull them into the bundle).
 *
 * picomatch is bundled: fdir (under tinyglobby) requires it at load time, so it is loaded on every
 * start. fdir's ES build requires it through createRequire, which esbuild cannot follow (it was
 * compiled from node_modules without a code cache: 9 ms of every start); its CommonJS build
 * requires it by name, so the bundle takes that build (`fdirCommonJs`) and one bundled copy of
 * picomatch serves fdir and tinyglobby.
 */
const external = ['better-sqlite3', 'pino-pretty', 'tsx', 'tsx/*', '@platformatic/kafka', 'avsc', 'protobufjs']

/** fdir's CommonJS build (see above). */
const fdirCommonJs: Plugin = {
  name: 'fdir-commonjs',
  setup(b) {
    b.onResolve({ filter: /^fdir$/ }, (args) =>
      args.pluginData === 'fdir-commonjs' ? undefined : b.resolve('fdir', { kind: 'require-call', resolveDir: args.resolveDir, pluginData: 'fdir-commonjs' }),
    )
  },
}

/** zod's `locales` namespace, an empty module: zod imports the English messages it uses directly. */
const withoutZodLocales: Plugin = {
  name: 'without-zod-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: args.path, namespace: 'zod-locales' } : undefined))
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({ contents: 'export {}', loader: 'js' }))
  },
}

rmSync(outdir, { recursive: true, force: true })
const result = await build({
  absWorkingDir: root,
  entryPoints: { boot: 'dist/cli/code-cache.js', launch: 'dist/cli/launch.js', cli: 'dist/cli/main.js', worker: 'dist/core/threads/worker.js' },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  external,
  define: { 'import.meta.url': '__sluiceModuleUrl' },
  banner: { js: "var __sluiceModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  plugins: [withoutZodLocales, fdirCommonJs],
  // Maps through tsc's own maps back to src/*.ts, for `node --enable-source-maps` (which loads the
  // bundles without their code caches: cli/code-cache.ts).
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
})
writeFileSync(join(outdir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n')
writeFileSync(
  join(outdir, 'worker.js'),
  "// The chunk worker's entry (scripts/bundle.ts): its code, compiled with its code cache.\n" +
    "require('./boot.cjs').requireCached(require('node:path').join(__dirname, 'worker.cjs'))\n",
)

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.cjs'))
// An import() left in a bundle fails at run time once its function comes from the code cache:
// modules outside the bundle are imported through core/dynamic-import.ts. (boot.cjs is compiled
// by node itself, without a cache: its import() is the one the others borrow.)
for (const [file, o] of outputs.filter(([file]) => !file.endsWith('boot.cjs'))) {
  const dynamic = o.imports.filter((i) => i.kind === 'dynamic-import')
  if (dynamic.length > 0) throw new Error(`${file}: import() of ${dynamic.map((i) => i.path).join(', ')}: use dynamicImport (src/core/dynamic-import.ts)`)
}
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0)
console.log(`bundle: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(root, outdir)}/`)
execFileSync(process.execPath, [join(root, 'scripts', 'code-cache.mjs')], { stdio: 'inherit' })
