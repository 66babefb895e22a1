;; The CSV structural index (src/codecs/wasm/csv-index.ts): the offsets of every delimiter, quote
;; and LF byte of a window of input, found 64 bytes at a time with SIMD compares, and a map of
;; which 64-byte blocks hold a byte >= 0x80. The CSV decoder walks these offsets instead of every
;; byte. Compiled by scripts/build-wasm.ts into csv-index.wasm.ts (npm run build-wasm).
;;
;; Memory layout (the exported globals say where):
;;   [0, WINDOW + 64)        input: the caller copies a window of at most WINDOW bytes to 0 and
;;                           zeroes the 64 bytes after it (the last block reads past the window)
;;   [OUT, OUT + 4*WINDOW)   positions (u32, window-relative, ascending), as many as `index`
;;                           returns, then up to 8 slots of scratch (positions are written 8 at a time)
;;   [MAP, MAP + WINDOW/64)  per 64-byte block: 1 when a byte of it is >= 0x80, else 0
(module
  (memory (export "memory") 11)
  (global (export "window") i32 (i32.const 131072))
  (global $OUT (export "out") i32 (i32.const 131136))
  (global $MAP (export "nonAsciiMap") i32 (i32.const 655488))
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
)
