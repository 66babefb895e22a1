// The JSON-lines decoder: one JSON object per LF-terminated line; blank lines are skipped and a
// line that is not a JSON object is dead-lettered as SLC_RECORD_PARSE.
import type { Rec } from '../../core/batch.js'
import { LineDecoder } from '../framing/newline.js'
import type { DecodeOutput } from '../types.js'

export class JsonlDecoder extends LineDecoder {
  protected onLine(buf: Buffer, s: number, e: number, line: number, offset: number, endOffset: number, out: DecodeOutput): void {
    // Whitespace-only lines carry no record; JSON.parse itself tolerates the rest of the padding.
    let i = s
    while (i < e) {
      const c = buf[i]!
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break
      i++
    }
    if (i === e) return
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
    out.records.push(value as Rec)
    out.lines.push(line)
    out.ends.push(endOffset)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
