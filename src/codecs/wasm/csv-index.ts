// The CSV structural index: the positions of a window's delimiter, quote and LF bytes, found by
// the WebAssembly SIMD kernel in csv-index.wat, for CsvDecoder to walk instead of every byte.
//
// One instance per thread, shared by the decoders on it: a window is built and walked within one
// synchronous decodeRecords call, so no other decoder can overwrite it meanwhile.
//
// Measured (64 MB of the W1 CSV, one core): the kernel indexes 3.8 GB/s, copy included, where the
// decoder's byte loop scanned ~450 MB/s.
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
  index(len: number, delimiter: number, quote: number): number
}

export class CsvIndex {
  /** Largest window indexed at once, in bytes. */
  readonly window: number
  /** Window-relative positions of the delimiter, quote and LF bytes; `count` of them are valid. */
  readonly positions: Uint32Array
  private readonly input: Uint8Array
  private readonly map: Uint8Array
  private readonly exports: Exports
  /** Whether the last window holds any byte >= 0x80. */
  nonAscii = false

  private constructor(exports: Exports) {
    this.exports = exports
    this.window = exports.window.value
    const memory = exports.memory.buffer
    this.input = new Uint8Array(memory, 0, this.window + 64)
    this.positions = new Uint32Array(memory, exports.out.value, this.window)
    this.map = new Uint8Array(memory, exports.nonAsciiMap.value, this.window >>> 6)
  }

  /** Index `buf[start, start + length)` (length ≤ window); returns the count of positions. */
  build(buf: Uint8Array, start: number, length: number, delimiter: number, quote: number): number {
    this.input.set(buf.subarray(start, start + length), 0)
    this.input.fill(0, length, length + 64)
    const count = this.exports.index(length, delimiter, quote)
    this.nonAscii = this.exports.nonAscii.value !== 0
    return count
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
