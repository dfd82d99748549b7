;; The inner loop of sliding-window blending (slidingWindow.ts), in WebAssembly SIMD: for one window of logits
;; [C, p0, p1, p2] at (s0, s1, s2), with the gaussian importance map weights [p0, p1, p2],
;;   acc[c][slot(s0 + a)][(s1 + b) * full2 + s2 + e] += f32(logits[c][a][b][e] * weights[a][b][e])
;;   count[slot(s0 + a)][(s1 + b) * full2 + s2 + e] += weights[a][b][e]
;; where slot(x) = (x mod ring) * plane. Products are rounded to float32 before the add, as PyTorch's float32
;; `importance_map * logits` followed by `+=` in MONAI's sliding_window_inference. Four voxels per instruction;
;; a scalar tail handles p2 not divisible by 4. All pointers are byte offsets into the imported memory.
(module
  (import "env" "memory" (memory 1 65536))
  (func (export "accumulate")
    (param $acc i32) (param $count i32) (param $logits i32) (param $weights i32)
    (param $channels i32) (param $p0 i32) (param $p1 i32) (param $p2 i32)
    (param $ring i32) (param $plane i32) (param $full2 i32)
    (param $s0 i32) (param $s1 i32) (param $s2 i32)
    (local $a i32) (local $b i32) (local $c i32) (local $e i32)
    (local $r i32) (local $p12 i32) (local $npatch i32) (local $vecEnd i32)
    (local $rowW i32) (local $rowL i32) (local $rowA i32) (local $chanStride i32)
    (local.set $p12 (i32.mul (local.get $p1) (local.get $p2)))
    (local.set $npatch (i32.mul (local.get $p0) (local.get $p12)))
    (local.set $chanStride (i32.shl (i32.mul (local.get $ring) (local.get $plane)) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $p2) (i32.const -4)))
    (local.set $a (i32.const 0))
    (block $doneA (loop $loopA
      (br_if $doneA (i32.ge_u (local.get $a) (local.get $p0)))
      (local.set $r (i32.mul (i32.rem_u (i32.add (local.get $s0) (local.get $a)) (local.get $ring)) (local.get $plane)))
      ;; weighted logits, channel by channel
      (local.set $c (i32.const 0))
      (block $doneC (loop $loopC
        (br_if $doneC (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $b (i32.const 0))
        (block $doneB (loop $loopB
          (br_if $doneB (i32.ge_u (local.get $b) (local.get $p1)))
          (local.set $rowW (i32.add (local.get $weights)
            (i32.shl (i32.add (i32.mul (local.get $a) (local.get $p12)) (i32.mul (local.get $b) (local.get $p2))) (i32.const 2))))
          (local.set $rowL (i32.add (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $c) (local.get $npatch)) (i32.const 2)))
            (i32.sub (local.get $rowW) (local.get $weights))))
          (local.set $rowA (i32.add (i32.add (local.get $acc) (i32.mul (local.get $c) (local.get $chanStride)))
            (i32.shl (i32.add (local.get $r) (i32.add (i32.mul (i32.add (local.get $s1) (local.get $b)) (local.get $full2)) (local.get $s2))) (i32.const 2))))
          (local.set $e (i32.const 0))
          (block $doneV (loop $loopV
            (br_if $doneV (i32.ge_u (local.get $e) (local.get $vecEnd)))
            (v128.store (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2)))
              (f32x4.add
                (v128.load (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2))))
                (f32x4.mul
                  (v128.load (i32.add (local.get $rowL) (i32.shl (local.get $e) (i32.const 2))))
                  (v128.load (i32.add (local.get $rowW) (i32.shl (local.get $e) (i32.const 2)))))))
            (local.set $e (i32.add (local.get $e) (i32.const 4)))
            (br $loopV)))
          (block $doneT (loop $loopT
            (br_if $doneT (i32.ge_u (local.get $e) (local.get $p2)))
            (f32.store (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2)))
              (f32.add
                (f32.load (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2))))
                (f32.mul
                  (f32.load (i32.add (local.get $rowL) (i32.shl (local.get $e) (i32.const 2))))
                  (f32.load (i32.add (local.get $rowW) (i32.shl (local.get $e) (i32.const 2)))))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $loopT)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $loopB)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $loopC)))
      ;; summed weights
      (local.set $b (i32.const 0))
      (block $doneB2 (loop $loopB2
        (br_if $doneB2 (i32.ge_u (local.get $b) (local.get $p1)))
        (local.set $rowW (i32.add (local.get $weights)
          (i32.shl (i32.add (i32.mul (local.get $a) (local.get $p12)) (i32.mul (local.get $b) (local.get $p2))) (i32.const 2))))
        (local.set $rowA (i32.add (local.get $count)
          (i32.shl (i32.add (local.get $r) (i32.add (i32.mul (i32.add (local.get $s1) (local.get $b)) (local.get $full2)) (local.get $s2))) (i32.const 2))))
        (local.set $e (i32.const 0))
        (block $doneV2 (loop $loopV2
          (br_if $doneV2 (i32.ge_u (local.get $e) (local.get $vecEnd)))
          (v128.store (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2)))
            (f32x4.add
              (v128.load (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2))))
              (v128.load (i32.add (local.get $rowW) (i32.shl (local.get $e) (i32.const 2))))))
          (local.set $e (i32.add (local.get $e) (i32.const 4)))
          (br $loopV2)))
        (block $doneT2 (loop $loopT2
          (br_if $doneT2 (i32.ge_u (local.get $e) (local.get $p2)))
          (f32.store (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2)))
            (f32.add
              (f32.load (i32.add (local.get $rowA) (i32.shl (local.get $e) (i32.const 2))))
              (f32.load (i32.add (local.get $rowW) (i32.shl (local.get $e) (i32.const 2))))))
          (local.set $e (i32.add (local.get $e) (i32.const 1)))
          (br $loopT2)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB2)))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br $loopA)))
  )
)
