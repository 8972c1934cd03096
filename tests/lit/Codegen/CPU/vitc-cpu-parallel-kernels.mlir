// RUN: vitc-opt %s -split-input-file -vitc-outline-loop-nests -vitc-cpu-parallel-kernels | FileCheck %s

// A dynamic-batch NCHW elementwise kernel: N and C are flattened into the
// range (the batch may be 1 at run time, so it does not count towards
// min-chunks), H and W stay a loop. The caller passes [0, N * 64).
// CHECK-LABEL: func.func private @nchw.loops.0(
//  CHECK-SAME:   %[[X:[a-z0-9]+]]: memref<?x64x56x56xf32>, %[[Y:[a-z0-9]+]]: memref<?x64x56x56xf32>, %{{.*}}: index, %[[B:[a-z0-9]+]]: index, %[[E:[a-z0-9]+]]: index)
//  CHECK-SAME:   vitc.parallel_grain = 2 : i64
//   CHECK-DAG:   %[[C64:.*]] = arith.constant 64 : index
//       CHECK:   scf.parallel (%[[F:.*]]) = (%[[B]]) to (%[[E]])
//       CHECK:     %[[N:.*]] = arith.divui %[[F]], %[[C64]]
//       CHECK:     %[[C:.*]] = arith.remui %[[F]], %[[C64]]
//       CHECK:     scf.parallel (%[[H:.*]], %[[W:.*]]) =
//       CHECK:       memref.load %[[X]][%[[N]], %[[C]], %[[H]], %[[W]]]
// CHECK-LABEL: func.func @nchw(
//       CHECK:   %[[DIM:.*]] = memref.dim
//       CHECK:   %[[CC:.*]] = arith.constant 64 : index
//       CHECK:   %[[RANGE:.*]] = arith.muli %[[DIM]], %[[CC]]
//       CHECK:   %[[ZERO:.*]] = arith.constant 0 : index
//       CHECK:   call @nchw.loops.0(%{{.*}}, %{{.*}}, %[[DIM]], %[[ZERO]], %[[RANGE]])
func.func @nchw(%x: memref<?x64x56x56xf32>, %y: memref<?x64x56x56xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c56 = arith.constant 56 : index
  %c64 = arith.constant 64 : index
  %two = arith.constant 2.0 : f32
  %n = memref.dim %x, %c0 : memref<?x64x56x56xf32>
  scf.parallel (%i, %j, %k, %l) = (%c0, %c0, %c0, %c0) to (%n, %c64, %c56, %c56) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %x[%i, %j, %k, %l] : memref<?x64x56x56xf32>
    %d = arith.mulf %v, %two : f32
    memref.store %d, %y[%i, %j, %k, %l] : memref<?x64x56x56xf32>
  }
  return
}

// -----

// Batch 1, tokens x features: the unit dim is 0, the token the range's
// index itself (no division); features stay the inner loop.
// CHECK-LABEL: func.func private @tokens.loops.0(
//  CHECK-SAME:   %[[B:[a-z0-9]+]]: index, %[[E:[a-z0-9]+]]: index) attributes {{.*}}vitc.parallel_grain = 6 : i64
//       CHECK:   scf.parallel (%[[T:.*]]) = (%[[B]]) to (%[[E]])
//   CHECK-NOT:     arith.divui
//       CHECK:     scf.parallel (%[[F:.*]]) =
//       CHECK:       memref.load %{{.*}}[%{{.*}}, %[[T]], %[[F]]]
// CHECK-LABEL: func.func @tokens(
//       CHECK:   arith.constant 197 : index
//       CHECK:   %[[RANGE:.*]] = arith.constant 197 : index
//       CHECK:   call @tokens.loops.0(%{{.*}}, %{{.*}}, %[[RANGE]])
func.func @tokens(%x: memref<1x197x768xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c197 = arith.constant 197 : index
  %c768 = arith.constant 768 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c1, %c197, %c768) step (%c1, %c1, %c1) {
    %v = memref.load %x[%i, %j, %k] : memref<1x197x768xf32>
    %d = arith.mulf %v, %two : f32
    memref.store %d, %x[%i, %j, %k] : memref<1x197x768xf32>
  }
  return
}

// -----

