// memory_limit → V8 heap sizes (core/memory.ts), checked against what node really does with them.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { GZIP_THREADS_MIB, heapPlan, memoryFlags, MIN_MEMORY_LIMIT_MIB, OUTSIDE_HEAP_MIB, threadsWithin, workerThreadMiB } from '../../src/core/memory.js'

const MiB = 1024 * 1024

test('the plan fits the limit: node, chunk workers and the main heap add up to it', () => {
  for (const mib of [MIN_MEMORY_LIMIT_MIB, 80, 100, 121, 122, 138, 150, 156, 192, 256, 1024, 8192]) {
    for (const cores of [1, 2, 4, 16]) {
      const p = heapPlan(mib * MiB, cores)
      assert.equal(p.workers, threadsWithin(mib * MiB, cores, false, cores), `${mib} MiB on ${cores} cores: the plan's workers are those that fit`)
      const total = OUTSIDE_HEAP_MIB + p.oldSpaceMiB + 3 * p.semiSpaceMiB + (p.workers > 1 ? p.workers * workerThreadMiB(p.semiSpaceMiB) : 0)
      assert.equal(total, mib, `${mib} MiB on ${cores} cores: ${JSON.stringify(p)}`)
      assert.ok([2, 4, 8].includes(p.semiSpaceMiB), `semi-space ${p.semiSpaceMiB} is a power of two V8 keeps as is`)
      assert.ok(p.oldSpaceMiB >= 12, `old space ${p.oldSpaceMiB} MiB`)
      // A gzip file's workers fit too, in the room kept for them.
      const gzip = threadsWithin(mib * MiB, cores, true, cores)
      if (gzip > 1) assert.ok(total - p.oldSpaceMiB + GZIP_THREADS_MIB <= mib, `${mib} MiB: room for a gzip file's ${gzip} workers`)
    }
  }
})

test('worker threads only where they fit: two from 122 MiB on 2 cores (138 for gzip), at most as many as asked or budgeted', () => {
  const on2 = (mib: number, wanted = 2, gzip = false) => threadsWithin(mib * MiB, wanted, gzip, 2)
  assert.equal(threadsWithin(undefined, 8), 8, 'no limit: as asked')
  assert.equal(on2(100), 1)
  assert.equal(on2(121), 1)
  assert.equal(on2(122), 2)
  assert.equal(on2(1024), 2)
  assert.equal(on2(1024, 1), 1)
  assert.equal(on2(1024, 8), 2, 'the plan budgeted a worker per core: more would not fit')
  assert.equal(threadsWithin(1024 * MiB, 64, false, 16), 16)
  // A gzip file's reader needs room of its own beside the workers; more room never takes it away.
  assert.equal(on2(137, 2, true), 1)
  for (let mib = 138; mib <= 400; mib++) assert.equal(on2(mib, 2, true), 2, `${mib} MiB, gzip`)
})

test('workers first, then the largest semi-space that costs none; without workers, as large as the heap allows', () => {
  assert.deepEqual(heapPlan(80 * MiB, 2), { semiSpaceMiB: 2, oldSpaceMiB: 24, workers: 1 })
  assert.deepEqual(heapPlan(100 * MiB, 2), { semiSpaceMiB: 4, oldSpaceMiB: 38, workers: 1 })
  assert.deepEqual(heapPlan(121 * MiB, 2), { semiSpaceMiB: 4, oldSpaceMiB: 59, workers: 1 })
  assert.deepEqual(heapPlan(122 * MiB, 2), { semiSpaceMiB: 2, oldSpaceMiB: 34, workers: 2 })
  assert.deepEqual(heapPlan(150 * MiB, 2), { semiSpaceMiB: 2, oldSpaceMiB: 62, workers: 2 })
  assert.deepEqual(heapPlan(156 * MiB, 2), { semiSpaceMiB: 4, oldSpaceMiB: 50, workers: 2 })
  assert.deepEqual(heapPlan(192 * MiB, 2), { semiSpaceMiB: 8, oldSpaceMiB: 50, workers: 2 })
  assert.deepEqual(heapPlan(192 * MiB, 1), { semiSpaceMiB: 8, oldSpaceMiB: 118, workers: 1 })
})

test('a pipeline without chunk workers (cores 1) gets the whole heap and the largest semi-space', () => {
  assert.deepEqual(memoryFlags(150 * MiB, 1), ['--max-old-space-size=76', '--max-semi-space-size=8', '--no-allocation-site-pretenuring'])
  assert.deepEqual(memoryFlags(150 * MiB, 2), ['--max-old-space-size=62', '--max-semi-space-size=2', '--no-allocation-site-pretenuring'])
  assert.deepEqual(memoryFlags(100 * MiB, 1), memoryFlags(100 * MiB, 2), 'no room for workers either way')
})

test('node started with memoryFlags has exactly the planned heap (V8 would round other semi-spaces)', () => {
  for (const mib of [80, 100, 122, 156, 194]) {
    const p = heapPlan(mib * MiB)
    const r = spawnSync(process.execPath, [...memoryFlags(mib * MiB), '-p', 'require("v8").getHeapStatistics().heap_size_limit / 1048576'], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(Number(r.stdout.trim()), p.oldSpaceMiB + 3 * p.semiSpaceMiB, `${mib} MiB: ${memoryFlags(mib * MiB).join(' ')}`)
  }
})
