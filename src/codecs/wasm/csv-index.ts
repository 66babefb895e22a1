// The CSV structural index: the positions of a window's delimiter, quote and LF bytes, found by
// the WebAssembly SIMD kernel in csv-index.wat, for CsvDecoder to walk instead of every byte.
//
// One instance per thread, shared by the decoders on it: a window is built and walked within one
// synchronous decodeRecords call, so no other decoder can overwrite it meanwhile.
//
// Measured (64 MB of the W1 CSV, one core): the kernel indexes 3.8 GB/s, copy included, where the
// decoder's byte loop scanned ~450 MB/s.
import type { ConditionTree } from '../../component/expression.js'
import { WASM_BASE64 } from './csv-index.wasm.js'

// @types/node declares no WebAssembly API (TypeScript has it in lib.dom): what is used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: unknown }
}

interface Exports {
  memory: { buffer: ArrayBuffer }
  window: { value: number }
  out: { value: number }
  nonAsciiMap: { value: number }
  nonAscii: { value: number }
  program: { value: number }
  literals: { value: number }
  stack: { value: number }
  result: { value: number }
  kept: { value: number }
  index(len: number, delimiter: number, quote: number): number
  dropRows(s: number, k: number, count: number, limit: number, delimiter: number, quote: number, cap: number): number
}

/** A StringTest of the CSV prefilter on the bytes of column `column`: its literals in UTF-8. */
export interface ByteTest {
  column: number
  values: Uint8Array[]
  negated: boolean
  /** A declared string column: an unquoted empty field is null, which the test cannot judge. */
  emptyIsNull: boolean
}

/** What dropRows decides rows by, compiled for the kernel's memory (see csv-index.wat). */
export interface DropProgram {
  readonly words: Int32Array
  readonly literals: Uint8Array
  /** Words of one kept row's entry: KEPT_HEAD, then start, end, quoting of each field. */
  readonly entryWords: number
  /** Kept rows the KEPT region holds at once. */
  readonly capacity: number
}

/** Answers dropRows' stack holds (the 64 bytes at STACK in csv-index.wat). */
const STACK_DEPTH = 16
/** Words at the head of a kept row's entry: start, LF, LFs inside quotes, lines before it. */
export const KEPT_HEAD = 4
/** Words per field of a kept row: start, end, quoting. */
const FIELD_WORDS = 3
const INT = 1
const FLOAT = 2

export class CsvIndex {
  /** Largest window indexed at once, in bytes. */
  readonly window: number
  /** Window-relative positions of the delimiter, quote and LF bytes; `count` of them are valid. */
  readonly positions: Uint32Array
  /** The rows the last dropRows kept (`keptCount` entries of the program's `entryWords`). */
  readonly kept: Int32Array
  /** Where the last dropRows stopped: see stopAt, stopCursor, linesTaken, keptCount. */
  private readonly result: Int32Array
  private readonly input: Uint8Array
  private readonly map: Uint8Array
  private readonly exports: Exports
  /** Whether the last window holds any byte >= 0x80. */
  private nonAscii = false
  /** The program in the kernel's memory (decoders on one thread share the instance). */
  private loaded: DropProgram | undefined

  private constructor(exports: Exports) {
    this.exports = exports
    this.window = exports.window.value
    const memory = exports.memory.buffer
    this.input = new Uint8Array(memory, 0, this.window + 64)
    this.positions = new Uint32Array(memory, exports.out.value, this.window)
    this.map = new Uint8Array(memory, exports.nonAsciiMap.value, this.window >>> 6)
    this.result = new Int32Array(memory, exports.result.value, 4)
    this.kept = new Int32Array(memory, exports.kept.value, (memory.byteLength - exports.kept.value) >>> 2)
  }

  /** Index `buf[start, start + length)` (length ≤ window); returns the count of positions. */
  build(buf: Uint8Array, start: number, length: number, delimiter: number, quote: number): number {
    this.input.set(buf.subarray(start, start + length), 0)
    this.input.fill(0, length, length + 64)
    const count = this.exports.index(length, delimiter, quote)
    this.nonAscii = this.exports.nonAscii.value !== 0
    return count
  }

