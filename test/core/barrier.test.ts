import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Gate, InFlight } from '../../src/core/barrier.js'

test('InFlight.idle resolves only when every added item is done', async () => {
  const f = new InFlight()
  await f.idle()
  f.add()
  f.add()
  let idle = false
  void f.idle().then(() => (idle = true))
  f.done()
  await new Promise((r) => setImmediate(r))
  assert.equal(idle, false)
  f.done()
  await new Promise((r) => setImmediate(r))
  assert.equal(idle, true)
})

test('Gate holds waiters while closed and releases them on open', async () => {
  const g = new Gate()
  await g.wait()
  g.close()
  assert.equal(g.closed, true)
  let passed = false
  void g.wait().then(() => (passed = true))
  await new Promise((r) => setImmediate(r))
  assert.equal(passed, false)
  g.open()
  await new Promise((r) => setImmediate(r))
  assert.equal(passed, true)
  assert.equal(g.closed, false)
})
