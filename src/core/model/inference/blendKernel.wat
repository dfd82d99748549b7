;; The inner loops of sliding-window blending (blendBand.ts), in WebAssembly SIMD, four voxels per instruction with a
;; scalar tail. All pointers are byte offsets into the imported memory; float32 throughout, as PyTorch computes
;; MONAI's sliding_window_inference.
;;
;; A slab's plane [full1, full2] is stored in column tiles (blendBand.ts, `tiledIndex`): tile t holds columns
;; [t * tile, t * tile + width(t)) of every row, rows `width(t)` floats apart, tiles one after the other (all full
;; but maybe the last: width(t) = min(tile, full2 - t * tile)). So a window's rows are contiguous runs within a tile
;; instead of short pieces of long rows: on a 320 x 320 plane a 96^3 window then touches about half as many memory
;; pages per channel, and page misses (costly in a virtual machine) were what bounded this loop, not bandwidth.
(module
  (import "env" "memory" (memory 1 65536))

  ;; `rows` rows of `n` floats: dst[r][i] += f32(src[r][i] * w[r][i]); rows `dstStride` and `srcStride` bytes apart
  ;; (`src` and `w` share their layout). Exported for bands swept along tensor axis 1 or 2 (blendBand.ts), whose
  ;; window rows JavaScript hands over a (channel, plane) at a time.
  (func $addRows (export "addRows")
    (param $dst i32) (param $dstStride i32) (param $src i32) (param $w i32) (param $srcStride i32) (param $n i32) (param $rows i32)
    (local $r i32) (local $i i32) (local $vecBytes i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $r (i32.const 0))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $i (i32.const 0))
      (block $doneV (loop $loopV
        (br_if $doneV (i32.ge_u (local.get $i) (local.get $vecBytes)))
        (v128.store (i32.add (local.get $dst) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $i)))
            (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $i))) (v128.load (i32.add (local.get $w) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loopV)))
      (block $doneT (loop $loopT
        (br_if $doneT (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (f32.store (i32.add (local.get $dst) (local.get $i))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $i)))
            (f32.mul (f32.load (i32.add (local.get $src) (local.get $i))) (f32.load (i32.add (local.get $w) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loopT)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
      (local.set $w (i32.add (local.get $w) (local.get $srcStride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loopR)))
  )

  ;; `rows` rows of `n` floats: dst[r][i] += w[r][i] (rows `dstStride` and `srcStride` bytes apart).
  (func $sumRows (export "sumRows")
    (param $dst i32) (param $dstStride i32) (param $w i32) (param $srcStride i32) (param $n i32) (param $rows i32)
    (local $r i32) (local $i i32) (local $vecBytes i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $r (i32.const 0))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $i (i32.const 0))
      (block $doneV (loop $loopV
        (br_if $doneV (i32.ge_u (local.get $i) (local.get $vecBytes)))
        (v128.store (i32.add (local.get $dst) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $i))) (v128.load (i32.add (local.get $w) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loopV)))
      (block $doneT (loop $loopT
        (br_if $doneT (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (f32.store (i32.add (local.get $dst) (local.get $i))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $i))) (f32.load (i32.add (local.get $w) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loopT)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (local.set $w (i32.add (local.get $w) (local.get $srcStride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loopR)))
  )

  ;; One window plane a of one channel, tile by tile: plane[(s1 + b), (s2 + e)] += f32(src[b][e] * w[b][e]) over the
  ;; window's p1 rows and p2 columns. `plane` points at the tiled plane; `src` and `w` at the window's plane a
  ;; (rows p2 floats). `sum` = 0: the weighted add (addRows); 1: the weights alone (sumRows, `src` unused).
  (func $windowPlane
    (param $plane i32) (param $src i32) (param $w i32) (param $p1 i32) (param $p2 i32)
    (param $full1 i32) (param $full2 i32) (param $tile i32) (param $s1 i32) (param $s2 i32) (param $sum i32)
    (local $x i32) (local $end i32) (local $t0 i32) (local $width i32) (local $x1 i32) (local $dst i32) (local $skip i32)
    (local.set $x (local.get $s2))
    (local.set $end (i32.add (local.get $s2) (local.get $p2)))
    (block $done (loop $pieces
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $t0 (i32.mul (i32.div_u (local.get $x) (local.get $tile)) (local.get $tile)))
      (local.set $width (i32.sub (local.get $full2) (local.get $t0)))
      (if (i32.gt_u (local.get $width) (local.get $tile)) (then (local.set $width (local.get $tile))))
      (local.set $x1 (i32.add (local.get $t0) (local.get $width)))
      (if (i32.gt_u (local.get $x1) (local.get $end)) (then (local.set $x1 (local.get $end))))
      ;; tile start (every tile before it is full) + row s1 + column within the tile
      (local.set $dst (i32.add (local.get $plane) (i32.shl
        (i32.add (i32.mul (local.get $t0) (local.get $full1))
          (i32.add (i32.mul (local.get $s1) (local.get $width)) (i32.sub (local.get $x) (local.get $t0))))
        (i32.const 2))))
      (local.set $skip (i32.shl (i32.sub (local.get $x) (local.get $s2)) (i32.const 2)))
      (if (local.get $sum)
        (then (call $sumRows (local.get $dst) (i32.shl (local.get $width) (i32.const 2))
          (i32.add (local.get $w) (local.get $skip)) (i32.shl (local.get $p2) (i32.const 2))
          (i32.sub (local.get $x1) (local.get $x)) (local.get $p1)))
        (else (call $addRows (local.get $dst) (i32.shl (local.get $width) (i32.const 2))
          (i32.add (local.get $src) (local.get $skip)) (i32.add (local.get $w) (local.get $skip)) (i32.shl (local.get $p2) (i32.const 2))
          (i32.sub (local.get $x1) (local.get $x)) (local.get $p1))))
      (local.set $x (local.get $x1))
      (br $pieces)))
  )

  ;; One window: acc[c][slot(s0 + a)][(s1 + b), (s2 + e)] += f32(logits[c][a][b][e] * weights[a][b][e]) for every
  ;; channel c, with slot(x) = (x mod ring) * plane (in bytes: `planeBytes`); channels are `chanStride` bytes apart
  ;; in the band and follow each other in `logits`.
  (func (export "accumulate")
    (param $acc i32) (param $logits i32) (param $weights i32) (param $channels i32) (param $chanStride i32)
    (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $ring i32) (param $planeBytes i32)
    (param $full1 i32) (param $full2 i32) (param $tile i32) (param $s0 i32) (param $s1 i32) (param $s2 i32)
    (local $a i32) (local $c i32) (local $accC i32) (local $pL i32) (local $pW i32) (local $patchPlane i32)
    (local.set $patchPlane (i32.shl (i32.mul (local.get $p1) (local.get $p2)) (i32.const 2)))
    (local.set $pL (local.get $logits))
    (local.set $c (i32.const 0))
    (block $doneC (loop $loopC
      (br_if $doneC (i32.ge_u (local.get $c) (local.get $channels)))
      (local.set $accC (i32.add (local.get $acc) (i32.mul (local.get $c) (local.get $chanStride))))
      (local.set $pW (local.get $weights))
      (local.set $a (i32.const 0))
      (block $doneA (loop $loopA
        (br_if $doneA (i32.ge_u (local.get $a) (local.get $p0)))
        (call $windowPlane
          (i32.add (local.get $accC) (i32.mul (i32.rem_u (i32.add (local.get $s0) (local.get $a)) (local.get $ring)) (local.get $planeBytes)))
          (local.get $pL) (local.get $pW) (local.get $p1) (local.get $p2)
          (local.get $full1) (local.get $full2) (local.get $tile) (local.get $s1) (local.get $s2) (i32.const 0))
        (local.set $pL (i32.add (local.get $pL) (local.get $patchPlane)))
        (local.set $pW (i32.add (local.get $pW) (local.get $patchPlane)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $loopA)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $loopC)))
  )

  ;; The summed weights of one slab, one window at a time (called in window order):
  ;; count[(s1 + b), (s2 + e)] += weights[a][b][e] for the window's plane a (`count` tiled as the band's planes).
  (func (export "addWeights")
    (param $count i32) (param $weights i32) (param $a i32) (param $p1 i32) (param $p2 i32)
    (param $full1 i32) (param $full2 i32) (param $tile i32) (param $s1 i32) (param $s2 i32)
    (call $windowPlane (local.get $count) (i32.const 0)
      (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $a) (i32.mul (local.get $p1) (local.get $p2))) (i32.const 2)))
      (local.get $p1) (local.get $p2) (local.get $full1) (local.get $full2) (local.get $tile) (local.get $s1) (local.get $s2) (i32.const 1))
  )

  ;; A finished slab's classes: out[v] = the first c maximizing f32(acc[c][v] / count[v]) (torch.argmax of the
  ;; divided logits), one byte per voxel; then the slab's accumulators are zeroed for the ring's next use.
  ;; `acc` points at channel 0 of the slab's slot; channels are `chanStride` bytes apart.
  (func (export "slabClasses")
    (param $acc i32) (param $count i32) (param $channels i32) (param $chanStride i32) (param $plane i32) (param $out i32)
    (local $v i32) (local $c i32) (local $vecEnd i32) (local $cnt v128) (local $best v128) (local $arg v128)
    (local $q v128) (local $m v128) (local $at i32) (local $sbest f32) (local $sq f32) (local $sarg i32) (local $scnt f32)
    (local.set $vecEnd (i32.and (local.get $plane) (i32.const -4)))
    (local.set $v (i32.const 0))
    (block $doneV (loop $loopV
      (br_if $doneV (i32.ge_u (local.get $v) (local.get $vecEnd)))
      (local.set $at (i32.shl (local.get $v) (i32.const 2)))
      (local.set $cnt (v128.load (i32.add (local.get $count) (local.get $at))))
      (local.set $best (f32x4.div (v128.load (i32.add (local.get $acc) (local.get $at))) (local.get $cnt)))
      (local.set $arg (i32x4.splat (i32.const 0)))
      (local.set $c (i32.const 1))
      (block $doneC (loop $loopC
        (br_if $doneC (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $q (f32x4.div
          (v128.load (i32.add (i32.add (local.get $acc) (i32.mul (local.get $c) (local.get $chanStride))) (local.get $at)))
          (local.get $cnt)))
        (local.set $m (f32x4.gt (local.get $q) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $q) (local.get $best) (local.get $m)))
        (local.set $arg (v128.bitselect (i32x4.splat (local.get $c)) (local.get $arg) (local.get $m)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $loopC)))
      (i32.store8 (i32.add (local.get $out) (local.get $v)) (i32x4.extract_lane 0 (local.get $arg)))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $v) (i32.const 1))) (i32x4.extract_lane 1 (local.get $arg)))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $v) (i32.const 2))) (i32x4.extract_lane 2 (local.get $arg)))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $v) (i32.const 3))) (i32x4.extract_lane 3 (local.get $arg)))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (br $loopV)))
    (block $doneS (loop $loopS
      (br_if $doneS (i32.ge_u (local.get $v) (local.get $plane)))
      (local.set $at (i32.shl (local.get $v) (i32.const 2)))
      (local.set $scnt (f32.load (i32.add (local.get $count) (local.get $at))))
      (local.set $sbest (f32.div (f32.load (i32.add (local.get $acc) (local.get $at))) (local.get $scnt)))
      (local.set $sarg (i32.const 0))
      (local.set $c (i32.const 1))
      (block $doneC2 (loop $loopC2
        (br_if $doneC2 (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $sq (f32.div
          (f32.load (i32.add (i32.add (local.get $acc) (i32.mul (local.get $c) (local.get $chanStride))) (local.get $at)))
          (local.get $scnt)))
        (if (f32.gt (local.get $sq) (local.get $sbest))
          (then (local.set $sbest (local.get $sq)) (local.set $sarg (local.get $c))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $loopC2)))
      (i32.store8 (i32.add (local.get $out) (local.get $v)) (local.get $sarg))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (br $loopS)))
    ;; zero this slot of every channel
    (local.set $c (i32.const 0))
    (block $doneZ (loop $loopZ
      (br_if $doneZ (i32.ge_u (local.get $c) (local.get $channels)))
      (memory.fill (i32.add (local.get $acc) (i32.mul (local.get $c) (local.get $chanStride))) (i32.const 0) (i32.shl (local.get $plane) (i32.const 2)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $loopZ)))
  )
;; A finished slab of a band swept along tensor axis 1 or 2, one channel: `rows` rows of `n` floats, elements
  ;; `elemStride` bytes apart and rows `rowStride` bytes apart in the band, copied to `dst` (contiguous) and zeroed
  ;; in the band for the ring's next use.
  (func (export "takeSlab")
    (param $dst i32) (param $src i32) (param $rows i32) (param $rowStride i32) (param $n i32) (param $elemStride i32)
    (local $r i32) (local $i i32) (local $s i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
      (if (i32.eq (local.get $elemStride) (i32.const 4))
        (then
          (memory.copy (local.get $dst) (local.get $src) (local.get $rowBytes))
          (memory.fill (local.get $src) (i32.const 0) (local.get $rowBytes))
          (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes))))
        (else
          (local.set $s (local.get $src))
          (local.set $i (i32.const 0))
          (block $doneI (loop $loopI
            (br_if $doneI (i32.ge_u (local.get $i) (local.get $n)))
            (f32.store (local.get $dst) (f32.load (local.get $s)))
            (f32.store (local.get $s) (f32.const 0))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (local.get $elemStride)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loopI)))))
      (local.set $src (i32.add (local.get $src) (local.get $rowStride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loopR)))
  )