// The innermost dim is kept whole even when the outer dims are few; a
// one-dim loop is split itself. Two calls of one (folded) kernel both pass
// the range.
// CHECK-LABEL: func.func private @rows.loops.0(
//  CHECK-SAME:   %{{.*}}: memref<8x4096xf32>, %{{.*}}: index, %{{.*}}: index) attributes {{.*}}vitc.parallel_grain = 2 : i64
//       CHECK:   scf.parallel (%[[R:.*]]) = (%{{.*}}) to (%{{.*}})
//       CHECK:     scf.parallel (%{{.*}}) =
// CHECK-LABEL: func.func private @rows.loops.2(
//  CHECK-SAME:   %{{.*}}: memref<65536xf32>, %[[B:[a-z0-9]+]]: index, %[[E:[a-z0-9]+]]: index) attributes {{.*}}vitc.parallel_grain = 8192 : i64
//       CHECK:   scf.parallel (%[[I:.*]]) = (%[[B]]) to (%[[E]])
//   CHECK-NOT:     scf.parallel
//       CHECK:     memref.store %{{.*}}, %{{.*}}[%[[I]]]
// CHECK-LABEL: func.func @rows(
//       CHECK:   arith.constant 65536 : index
//       CHECK:   %[[R8:.*]] = arith.constant 8 : index
//       CHECK:   call @rows.loops.0(%{{.*}}, %{{.*}}, %[[R8]])
//       CHECK:   %[[R8B:.*]] = arith.constant 8 : index
//       CHECK:   call @rows.loops.0(%{{.*}}, %{{.*}}, %[[R8B]])
//       CHECK:   %[[RV:.*]] = arith.constant 65536 : index
//       CHECK:   call @rows.loops.2(%{{.*}}, %{{.*}}, %[[RV]])
func.func @rows(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>, %v: memref<65536xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c4096 = arith.constant 4096 : index
  %c65536 = arith.constant 65536 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c4096) step (%c1, %c1) {
    memref.store %two, %x[%i, %j] : memref<8x4096xf32>
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c4096) step (%c1, %c1) {
    memref.store %two, %y[%i, %j] : memref<8x4096xf32>
  }
  scf.parallel (%i) = (%c0) to (%c65536) step (%c1) {
    memref.store %two, %v[%i] : memref<65536xf32>
  }
  return
}

// -----

// Serial: a small kernel (below min-work), a nest whose outer loop reduces
// (an scf.for at the top: never split), and a parallel loop of a single
// iteration around a long serial loop.
// CHECK-LABEL: func.func private @serial.loops.0(
//  CHECK-SAME:   %{{.*}}: memref<64xf32>) attributes {passthrough = ["noinline"]} {
// CHECK-LABEL: func.func private @serial.loops.1(
//  CHECK-SAME:   %{{.*}}: memref<512x512xf32>, %{{.*}}: memref<512xf32>) attributes {passthrough = ["noinline"]} {
//       CHECK:   scf.for
// CHECK-LABEL: func.func private @serial.loops.2(
//  CHECK-SAME:   %{{.*}}: memref<1x100000xf32>) attributes {passthrough = ["noinline"]} {
// CHECK-LABEL: func.func @serial(
//       CHECK:   call @serial.loops.0(%{{[a-z0-9]+}}) :
//       CHECK:   call @serial.loops.1(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) :
//       CHECK:   call @serial.loops.2(%{{[a-z0-9]+}}) :
//   CHECK-NOT: vitc.parallel_grain
func.func @serial(%small: memref<64xf32>, %m: memref<512x512xf32>, %colsum: memref<512xf32>, %one: memref<1x100000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c512 = arith.constant 512 : index
  %c100000 = arith.constant 100000 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %two, %small[%i] : memref<64xf32>
  }
  scf.for %r = %c0 to %c512 step %c1 {
    scf.parallel (%j) = (%c0) to (%c512) step (%c1) {
      %a = memref.load %m[%r, %j] : memref<512x512xf32>
      %b = memref.load %colsum[%j] : memref<512xf32>
      %s = arith.addf %a, %b : f32
      memref.store %s, %colsum[%j] : memref<512xf32>
    }
  }
  scf.parallel (%i) = (%c0) to (%c1) step (%c1) {
    scf.for %k = %c0 to %c100000 step %c1 {
      memref.store %two, %one[%i, %k] : memref<1x100000xf32>
    }
  }
  return
}
