// RUN: vitc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(vitc-gpu-wrap-serial-ops))" | FileCheck %s
//
// linalg ops whose outer loop reduces get a GPU form before they become
// loops: parallel dims first, or one thread.

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

// A full reduction whose combiner has no GPU reduction (a product) runs on
// one thread; the reductions with known combiners have kernels of their own
// by now (vitc-gpu-distribute-reductions).
// CHECK-LABEL: func.func @product
// CHECK: scf.parallel (%[[LANE:.*]]) = (%[[ZERO:.*]]) to (%c32)
// CHECK:   scf.if
// CHECK:     linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]}
#all = affine_map<(i, j) -> (i, j)>
#none = affine_map<(i, j) -> ()>
func.func @product(%g: memref<?x16xf32>, %p: memref<f32>) {
  linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction", "reduction"]}
      ins(%g : memref<?x16xf32>) outs(%p : memref<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.mulf %x, %acc : f32
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
