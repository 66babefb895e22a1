// lazySource / lazySink: the implementation (and the client library it imports) is created only
// when the pipeline starts it, exactly once, and a sink that never opened closes without it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Sink, SourceContext } from '../../src/component/define.js'
import { lazySink, lazySource } from '../../src/component/lazy.js'
import type { Rec } from '../../src/core/batch.js'

describe('lazySink', () => {
  it('creates the sink once, on open, and delegates writes and close to it', async () => {
    const calls: string[] = []
    let loads = 0
    const sink = lazySink(async () => {
      loads++
      const real: Sink = {
        open: () => void calls.push('open'),
        write: (records) => void calls.push(`write ${records.length}`),
        close: () => void calls.push('close'),
      }
      return real
    })
    assert.equal(loads, 0, 'nothing is created at build')
    await sink.open!()
    await sink.write([{ a: 1 }, { a: 2 }], new AbortController().signal)
    await sink.write([{ a: 3 }], new AbortController().signal)
    await sink.close()
    assert.equal(loads, 1)
    assert.deepEqual(calls, ['open', 'write 2', 'write 1', 'close'])
  })

  it('closes without creating anything when it never opened', async () => {
    let loads = 0
    const sink = lazySink(async () => {
      loads++
      return { write: () => {}, close: () => {} }
    })
    await sink.close()
    assert.equal(loads, 0)
  })

  it('passes on a failure to load or open, as the sink itself would', async () => {
    const sink = lazySink(async () => ({
      open: () => Promise.reject(new Error('topic "x" does not exist')),
      write: () => {},
      close: () => {},
    }))
    await assert.rejects(async () => sink.open!(), /topic "x" does not exist/)
  })
})

describe('lazySource', () => {
  it('creates the source when it runs and returns what its run returns', async () => {
    let loads = 0
    let ran: unknown
    const source = lazySource<Rec>(async () => {
      loads++
      return { run: async (ctx) => void (ran = ctx) }
    })
    assert.equal(loads, 0)
    const ctx = { marker: true } as unknown as SourceContext<Rec>
    await source.run(ctx)
    assert.equal(loads, 1)
    assert.equal(ran, ctx)
  })
})
