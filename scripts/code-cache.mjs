// Writes the V8 code caches of the CLI bundles (src/cli/code-cache.ts), run by scripts/bundle.ts
// after it bundles. Plain JavaScript run by a plain `node`: V8 accepts a cache only under the V8
// flags it was made with, and `sluice` runs without any.
//
// The CLI's cache is made after a warm-up: the example pipelines (CSV and JSON lines, filter,
// map, parse, aggregate, file and SQLite sinks, worker threads) run on copies of their data in a
// temporary folder, so the functions they compiled are cached too. The chunk worker cannot run
// outside a worker thread; its cache holds what V8 compiles up front.
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeCodeCache } from '../dist/cli/code-cache.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bundle = join(root, 'dist', 'bundle')
const WARM_UP = ['quickstart.yaml', 'parallel-groupby.yaml', 'parallel-jsonl.yaml']

const work = mkdtempSync(join(tmpdir(), 'sluice-code-cache-'))
const sizes = []
try {
  // The examples resolve their data, data_dir and outputs against their folder: a copy keeps
  // every write in the temporary folder.
  cpSync(join(root, 'examples'), join(work, 'examples'), { recursive: true })
  sizes.push(['cli', await writeCodeCache(join(bundle, 'cli.cjs'), async ({ main }) => {
    for (const example of WARM_UP) {
      const code = await main([process.execPath, 'sluice', 'run', join(work, 'examples', example), '--reset', '--no-progress', '-q', '--log-level', 'error'])
      if (code !== 0) throw new Error(`the warm-up run of examples/${example} exited with code ${code}`)
    }
  })])
  sizes.push(['launch', await writeCodeCache(join(bundle, 'launch.cjs'), async ({ prewarmCount, memoryLimitOf }) => {
    prewarmCount([process.execPath, 'sluice', 'run', join(work, 'examples', 'quickstart.yaml')], {})
    memoryLimitOf(join(work, 'examples', 'parallel-jsonl.yaml'), {})
  })])
  sizes.push(['worker', await writeCodeCache(join(bundle, 'worker.cjs'))])
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`code cache: ${sizes.map(([name, n]) => `${name} ${(n / 1024).toFixed(0)} KiB`).join(', ')}`)
// The warm-up's pipelines may leave handles (workers winding down, timers): the caches are written.
process.exit(0)