;; ---- float16 storage (the float16 band, blendBand.ts): IEEE binary16 bits in 16-bit lanes, converted four at a time.

  ;; Four float16 values (zero-extended in 32-bit lanes) -> their float32 values, exactly: the exponent and mantissa
  ;; shifted into place and scaled by 2^112 (which also makes subnormals normal); Inf and NaN keep all exponent bits.
  (func $halfToFloat (param $h v128) (result v128)
    (local $em v128) (local $f v128)
    (local.set $em (v128.and (local.get $h) (i32x4.splat (i32.const 0x7fff))))
    (local.set $f (f32x4.mul (i32x4.shl (local.get $em) (i32.const 13)) (i32x4.splat (i32.const 0x77800000))))
    (local.set $f (v128.or (local.get $f)
      (v128.and (i32x4.ge_s (local.get $em) (i32x4.splat (i32.const 0x7c00))) (i32x4.splat (i32.const 0x7f800000)))))
    (v128.or (local.get $f) (i32x4.shl (v128.and (local.get $h) (i32x4.splat (i32.const 0x8000))) (i32.const 16)))
  )

  ;; Four float32 values -> the nearest float16 bits (ties to even) in 32-bit lanes: overflow to Inf, NaN to a quiet
  ;; NaN, subnormals rounded by one float32 addition of a magic number (round to nearest even), normals by adding
  ;; the rounding bias to the bits (F. Giesen's float_to_half_fast3_rtne, all three cases computed and selected).
  (func $floatToHalf (param $x v128) (result v128)
    (local $sign v128) (local $a v128) (local $sub v128) (local $nrm v128) (local $o v128)
    (local.set $sign (v128.and (local.get $x) (i32x4.splat (i32.const 0x80000000))))
    (local.set $a (v128.xor (local.get $x) (local.get $sign)))
    ;; below 2^-14: subnormal or zero; magic = 0.5 (float bits (126) << 23)
    (local.set $sub (i32x4.sub (f32x4.add (local.get $a) (i32x4.splat (i32.const 0x3f000000))) (i32x4.splat (i32.const 0x3f000000))))
    (local.set $nrm (i32x4.shr_u
      (i32x4.add (i32x4.add (local.get $a) (i32x4.splat (i32.const 0xc8000fff)))
        (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.splat (i32.const 1))))
      (i32.const 13)))
    (local.set $o (v128.bitselect (local.get $sub) (local.get $nrm) (i32x4.lt_u (local.get $a) (i32x4.splat (i32.const 0x38800000)))))
    ;; 2^16 and above (after rounding, 65520 and above reach Inf through the normal path's carry)
    (local.set $o (v128.bitselect
      (v128.bitselect (i32x4.splat (i32.const 0x7e00)) (i32x4.splat (i32.const 0x7c00)) (i32x4.gt_u (local.get $a) (i32x4.splat (i32.const 0x7f800000))))
      (local.get $o)
      (i32x4.ge_u (local.get $a) (i32x4.splat (i32.const 0x47800000)))))
    (v128.or (local.get $o) (i32x4.shr_u (local.get $sign) (i32.const 16)))
  )

  ;; addRows with float16 accumulators: dst[r][i] = f16(f32(dst[r][i]) + f32(src[r][i] * w[r][i])), the sum a float32
  ;; addition; `dst` holds 16-bit values, rows `dstStride` bytes apart; `src` and `w` float32, rows `srcStride` apart.
  (func (export "addRows16")
    (param $dst i32) (param $dstStride i32) (param $src i32) (param $w i32) (param $srcStride i32) (param $n i32) (param $rows i32)
    (local $r i32) (local $i i32) (local $vecEnd i32) (local $h v128) (local $sum v128)
    (local.set $vecEnd (i32.and (local.get $n) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $i (i32.const 0))
      (block $doneV (loop $loopV
        (br_if $doneV (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $sum (f32x4.add
          (call $halfToFloat (v128.load16x4_u (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))))
          (f32x4.mul (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
            (v128.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $h (call $floatToHalf (local.get $sum)))
        (v128.store64_lane 0 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i16x8.narrow_i32x4_u (local.get $h) (local.get $h)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loopV)))
      (block $doneT (loop $loopT
        (br_if $doneT (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (f32x4.add
          (call $halfToFloat (i32x4.splat (i32.load16_u (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))))))
          (f32x4.splat (f32.mul (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
            (f32.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2))))))))
        (i32.store16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (i32x4.extract_lane 0 (call $floatToHalf (local.get $sum))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loopT)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
      (local.set $w (i32.add (local.get $w) (local.get $srcStride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loopR)))
  )

  ;; takeSlab for float16 accumulators: `rows` rows of `n` 16-bit values, elements `elemStride` bytes apart and rows
  ;; `rowStride` apart, converted to float32 into `dst` (contiguous) and zeroed in the band.
  (func (export "takeSlab16")
    (param $dst i32) (param $src i32) (param $rows i32) (param $rowStride i32) (param $n i32) (param $elemStride i32)
    (local $r i32) (local $i i32) (local $s i32)
    (local.set $r (i32.const 0))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $s (local.get $src))
      (local.set $i (i32.const 0))
      (block $doneI (loop $loopI
        (br_if $doneI (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (local.get $dst) (f32x4.extract_lane 0 (call $halfToFloat (i32x4.splat (i32.load16_u (local.get $s))))))
        (i32.store16 (local.get $s) (i32.const 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $s (i32.add (local.get $s) (local.get $elemStride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loopI)))
      (local.set $src (i32.add (local.get $src) (local.get $rowStride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loopR)))
  )
;; ---- transposed adds (a band swept along tensor axis 2 stores its ring as [d0][slot][d1], so that a finished slab is
  ;; rows: a window's plane is added column by column, each column of the window a row of the band).

  ;; Four floats of column r of `src` (rows `srcStride` bytes apart), from row i on.
  (func $column4 (param $at i32) (param $srcStride i32) (result v128)
    (f32x4.replace_lane 3
      (f32x4.replace_lane 2
        (f32x4.replace_lane 1
          (f32x4.splat (f32.load (local.get $at)))
          (f32.load (i32.add (local.get $at) (local.get $srcStride))))
        (f32.load (i32.add (local.get $at) (i32.shl (local.get $srcStride) (i32.const 1)))))
      (f32.load (i32.add (local.get $at) (i32.mul (local.get $srcStride) (i32.const 3)))))
  )

  ;; Adds four products p to dst at byte `d` (float32) or to the float16 values there (`half`).
  (func $addAt (param $d i32) (param $p v128) (param $half i32)
    (local $h v128)
    (if (local.get $half)
      (then
        (local.set $h (call $floatToHalf (f32x4.add (call $halfToFloat (v128.load16x4_u (local.get $d))) (local.get $p))))
        (v128.store64_lane 0 (local.get $d) (i16x8.narrow_i32x4_u (local.get $h) (local.get $h))))
      (else (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (local.get $p)))))
  )

  ;; One product p added to dst at byte `d` (float32, or float16 when `half`).
  (func $addOne (param $d i32) (param $x f32) (param $half i32)
    (if (local.get $half)
      (then (i32.store16 (local.get $d) (i32x4.extract_lane 0 (call $floatToHalf
        (f32x4.add (call $halfToFloat (i32x4.splat (i32.load16_u (local.get $d)))) (f32x4.splat (local.get $x)))))))
      (else (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (local.get $x)))))
  )

  ;; dst[r][i] += f32(src[i][r] * w[r][i]) for r < rows, i < n: `dst` rows `dstStride` bytes apart, `src` rows
  ;; `srcStride` apart (column r at byte 4r), `w` (already transposed) rows `wStride` apart. `half` = 1: `dst` holds
  ;; float16 (the sum in float32, stored rounded to float16), rows still `dstStride` apart. Four rows at a time, the
  ;; source read as 4 x 4 blocks transposed in registers (each source cache line then serves four rows); the rows
  ;; left one at a time, gathering each column four values at a time.
  (func (export "addColumns")
    (param $dst i32) (param $dstStride i32) (param $src i32) (param $srcStride i32) (param $w i32) (param $wStride i32)
    (param $n i32) (param $rows i32) (param $half i32)
    (local $r i32) (local $i i32) (local $j i32) (local $vecEnd i32) (local $rowEnd i32) (local $col i32) (local $es i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $at i32) (local $wr i32) (local $dr i32) (local $d i32)
    (local.set $es (select (i32.const 2) (i32.const 4) (local.get $half)))
    (local.set $vecEnd (i32.and (local.get $n) (i32.const -4)))
    (local.set $rowEnd (i32.and (local.get $rows) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $doneB (loop $loopB
      (br_if $doneB (i32.ge_u (local.get $r) (local.get $rowEnd)))
      (local.set $col (i32.add (local.get $src) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $doneV (loop $loopV
        (br_if $doneV (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $at (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $srcStride))))
        (local.set $a0 (v128.load (local.get $at)))
        (local.set $a1 (v128.load (i32.add (local.get $at) (local.get $srcStride))))
        (local.set $a2 (v128.load (i32.add (local.get $at) (i32.shl (local.get $srcStride) (i32.const 1)))))
        (local.set $a3 (v128.load (i32.add (local.get $at) (i32.mul (local.get $srcStride) (i32.const 3)))))
        ;; transpose: b_j = column r + j of rows i..i+3
        (local.set $b0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)))
        (local.set $b1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1)))
        (local.set $b2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)))
        (local.set $b3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3)))
        (local.set $a0 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $b0) (local.get $b2)))
        (local.set $a1 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $b0) (local.get $b2)))
        (local.set $a2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $b1) (local.get $b3)))
        (local.set $a3 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $b1) (local.get $b3)))
        (local.set $wr (i32.add (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $wStride))) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $dr (i32.add (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $dstStride))) (i32.mul (local.get $i) (local.get $es))))
        (if (local.get $half) (then (call $addAt (local.get $dr) (f32x4.mul (local.get $a0) (v128.load (local.get $wr))) (i32.const 1))) (else (local.set $d (local.get $dr)) (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $a0) (v128.load (local.get $wr)))))))
        (if (local.get $half) (then (call $addAt (i32.add (local.get $dr) (local.get $dstStride)) (f32x4.mul (local.get $a1) (v128.load (i32.add (local.get $wr) (local.get $wStride)))) (i32.const 1))) (else (local.set $d (i32.add (local.get $dr) (local.get $dstStride))) (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $a1) (v128.load (i32.add (local.get $wr) (local.get $wStride))))))))
        (if (local.get $half) (then (call $addAt (i32.add (local.get $dr) (i32.shl (local.get $dstStride) (i32.const 1))) (f32x4.mul (local.get $a2) (v128.load (i32.add (local.get $wr) (i32.shl (local.get $wStride) (i32.const 1))))) (i32.const 1))) (else (local.set $d (i32.add (local.get $dr) (i32.shl (local.get $dstStride) (i32.const 1)))) (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $a2) (v128.load (i32.add (local.get $wr) (i32.shl (local.get $wStride) (i32.const 1)))))))))
        (if (local.get $half) (then (call $addAt (i32.add (local.get $dr) (i32.mul (local.get $dstStride) (i32.const 3))) (f32x4.mul (local.get $a3) (v128.load (i32.add (local.get $wr) (i32.mul (local.get $wStride) (i32.const 3))))) (i32.const 1))) (else (local.set $d (i32.add (local.get $dr) (i32.mul (local.get $dstStride) (i32.const 3)))) (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $a3) (v128.load (i32.add (local.get $wr) (i32.mul (local.get $wStride) (i32.const 3)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loopV)))
      ;; the columns' last n mod 4 values, one at a time
      (local.set $j (i32.const 0))
      (block $doneJ (loop $loopJ
        (br_if $doneJ (i32.ge_u (local.get $j) (i32.const 4)))
        (local.set $at (i32.add (local.get $r) (local.get $j)))
        (local.set $i (local.get $vecEnd))
        (block $doneT (loop $loopT
          (br_if $doneT (i32.ge_u (local.get $i) (local.get $n)))
          (call $addOne
            (i32.add (i32.add (local.get $dst) (i32.mul (local.get $at) (local.get $dstStride))) (i32.mul (local.get $i) (local.get $es)))
            (f32.mul (f32.load (i32.add (i32.add (local.get $src) (i32.shl (local.get $at) (i32.const 2))) (i32.mul (local.get $i) (local.get $srcStride))))
              (f32.load (i32.add (i32.add (local.get $w) (i32.mul (local.get $at) (local.get $wStride))) (i32.shl (local.get $i) (i32.const 2)))))
            (local.get $half))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $loopT)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $loopJ)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $loopB)))
    ;; the last rows mod 4, one at a time
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $col (i32.add (local.get $src) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $wr (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $wStride))))
      (local.set $dr (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $dstStride))))
      (local.set $i (i32.const 0))
      (block $doneV1 (loop $loopV1
        (br_if $doneV1 (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (if (local.get $half) (then (call $addAt (i32.add (local.get $dr) (i32.mul (local.get $i) (local.get $es))) (f32x4.mul
            (call $column4 (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $srcStride))) (local.get $srcStride))
            (v128.load (i32.add (local.get $wr) (i32.shl (local.get $i) (i32.const 2))))) (i32.const 1))) (else (local.set $d (i32.add (local.get $dr) (i32.mul (local.get $i) (local.get $es)))) (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul
            (call $column4 (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $srcStride))) (local.get $srcStride))
            (v128.load (i32.add (local.get $wr) (i32.shl (local.get $i) (i32.const 2)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loopV1)))
      (block $doneT1 (loop $loopT1
        (br_if $doneT1 (i32.ge_u (local.get $i) (local.get $n)))
        (call $addOne (i32.add (local.get $dr) (i32.mul (local.get $i) (local.get $es)))
          (f32.mul (f32.load (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $srcStride))))
            (f32.load (i32.add (local.get $wr) (i32.shl (local.get $i) (i32.const 2)))))
          (local.get $half))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loopT1)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loopR)))
  )
)
