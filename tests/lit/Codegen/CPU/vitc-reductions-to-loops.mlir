// RUN: vitc-opt %s -split-input-file -vitc-reductions-to-loops | FileCheck %s

// A bias gradient (sum over N, H, W of NCHW): the parallel C loop outside
// (an scf.parallel, which vitc-cpu-parallel-kernels may split over
// threads), then N, H, W with the accumulator as an iter_arg, loaded and
// stored once.
// CHECK-LABEL: func.func @bias_grad
// CHECK-SAME:    (%[[G:.*]]: memref<?x3x4x5xf32>, %[[OUT:.*]]: memref<3xf32>)
// CHECK:         scf.parallel (%[[C:.*]]) =
// CHECK:           %[[INIT:.*]] = memref.load %[[OUT]][%[[C]]]
// CHECK:           %[[SUM:.*]] = scf.for %[[N:.*]] = {{.*}} iter_args(%[[A0:.*]] = %[[INIT]])
// CHECK:             scf.for %[[H:.*]] = {{.*}} iter_args(%[[A1:.*]] = %[[A0]])
// CHECK:               scf.for %[[W:.*]] = {{.*}} iter_args(%[[A2:.*]] = %[[A1]])
// CHECK:                 %[[X:.*]] = memref.load %[[G]][%[[N]], %[[C]], %[[H]], %[[W]]]
// CHECK:                 %[[NEXT:.*]] = arith.addf %[[X]], %[[A2]] fastmath<reassoc> : f32
// CHECK:                 scf.yield %[[NEXT]]
// CHECK:           memref.store %[[SUM]], %[[OUT]][%[[C]]]
// CHECK:           scf.reduce
// CHECK-NOT:     linalg.generic
func.func @bias_grad(%g: memref<?x3x4x5xf32>, %out: memref<3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>],
                  iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : memref<?x3x4x5xf32>) outs(%out : memref<3xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc fastmath<reassoc> : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// linalg.index maps to the loop's induction variable; a scalar operand is
// used as is.
// CHECK-LABEL: func.func @weighted_row_sum
// CHECK:         scf.parallel (%[[I:.*]]) =
// CHECK:           scf.for %[[J:.*]] = {{.*}} iter_args
// CHECK:             %[[JI:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK:             arith.sitofp %[[JI]]
func.func @weighted_row_sum(%x: memref<2x8xf32>, %k: f32, %out: memref<2xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %k : memref<2x8xf32>, f32) outs(%out : memref<2xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i64
    %jf = arith.sitofp %ji : i64 to f32
    %w = arith.mulf %v, %jf : f32
    %ws = arith.mulf %w, %s : f32
    %r = arith.addf %ws, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A sum over rows (innermost loop parallel: it vectorises across the row)
// is left to convert-linalg-to-loops.
// CHECK-LABEL: func.func @column_sum
// CHECK:         linalg.generic
func.func @column_sum(%x: memref<64x128xf32>, %out: memref<128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<64x128xf32>) outs(%out : memref<128xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A full reduction (no parallel dim): no loop around the accumulator.
// CHECK-LABEL: func.func @total
// CHECK-NOT:     scf.parallel
// CHECK:         %[[INIT:.*]] = memref.load
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @total(%x: memref<64xf32>, %out: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x : memref<64xf32>) outs(%out : memref<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  }
  return
}
