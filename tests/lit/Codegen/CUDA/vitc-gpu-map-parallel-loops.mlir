// RUN: vitc-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(vitc-gpu-map-parallel-loops{block-size=128}))' | FileCheck %s

// A 3-D nest is collapsed to one dimension (the innermost original dimension
// varying fastest) and tiled into blocks of 128 threads with a bounds guard.
// CHECK-LABEL: func.func @elementwise
// CHECK: %[[STEP:.*]] = arith.muli %{{.*}}, %c128 : index
// CHECK: scf.parallel (%[[B:.*]]) = (%{{.*}}) to (%[[N:.*]]) step (%[[STEP]]) {
// CHECK-NEXT: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%[[STEP]]) step (%{{.*}}) {
// CHECK-NEXT: %[[I:.*]] = arith.addi %[[T]], %[[B]]
// CHECK: arith.cmpi ult, %{{.*}}, %[[N]]
// CHECK: scf.if
// CHECK-NEXT: arith.remsi %[[I]], %c64
// CHECK: memref.load
// CHECK: math.exp
// CHECK: memref.store
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
func.func @elementwise(%a: memref<?x17x64xf32>, %b: memref<?x17x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c17 = arith.constant 17 : index
  %c64 = arith.constant 64 : index
  %n = memref.dim %a, %c0 : memref<?x17x64xf32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%n, %c17, %c64) step (%c1, %c1, %c1) {
    %x = memref.load %a[%i, %j, %k] : memref<?x17x64xf32>
    %y = math.exp %x : f32
    memref.store %y, %b[%i, %j, %k] : memref<?x17x64xf32>
    scf.reduce
  }
  return
}

// -----

// A row reduction: the parallel row dimension is mapped, the reduction loop
// runs sequentially in each thread.
// CHECK-LABEL: func.func @row_sum
// CHECK: scf.parallel
// CHECK:   scf.parallel
// CHECK:     scf.if
// CHECK:       scf.for
// CHECK:   } {mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_x
func.func @row_sum(%a: memref<?x64xf32>, %s: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %k = %c0 to %c64 step %c1 {
      %x = memref.load %a[%i, %k] : memref<?x64xf32>
      %acc = memref.load %s[%i] : memref<?xf32>
      %y = arith.addf %acc, %x : f32
      memref.store %y, %s[%i] : memref<?xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A rank-0 linalg op becomes straight-line code: it would touch a device
// buffer from the host.
func.func @scalar(%a: memref<f32>, %b: memref<f32>) {
  // expected-error @below {{memory access outside a parallel loop would run on the host against a device buffer}}
  %x = memref.load %a[] : memref<f32>
  memref.store %x, %b[] : memref<f32>
  return
}
