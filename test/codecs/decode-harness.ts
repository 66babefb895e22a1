// Test driver for record decoders: feeds an input the way a source does (keep the unconsumed tail,
// append the next chunk, decode again) at any chunking, and compares results across chunkings.
import assert from 'node:assert/strict'
import type { SourceDeadLetter } from '../../src/component/define.js'
import type { Rec } from '../../src/core/batch.js'
import { newDecodeOutput, type DecoderPosition, type RecordDecoder } from '../../src/codecs/types.js'

export interface Decoded {
  records: Rec[]
  lines: number[]
  ends: number[]
  /** Dead letters with `raw` as a latin1 string (so byte-exact comparisons read easily). */
  errors: Array<Omit<SourceDeadLetter, 'raw'> & { raw?: string }>
  position: DecoderPosition
}

/** Garbage written after `end` so a decoder reading past its range gets caught. */
const GARBAGE = Buffer.from('\n,"\r\n;\t\'\n')

/**
 * Decode `input` cut at `cuts` (sorted offsets). Each call sees the carried tail plus the next
 * chunk at a non-zero start, with garbage after `end`. Asserts the caller contract on the way.
 */
export function decodeChunks(decoder: RecordDecoder, input: Buffer, cuts: number[] = []): Decoded {
  const result: Decoded = { records: [], lines: [], ends: [], errors: [], position: decoder.position() }
  const errors: SourceDeadLetter[] = []
  let tail = Buffer.alloc(0)
  const bounds = [...cuts, input.length]
  let at = 0
  for (let i = 0; i < bounds.length; i++) {
    const chunk = input.subarray(at, bounds[i])
    at = bounds[i]!
    const final = i === bounds.length - 1
    const pad = 3
    const buf = Buffer.concat([Buffer.from('xyz'), tail, chunk, GARBAGE])
    const end = pad + tail.length + chunk.length
    const out = newDecodeOutput()
    const ret = decoder.decode(buf, pad, end, final, out)
    assert.ok(ret >= pad && ret <= end, `decode returned ${ret} outside [${pad}, ${end}]`)
    if (final) assert.equal(ret, end, 'a final decode consumes everything')
    assert.equal(out.records.length, out.lines.length)
    assert.equal(out.records.length, out.ends.length)
    result.records.push(...out.records)
    result.lines.push(...out.lines)
    result.ends.push(...out.ends)
    for (const e of out.errors) assert.ok(e.raw === undefined || Buffer.isBuffer(e.raw))
    errors.push(...out.errors)
    tail = Buffer.from(buf.subarray(ret, end))
    // The caller reuses its buffer: a dead letter holding a view instead of a copy would change.
    buf.fill(0)
  }
  for (const e of errors) result.errors.push({ ...e, raw: e.raw === undefined ? undefined : Buffer.from(e.raw).toString('latin1') })
  result.position = decoder.position()
  return result
}

/** Decode in one chunk. */
export function decodeAll(decoder: RecordDecoder, input: Buffer | string): Decoded {
  return decodeChunks(decoder, typeof input === 'string' ? Buffer.from(input) : input)
}

/**
 * Assert that every chunking gives the single-chunk result: each two-way split, 1-byte chunks,
 * and a few seeded random multi-way splits.
 */
export function assertChunkInvariant(make: () => RecordDecoder, input: Buffer | string): Decoded {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input
  const whole = decodeAll(make(), bytes)
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepStrictEqual(decodeChunks(make(), bytes, [cut]), whole, `split at byte ${cut}`)
  }
  const ones = Array.from({ length: bytes.length }, (_, i) => i)
  assert.deepStrictEqual(decodeChunks(make(), bytes, ones), whole, '1-byte chunks')
  let seed = 42
  const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
  for (let round = 0; round < 20; round++) {
    const cuts = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * (bytes.length + 1))).sort((a, b) => a - b)
    assert.deepStrictEqual(decodeChunks(make(), bytes, cuts), whole, `cuts ${cuts.join(',')}`)
  }
  return whole
}
