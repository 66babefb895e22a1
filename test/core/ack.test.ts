import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AckToken } from '../../src/core/ack.js'
import { PositionTracker } from '../../src/core/checkpoint.js'

test('a token settles once, when every holder settled', () => {
  const seen: string[] = []
  const t = new AckToken((s) => seen.push(s))
  t.retain(2)
  t.settle()
  t.settle()
  assert.deepEqual(seen, [])
  t.settle()
  assert.deepEqual(seen, ['delivered'])
  assert.throws(() => t.settle())
  assert.throws(() => t.retain())
})

test('the worst status wins', () => {
  let status = ''
  const t = new AckToken((s) => (status = s))
  t.retain()
  t.settle('failed')
  t.settle('delivered')
  assert.equal(status, 'failed')
})

test('tracker commits only the highest contiguous acknowledged position', () => {
  const advanced: number[] = []
  const tr = new PositionTracker<number>(undefined, (p) => advanced.push(p))
  const acks = [10, 20, 30, 40, 50].map((p) => tr.push(p))
  acks[1]!()
  acks[3]!()
  assert.equal(tr.committed, undefined, 'nothing before 10 was acked')
  acks[0]!()
  assert.equal(tr.committed, 20, '10 and 20 are contiguous; 40 waits for 30')
  acks[2]!()
  assert.equal(tr.committed, 40)
  acks[4]!()
  assert.equal(tr.committed, 50)
  assert.deepEqual(advanced, [20, 40, 50])
  assert.equal(tr.inFlight, 0)
})

test('acking twice is harmless; many positions compact without losing order', () => {
  const tr = new PositionTracker<number>(0, () => {})
  const acks: (() => void)[] = []
  for (let i = 1; i <= 5000; i++) acks.push(tr.push(i))
  for (let i = 0; i < 3000; i++) acks[i]!()
  acks[0]!()
  assert.equal(tr.committed, 3000)
  for (let i = 4999; i >= 3000; i--) acks[i]!()
  assert.equal(tr.committed, 5000)
})
