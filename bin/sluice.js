#!/usr/bin/env node
// The `sluice` command: runs the compiled CLI (built by `npm install` through the `prepare` script),
// with the code caches the build wrote (dist/bundle/boot.cjs: cli/code-cache.ts). CommonJS
// (bin/package.json): an ES entry starts node's ES module loader, 10 ms of every start.
'use strict'
// `sluice --version` alone needs no CLI: 0.05 s where loading the CLI took ~0.13 s.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  process.stdout.write(`${require('../package.json').version}\n`)
  return
}

const { join } = require('node:path')
const { requireCached, saveLocalCodeCaches } = require('../dist/bundle/boot.cjs')

const bundle = (name) => join(__dirname, '..', 'dist', 'bundle', name)
const { launch, prewarm } = requireCached(bundle('launch.cjs'))

// Under `memory_limit`, `sluice run` runs the pipeline in a child node started with heap sizes
// that fit the limit, and only waits here (cli/launch.ts). No top-level await: a pipeline that
// stalls must reach the beforeExit handler below, not node's "unsettled top-level await".
launch(process.argv).then((code) => {
  if (code !== undefined) process.exitCode = code
  else {
    prewarm(process.argv)
    return runHere(requireCached(bundle('cli.cjs')).main)
  }
})

function runHere(main) {
  let finished = false
  // The event loop ran dry while the command was still running: something awaits a promise that
  // nothing can settle any more (e.g. a user function that never resolves). Say so; never exit 0.
  process.once('beforeExit', () => {
    if (finished) return
    process.stderr.write('error[SLC_INTERNAL]: the pipeline stalled: a component awaits a promise that can never settle; unacknowledged input will be read again\n')
    process.exitCode = 1
  })
  return main(process.argv).then((code) => {
    finished = true
    process.exitCode = code
    // Under V8 flags (memory_limit's child) the build's code caches did not fit: leave ours,
    // made by a pipeline run so that they hold what one compiles.
    if (process.argv[2] === 'run') saveLocalCodeCaches()
    // The command is done; a handle leaked by a component (a timer or socket in a user function,
    // a write abandoned at the shutdown deadline) must not keep the process alive.
    setTimeout(() => process.exit(code), 2000).unref()
  })
}