  /**
   * Drop rows of the window from offset `s` (position `k` of `count`; the window's bytes end at
   * `limit`) as `program` says, and list those it surely keeps in `kept`; returns how many it
   * dropped. `stopAt`/`stopCursor` are the first row it did not take and its position index,
   * `linesTaken` the lines the rows it took held, `keptCount` the rows it kept.
   */
  dropRows(program: DropProgram, s: number, k: number, count: number, limit: number, delimiter: number, quote: number): number {
    if (this.loaded !== program) {
      const memory = this.exports.memory.buffer
      new Int32Array(memory, this.exports.program.value, program.words.length).set(program.words)
      new Uint8Array(memory, this.exports.literals.value, program.literals.length).set(program.literals)
      this.loaded = program
    }
    return this.exports.dropRows(s, k, count, limit, delimiter, quote, program.capacity)
  }

  // Read from memory: an exported global's `value` is a call into the runtime (~20 ms of W1's
  // 5M rows on one thread when these were globals).
  get stopAt(): number {
    return this.result[0]!
  }

  get stopCursor(): number {
    return this.result[1]!
  }

  get linesTaken(): number {
    return this.result[2]!
  }

  get keptCount(): number {
    return this.result[3]!
  }

  /**
   * The program for rows of `width` fields that `condition` answers no for and whose `typed`
   * columns fit (kind 'int': CsvDecoder's isIntegerText, 'float': plainDecimal), or undefined
   * when it does not fit the kernel's memory.
   */
  compile(width: number, maxRowBytes: number, typed: ReadonlyArray<readonly [column: number, kind: 'int' | 'float']>, condition: ConditionTree<ByteTest>): DropProgram | undefined {
    // The room of each region, from where the kernel puts the next one.
    const { program, literals: base, stack, kept, memory } = this.exports
    const entryWords = KEPT_HEAD + FIELD_WORDS * width
    const capacity = Math.floor((memory.buffer.byteLength - kept.value) / (4 * entryWords))
    if (capacity < 1) return undefined
    const ops: number[] = []
    const values: number[] = []
    const literals: number[] = []
    let depth = 0
    let deepest = 0
    const emit = (c: ConditionTree<ByteTest>): void => {
      if ('op' in c) {
        emit(c.left)
        emit(c.right)
        ops.push(c.op === '&&' ? 2 : 3, 0, 0, 0, 0)
        depth--
        return
      }
      ops.push(1, c.column, (c.negated ? 1 : 0) | (c.emptyIsNull ? 2 : 0), values.length / 2, c.values.length)
      for (const v of c.values) {
        values.push(base.value + literals.length, v.length)
        literals.push(...v)
      }
      deepest = Math.max(deepest, ++depth)
    }
    emit(condition)
    const words = [width, Math.min(maxRowBytes, 0xffffffff), typed.length, ops.length / 5, values.length / 2]
    for (const [column, kind] of typed) words.push(column, kind === 'int' ? INT : FLOAT)
    words.push(...ops, ...values)
    if (deepest > STACK_DEPTH || words.length * 4 > base.value - program.value || literals.length > stack.value - base.value) return undefined
    return { words: Int32Array.from(words), literals: Uint8Array.from(literals), entryWords, capacity }
  }

  /** Whether window bytes [from, to] may hold a byte >= 0x80 (their 64-byte blocks do). */
  mayBeNonAscii(from: number, to: number): boolean {
    if (!this.nonAscii) return false
    const map = this.map
    for (let b = from >>> 6, last = to >>> 6; b <= last; b++) if (map[b] !== 0) return true
    return false
  }

  /**
   * This thread's index, or undefined where WebAssembly SIMD is not available (`--jitless`, a
   * CPU without SSE4.1): the decoder then scans every byte, as it always can.
   */
  static get(): CsvIndex | undefined {
    if (shared === null) {
      try {
        const module = new WebAssembly.Module(Buffer.from(WASM_BASE64, 'base64'))
        shared = new CsvIndex(new WebAssembly.Instance(module).exports as Exports)
      } catch {
        shared = undefined
      }
    }
    return shared
  }
}

let shared: CsvIndex | undefined | null = null
