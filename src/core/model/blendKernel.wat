;; The inner loops of sliding-window blending (blendBand.ts), in WebAssembly SIMD, four voxels per instruction with a
;; scalar tail. All pointers are byte offsets into the imported memory; float32 throughout, as PyTorch computes
;; MONAI's sliding_window_inference.
(module
  (import "env" "memory" (memory 1 65536))

;; One window: acc[c][slot(s0 + a)][(s1 + b) * full2 + s2 + e] += f32(logits[c][a][b][e] * weights[a][b][e]) for
  ;; every channel c, with slot(x) = (x mod ring) * plane; channels are `chanStride` bytes apart in the band and
  ;; follow each other in `logits`. Pointers walk the rows (the loop is bound by memory traffic, not arithmetic).
  (func (export "accumulate")
    (param $acc i32) (param $logits i32) (param $weights i32) (param $channels i32) (param $chanStride i32)
    (param $p0 i32) (param $p1 i32) (param $p2 i32)
    (param $ring i32) (param $plane i32) (param $full2 i32)
    (param $s0 i32) (param $s1 i32) (param $s2 i32)
    (local $a i32) (local $b i32) (local $c i32) (local $pA i32) (local $pL i32) (local $pW i32) (local $endV i32) (local $end i32)
    (local $rowBytes i32) (local $r i32) (local $accC i32)
    (local.set $rowBytes (i32.shl (local.get $p2) (i32.const 2)))
    (local.set $pL (local.get $logits))
    (local.set $c (i32.const 0))
    (block $doneC (loop $loopC
      (br_if $doneC (i32.ge_u (local.get $c) (local.get $channels)))
      (local.set $accC (i32.add (local.get $acc) (i32.mul (local.get $c) (local.get $chanStride))))
      (local.set $pW (local.get $weights))
      (local.set $a (i32.const 0))
      (block $doneA (loop $loopA
        (br_if $doneA (i32.ge_u (local.get $a) (local.get $p0)))
        (local.set $r (i32.mul (i32.rem_u (i32.add (local.get $s0) (local.get $a)) (local.get $ring)) (local.get $plane)))
        (local.set $b (i32.const 0))
        (block $doneB (loop $loopB
          (br_if $doneB (i32.ge_u (local.get $b) (local.get $p1)))
          (local.set $pA (i32.add (local.get $accC)
            (i32.shl (i32.add (local.get $r) (i32.add (i32.mul (i32.add (local.get $s1) (local.get $b)) (local.get $full2)) (local.get $s2))) (i32.const 2))))
          (local.set $end (i32.add (local.get $pA) (local.get $rowBytes)))
          (local.set $endV (i32.add (local.get $pA) (i32.and (local.get $rowBytes) (i32.const -16))))
          (block $doneV (loop $loopV
            (br_if $doneV (i32.ge_u (local.get $pA) (local.get $endV)))
            (v128.store (local.get $pA)
              (f32x4.add (v128.load (local.get $pA)) (f32x4.mul (v128.load (local.get $pL)) (v128.load (local.get $pW)))))
            (local.set $pA (i32.add (local.get $pA) (i32.const 16)))
            (local.set $pL (i32.add (local.get $pL) (i32.const 16)))
            (local.set $pW (i32.add (local.get $pW) (i32.const 16)))
            (br $loopV)))
          (block $doneT (loop $loopT
            (br_if $doneT (i32.ge_u (local.get $pA) (local.get $end)))
            (f32.store (local.get $pA)
              (f32.add (f32.load (local.get $pA)) (f32.mul (f32.load (local.get $pL)) (f32.load (local.get $pW)))))
            (local.set $pA (i32.add (local.get $pA) (i32.const 4)))
            (local.set $pL (i32.add (local.get $pL) (i32.const 4)))
            (local.set $pW (i32.add (local.get $pW) (i32.const 4)))
            (br $loopT)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $loopB)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $loopA)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $loopC)))
  )

  ;; The summed weights of one slab, one window at a time (called in window order):
  ;; count[(s1 + b) * full2 + s2 + e] += weights[a][b][e] for the window's plane a.
  (func (export "addWeights")
    (param $count i32) (param $weights i32) (param $a i32)
    (param $p1 i32) (param $p2 i32) (param $full2 i32) (param $s1 i32) (param $s2 i32)
    (local $b i32) (local $e i32) (local $vecEnd i32) (local $rowW i32) (local $rowC i32)
    (local.set $vecEnd (i32.and (local.get $p2) (i32.const -4)))
    (local.set $b (i32.const 0))
    (block $doneB (loop $loopB
      (br_if $doneB (i32.ge_u (local.get $b) (local.get $p1)))
      (local.set $rowW (i32.add (local.get $weights)
        (i32.shl (i32.mul (i32.add (i32.mul (local.get $a) (local.get $p1)) (local.get $b)) (local.get $p2)) (i32.const 2))))
      (local.set $rowC (i32.add (local.get $count)
        (i32.shl (i32.add (i32.mul (i32.add (local.get $s1) (local.get $b)) (local.get $full2)) (local.get $s2)) (i32.const 2))))
      (local.set $e (i32.const 0))
      (block $doneV (loop $loopV
        (br_if $doneV (i32.ge_u (local.get $e) (local.get $vecEnd)))
        (v128.store (i32.add (local.get $rowC) (i32.shl (local.get $e) (i32.const 2)))
          (f32x4.add
            (v128.load (i32.add (local.get $rowC) (i32.shl (local.get $e) (i32.const 2))))
            (v128.load (i32.add (local.get $rowW) (i32.shl (local.get $e) (i32.const 2))))))
        (local.set $e (i32.add (local.get $e) (i32.const 4)))
        (br $loopV)))
      (block $doneT (loop $loopT
        (br_if $doneT (i32.ge_u (local.get $e) (local.get $p2)))
        (f32.store (i32.add (local.get $rowC) (i32.shl (local.get $e) (i32.const 2)))
          (f32.add
            (f32.load (i32.add (local.get $rowC) (i32.shl (local.get $e) (i32.const 2))))
            (f32.load (i32.add (local.get $rowW) (i32.shl (local.get $e) (i32.const 2))))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $loopT)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loopB)))
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
)
