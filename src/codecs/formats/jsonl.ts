// The JSON-lines decoder: one JSON object per LF-terminated line; blank lines are skipped and a
// line that is not a JSON object is dead-lettered as SLC_RECORD_PARSE.
import type { Rec } from '../../core/batch.js'
import { LineDecoder, type FramingOptions } from '../framing/newline.js'
import type { DecodeOutput, DecoderPosition } from '../types.js'
import { JsonFieldReader } from './json-fields.js'

export class JsonlDecoder extends LineDecoder {
  /** Set when the pipeline reads only some fields: decodes those from the bytes, skips the rest. */
  readonly #reader: JsonFieldReader | undefined

  constructor(options: FramingOptions, position?: DecoderPosition, fields?: readonly string[]) {
    super(options, position)
    this.#reader = fields === undefined ? undefined : new JsonFieldReader(fields)
  }

  protected onLine(buf: Buffer, s: number, e: number, line: number, offset: number, endOffset: number, out: DecodeOutput): void {
    // Whitespace-only lines carry no record; JSON.parse itself tolerates the rest of the padding.
    let i = s
    while (i < e) {
      const c = buf[i]!
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break
      i++
    }
    if (i === e) return
    if (this.#reader !== undefined) {
      // A line the reader does not accept goes through JSON.parse below, which gives the verdict.
      const rec = this.#reader.read(buf, s, e)
      if (rec !== undefined) {
        out.records.push(rec)
        out.lines.push(line)
        out.ends.push(endOffset)
        return
      }
    }
    let value: unknown
    try {
      value = JSON.parse(buf.toString('utf8', s, e))
    } catch (err) {
      out.errors.push(this.recordError('SLC_RECORD_PARSE', (err as Error).message, buf, s, e, line, offset))
      return
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.errors.push(this.recordError('SLC_RECORD_PARSE', `expected a JSON object, found ${describe(value)}`, buf, s, e, line, offset))
      return
    }
    out.records.push(this.#reader === undefined ? (value as Rec) : this.#reader.project(value as Rec))
    out.lines.push(line)
    out.ends.push(endOffset)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
