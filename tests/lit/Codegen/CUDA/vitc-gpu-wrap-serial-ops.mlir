// RUN: vitc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(vitc-gpu-wrap-serial-ops))" | FileCheck %s
//
// linalg ops whose outer loop reduces get a GPU form before they become
// loops: parallel dims first, a two-stage full reduction, or one thread.

// A bias gradient (sum over rows, per column): interchanged, so the column
// becomes the outer, parallel loop.
// CHECK-LABEL: func.func @bias_grad
// CHECK: linalg.generic {indexing_maps = [#[[IN:.*]], #[[OUT:.*]]], iterator_types = ["parallel", "reduction"]}
// CHECK-NOT: scf.parallel
#rows = affine_map<(r, c) -> (r, c)>
#col = affine_map<(r, c) -> (c)>
func.func @bias_grad(%g: memref<?x8xf32>, %db: memref<8xf32>) {
  linalg.generic {indexing_maps = [#rows, #col], iterator_types = ["reduction", "parallel"]}
      ins(%g : memref<?x8xf32>) outs(%db : memref<8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A squared norm: 1024 threads each sum a strided share of the elements
// (its linear index split into the two loop indices), then one thread adds
// the partials to the output.
// CHECK-LABEL: func.func @squared_norm
// CHECK: %[[PARTIALS:.*]] = memref.alloc() : memref<1024xf32>
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%c1024) step (%{{.*}}) {
// CHECK:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:   %[[SUM:.*]] = scf.for %[[I:.*]] = %[[T]] to %{{.*}} step %c1024{{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK:     arith.remui %[[I]]
// CHECK:     arith.divui %[[I]]
// CHECK:     %[[X:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<?x16xf32>
// CHECK:     %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK:     %[[NEXT:.*]] = arith.addf %[[SQ]], %[[ACC]] : f32
// CHECK:     scf.yield %[[NEXT]] : f32
// CHECK:   memref.store %[[SUM]], %[[PARTIALS]][%[[T]]] : memref<1024xf32>
// CHECK: scf.parallel (%[[LANE:.*]]) = (%{{.*}}) to (%c32)
// CHECK:   scf.if
// CHECK:     linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[PARTIALS]] : memref<1024xf32>) outs(%{{.*}} : memref<f32>)
// CHECK: memref.dealloc %[[PARTIALS]]
#all = affine_map<(i, j) -> (i, j)>
#none = affine_map<(i, j) -> ()>
func.func @squared_norm(%g: memref<?x16xf32>, %norm: memref<f32>) {
  linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction", "reduction"]}
      ins(%g : memref<?x16xf32>) outs(%norm : memref<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %sq = arith.mulf %x, %x : f32
    %s = arith.addf %sq, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A 0-d op runs on one thread: iteration 0 of a 32-iteration loop.
// CHECK-LABEL: func.func @scalar
// CHECK: scf.parallel (%[[LANE:.*]]) = (%[[ZERO:.*]]) to (%c32) step (%{{.*}}) {
// CHECK:   %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %[[ZERO]] : index
// CHECK:   scf.if %[[FIRST]] {
// CHECK:     linalg.generic
#scalar = affine_map<() -> ()>
func.func @scalar(%loss: memref<f32>, %n: memref<f32>, %mean: memref<f32>) {
  linalg.generic {indexing_maps = [#scalar, #scalar, #scalar], iterator_types = []}
      ins(%loss, %n : memref<f32>, memref<f32>) outs(%mean : memref<f32>) {
  ^bb0(%l: f32, %c: f32, %o: f32):
    %d = arith.divf %l, %c : f32
    linalg.yield %d : f32
  }
  return
}
