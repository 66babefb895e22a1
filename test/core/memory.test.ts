// memory_limit → V8 heap sizes (core/memory.ts), checked against what node really does with them.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { heapPlan, memoryFlags, MIN_MEMORY_LIMIT_MIB, OUTSIDE_HEAP_MIB, threadsWithin, WORKER_THREAD_MIB } from '../../src/core/memory.js'

const MiB = 1024 * 1024

test('the plan fits the limit: node, chunk workers and the main heap add up to it', () => {
  for (const mib of [MIN_MEMORY_LIMIT_MIB, 80, 100, 150, 194, 256, 1024, 8192]) {
    for (const cores of [1, 2, 4, 16]) {
      const p = heapPlan(mib * MiB, cores)
      const workers = threadsWithin(mib * MiB, cores)
      const total = OUTSIDE_HEAP_MIB + p.oldSpaceMiB + 3 * p.semiSpaceMiB + (workers > 1 ? workers * WORKER_THREAD_MIB : 0)
      assert.equal(total, mib, `${mib} MiB on ${cores} cores: ${JSON.stringify(p)}, ${workers} threads`)
      assert.ok([2, 4, 8].includes(p.semiSpaceMiB), `semi-space ${p.semiSpaceMiB} is a power of two V8 keeps as is`)
      assert.ok(p.oldSpaceMiB >= 12, `old space ${p.oldSpaceMiB} MiB`)
    }
  }
})

test('worker threads only where they fit: none below 194 MiB, then one per 36 MiB, at most as many as asked', () => {
  assert.equal(threadsWithin(undefined, 8), 8, 'no limit: as asked')
  assert.equal(threadsWithin(150 * MiB, 2), 1)
  assert.equal(threadsWithin(193 * MiB, 2), 1)
  assert.equal(threadsWithin(194 * MiB, 2), 2)
  assert.equal(threadsWithin(1024 * MiB, 2), 2)
  assert.equal(threadsWithin(1024 * MiB, 64), 25)
  assert.equal(threadsWithin(1024 * MiB, 1), 1)
  // A gzip file's reader needs room of its own beside the workers.
  assert.equal(threadsWithin(200 * MiB, 2, true), 1)
  assert.equal(threadsWithin(209 * MiB, 2, true), 1)
  assert.equal(threadsWithin(210 * MiB, 2, true), 2)
})

test('a tight limit gets small semi-spaces, a roomy one 8 MiB (records live one batch)', () => {
  assert.deepEqual(heapPlan(80 * MiB, 2), { semiSpaceMiB: 2, oldSpaceMiB: 24 })
  assert.deepEqual(heapPlan(100 * MiB, 2), { semiSpaceMiB: 4, oldSpaceMiB: 38 })
  assert.deepEqual(heapPlan(194 * MiB, 2), { semiSpaceMiB: 8, oldSpaceMiB: 48 })
  assert.deepEqual(heapPlan(194 * MiB, 1), { semiSpaceMiB: 8, oldSpaceMiB: 120 })
})

test('node started with memoryFlags has exactly the planned heap (V8 would round other semi-spaces)', () => {
  for (const mib of [80, 100, 194]) {
    const p = heapPlan(mib * MiB)
    const r = spawnSync(process.execPath, [...memoryFlags(mib * MiB), '-p', 'require("v8").getHeapStatistics().heap_size_limit / 1048576'], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(Number(r.stdout.trim()), p.oldSpaceMiB + 3 * p.semiSpaceMiB, `${mib} MiB: ${memoryFlags(mib * MiB).join(' ')}`)
  }
})
