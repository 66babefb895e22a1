// The launcher of `sluice run` under memory_limit (cli/launch.ts): which argument is the config,
// and how it reads `memory_limit` without loading the engine. The re-run itself is tested end to
// end in cli.test.ts.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { availableParallelism } from 'node:os'
import { memoryLimitOf, prewarmCount, runConfigArgument } from '../../src/cli/launch.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-launch-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the config argument of `run`, past its options as commander reads them', () => {
  assert.equal(runConfigArgument(['run', 'p.yaml']), 'p.yaml')
  assert.equal(runConfigArgument(['run', '--reset', '-q', 'p.yaml', '--no-progress']), 'p.yaml')
  assert.equal(runConfigArgument(['run', '--log-level', 'debug', 'p.yaml']), 'p.yaml')
  assert.equal(runConfigArgument(['run', '--profile', 'profiles', 'p.yaml']), 'p.yaml')
  assert.equal(runConfigArgument(['run', '--profile', '--reset', 'p.yaml']), 'p.yaml')
  assert.equal(runConfigArgument(['run', '--', '-odd.yaml']), '-odd.yaml')
  assert.equal(runConfigArgument(['validate', 'p.yaml']), undefined)
  assert.equal(runConfigArgument(['--version']), undefined)
  assert.equal(runConfigArgument(['run']), undefined)
})

function limitOf(yaml: string, env: NodeJS.ProcessEnv = {}): number | undefined {
  const file = join(dir, 'p.yaml')
  writeFileSync(file, yaml)
  return memoryLimitOf(file, env)
}

test('memory_limit is read as the loader reads it: sizes, bytes, ${VAR} with defaults', () => {
  assert.equal(limitOf('memory_limit: 100MiB\nsources: {}\n'), 100 * 1024 * 1024)
  assert.equal(limitOf('memory_limit: 0.5GiB\n'), 512 * 1024 * 1024)
  assert.equal(limitOf('memory_limit: 104857600\n'), 104857600)
  assert.equal(limitOf('memory_limit: ${MEM}\n', { MEM: '96MiB' }), 96 * 1024 * 1024)
  assert.equal(limitOf('memory_limit: "${MEM:-128MiB}"\n'), 128 * 1024 * 1024)
  assert.equal(limitOf('memory_limit: ${MEM}\n', { MEM: '90000000' }), 90000000)
})

test('no limit, or one the CLI will report as an error: the command runs in this process', () => {
  assert.equal(limitOf('sources: {}\n'), undefined)
  assert.equal(limitOf('memory_limit: lots\n'), undefined)
  assert.equal(limitOf('memory_limit: 10MiB\n'), undefined, 'below the minimum')
  assert.equal(limitOf('memory_limit: ${NOPE}\n'), undefined, 'unset variable')
  assert.equal(limitOf('memory_limit: [1, 2\n'), undefined, 'YAML syntax error')
  assert.equal(memoryLimitOf(join(dir, 'missing.yaml'), {}), undefined)
})

test('prewarm: the workers the file sources will want, read as the source reads its options', () => {
  const config = join(dir, 'w.yaml')
  writeFileSync(join(dir, 'small.csv'), 'a\n1\n')
  writeFileSync(join(dir, 'small.csv.gz'), gzipSync('a\n1\n'))
  const count = (sources: string, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(config, `sources:\n${sources}\nsinks: {}\n`)
    return prewarmCount(['node', 'sluice', 'run', '--reset', config], env)
  }
  const cores = availableParallelism()
  assert.equal(count('  a: { type: file, path: small.csv, threads: 3 }'), 3)
  assert.equal(count('  a: { type: file, path: small.csv, threads: "${T:-1}" }', { T: '2' }), 2)
  assert.equal(count('  a: { type: file, path: small.csv, threads: 1 }'), 0)
  assert.equal(count('  a: { type: file, path: small.csv }'), 0, 'auto: a small file is read on the main thread')
  assert.equal(count('  a: { type: file, path: "*.csv" }'), cores >= 2 ? cores : 0, 'auto: a glob may match large files')
  assert.equal(count('  a: { type: file, path: small.csv, threads: 2, follow: true }'), 0)
  assert.equal(count('  a: { type: file, path: small.csv.gz, threads: 2 }'), 2, 'workers decode gzip files too')
  assert.equal(count('  a: { type: file, path: small.csv.gz }'), 0, 'auto: a small compressed file is read on the main thread')
  assert.equal(count('  a: { type: file, path: missing.csv, threads: 2 }'), 0, 'the CLI reports the missing file')
  assert.equal(count('  a: { type: kafka, topics: [t], threads: 2 }'), 0)
  assert.equal(count('  a: { type: file, path: small.csv, threads: 2 }\n  b: { type: file, path: small.csv, threads: 4 }'), 4)
  // memory_limit decides how many fit (core/memory.ts): two from 122 MiB on 2 cores, 138 MiB for gzip.
  const limited = (limit: string, path: string, extra = '') => {
    writeFileSync(config, `memory_limit: ${limit}\nsources:\n  a: { type: file, path: ${path}, threads: 2${extra} }\n`)
    return prewarmCount(['node', 'sluice', 'run', config], {})
  }
  assert.equal(limited('100MiB', 'small.csv'), 0, 'no room for workers')
  assert.equal(limited('130MiB', 'small.csv'), cores >= 2 ? 2 : 0)
  assert.equal(limited('130MiB', 'small.csv.gz'), 0, 'a gzip file needs 138 MiB')
  assert.equal(limited('130MiB', 'small.csv', ', compression: gzip'), 0)
  assert.equal(limited('140MiB', 'small.csv.gz'), cores >= 2 ? 2 : 0)
  assert.equal(prewarmCount(['node', 'sluice', 'validate', config], {}), 0)
})
