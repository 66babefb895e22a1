// The flamegraph renderer of `sluice run --profile`, on a hand-made V8 CPU profile.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { callTree, renderFlamegraph, threadsTree, topSelf, type CpuProfile } from '../../src/observe/profile.js'

const frame = (functionName: string, url = 'file:///x/dist/a.js', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 })

// (root) → main → { parse (3 samples), write (1 sample) }; main itself 1 sample. 1 ms per sample.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2] },
    { id: 2, callFrame: frame('main'), children: [3, 4] },
    { id: 3, callFrame: frame('parse<&>', 'file:///x/dist/codecs/csv.js', 9) },
    { id: 4, callFrame: frame('write', 'node:fs') },
  ],
  startTime: 0,
  endTime: 6000,
  samples: [3, 3, 3, 4, 2, 2],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
}

test('callTree: self and total time per frame from samples and time deltas', () => {
  const root = callTree(profile)
  assert.equal(root.total, 5000)
  const main = [...root.children.values()][0]!
  assert.equal(main.name, 'main')
  assert.equal(main.total, 5000)
  assert.equal(main.self, 1000)
  const kids = Object.fromEntries([...main.children.values()].map((f) => [f.name, f.self]))
  assert.deepEqual(kids, { 'parse<&>': 3000, write: 1000 })
})

test('topSelf ranks functions by self time', () => {
  const top = topSelf(profile, 2)
  assert.deepEqual(
    top.map((t) => [t.name, t.ms, Math.round(t.pct)]),
    [
      ['parse<&>', 3, 60],
      ['main', 1, 20],
    ],
  )
  assert.equal(top[0]!.where, 'dist/codecs/csv.js:10:1')
})

test('renderFlamegraph: one rectangle per frame, names escaped, valid standalone SVG', () => {
  const svg = renderFlamegraph(profile, { title: 'T' })
  assert.match(svg, /^<\?xml/)
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 4, 'all, main, parse, write')
  assert.ok(svg.includes('parse&lt;&amp;&gt;'), 'names are XML-escaped')
  assert.ok(!svg.includes('parse<&>'))
  assert.match(svg, /total 3\.0 ms \(60\.00%\)/)
})

test('threadsTree and renderFlamegraph: each thread is a frame under the root, totals add up', () => {
  // A worker thread's profile: (root) → decode, 2 samples of 1 ms.
  const worker: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2] },
      { id: 2, callFrame: frame('decode', 'file:///x/dist/worker.js') },
    ],
    startTime: 0,
    endTime: 3000,
    samples: [2, 2, 2],
    timeDeltas: [0, 1000, 1000],
  }
  const threads = [
    { thread: 'main thread', profile },
    { thread: 'chunk worker 1', profile: worker },
  ]
  const root = threadsTree(threads)
  assert.deepEqual([...root.children.values()].map((t) => [t.name, t.total]), [['main thread', 5000], ['chunk worker 1', 2000]])
  assert.equal(root.total, 7000)
  assert.equal(root.children.get('chunk worker 1')!.children.size, 1)
  const svg = renderFlamegraph(threads, { title: 'T' })
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 7, 'all, 2 threads, main, parse, write, decode')
  assert.match(svg, /chunk worker 1 — total 2\.0 ms \(28\.57%\)/)
})
