;; The CSV structural index (src/codecs/wasm/csv-index.ts): the offsets of every delimiter, quote
;; and LF byte of a window of input, found 64 bytes at a time with SIMD compares, and a map of
;; which 64-byte blocks hold a byte >= 0x80. The CSV decoder walks these offsets instead of every
;; byte. `dropRows` walks them itself and judges each row by a prefilter (CsvDecoder.passesPrefilter
;; in WebAssembly: string tests on the bytes, int and float columns checked to fit): it drops the
;; rows the filter drops and lists where the fields of the rows it surely keeps are, so that the
;; decoder builds those without walking or judging them again.
;; Compiled by scripts/build-wasm.ts into csv-index.wasm.ts (npm run build-wasm).
;;
;; Memory layout (the exported globals say where):
;;   [0, WINDOW + 64)        input: the caller copies a window of at most WINDOW bytes to 0 and
;;                           zeroes the 64 bytes after it (the last block reads past the window)
;;   [OUT, OUT + 4*WINDOW)   positions (u32, window-relative, ascending), as many as `index`
;;                           returns, then up to 8 slots of scratch (positions are written 8 at a time)
;;   [MAP, MAP + WINDOW/64)  per 64-byte block: 1 when a byte of it is >= 0x80, else 0
;;   [PROGRAM, +4 KiB)       dropRows' program (i32 words), written by the caller:
;;                             width, max row bytes, typed count, op count, value count, then
;;                             typed columns (column, kind: 1 int, 2 float),
;;                             ops (5 words: opcode 1 test / 2 and / 3 or, column, flags 1 negated
;;                             2 empty is null, first value, value count), postfix,
;;                             values (address of the literal's bytes, length)
;;   [LITERALS, +4 KiB)      the tests' literal bytes
;;   [STACK, +64)            dropRows' answers while it evaluates the ops
;;   [RESULT, +16)           where dropRows stopped: the first row it did not take (window
;;                           offset), the position cursor there, the lines of the rows it took
;;                           (dropped and kept), and how many it kept
;;   [KEPT, end of memory)   the rows dropRows kept, one entry each of 16 + 12 * width bytes:
;;                           start, LF, LFs inside quotes, lines before it (from the call's first
;;                           row), then start, end, quoting (0 none, 1 quoted, 2 with "" pairs)
;;                           of each field. The current row is walked into the next free entry.
(module
  (memory (export "memory") 12)
  (global (export "window") i32 (i32.const 131072))
  (global $OUT (export "out") i32 (i32.const 131136))
  (global $MAP (export "nonAsciiMap") i32 (i32.const 655488))
  (global $PROGRAM (export "program") i32 (i32.const 657536))
  (global $LITERALS (export "literals") i32 (i32.const 661632))
  (global $STACK (export "stack") i32 (i32.const 665728))
  (global $RESULT (export "result") i32 (i32.const 665792))
  (global $KEPT (export "kept") i32 (i32.const 665808))
  ;; Non-zero when the last window had a byte >= 0x80 anywhere.
  (global $nonAscii (export "nonAscii") (mut i32) (i32.const 0))

  ;; index(len, d, q): writes the positions of the bytes equal to d, q or LF in [0, len) at OUT
  ;; and the non-ASCII map; returns how many positions.
  (func (export "index") (param $len i32) (param $d i32) (param $q i32) (result i32)
    (local $p i32) (local $o i32) (local $m i64) (local $n i32) (local $h i32) (local $any i32)
    (local $vd v128) (local $vq v128) (local $vl v128)
    (local $a v128) (local $b v128) (local $c v128) (local $e v128)
    (local.set $vd (i8x16.splat (local.get $d)))
    (local.set $vq (i8x16.splat (local.get $q)))
    (local.set $vl (i8x16.splat (i32.const 10)))
    (local.set $o (global.get $OUT))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $len)))
        (local.set $a (v128.load offset=0 (local.get $p)))
        (local.set $b (v128.load offset=16 (local.get $p)))
        (local.set $c (v128.load offset=32 (local.get $p)))
        (local.set $e (v128.load offset=48 (local.get $p)))
        ;; Bit i of $m: byte p + i is d, q or LF.
        (local.set $m
          (i64.or
            (i64.or
              (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or
                (i8x16.eq (local.get $a) (local.get $vd)) (i8x16.eq (local.get $a) (local.get $vl))) (i8x16.eq (local.get $a) (local.get $vq)))))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or
                (i8x16.eq (local.get $b) (local.get $vd)) (i8x16.eq (local.get $b) (local.get $vl))) (i8x16.eq (local.get $b) (local.get $vq))))) (i64.const 16)))
            (i64.or
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or
                (i8x16.eq (local.get $c) (local.get $vd)) (i8x16.eq (local.get $c) (local.get $vl))) (i8x16.eq (local.get $c) (local.get $vq))))) (i64.const 32))
              (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (v128.or
                (i8x16.eq (local.get $e) (local.get $vd)) (i8x16.eq (local.get $e) (local.get $vl))) (i8x16.eq (local.get $e) (local.get $vq))))) (i64.const 48)))))
        ;; The last block: nothing at or past len (the zero padding may equal a NUL delimiter).
        (if (i32.gt_u (i32.add (local.get $p) (i32.const 64)) (local.get $len))
          (then (local.set $m (i64.and (local.get $m)
            (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $len) (local.get $p)))) (i64.const 1))))))
        ;; The sign bits of the OR of the four vectors: a byte >= 0x80 in the block.
        (local.set $h (i32.ne (i8x16.bitmask (v128.or (v128.or (local.get $a) (local.get $b)) (v128.or (local.get $c) (local.get $e)))) (i32.const 0)))
        (i32.store8 (i32.add (global.get $MAP) (i32.shr_u (local.get $p) (i32.const 6))) (local.get $h))
        (local.set $any (i32.or (local.get $any) (local.get $h)))
        ;; Eight positions written whether or not there are as many (a row of CSV has a
        ;; delimiter every few bytes): no branch per position; $o moves by the true count.
        (local.set $n (i32.wrap_i64 (i64.popcnt (local.get $m))))
        (i32.store offset=0 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=4 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=8 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=12 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=16 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=20 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=24 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        (i32.store offset=28 (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
        (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
        ;; More than eight: the rest one by one.
        (if (i32.gt_u (local.get $n) (i32.const 8))
          (then
            (local.set $o (i32.add (local.get $o) (i32.const 32)))
            (loop $rest
              (i32.store (local.get $o) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $m)))))
              (local.set $o (i32.add (local.get $o) (i32.const 4)))
              (local.set $m (i64.and (local.get $m) (i64.sub (local.get $m) (i64.const 1))))
              (br_if $rest (i64.ne (local.get $m) (i64.const 0)))))
          (else (local.set $o (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 2))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $blocks)))
    (global.set $nonAscii (local.get $any))
    (i32.shr_u (i32.sub (local.get $o) (global.get $OUT)) (i32.const 2)))

  ;; CsvDecoder's plainDecimal over input [a, b), a < b.
  (func $fitsFloat (param $a i32) (param $b i32) (result i32)
    (local $c i32) (local $digits i32) (local $dot i32)
    (local.set $c (i32.load8_u (local.get $a)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 0x2b)) (i32.eq (local.get $c) (i32.const 0x2d)))
      (then (local.set $a (i32.add (local.get $a) (i32.const 1)))))
    (block $end
      (loop $chars
        (br_if $end (i32.ge_u (local.get $a) (local.get $b)))
        (local.set $c (i32.load8_u (local.get $a)))
        (if (i32.and (i32.eq (local.get $c) (i32.const 0x2e)) (i32.eqz (local.get $dot)))
          (then (local.set $dot (i32.const 1)))
          (else
            (if (i32.gt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9)) (then (return (i32.const 0))))
            (local.set $digits (i32.add (local.get $digits) (i32.const 1)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $chars)))
    (i32.and (i32.gt_u (local.get $digits) (i32.const 0)) (i32.le_u (local.get $digits) (i32.const 15))))

  ;; dropRows(s, k, count, limit, d, q, cap): from the row at window offset s (positions from k
  ;; on, `count` of them; the window's bytes end at `limit`), drop every row that the program's
  ;; condition answers no for and whose typed columns fit, as CsvDecoder.passesPrefilter would, and
  ;; list at KEPT (up to `cap`) every row it answers yes for and whose typed columns fit; stop at
  ;; the first row it cannot settle (undecided, a type that does not fit, or a row it cannot walk:
  ;; a quote fault, the window's end, a row longer than max, a blank line, a wrong field count).
  ;; Returns the rows dropped; RESULT says where it stopped.
  (func (export "dropRows") (param $s i32) (param $k i32) (param $count i32) (param $limit i32) (param $d i32) (param $q i32) (param $cap i32) (result i32)
    (local $dropped i32) (local $lines i32) (local $width i32) (local $max i32)
    (local $kk i32) (local $p i32) (local $nf i32) (local $lfs i32) (local $x i32) (local $c i32)
    (local $y i32) (local $flag i32) (local $t i32) (local $f i32) (local $e i32)
    (local $typed i32) (local $ops i32) (local $values i32) (local $end i32) (local $op i32) (local $sp i32)
    (local $a i32) (local $n i32) (local $v i32) (local $last i32) (local $j i32) (local $answer i32) (local $other i32)
    (local $vec v128) (local $digits i32) (local $dots i32) (local $range i32)
    (local $kept i32) (local $entry i32) (local $fb i32)
    (local.set $width (i32.load (global.get $PROGRAM)))
    (local.set $max (i32.load offset=4 (global.get $PROGRAM)))
    ;; the program's sections: typed columns, ops, values
    (local.set $typed (i32.add (global.get $PROGRAM) (i32.const 20)))
    (local.set $ops (i32.add (local.get $typed) (i32.shl (i32.load offset=8 (global.get $PROGRAM)) (i32.const 3))))
    (local.set $values (i32.add (local.get $ops) (i32.mul (i32.load offset=12 (global.get $PROGRAM)) (i32.const 20))))
    (local.set $entry (i32.add (i32.const 16) (i32.mul (local.get $width) (i32.const 12))))
    (block $stop
      (loop $rows
        ;; the row's fields go to the next free entry, kept there if the row is
        (br_if $stop (i32.ge_u (local.get $kept) (local.get $cap)))
        (local.set $fb (i32.add (i32.add (global.get $KEPT) (i32.mul (local.get $kept) (local.get $entry))) (i32.const 16)))
        (local.set $kk (local.get $k))
        (local.set $p (local.get $s))
        (local.set $nf (i32.const 0))
        (local.set $lfs (i32.const 0))
        (block $rowEnd
          (loop $fields
            (br_if $stop (i32.ge_u (local.get $kk) (local.get $count)))
            (local.set $x (i32.load (i32.add (global.get $OUT) (i32.shl (local.get $kk) (i32.const 2)))))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (local.set $c (i32.load8_u (local.get $x)))
            (if (i32.eq (local.get $c) (local.get $d))
              (then
                (br_if $stop (i32.ge_u (local.get $nf) (local.get $width)))
                (local.set $f (i32.add (local.get $fb) (i32.mul (local.get $nf) (i32.const 12))))
                (i32.store (local.get $f) (local.get $p))
                (i32.store offset=4 (local.get $f) (local.get $x))
                (i32.store offset=8 (local.get $f) (i32.const 0))
                (local.set $nf (i32.add (local.get $nf) (i32.const 1)))
                (local.set $p (i32.add (local.get $x) (i32.const 1)))
                (br $fields)))
            (if (i32.eq (local.get $c) (i32.const 10))
              (then
                (br_if $stop (i32.ge_u (local.get $nf) (local.get $width)))
                (local.set $f (i32.add (local.get $fb) (i32.mul (local.get $nf) (i32.const 12))))
                (i32.store (local.get $f) (local.get $p))
                ;; a CR before the LF is not data
                (local.set $e (local.get $x))
                (if (i32.gt_u (local.get $x) (local.get $p))
                  (then (if (i32.eq (i32.load8_u (i32.sub (local.get $x) (i32.const 1))) (i32.const 13))
                    (then (local.set $e (i32.sub (local.get $x) (i32.const 1)))))))
                (i32.store offset=4 (local.get $f) (local.get $e))
                (i32.store offset=8 (local.get $f) (i32.const 0))
                (local.set $nf (i32.add (local.get $nf) (i32.const 1)))
                (local.set $t (local.get $x))
                (br $rowEnd)))
            ;; A quote inside an unquoted field is data; at a field's start it opens a quoted one.
            (br_if $fields (i32.ne (local.get $x) (local.get $p)))
            (local.set $flag (i32.const 1))
            (block $closed
              (loop $quoted
                (br_if $stop (i32.ge_u (local.get $kk) (local.get $count)))
                (local.set $y (i32.load (i32.add (global.get $OUT) (i32.shl (local.get $kk) (i32.const 2)))))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (local.set $c (i32.load8_u (local.get $y)))
                (if (i32.eq (local.get $c) (local.get $q))
                  (then
                    ;; the byte after the quote decides; past the window it is not known
                    (br_if $stop (i32.ge_u (i32.add (local.get $y) (i32.const 1)) (local.get $limit)))
                    (br_if $closed (i32.ne (i32.load8_u offset=1 (local.get $y)) (local.get $q)))
                    (local.set $flag (i32.const 2))
                    (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                    (br $quoted)))
                (if (i32.eq (local.get $c) (i32.const 10)) (then (local.set $lfs (i32.add (local.get $lfs) (i32.const 1)))))
                (br $quoted)))
            (br_if $stop (i32.ge_u (local.get $nf) (local.get $width)))
            (local.set $f (i32.add (local.get $fb) (i32.mul (local.get $nf) (i32.const 12))))
            (i32.store (local.get $f) (i32.add (local.get $p) (i32.const 1)))
            (i32.store offset=4 (local.get $f) (local.get $y))
            (i32.store offset=8 (local.get $f) (local.get $flag))
            (local.set $nf (i32.add (local.get $nf) (i32.const 1)))
            ;; after the closing quote: a delimiter, an LF or a CR LF (each the next position)
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (local.set $c (i32.load8_u offset=1 (local.get $y)))
            (if (i32.eq (local.get $c) (local.get $d))
              (then (local.set $p (i32.add (local.get $y) (i32.const 2))) (br $fields)))
            (if (i32.eq (local.get $c) (i32.const 10))
              (then (local.set $t (i32.add (local.get $y) (i32.const 1))) (br $rowEnd)))
            (br_if $stop (i32.ne (local.get $c) (i32.const 13)))
            (br_if $stop (i32.ge_u (i32.add (local.get $y) (i32.const 2)) (local.get $limit)))
            (br_if $stop (i32.ne (i32.load8_u offset=2 (local.get $y)) (i32.const 10)))
            (local.set $t (i32.add (local.get $y) (i32.const 2)))))
        ;; The row is s..t (t its LF). Rows the decoder reports or skips are its to handle.
        (br_if $stop (i32.gt_u (i32.sub (local.get $t) (local.get $s)) (local.get $max)))
        (br_if $stop (i32.ne (local.get $nf) (local.get $width)))
        (br_if $stop (i32.and (i32.eq (local.get $nf) (i32.const 1))
          (i32.and (i32.eqz (i32.load offset=8 (local.get $fb))) (i32.eq (i32.load (local.get $fb)) (i32.load offset=4 (local.get $fb))))))
        ;; The condition (CsvDecoder.byteAnswer), its ops in postfix: 0 no, 1 yes, 2 undecided.
        (local.set $sp (global.get $STACK))
        (local.set $op (local.get $ops))
        (block $evaluated
          (loop $eval
            (br_if $evaluated (i32.ge_u (local.get $op) (local.get $values)))
            (if (i32.eq (i32.load (local.get $op)) (i32.const 1))
              (then
                ;; a test: the field's bytes against each literal
                (local.set $f (i32.add (local.get $fb) (i32.mul (i32.load offset=4 (local.get $op)) (i32.const 12))))
                (local.set $a (i32.load (local.get $f)))
                (local.set $n (i32.sub (i32.load offset=4 (local.get $f)) (local.get $a)))
                (local.set $flag (i32.load offset=8 (local.get $f)))
                (local.set $answer (i32.const 2))
                ;; undecided: "" pairs to unescape, or an unquoted empty field that is null
                (if (i32.eqz (i32.or (i32.eq (local.get $flag) (i32.const 2))
                      (i32.and (i32.eqz (i32.or (local.get $n) (local.get $flag))) (i32.ne (i32.and (i32.load offset=8 (local.get $op)) (i32.const 2)) (i32.const 0)))))
                  (then
                    (local.set $answer (i32.const 0))
                    (local.set $v (i32.add (local.get $values) (i32.shl (i32.load offset=12 (local.get $op)) (i32.const 3))))
                    (local.set $last (i32.add (local.get $v) (i32.shl (i32.load offset=16 (local.get $op)) (i32.const 3))))
                    (block $searched
                      (loop $literals
                        (br_if $searched (i32.ge_u (local.get $v) (local.get $last)))
                        (if (i32.eq (i32.load offset=4 (local.get $v)) (local.get $n))
                          (then
                            (local.set $e (i32.load (local.get $v)))
                            (local.set $j (i32.const 0))
                            (block $differ
                              (loop $bytes
                                (if (i32.ge_u (local.get $j) (local.get $n)) (then (local.set $answer (i32.const 1)) (br $searched)))
                                (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $j))) (i32.load8_u (i32.add (local.get $e) (local.get $j)))))
                                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                                (br $bytes)))))
                        (local.set $v (i32.add (local.get $v) (i32.const 8)))
                        (br $literals)))
                    ;; found XOR negated
                    (local.set $answer (i32.xor (local.get $answer) (i32.and (i32.load offset=8 (local.get $op)) (i32.const 1))))))
                (i32.store (local.get $sp) (local.get $answer))
                (local.set $sp (i32.add (local.get $sp) (i32.const 4))))
              (else
                ;; and / or of the last two answers
                (local.set $sp (i32.sub (local.get $sp) (i32.const 4)))
                (local.set $other (i32.load (local.get $sp)))
                (local.set $answer (i32.load (i32.sub (local.get $sp) (i32.const 4))))
                (i32.store (i32.sub (local.get $sp) (i32.const 4))
                  (if (result i32) (i32.eq (i32.load (local.get $op)) (i32.const 2))
                    ;; and: no if either is no; yes if both are yes
                    (then (if (result i32) (i32.or (i32.eqz (local.get $answer)) (i32.eqz (local.get $other))) (then (i32.const 0))
                      (else (if (result i32) (i32.and (i32.eq (local.get $answer) (i32.const 1)) (i32.eq (local.get $other) (i32.const 1))) (then (i32.const 1)) (else (i32.const 2))))))
                    ;; or: yes if either is yes; no if both are no
                    (else (if (result i32) (i32.or (i32.eq (local.get $answer) (i32.const 1)) (i32.eq (local.get $other) (i32.const 1))) (then (i32.const 1))
                      (else (if (result i32) (i32.and (i32.eqz (local.get $answer)) (i32.eqz (local.get $other))) (then (i32.const 0)) (else (i32.const 2))))))))))
            (local.set $op (i32.add (local.get $op) (i32.const 20)))
            (br $eval)))
        (local.set $answer (i32.load (i32.sub (local.get $sp) (i32.const 4))))
        (br_if $stop (i32.eq (local.get $answer) (i32.const 2)))
        ;; The typed columns fit (empty fields do): CsvDecoder's isIntegerText and plainDecimal on
        ;; one 16-byte load per field (digit, dot and sign masks); a float of 17 bytes takes the
        ;; byte loop; longer ones, and ints of 16 bytes or more, never fit.
        (local.set $op (local.get $typed))
        (block $fit
          (loop $columns
            (br_if $fit (i32.ge_u (local.get $op) (local.get $ops)))
            (local.set $f (i32.add (local.get $fb) (i32.mul (i32.load (local.get $op)) (i32.const 12))))
            (local.set $a (i32.load (local.get $f)))
            (local.set $n (i32.sub (i32.load offset=4 (local.get $f)) (local.get $a)))
            (if (local.get $n)
              (then
                (if (i32.gt_u (local.get $n) (i32.const 16))
                  (then
                    (br_if $stop (i32.or (i32.eq (i32.load offset=4 (local.get $op)) (i32.const 1)) (i32.gt_u (local.get $n) (i32.const 17))))
                    (br_if $stop (i32.eqz (call $fitsFloat (local.get $a) (i32.add (local.get $a) (local.get $n))))))
                  (else
                    (local.set $vec (v128.load (local.get $a)))
                    ;; the field's bytes, less a leading sign
                    (local.set $range (i32.sub (i32.shl (i32.const 1) (local.get $n)) (i32.const 1)))
                    (local.set $c (i32.load8_u (local.get $a)))
                    (if (i32.or (i32.eq (local.get $c) (i32.const 0x2b)) (i32.eq (local.get $c) (i32.const 0x2d)))
                      (then (local.set $range (i32.and (local.get $range) (i32.const -2)))))
                    (local.set $digits (i32.and (local.get $range)
                      (i8x16.bitmask (i8x16.lt_u (i8x16.sub (local.get $vec) (i8x16.splat (i32.const 0x30))) (i8x16.splat (i32.const 10))))))
                    (if (i32.eq (i32.load offset=4 (local.get $op)) (i32.const 1))
                      (then
                        ;; int: at most 15 bytes, all digits after the sign, at least one
                        (br_if $stop (i32.gt_u (local.get $n) (i32.const 15)))
                        (br_if $stop (i32.or (i32.eqz (local.get $range)) (i32.ne (local.get $digits) (local.get $range)))))
                      (else
                        ;; float: digits and at most one dot after the sign, 1 to 15 digits
                        (local.set $dots (i32.and (local.get $range) (i8x16.bitmask (i8x16.eq (local.get $vec) (i8x16.splat (i32.const 0x2e))))))
                        (br_if $stop (i32.ne (i32.or (local.get $digits) (local.get $dots)) (local.get $range)))
                        (br_if $stop (i32.gt_u (i32.popcnt (local.get $dots)) (i32.const 1)))
                        (br_if $stop (i32.eqz (local.get $digits)))
                        (br_if $stop (i32.gt_u (i32.popcnt (local.get $digits)) (i32.const 15)))))))))
            (local.set $op (i32.add (local.get $op) (i32.const 8)))
            (br $columns)))
        (if (local.get $answer)
          (then
            (i32.store (i32.sub (local.get $fb) (i32.const 16)) (local.get $s))
            (i32.store (i32.sub (local.get $fb) (i32.const 12)) (local.get $t))
            (i32.store (i32.sub (local.get $fb) (i32.const 8)) (local.get $lfs))
            (i32.store (i32.sub (local.get $fb) (i32.const 4)) (local.get $lines))
            (local.set $kept (i32.add (local.get $kept) (i32.const 1))))
          (else (local.set $dropped (i32.add (local.get $dropped) (i32.const 1)))))
        (local.set $lines (i32.add (local.get $lines) (i32.add (local.get $lfs) (i32.const 1))))
        (local.set $s (i32.add (local.get $t) (i32.const 1)))
        (local.set $k (local.get $kk))
        (br $rows)))
    (i32.store (global.get $RESULT) (local.get $s))
    (i32.store offset=4 (global.get $RESULT) (local.get $k))
    (i32.store offset=8 (global.get $RESULT) (local.get $lines))
    (i32.store offset=12 (global.get $RESULT) (local.get $kept))
    (local.get $dropped))
)
