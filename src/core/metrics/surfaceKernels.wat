;; The voxel loops of the surface metrics, in WebAssembly: the label scan (labelScan.ts), the bit planes and corner
;; scan of the surfels (surfels.ts), and the row offsets and outward search of the distances (edt.ts). Each is the
;; loop its TypeScript caller documents, statement for statement (the same float64 sums in the same order, so the
;; same bits); the callers keep the definitions, the tables and what runs once per organ.
;;
;; Why WebAssembly: a metrics command runs in a fresh process, and V8 compiles JavaScript while running it
;; (interpreted, then optimized mid-loop, then bailed out and optimized again): on the 2-core benchmark VM the first
;; whole-body case ran these loops 2-3x slower than the next, in every worker. A WebAssembly module is compiled
;; before it runs, in milliseconds; the callers call it a plane (or a few thousand queries) at a time, so that V8's
;; tier-up to its optimizing compiler, which replaces a function between calls, takes effect within the first organ.
;;
;; All pointers are byte offsets into the imported memory, which holds the label maps and every thread's buffers
;; (kernelHeap.ts). Label maps are uint8 (shift 0) or uint16 (shift 1), little-endian.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; the distance search's row lookups so far (edt.ts reads and resets it: its fallback budget)
  (global $work (export "work") (mut f64) (f64.const 0))

  (func $inc (param $addr i32) (param $by i32)
    (i32.store (local.get $addr) (i32.add (i32.load (local.get $addr)) (local.get $by))))

  ;; ---------------------------------------------------------------------------------------------------- label scan
  ;; Tables at $t for $L labels (256 for uint8 maps, 65536 for uint16), u32 each: tp, fp, fn, seen, rowLo, rowHi,
  ;; inRow, rowLabels ($L each), then the boxes ($L x 6: lo0 lo1 lo2 hi0 hi1 hi2). Zeroed by the caller before a
  ;; slab's first call; planes [k0, k1) of maps whose plane 0 is at $gt and $pred.

  ;; label $l has a voxel at x0 = $x of the current row: the first sets the row's lo, every one moves its hi
  (func $seeInRow (param $t i32) (param $L4 i32) (param $l i32) (param $x i32) (param $nRow i32) (result i32)
    (local $a i32)
    (local.set $a (i32.add (local.get $t) (i32.shl (local.get $l) (i32.const 2))))
    (if (i32.eqz (i32.load (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 6)))))
      (then
        (i32.store (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 6))) (i32.const 1))
        (i32.store (i32.add (local.get $a) (i32.shl (local.get $L4) (i32.const 2))) (local.get $x))
        (i32.store (i32.add (i32.add (local.get $t) (i32.mul (local.get $L4) (i32.const 7))) (i32.shl (local.get $nRow) (i32.const 2)))
          (local.get $l))
        (local.set $nRow (i32.add (local.get $nRow) (i32.const 1)))))
    (i32.store (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 5))) (local.get $x))
    (local.get $nRow))

  ;; $copy, when not 0, is where a single map's planes (scanned as both maps: $gt = $pred, a ring of planes being
  ;; inflated) also go, addressed as $gt is, without its background: the map's fresh pages read as zero, so only
  ;; pages holding labels are ever written (readLabelsOnPool).
  (func (export "scanPlanes")
    (param $gt i32) (param $pred i32) (param $n0 i32) (param $n1 i32) (param $k0 i32) (param $k1 i32) (param $shift i32) (param $t i32)
    (param $copy i32)
    (local $L4 i32) (local $k i32) (local $j i32) (local $x i32) (local $e i32) (local $row i32) (local $per i32) (local $rowBytes i32)
    (local $gv v128) (local $pv v128) (local $l i32) (local $nRow i32) (local $c i32) (local $a i32) (local $b i32)
    (local $g i32) (local $p i32) (local $mask i32)
    ;; a label is the low byte (or both) of a 16-bit load: no branch, no call (V8 inlines no WebAssembly calls; the
    ;; heap leaves 16 bytes after every block, so the load past a map's last voxel stays inside it)
    (local.set $mask (select (i32.const 0xffff) (i32.const 0xff) (local.get $shift)))
    (local.set $L4 (select (i32.const 262144) (i32.const 1024) (local.get $shift)))
    (local.set $per (i32.shr_u (i32.const 16) (local.get $shift)))
    (local.set $rowBytes (i32.shl (local.get $n0) (local.get $shift)))
    (local.set $k (local.get $k0))
    (block $doneK (loop $K
      (br_if $doneK (i32.ge_u (local.get $k) (local.get $k1)))
      (local.set $j (i32.const 0))
      (block $doneJ (loop $J
        (br_if $doneJ (i32.ge_u (local.get $j) (local.get $n1)))
        (local.set $row (i32.mul (i32.add (i32.mul (local.get $k) (local.get $n1)) (local.get $j)) (local.get $rowBytes)))
        (local.set $nRow (i32.const 0))
        (local.set $x (i32.const 0))
        ;; 16 bytes at a time: background in both maps is skipped, one label across both maps counted at once;
        ;; other runs, and the row's tail, a voxel at a time
        (block $doneX (loop $X
          ;; background, 64 bytes at a time (most of a whole-body volume)
          (block $skipped (loop $skip
            (br_if $skipped (i32.gt_u (i32.add (local.get $x) (i32.shl (local.get $per) (i32.const 2))) (local.get $n0)))
            (local.set $a (i32.add (local.get $row) (i32.shl (local.get $x) (local.get $shift))))
            (br_if $skipped (v128.any_true (v128.or
              (v128.or (v128.or (v128.load offset=0 (i32.add (local.get $gt) (local.get $a))) (v128.load offset=16 (i32.add (local.get $gt) (local.get $a))))
                       (v128.or (v128.load offset=32 (i32.add (local.get $gt) (local.get $a))) (v128.load offset=48 (i32.add (local.get $gt) (local.get $a)))))
              (v128.or (v128.or (v128.load offset=0 (i32.add (local.get $pred) (local.get $a))) (v128.load offset=16 (i32.add (local.get $pred) (local.get $a))))
                       (v128.or (v128.load offset=32 (i32.add (local.get $pred) (local.get $a))) (v128.load offset=48 (i32.add (local.get $pred) (local.get $a))))))))
            (local.set $x (i32.add (local.get $x) (i32.shl (local.get $per) (i32.const 2))))
            (br $skip)))
          (br_if $doneX (i32.ge_u (local.get $x) (local.get $n0)))
          (local.set $e (i32.add (local.get $x) (local.get $per)))
          (block $byVoxel
            (if (i32.le_u (local.get $e) (local.get $n0))
              (then
                (local.set $gv (v128.load (i32.add (local.get $gt) (i32.add (local.get $row) (i32.shl (local.get $x) (local.get $shift))))))
                (local.set $pv (v128.load (i32.add (local.get $pred) (i32.add (local.get $row) (i32.shl (local.get $x) (local.get $shift))))))
                (if (i32.eqz (v128.any_true (v128.or (local.get $gv) (local.get $pv))))
                  (then (local.set $x (local.get $e)) (br $X)))
                (if (local.get $copy)
                  (then (v128.store (i32.add (local.get $copy) (i32.add (local.get $row) (i32.shl (local.get $x) (local.get $shift)))) (local.get $gv))))
                (local.set $l (if (result i32) (local.get $shift)
                  (then (i16x8.extract_lane_u 0 (local.get $gv))) (else (i8x16.extract_lane_u 0 (local.get $gv)))))
                (br_if $byVoxel (i32.eqz (local.get $l)))
                (br_if $byVoxel (i32.eqz (if (result i32) (local.get $shift)
                  (then (i32.and (i16x8.all_true (i16x8.eq (local.get $gv) (local.get $pv)))
                                 (i16x8.all_true (i16x8.eq (local.get $gv) (i16x8.splat (local.get $l))))))
                  (else (i32.and (i8x16.all_true (i8x16.eq (local.get $gv) (local.get $pv)))
                                 (i8x16.all_true (i8x16.eq (local.get $gv) (i8x16.splat (local.get $l)))))))))
                (call $inc (i32.add (local.get $t) (i32.shl (local.get $l) (i32.const 2))) (local.get $per))
                (local.set $nRow (call $seeInRow (local.get $t) (local.get $L4) (local.get $l) (local.get $x) (local.get $nRow)))
                (local.set $nRow (call $seeInRow (local.get $t) (local.get $L4) (local.get $l) (i32.sub (local.get $e) (i32.const 1)) (local.get $nRow)))
                (local.set $x (local.get $e))
                (br $X)))
            (local.set $e (local.get $n0)))
          ;; voxels [x, e)
          (loop $one
            (local.set $g (i32.and (i32.load16_u (i32.add (i32.add (local.get $gt) (local.get $row)) (i32.shl (local.get $x) (local.get $shift)))) (local.get $mask)))
            (local.set $p (i32.and (i32.load16_u (i32.add (i32.add (local.get $pred) (local.get $row)) (i32.shl (local.get $x) (local.get $shift)))) (local.get $mask)))
            (if (i32.and (i32.ne (local.get $copy) (i32.const 0)) (i32.ne (local.get $g) (i32.const 0)))
              (then (if (local.get $shift)
                (then (i32.store16 (i32.add (local.get $copy) (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 1)))) (local.get $g)))
                (else (i32.store8 (i32.add (local.get $copy) (i32.add (local.get $row) (local.get $x))) (local.get $g))))))
            (if (i32.or (local.get $g) (local.get $p))
              (then
                (if (i32.eq (local.get $g) (local.get $p))
                  (then (call $inc (i32.add (local.get $t) (i32.shl (local.get $g) (i32.const 2))) (i32.const 1)))
                  (else
                    (if (local.get $g) (then (call $inc (i32.add (i32.add (local.get $t) (i32.shl (local.get $L4) (i32.const 1))) (i32.shl (local.get $g) (i32.const 2))) (i32.const 1))))
                    (if (local.get $p) (then (call $inc (i32.add (i32.add (local.get $t) (local.get $L4)) (i32.shl (local.get $p) (i32.const 2))) (i32.const 1))))))
                (if (local.get $g) (then (local.set $nRow (call $seeInRow (local.get $t) (local.get $L4) (local.get $g) (local.get $x) (local.get $nRow)))))
                (if (i32.and (i32.ne (local.get $p) (i32.const 0)) (i32.ne (local.get $p) (local.get $g)))
                  (then (local.set $nRow (call $seeInRow (local.get $t) (local.get $L4) (local.get $p) (local.get $x) (local.get $nRow)))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br_if $one (i32.lt_u (local.get $x) (local.get $e))))
          (br $X)))
        ;; each label of the row updates its box once
        (local.set $c (i32.const 0))
        (block $doneR (loop $R
          (br_if $doneR (i32.ge_u (local.get $c) (local.get $nRow)))
          (local.set $l (i32.load (i32.add (i32.add (local.get $t) (i32.mul (local.get $L4) (i32.const 7))) (i32.shl (local.get $c) (i32.const 2)))))
          (local.set $a (i32.add (local.get $t) (i32.shl (local.get $l) (i32.const 2))))
          (i32.store (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 6))) (i32.const 0))
          (local.set $b (i32.add (i32.add (local.get $t) (i32.shl (local.get $L4) (i32.const 3))) (i32.mul (local.get $l) (i32.const 24))))
          (if (i32.eqz (i32.load (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 3)))))
            (then
              (i32.store (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 3))) (i32.const 1))
              (i32.store offset=0 (local.get $b) (i32.load (i32.add (local.get $a) (i32.shl (local.get $L4) (i32.const 2)))))
              (i32.store offset=4 (local.get $b) (local.get $j))
              (i32.store offset=8 (local.get $b) (local.get $k))
              (i32.store offset=12 (local.get $b) (i32.load (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 5)))))
              (i32.store offset=16 (local.get $b) (local.get $j))
              (i32.store offset=20 (local.get $b) (local.get $k)))
            (else
              (if (i32.lt_s (i32.load (i32.add (local.get $a) (i32.shl (local.get $L4) (i32.const 2)))) (i32.load offset=0 (local.get $b)))
                (then (i32.store offset=0 (local.get $b) (i32.load (i32.add (local.get $a) (i32.shl (local.get $L4) (i32.const 2)))))))
              (if (i32.gt_s (i32.load (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 5)))) (i32.load offset=12 (local.get $b)))
                (then (i32.store offset=12 (local.get $b) (i32.load (i32.add (local.get $a) (i32.mul (local.get $L4) (i32.const 5)))))))
              (if (i32.lt_s (local.get $j) (i32.load offset=4 (local.get $b))) (then (i32.store offset=4 (local.get $b) (local.get $j))))
              (if (i32.gt_s (local.get $j) (i32.load offset=16 (local.get $b))) (then (i32.store offset=16 (local.get $b) (local.get $j))))
              (if (i32.gt_s (local.get $k) (i32.load offset=20 (local.get $b))) (then (i32.store offset=20 (local.get $b) (local.get $k))))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $R)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $J)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $K))))

  ;; ----------------------------------------------------------------------------------------------------- surfels
  ;; packRow of surfels.ts: $count voxels of the map from voxel $src (1 where they equal $value) into bits from
  ;; x0 = $at of the row of $rowWords u32 words at $dst, the row's other bits zero; returns 1 when any bit is set.
  (func $packRow (param $map i32) (param $src i32) (param $count i32) (param $value i32) (param $at i32) (param $shift i32)
    (param $dst i32) (param $rowWords i32) (result i32)
    (local $x i32) (local $bit i32) (local $acc i64) (local $any i32) (local $end i32) (local $per i32) (local $m i32) (local $splat v128)
    (local.set $per (i32.shr_u (i32.const 16) (local.get $shift)))
    (local.set $bit (local.get $at))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $rowWords) (i32.const 2))))
    (local.set $splat (if (result v128) (local.get $shift)
      (then (i16x8.splat (local.get $value))) (else (i8x16.splat (local.get $value)))))
    (block $doneV (loop $V
      (br_if $doneV (i32.gt_u (i32.add (local.get $x) (local.get $per)) (local.get $count)))
      (local.set $m (if (result i32) (local.get $shift)
        (then (i16x8.bitmask (i16x8.eq (v128.load (i32.add (local.get $map) (i32.shl (i32.add (local.get $src) (local.get $x)) (i32.const 1)))) (local.get $splat))))
        (else (i8x16.bitmask (i8x16.eq (v128.load (i32.add (local.get $map) (i32.add (local.get $src) (local.get $x)))) (local.get $splat))))))
      (local.set $acc (i64.or (local.get $acc) (i64.shl (i64.extend_i32_u (local.get $m)) (i64.extend_i32_u (local.get $bit)))))
      (local.set $bit (i32.add (local.get $bit) (local.get $per)))
      (if (i32.ge_u (local.get $bit) (i32.const 32))
        (then
          (i32.store (local.get $dst) (i32.wrap_i64 (local.get $acc)))
          (local.set $any (i32.or (local.get $any) (i32.wrap_i64 (local.get $acc))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $acc (i64.shr_u (local.get $acc) (i64.const 32)))
          (local.set $bit (i32.sub (local.get $bit) (i32.const 32)))))
      (local.set $x (i32.add (local.get $x) (local.get $per)))
      (br $V)))
    (block $doneT (loop $T
      (br_if $doneT (i32.ge_u (local.get $x) (local.get $count)))
      (if (i32.eq (i32.and (i32.load16_u (i32.add (local.get $map) (i32.shl (i32.add (local.get $src) (local.get $x)) (local.get $shift))))
                           (select (i32.const 0xffff) (i32.const 0xff) (local.get $shift)))
                  (local.get $value))
        (then (local.set $acc (i64.or (local.get $acc) (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $bit)))))))
      (local.set $bit (i32.add (local.get $bit) (i32.const 1)))
      (if (i32.eq (local.get $bit) (i32.const 32))
        (then
          (i32.store (local.get $dst) (i32.wrap_i64 (local.get $acc)))
          (local.set $any (i32.or (local.get $any) (i32.wrap_i64 (local.get $acc))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $acc (i64.const 0))
          (local.set $bit (i32.const 0))))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $T)))
    ;; the partial last word, then zeros up to the row's end (the padding column included)
    (if (i32.lt_u (local.get $dst) (local.get $end))
      (then
        (i32.store (local.get $dst) (i32.wrap_i64 (local.get $acc)))
        (local.set $any (i32.or (local.get $any) (i32.wrap_i64 (local.get $acc))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))))
    (memory.fill (local.get $dst) (i32.const 0) (i32.sub (local.get $end) (local.get $dst)))
    (i32.ne (local.get $any) (i32.const 0)))

  ;; Padded plane $z of the crop of `label` in its box (surfelsOfLabel): crop dims $c0 x $c1 x $c2, box corner
  ;; ($lo0, $lo1, $lo2) of a map of $n0 x $n1 voxels; bit rows into $plane, `rowHas` bytes into $rowHas.
  (func (export "labelPlane")
    (param $map i32) (param $n0 i32) (param $n1 i32) (param $lo0 i32) (param $lo1 i32) (param $lo2 i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $label i32) (param $shift i32) (param $z i32)
    (param $plane i32) (param $rowHas i32)
    (local $wordsPerRow i32) (local $y i32) (local $k i32)
    (local.set $wordsPerRow (i32.shr_u (i32.add (local.get $c0) (i32.const 31)) (i32.const 5)))
    (memory.fill (local.get $rowHas) (i32.const 0) (local.get $c1))
    (if (i32.or (i32.eqz (local.get $z)) (i32.eq (local.get $z) (i32.sub (local.get $c2) (i32.const 1))))
      (then
        (memory.fill (local.get $plane) (i32.const 0) (i32.shl (i32.mul (local.get $wordsPerRow) (local.get $c1)) (i32.const 2)))
        (return)))
    (memory.fill (local.get $plane) (i32.const 0) (i32.shl (local.get $wordsPerRow) (i32.const 2)))
    (memory.fill (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $wordsPerRow) (i32.sub (local.get $c1) (i32.const 1))) (i32.const 2)))
      (i32.const 0) (i32.shl (local.get $wordsPerRow) (i32.const 2)))
    (local.set $k (i32.sub (i32.add (local.get $lo2) (local.get $z)) (i32.const 1)))
    (local.set $y (i32.const 1))
    (block $done (loop $Y
      (br_if $done (i32.ge_u (local.get $y) (i32.sub (local.get $c1) (i32.const 1))))
      (i32.store8 (i32.add (local.get $rowHas) (local.get $y))
        (call $packRow (local.get $map)
          (i32.add (local.get $lo0) (i32.mul (local.get $n0)
            (i32.add (i32.sub (i32.add (local.get $lo1) (local.get $y)) (i32.const 1)) (i32.mul (local.get $n1) (local.get $k)))))
          (i32.sub (local.get $c0) (i32.const 2)) (local.get $label) (i32.const 1) (local.get $shift)
          (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $y) (local.get $wordsPerRow)) (i32.const 2)))
          (local.get $wordsPerRow)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $Y))))

  ;; Plane $z of a padded binary mask (0/1 bytes; surfelsOf): $n0 x $n1 voxels a plane.
  (func (export "maskPlane") (param $mask i32) (param $n0 i32) (param $n1 i32) (param $z i32) (param $plane i32) (param $rowHas i32)
    (local $wordsPerRow i32) (local $y i32)
    (local.set $wordsPerRow (i32.shr_u (i32.add (local.get $n0) (i32.const 31)) (i32.const 5)))
    (block $done (loop $Y
      (br_if $done (i32.ge_u (local.get $y) (local.get $n1)))
      (i32.store8 (i32.add (local.get $rowHas) (local.get $y))
        (call $packRow (local.get $mask) (i32.mul (i32.add (i32.mul (local.get $z) (local.get $n1)) (local.get $y)) (local.get $n0))
          (local.get $n0) (i32.const 1) (i32.const 0) (i32.const 0)
          (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $y) (local.get $wordsPerRow)) (i32.const 2)))
          (local.get $wordsPerRow)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $Y))))

  ;; The corner scan of surfelsByPlane (surfels.ts) over the two bit planes z = p2 ($lower) and p2 + 1 ($upper):
  ;; appends the surfels of corner plane $p2 (corner index at $index as i32, code at $code as a byte) after the
  ;; first $n, and returns the new count. Corner grid $m0 x $m1; planes of `wordsPerRow` words a row.
  (func (export "surfelPlane")
    (param $lower i32) (param $upper i32) (param $lowerHas i32) (param $upperHas i32) (param $wordsPerRow i32)
    (param $m0 i32) (param $m1 i32) (param $p2 i32) (param $index i32) (param $code i32) (param $n i32) (result i32)
    (local $p1 i32) (local $r0 i32) (local $r1 i32) (local $outRow i32) (local $w i32) (local $last i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $na i32) (local $nb i32) (local $nc i32) (local $nd i32)
    (local $any i32) (local $all i32) (local $surfel i32) (local $bit i32) (local $here i32) (local $next i32)
    (block $doneP (loop $P
      (br_if $doneP (i32.ge_u (local.get $p1) (local.get $m1)))
      (if (i32.or (i32.or (i32.load8_u (i32.add (local.get $lowerHas) (local.get $p1))) (i32.load8_u offset=1 (i32.add (local.get $lowerHas) (local.get $p1))))
                  (i32.or (i32.load8_u (i32.add (local.get $upperHas) (local.get $p1))) (i32.load8_u offset=1 (i32.add (local.get $upperHas) (local.get $p1)))))
        (then
          ;; voxel rows: A = (p1, p2), B = (p1, p2+1), C = (p1+1, p2), D = (p1+1, p2+1); byte offsets of rows p1, p1 + 1
          (local.set $r0 (i32.shl (i32.mul (local.get $p1) (local.get $wordsPerRow)) (i32.const 2)))
          (local.set $r1 (i32.add (local.get $r0) (i32.shl (local.get $wordsPerRow) (i32.const 2))))
          (local.set $outRow (i32.add (i32.mul (local.get $p1) (local.get $m0)) (i32.mul (i32.mul (local.get $p2) (local.get $m0)) (local.get $m1))))
          (local.set $a (i32.load (i32.add (local.get $lower) (local.get $r0))))
          (local.set $b (i32.load (i32.add (local.get $upper) (local.get $r0))))
          (local.set $c (i32.load (i32.add (local.get $lower) (local.get $r1))))
          (local.set $d (i32.load (i32.add (local.get $upper) (local.get $r1))))
          (local.set $w (i32.const 0))
          (block $doneW (loop $W
            (br_if $doneW (i32.ge_u (local.get $w) (local.get $wordsPerRow)))
            (local.set $last (i32.eq (local.get $w) (i32.sub (local.get $wordsPerRow) (i32.const 1))))
            (if (local.get $last)
              (then (local.set $na (i32.const 0)) (local.set $nb (i32.const 0)) (local.set $nc (i32.const 0)) (local.set $nd (i32.const 0)))
              (else
                (local.set $na (i32.load offset=4 (i32.add (local.get $lower) (i32.add (local.get $r0) (i32.shl (local.get $w) (i32.const 2))))))
                (local.set $nb (i32.load offset=4 (i32.add (local.get $upper) (i32.add (local.get $r0) (i32.shl (local.get $w) (i32.const 2))))))
                (local.set $nc (i32.load offset=4 (i32.add (local.get $lower) (i32.add (local.get $r1) (i32.shl (local.get $w) (i32.const 2))))))
                (local.set $nd (i32.load offset=4 (i32.add (local.get $upper) (i32.add (local.get $r1) (i32.shl (local.get $w) (i32.const 2))))))))
            (local.set $any (i32.or (i32.or (local.get $a) (local.get $b)) (i32.or (local.get $c) (local.get $d))))
            (local.set $all (i32.and (i32.and (local.get $a) (local.get $b)) (i32.and (local.get $c) (local.get $d))))
            ;; corner x0 sees voxels x0 and x0 + 1: bit 31's neighbour is the next word's bit 0
            (local.set $surfel (i32.and
              (i32.or (i32.or (local.get $any) (i32.shr_u (local.get $any) (i32.const 1)))
                (i32.shl (i32.or (i32.or (local.get $na) (local.get $nb)) (i32.or (local.get $nc) (local.get $nd))) (i32.const 31)))
              (i32.xor (i32.const -1) (i32.and (local.get $all)
                (i32.or (i32.shr_u (local.get $all) (i32.const 1))
                  (i32.shl (i32.and (i32.and (local.get $na) (local.get $nb)) (i32.and (local.get $nc) (local.get $nd))) (i32.const 31)))))))
            (block $doneS (loop $S
              (br_if $doneS (i32.eqz (local.get $surfel)))
              (local.set $bit (i32.ctz (local.get $surfel)))
              (local.set $surfel (i32.and (local.get $surfel) (i32.sub (local.get $surfel) (i32.const 1))))
              (local.set $here (i32.or
                (i32.or (i32.shl (i32.and (i32.shr_u (local.get $a) (local.get $bit)) (i32.const 1)) (i32.const 3))
                        (i32.shl (i32.and (i32.shr_u (local.get $b) (local.get $bit)) (i32.const 1)) (i32.const 2)))
                (i32.or (i32.shl (i32.and (i32.shr_u (local.get $c) (local.get $bit)) (i32.const 1)) (i32.const 1))
                        (i32.and (i32.shr_u (local.get $d) (local.get $bit)) (i32.const 1)))))
              (local.set $next (if (result i32) (i32.eq (local.get $bit) (i32.const 31))
                (then (i32.or
                  (i32.or (i32.shl (i32.and (local.get $na) (i32.const 1)) (i32.const 3)) (i32.shl (i32.and (local.get $nb) (i32.const 1)) (i32.const 2)))
                  (i32.or (i32.shl (i32.and (local.get $nc) (i32.const 1)) (i32.const 1)) (i32.and (local.get $nd) (i32.const 1)))))
                (else (i32.or
                  (i32.or (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.add (local.get $bit) (i32.const 1))) (i32.const 1)) (i32.const 3))
                          (i32.shl (i32.and (i32.shr_u (local.get $b) (i32.add (local.get $bit) (i32.const 1))) (i32.const 1)) (i32.const 2)))
                  (i32.or (i32.shl (i32.and (i32.shr_u (local.get $c) (i32.add (local.get $bit) (i32.const 1))) (i32.const 1)) (i32.const 1))
                          (i32.and (i32.shr_u (local.get $d) (i32.add (local.get $bit) (i32.const 1))) (i32.const 1)))))))
              (i32.store (i32.add (local.get $index) (i32.shl (local.get $n) (i32.const 2)))
                (i32.add (i32.add (local.get $outRow) (i32.shl (local.get $w) (i32.const 5))) (local.get $bit)))
              (i32.store8 (i32.add (local.get $code) (local.get $n)) (i32.or (i32.shl (local.get $here) (i32.const 4)) (local.get $next)))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))
              (br $S)))
            (local.set $a (local.get $na)) (local.set $b (local.get $nb)) (local.set $c (local.get $nc)) (local.set $d (local.get $nd))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br $W)))))
      (local.set $p1 (i32.add (local.get $p1) (i32.const 1)))
      (br $P)))
    (local.get $n))

  ;; ------------------------------------------------------------------------------------------------------ distances
  ;; rowOffsets of edt.ts: per voxel 1 + |q - p| to the nearest of the $count ascending feature indices at
  ;; $features on its row, 0 where the row has none; bytes ($wide 0) or u16 ($wide 1) at $off, $n voxels.
  (func (export "rowOffsets") (param $features i32) (param $count i32) (param $n0 i32) (param $n i32) (param $off i32) (param $wide i32)
    (local $a i32) (local $b i32) (local $row i32) (local $q i32) (local $p i32) (local $next i32) (local $mid i32) (local $f i32)
    (memory.fill (local.get $off) (i32.const 0) (i32.shl (local.get $n) (local.get $wide)))
    (block $doneA (loop $A
      (br_if $doneA (i32.ge_u (local.get $a) (local.get $count)))
      (local.set $f (i32.load (i32.add (local.get $features) (i32.shl (local.get $a) (i32.const 2)))))
      (local.set $row (i32.sub (local.get $f) (i32.rem_u (local.get $f) (local.get $n0))))
      (local.set $q (i32.sub (local.get $f) (local.get $row)))
      (local.set $p (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $p) (local.get $q)))
        (if (local.get $wide) (then (i32.store16 (i32.add (local.get $off) (i32.shl (i32.add (local.get $row) (local.get $p)) (i32.const 1))) (i32.add (i32.sub (local.get $q) (local.get $p)) (i32.const 1)))) (else (i32.store8 (i32.add (local.get $off) (i32.add (local.get $row) (local.get $p))) (i32.add (i32.sub (local.get $q) (local.get $p)) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l1)))
      (if (local.get $wide) (then (i32.store16 (i32.add (local.get $off) (i32.shl (i32.add (local.get $row) (local.get $q)) (i32.const 1))) (i32.const 1))) (else (i32.store8 (i32.add (local.get $off) (i32.add (local.get $row) (local.get $q))) (i32.const 1))))
      (local.set $b (i32.add (local.get $a) (i32.const 1)))
      (block $doneB (loop $B
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $count)))
        (local.set $f (i32.load (i32.add (local.get $features) (i32.shl (local.get $b) (i32.const 2)))))
        (br_if $doneB (i32.ge_u (local.get $f) (i32.add (local.get $row) (local.get $n0))))
        (local.set $next (i32.sub (local.get $f) (local.get $row)))
        (local.set $mid (i32.shr_s (i32.add (local.get $q) (local.get $next)) (i32.const 1)))
        (local.set $p (i32.add (local.get $q) (i32.const 1)))
        (block $d2 (loop $l2
          (br_if $d2 (i32.gt_s (local.get $p) (local.get $mid)))
          (if (local.get $wide) (then (i32.store16 (i32.add (local.get $off) (i32.shl (i32.add (local.get $row) (local.get $p)) (i32.const 1))) (i32.add (i32.sub (local.get $p) (local.get $q)) (i32.const 1)))) (else (i32.store8 (i32.add (local.get $off) (i32.add (local.get $row) (local.get $p))) (i32.add (i32.sub (local.get $p) (local.get $q)) (i32.const 1)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $l2)))
        (local.set $p (i32.add (local.get $mid) (i32.const 1)))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_s (local.get $p) (local.get $next)))
          (if (local.get $wide) (then (i32.store16 (i32.add (local.get $off) (i32.shl (i32.add (local.get $row) (local.get $p)) (i32.const 1))) (i32.add (i32.sub (local.get $next) (local.get $p)) (i32.const 1)))) (else (i32.store8 (i32.add (local.get $off) (i32.add (local.get $row) (local.get $p))) (i32.add (i32.sub (local.get $next) (local.get $p)) (i32.const 1)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $l3)))
        (if (local.get $wide) (then (i32.store16 (i32.add (local.get $off) (i32.shl (i32.add (local.get $row) (local.get $next)) (i32.const 1))) (i32.const 1))) (else (i32.store8 (i32.add (local.get $off) (i32.add (local.get $row) (local.get $next))) (i32.const 1))))
        (local.set $q (local.get $next))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $B)))
      (local.set $p (i32.add (local.get $q) (i32.const 1)))
      (block $d4 (loop $l4
        (br_if $d4 (i32.ge_u (local.get $p) (local.get $n0)))
        (if (local.get $wide) (then (i32.store16 (i32.add (local.get $off) (i32.shl (i32.add (local.get $row) (local.get $p)) (i32.const 1))) (i32.add (i32.sub (local.get $p) (local.get $q)) (i32.const 1)))) (else (i32.store8 (i32.add (local.get $off) (i32.add (local.get $row) (local.get $p))) (i32.add (i32.sub (local.get $p) (local.get $q)) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l4)))
      (local.set $a (local.get $b))
      (br $A))))

  ;; The outward search of squaredDistanceAtMm2 (edt.ts) for queries [$q0, $q1) at $queries (voxel indices), into
  ;; $out (f64 mm^2), over the row offsets at $off; $sq0 (n0 + 1), $sqJ (n1 + 1) and $sqK (n2 + 1) are its f64
  ;; tables. Stops before a query once the row lookups of this organ (the global `work`) exceed $budget; returns
  ;; the index of the first query left.
  (func (export "searchRows")
    (param $off i32) (param $wide i32) (param $n0 i32) (param $n1 i32) (param $n2 i32)
    (param $queries i32) (param $q0 i32) (param $q1 i32) (param $out i32)
    (param $sq0 i32) (param $sqJ i32) (param $sqK i32) (param $budget f64) (result i32)
    (local $qi i32) (local $v i32) (local $k i32) (local $inPlane i32) (local $j i32) (local $i i32) (local $plane i32)
    (local $best f64) (local $rowOfJ i32) (local $below i32) (local $above i32) (local $t i32) (local $dk2 f64) (local $kl i32) (local $kh i32)
    (local $side i32) (local $kk i32) (local $lo i32) (local $hi i32) (local $c f64) (local $u i32) (local $dj2 f64) (local $work f64) (local $mask i32)
    (local.set $plane (i32.mul (local.get $n0) (local.get $n1)))
    (local.set $work (global.get $work))
    ;; an offset is the low byte (or both) of a 16-bit load: no branch, no call (V8 inlines no WebAssembly calls)
    (local.set $mask (select (i32.const 0xffff) (i32.const 0xff) (local.get $wide)))
    (local.set $qi (local.get $q0))
    (block $doneQ (loop $Q
      (br_if $doneQ (i32.ge_u (local.get $qi) (local.get $q1)))
      (br_if $doneQ (f64.gt (local.get $work) (local.get $budget)))
      (local.set $v (i32.load (i32.add (local.get $queries) (i32.shl (local.get $qi) (i32.const 2)))))
      (local.set $k (i32.div_u (local.get $v) (local.get $plane)))
      (local.set $inPlane (i32.sub (local.get $v) (i32.mul (local.get $k) (local.get $plane))))
      (local.set $j (i32.div_u (local.get $inPlane) (local.get $n0)))
      (local.set $i (i32.sub (local.get $inPlane) (i32.mul (local.get $j) (local.get $n0))))
      (local.set $best (f64.load (i32.add (local.get $sq0) (i32.shl (i32.and (i32.load16_u (i32.add (local.get $off) (i32.shl (local.get $v) (local.get $wide)))) (local.get $mask)) (i32.const 3)))))
      (local.set $rowOfJ (i32.add (i32.mul (local.get $j) (local.get $n0)) (local.get $i)))
      (local.set $below (local.get $j))
      (local.set $above (i32.sub (i32.sub (local.get $n1) (i32.const 1)) (local.get $j)))
      (local.set $t (i32.const 0))
      (block $doneT (loop $T
        (local.set $dk2 (f64.load (i32.add (local.get $sqK) (i32.shl (local.get $t) (i32.const 3)))))
        (br_if $doneT (f64.gt (local.get $dk2) (local.get $best)))
        (local.set $kl (i32.sub (local.get $k) (local.get $t)))
        (local.set $kh (i32.add (local.get $k) (local.get $t)))
        (br_if $doneT (i32.and (i32.lt_s (local.get $kl) (i32.const 0)) (i32.ge_s (local.get $kh) (local.get $n2))))
        ;; plane k once (t = 0), then planes k - t and k + t
        (local.set $side (select (i32.const 1) (i32.const 0) (i32.eqz (local.get $t))))
        (block $doneSide (loop $Side
          (br_if $doneSide (i32.ge_s (local.get $side) (i32.const 2)))
          (local.set $kk (select (local.get $kl) (local.get $kh) (i32.eqz (local.get $side))))
          (if (i32.and (i32.ge_s (local.get $kk) (i32.const 0)) (i32.lt_s (local.get $kk) (local.get $n2)))
            (then
              (local.set $lo (i32.add (i32.mul (local.get $kk) (local.get $plane)) (local.get $rowOfJ)))
              (local.set $hi (local.get $lo))
              ;; row j itself: (x + 0) + dk2 is x + dk2 exactly
              (local.set $c (f64.add (f64.load (i32.add (local.get $sq0) (i32.shl (i32.and (i32.load16_u (i32.add (local.get $off) (i32.shl (local.get $lo) (local.get $wide)))) (local.get $mask)) (i32.const 3))))
                (local.get $dk2)))
              (if (f64.lt (local.get $c) (local.get $best)) (then (local.set $best (local.get $c))))
              (local.set $u (i32.const 1))
              (block $doneU (loop $U
                (br_if $doneU (i32.and (i32.gt_s (local.get $u) (local.get $below)) (i32.gt_s (local.get $u) (local.get $above))))
                (local.set $dj2 (f64.load (i32.add (local.get $sqJ) (i32.shl (local.get $u) (i32.const 3)))))
                (br_if $doneU (f64.gt (f64.add (local.get $dj2) (local.get $dk2)) (local.get $best)))
                (local.set $lo (i32.sub (local.get $lo) (local.get $n0)))
                (local.set $hi (i32.add (local.get $hi) (local.get $n0)))
                (if (i32.le_s (local.get $u) (local.get $below))
                  (then
                    (local.set $c (f64.add (f64.add (f64.load (i32.add (local.get $sq0) (i32.shl (i32.and (i32.load16_u (i32.add (local.get $off) (i32.shl (local.get $lo) (local.get $wide)))) (local.get $mask)) (i32.const 3))))
                      (local.get $dj2)) (local.get $dk2)))
                    (if (f64.lt (local.get $c) (local.get $best)) (then (local.set $best (local.get $c))))))
                (if (i32.le_s (local.get $u) (local.get $above))
                  (then
                    (local.set $c (f64.add (f64.add (f64.load (i32.add (local.get $sq0) (i32.shl (i32.and (i32.load16_u (i32.add (local.get $off) (i32.shl (local.get $hi) (local.get $wide)))) (local.get $mask)) (i32.const 3))))
                      (local.get $dj2)) (local.get $dk2)))
                    (if (f64.lt (local.get $c) (local.get $best)) (then (local.set $best (local.get $c))))))
                (local.set $u (i32.add (local.get $u) (i32.const 1)))
                (br $U)))
              (local.set $work (f64.add (local.get $work) (f64.convert_i32_u (local.get $u))))))
          (local.set $side (i32.add (local.get $side) (i32.const 1)))
          (br $Side)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $T)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $qi) (i32.const 3))) (local.get $best))
      (local.set $qi (i32.add (local.get $qi) (i32.const 1)))
      (br $Q)))
    (global.set $work (local.get $work))
    (local.get $qi))

  ;; ------------------------------------------------------------------------------- ordering and scores (surface.ts)
  ;; sqrt of $n f64 at $p, in place (IEEE square root: Math.sqrt's bits)
  (func (export "sqrtAll") (param $p i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 3))))
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (f64.store (local.get $p) (f64.sqrt (f64.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br $L))))

  ;; distinct values found so far by distinctIds (distinctRanks.ts reads and resets it)
  (global $distinct (export "distinct") (mut i32) (i32.const 0))

  ;; the slot holding $v's id, or the empty slot (-1) where it belongs: linear probing from a hash of its bits
  (func $slotOf (param $v f64) (param $ids i32) (param $mask i32) (param $seen i32) (result i32)
    (local $bits i64) (local $s i32) (local $id i32)
    (local.set $bits (i64.reinterpret_f64 (local.get $v)))
    (local.set $s (i32.and (i32.shr_u (i32.mul (i32.xor (i32.wrap_i64 (local.get $bits))
      (i32.mul (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32))) (i32.const 0x9e3779b1))) (i32.const 0x85ebca6b)) (i32.const 16))
      (local.get $mask)))
    (block $found (loop $probe
      (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $s) (i32.const 2)))))
      (br_if $found (i32.lt_s (local.get $id) (i32.const 0)))
      (br_if $found (f64.eq (f64.load (i32.add (local.get $seen) (i32.shl (local.get $id) (i32.const 3)))) (local.get $v)))
      (local.set $s (i32.and (i32.add (local.get $s) (i32.const 1)) (local.get $mask)))
      (br $probe)))
    (local.get $s))

  ;; distinctRanks's first pass from value $from on: per value at $values (f64) the id of its distinct value (ids in
  ;; order of first appearance) into $rank (i32), distinct values into $seen (f64, by id), the hash table at $ids
  ;; (i32 slots, -1 empty, $mask + 1 of them). Stops before a new value once `distinct` reaches $limit (the table
  ;; half full: the caller doubles it, rehash, then calls again from the index returned); returns $n when done.
  (func (export "distinctIds") (param $values i32) (param $from i32) (param $n i32) (param $ids i32) (param $mask i32)
    (param $seen i32) (param $rank i32) (param $limit i32) (result i32)
    (local $x i32) (local $v f64) (local $s i32) (local $id i32) (local $count i32)
    (local.set $count (global.get $distinct))
    (local.set $x (local.get $from))
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $x) (local.get $n)))
      (local.set $v (f64.load (i32.add (local.get $values) (i32.shl (local.get $x) (i32.const 3)))))
      (local.set $s (call $slotOf (local.get $v) (local.get $ids) (local.get $mask) (local.get $seen)))
      (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $s) (i32.const 2)))))
      (if (i32.lt_s (local.get $id) (i32.const 0))
        (then
          (if (i32.eq (local.get $count) (local.get $limit))
            (then (global.set $distinct (local.get $count)) (return (local.get $x))))
          (local.set $id (local.get $count))
          (i32.store (i32.add (local.get $ids) (i32.shl (local.get $s) (i32.const 2))) (local.get $id))
          (f64.store (i32.add (local.get $seen) (i32.shl (local.get $id) (i32.const 3))) (local.get $v))
          (local.set $count (i32.add (local.get $count) (i32.const 1)))))
      (i32.store (i32.add (local.get $rank) (i32.shl (local.get $x) (i32.const 2))) (local.get $id))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $L)))
    (global.set $distinct (local.get $count))
    (local.get $n))

  ;; the ids 0..$count-1 of the values at $seen placed in a fresh table ($ids filled with -1 by the caller)
  (func (export "rehash") (param $seen i32) (param $count i32) (param $ids i32) (param $mask i32)
    (local $id i32)
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $id) (local.get $count)))
      (i32.store (i32.add (local.get $ids) (i32.shl
        (call $slotOf (f64.load (i32.add (local.get $seen) (i32.shl (local.get $id) (i32.const 3)))) (local.get $ids) (local.get $mask) (local.get $seen))
        (i32.const 2))) (local.get $id))
      (local.set $id (i32.add (local.get $id) (i32.const 1)))
      (br $L))))

  ;; ids to ranks: the $count distinct values sorted at $sorted give each id its rank (into $rankOfId), then each
  ;; of the $n values' id at $rank becomes its rank
  (func (export "idsToRanks") (param $sorted i32) (param $count i32) (param $ids i32) (param $mask i32) (param $seen i32)
    (param $rankOfId i32) (param $rank i32) (param $n i32)
    (local $r i32) (local $x i32) (local $a i32)
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
      (i32.store (i32.add (local.get $rankOfId) (i32.shl (i32.load (i32.add (local.get $ids) (i32.shl
        (call $slotOf (f64.load (i32.add (local.get $sorted) (i32.shl (local.get $r) (i32.const 3)))) (local.get $ids) (local.get $mask) (local.get $seen))
        (i32.const 2)))) (i32.const 2))) (local.get $r))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $L)))
    (block $done2 (loop $M
      (br_if $done2 (i32.ge_u (local.get $x) (local.get $n)))
      (local.set $a (i32.add (local.get $rank) (i32.shl (local.get $x) (i32.const 2))))
      (i32.store (local.get $a) (i32.load (i32.add (local.get $rankOfId) (i32.shl (i32.load (local.get $a)) (i32.const 2)))))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $M))))

  ;; sortedSurfels's counting sort over (distance rank, area rank): $n surfels' ranks at $rank (i32) and codes at
  ;; $codes (bytes, area rank by code at $rankOfCode, u16); $counts holds $nDistinct x $nAreas i32; the sorted
  ;; distances ($distinct f64 by rank) and areas ($areas f64 by rank) into $outDist and $outArea
  (func (export "countingSort") (param $rank i32) (param $codes i32) (param $n i32) (param $rankOfCode i32) (param $nAreas i32)
    (param $counts i32) (param $nDistinct i32) (param $distinct i32) (param $areas i32) (param $outDist i32) (param $outArea i32)
    (local $x i32) (local $a i32) (local $d i32) (local $r i32) (local $m i32) (local $dist f64) (local $area f64)
    (memory.fill (local.get $counts) (i32.const 0) (i32.shl (i32.mul (local.get $nDistinct) (local.get $nAreas)) (i32.const 2)))
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $x) (local.get $n)))
      (local.set $a (i32.add (local.get $counts) (i32.shl (i32.add
        (i32.mul (i32.load (i32.add (local.get $rank) (i32.shl (local.get $x) (i32.const 2)))) (local.get $nAreas))
        (i32.load16_u (i32.add (local.get $rankOfCode) (i32.shl (i32.load8_u (i32.add (local.get $codes) (local.get $x))) (i32.const 1)))))
        (i32.const 2))))
      (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $L)))
    (block $doneD (loop $D
      (br_if $doneD (i32.ge_u (local.get $d) (local.get $nDistinct)))
      (local.set $dist (f64.load (i32.add (local.get $distinct) (i32.shl (local.get $d) (i32.const 3)))))
      (local.set $r (i32.const 0))
      (block $doneR (loop $R
        (br_if $doneR (i32.ge_u (local.get $r) (local.get $nAreas)))
        (local.set $area (f64.load (i32.add (local.get $areas) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $m (i32.load (local.get $counts)))
        (block $doneM (loop $M
          (br_if $doneM (i32.le_s (local.get $m) (i32.const 0)))
          (f64.store (local.get $outDist) (local.get $dist))
          (f64.store (local.get $outArea) (local.get $area))
          (local.set $outDist (i32.add (local.get $outDist) (i32.const 8)))
          (local.set $outArea (i32.add (local.get $outArea) (i32.const 8)))
          (local.set $m (i32.sub (local.get $m) (i32.const 1)))
          (br $M)))
        (local.set $counts (i32.add (local.get $counts) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $R)))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (br $D))))

  ;; numpy's pairwise_sum for one chunk of $n f64 at $p (numpySum.ts)
  (func $pairwiseBlock (param $p i32) (param $n i32) (result f64)
    (local $res f64) (local $i i32) (local $end i32) (local $n2 i32) (local $a i32)
    (local $r0 f64) (local $r1 f64) (local $r2 f64) (local $r3 f64) (local $r4 f64) (local $r5 f64) (local $r6 f64) (local $r7 f64)
    (if (i32.lt_u (local.get $n) (i32.const 8))
      (then
        (block $done (loop $L
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $res (f64.add (local.get $res) (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $L)))
        (return (local.get $res))))
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then
        (local.set $r0 (f64.load offset=0 (local.get $p))) (local.set $r1 (f64.load offset=8 (local.get $p)))
        (local.set $r2 (f64.load offset=16 (local.get $p))) (local.set $r3 (f64.load offset=24 (local.get $p)))
        (local.set $r4 (f64.load offset=32 (local.get $p))) (local.set $r5 (f64.load offset=40 (local.get $p)))
        (local.set $r6 (f64.load offset=48 (local.get $p))) (local.set $r7 (f64.load offset=56 (local.get $p)))
        (local.set $i (i32.const 8))
        (local.set $end (i32.sub (local.get $n) (i32.rem_u (local.get $n) (i32.const 8))))
        (block $done (loop $L
          (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
          (local.set $a (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))
          (local.set $r0 (f64.add (local.get $r0) (f64.load offset=0 (local.get $a))))
          (local.set $r1 (f64.add (local.get $r1) (f64.load offset=8 (local.get $a))))
          (local.set $r2 (f64.add (local.get $r2) (f64.load offset=16 (local.get $a))))
          (local.set $r3 (f64.add (local.get $r3) (f64.load offset=24 (local.get $a))))
          (local.set $r4 (f64.add (local.get $r4) (f64.load offset=32 (local.get $a))))
          (local.set $r5 (f64.add (local.get $r5) (f64.load offset=40 (local.get $a))))
          (local.set $r6 (f64.add (local.get $r6) (f64.load offset=48 (local.get $a))))
          (local.set $r7 (f64.add (local.get $r7) (f64.load offset=56 (local.get $a))))
          (local.set $i (i32.add (local.get $i) (i32.const 8)))
          (br $L)))
        (local.set $res (f64.add
          (f64.add (f64.add (local.get $r0) (local.get $r1)) (f64.add (local.get $r2) (local.get $r3)))
          (f64.add (f64.add (local.get $r4) (local.get $r5)) (f64.add (local.get $r6) (local.get $r7)))))
        (block $done2 (loop $T
          (br_if $done2 (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $res (f64.add (local.get $res) (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $T)))
        (return (local.get $res))))
    (local.set $n2 (i32.shr_u (local.get $n) (i32.const 1)))
    (local.set $n2 (i32.sub (local.get $n2) (i32.rem_u (local.get $n2) (i32.const 8))))
    (f64.add (call $pairwiseBlock (local.get $p) (local.get $n2))
      (call $pairwiseBlock (i32.add (local.get $p) (i32.shl (local.get $n2) (i32.const 3))) (i32.sub (local.get $n) (local.get $n2)))))

  ;; np.sum of $n f64 at $p: pairwise within chunks of numpy's buffer size (8192), the chunks' sums in order
  (func (export "pairwiseSum") (param $p i32) (param $n i32) (result f64)
    (local $res f64) (local $i i32) (local $m i32)
    (if (i32.le_u (local.get $n) (i32.const 8192)) (then (return (call $pairwiseBlock (local.get $p) (local.get $n)))))
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $m (i32.sub (local.get $n) (local.get $i)))
      (if (i32.gt_u (local.get $m) (i32.const 8192)) (then (local.set $m (i32.const 8192))))
      (local.set $res (f64.add (local.get $res) (call $pairwiseBlock (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $m))))
      (local.set $i (i32.add (local.get $i) (i32.const 8192)))
      (br $L)))
    (local.get $res))

  ;; how many of the $n ascending f64 at $p are <= $tau (a prefix)
  (func (export "countAtMost") (param $p i32) (param $n i32) (param $tau f64) (result i32)
    (local $i i32)
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (br_if $done (i32.eqz (f64.le (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))) (local.get $tau))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $L)))
    (local.get $i))

  ;; percentileDistance's index: the first i whose cumulative area (added in order) over $total reaches $target,
  ;; else $n - 1
  (func (export "percentileIndex") (param $area i32) (param $n i32) (param $total f64) (param $target f64) (result i32)
    (local $i i32) (local $cum f64)
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $cum (f64.add (local.get $cum) (f64.load (i32.add (local.get $area) (i32.shl (local.get $i) (i32.const 3))))))
      (if (f64.ge (f64.div (local.get $cum) (local.get $total)) (local.get $target)) (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $L)))
    (i32.sub (local.get $n) (i32.const 1)))

  ;; $out[i] = $a[i] * $b[i] for $n f64 ($out may be $a)
  (func (export "multiplyInto") (param $out i32) (param $a i32) (param $b i32) (param $n i32)
    (local $i i32) (local $o i32)
    (block $done (loop $L
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 3)))
      (f64.store (i32.add (local.get $out) (local.get $o))
        (f64.mul (f64.load (i32.add (local.get $a) (local.get $o))) (f64.load (i32.add (local.get $b) (local.get $o)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $L))))

  ;; Voxels of $label in both maps inside the box from ($lo0, $lo1, $lo2), $w0 x $w1 x $w2 voxels (the overlap
  ;; count of a case whose maps were scanned one at a time, caseMetrics.ts): 16 bytes at a time, the tail by voxel.
  (func (export "countBoth") (param $gt i32) (param $pred i32) (param $n0 i32) (param $n1 i32)
    (param $lo0 i32) (param $lo1 i32) (param $lo2 i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $label i32) (param $shift i32)
    (result i32)
    (local $count i32) (local $k i32) (local $j i32) (local $x i32) (local $row i32) (local $per i32) (local $mask i32) (local $splat v128)
    (local $a i32)
    (local.set $per (i32.shr_u (i32.const 16) (local.get $shift)))
    (local.set $mask (select (i32.const 0xffff) (i32.const 0xff) (local.get $shift)))
    (local.set $splat (if (result v128) (local.get $shift)
      (then (i16x8.splat (local.get $label))) (else (i8x16.splat (local.get $label)))))
    (block $doneK (loop $K
      (br_if $doneK (i32.ge_u (local.get $k) (local.get $w2)))
      (local.set $j (i32.const 0))
      (block $doneJ (loop $J
        (br_if $doneJ (i32.ge_u (local.get $j) (local.get $w1)))
        ;; byte offset of the row's first voxel in either map
        (local.set $row (i32.shl (i32.add (local.get $lo0) (i32.mul (local.get $n0)
          (i32.add (i32.add (local.get $lo1) (local.get $j)) (i32.mul (local.get $n1) (i32.add (local.get $lo2) (local.get $k)))))) (local.get $shift)))
        (local.set $x (i32.const 0))
        (block $doneV (loop $V
          (br_if $doneV (i32.gt_u (i32.add (local.get $x) (local.get $per)) (local.get $w0)))
          (local.set $a (i32.add (local.get $row) (i32.shl (local.get $x) (local.get $shift))))
          (local.set $count (i32.add (local.get $count) (i32.popcnt (if (result i32) (local.get $shift)
            (then (i16x8.bitmask (v128.and (i16x8.eq (v128.load (i32.add (local.get $gt) (local.get $a))) (local.get $splat))
                                           (i16x8.eq (v128.load (i32.add (local.get $pred) (local.get $a))) (local.get $splat)))))
            (else (i8x16.bitmask (v128.and (i8x16.eq (v128.load (i32.add (local.get $gt) (local.get $a))) (local.get $splat))
                                           (i8x16.eq (v128.load (i32.add (local.get $pred) (local.get $a))) (local.get $splat)))))))))
          (local.set $x (i32.add (local.get $x) (local.get $per)))
          (br $V)))
        (block $doneT (loop $T
          (br_if $doneT (i32.ge_u (local.get $x) (local.get $w0)))
          (local.set $a (i32.add (local.get $row) (i32.shl (local.get $x) (local.get $shift))))
          (if (i32.and
                (i32.eq (i32.and (i32.load16_u (i32.add (local.get $gt) (local.get $a))) (local.get $mask)) (local.get $label))
                (i32.eq (i32.and (i32.load16_u (i32.add (local.get $pred) (local.get $a))) (local.get $mask)) (local.get $label)))
            (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $T)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $J)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $K)))
    (local.get $count))
)
