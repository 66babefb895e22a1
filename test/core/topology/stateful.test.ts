// The runtime's side of stateful transforms: restore before the run, flush at the end, partition
// ends, and positions + state saved together so a stopped run resumes with exactly-once state.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Database from 'better-sqlite3'
import { builtins } from '../../../src/component/builtins.js'
import { defineTransform, type StatefulTransform } from '../../../src/component/define.js'
import { z } from '../../../src/component/options.js'
import type { Rec } from '../../../src/core/batch.js'
import { RunStats } from '../../../src/observe/stats.js'
import { runYaml } from '../../../src/testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-stateful-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Counts records per `key` field; emits the totals at flush; remembers ended partitions. */
const tally = defineTransform({
  type: 'tally',
  status: 'alpha',
  summary: 'Count records per key (test).',
  options: z.strictObject({ key: z.string().meta({ description: 'Field to count by.' }) }),
  build: (o): StatefulTransform => {
    let counts = new Map<string, number>()
    let ended: string[] = []
    return {
      kind: 'stateful',
      process(records) {
        for (const r of records) counts.set(String(r[o.key]), (counts.get(String(r[o.key])) ?? 0) + 1)
        return []
      },
      partitionEnded(p) {
        // A restarted run announces files it finished before again: report each once.
        if (ended.includes(p)) return []
        ended.push(p)
        return [{ ended: p.split('/').pop() }]
      },
      flush() {
        const rows: Rec[] = [...counts].map(([key, n]) => ({ key, n }))
        counts = new Map()
        return rows
      },
      snapshot: () => ({ counts: [...counts], ended }),
      restore(state) {
        const s = state as { counts: [string, number][]; ended: string[] }
        counts = new Map(s.counts)
        ended = s.ended
      },
    }
  },
})

const registry = builtins.with(tally)
const config = `
data_dir: state
state_checkpoint_interval: 20ms
sources:
  in: { type: file, path: "part-*.csv", format: csv, read_buffer: 4KiB, batch_size: 100 }
transforms:
  t: { type: tally, inputs: [in], key: k }
sinks:
  out: { type: collect, inputs: [t], name: out }
  slow: { type: faulty, inputs: [in], name: slow, delay: 2ms, keep: false, batch: { max_records: 100 } }
`

test('a run stopped half-way resumes from the saved positions and state: every record counted once', async () => {
  const lines = (from: number, n: number) => 'k\n' + Array.from({ length: n }, (_, i) => `${(from + i) % 7}`).join('\n') + '\n'
  writeFileSync(join(dir, 'part-1.csv'), lines(0, 5000))
  writeFileSync(join(dir, 'part-2.csv'), lines(5000, 5000))
  // Stop once 3000 records were read; the small channel and the slow sink hold the source back.
  const controller = new AbortController()
  const stats = new RunStats()
  const watch = setInterval(() => {
    if (stats.components.get('in') && stats.get('in').received >= 3000) controller.abort()
  }, 2)
  const first = await runYaml(config.replace('state_checkpoint_interval: 20ms', 'state_checkpoint_interval: 20ms\nchannel: { max_records: 200 }'), { baseDir: dir, registry, signal: controller.signal, stats })
  clearInterval(watch)
  assert.equal(first.status, 'stopped')
  const readFirst = first.stats.get('in').received
  assert.ok(readFirst > 0 && readFirst < 10_000, `stopped half-way (read ${readFirst})`)
  assert.equal(first.out('out').filter((r) => 'key' in r).length, 0, 'a stopped run does not flush its state')

  const db = new Database(join(dir, 'state', 'checkpoints.db'), { readonly: true })
  const saved = db.prepare('SELECT snapshot FROM state WHERE component = ?').get('t') as { snapshot: string }
  db.close()
  const savedCount = (JSON.parse(saved.snapshot).counts as [string, number][]).reduce((a, [, n]) => a + n, 0)
  assert.equal(savedCount, readFirst, 'the state saved at the stop holds exactly the records read')

  const second = await runYaml(config, { baseDir: dir, registry })
  assert.ok(second.stats.get('in').received < 10_000, 'the second run resumed instead of starting over')
  assert.equal(second.status, 'completed')
  assert.equal(readFirst + second.stats.get('in').received, 10_000, 'nothing read twice, nothing skipped')
  const totals = Object.fromEntries(second.out('out').filter((r) => 'key' in r).map((r) => [r.key, r.n]))
  const expected: Record<string, number> = {}
  for (let i = 0; i < 10_000; i++) expected[String(i % 7)] = (expected[String(i % 7)] ?? 0) + 1
  assert.deepEqual(totals, expected)
  const ended = [...first.out('out'), ...second.out('out')].filter((r) => 'ended' in r).map((r) => r.ended)
  assert.deepEqual(ended.sort(), ['part-1.csv', 'part-2.csv'])
})

test('periodic barriers save positions and state during the run, not only at the end', async () => {
  const sub = join(dir, 'periodic')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(sub)
  // The slow sink (2 ms per 100 records) makes the run last ~0.3 s: many 20 ms barriers.
  writeFileSync(join(sub, 'part-1.csv'), 'k\n' + Array.from({ length: 15_000 }, (_, i) => i % 3).join('\n') + '\n')
  const controller = new AbortController()
  let seen = 0
  const poll = setInterval(() => {
    try {
      const db = new Database(join(sub, 'state', 'checkpoints.db'), { readonly: true, fileMustExist: true })
      const row = db.prepare('SELECT snapshot FROM state WHERE component = ?').get('t') as { snapshot: string } | undefined
      db.close()
      if (row) seen = Math.max(seen, (JSON.parse(row.snapshot).counts as [string, number][]).reduce((a, [, n]) => a + n, 0))
    } catch {
      // not created yet
    }
  }, 10)
  setTimeout(() => controller.abort(), 2000)
  // A small channel keeps the source reading while the slow sink works, so barriers happen then.
  const r = await runYaml(config.replace('state_checkpoint_interval: 20ms', 'state_checkpoint_interval: 20ms\nchannel: { max_records: 200 }'), { baseDir: sub, registry, signal: controller.signal })
  clearInterval(poll)
  assert.ok(seen > 0, 'a barrier committed state while the run was going on')
  assert.ok(r.status === 'completed' || r.status === 'stopped')
})
