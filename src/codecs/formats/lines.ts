// The plain-lines decoder: every LF-terminated line (CR stripped) becomes `{ message }`, empty
// lines included; a last line without a newline is emitted at the end of input.
import { LineDecoder, utf8Slice } from '../framing/newline.js'
import type { DecodeOutput } from '../types.js'

export class LinesDecoder extends LineDecoder {
  protected onLine(buf: Buffer, s: number, e: number, line: number, _offset: number, endOffset: number, out: DecodeOutput): void {
    out.records.push({ message: s === e ? '' : utf8Slice(buf, s, e) })
    out.lines.push(line)
    out.ends.push(endOffset)
  }
}
