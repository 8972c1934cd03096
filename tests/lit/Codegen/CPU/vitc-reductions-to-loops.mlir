// RUN: vitc-opt %s -split-input-file -vitc-reductions-to-loops | FileCheck %s

// A bias gradient (sum over N, H, W of NCHW): the parallel C loop outside
// (an scf.parallel, which vitc-cpu-parallel-kernels may split over
// threads), then N, H, W, the accumulators as iter_args. A float sum is a
// tree: each loop sums from zero and adds its total to the enclosing
// loop's once, and the output's value is added last.
// CHECK-LABEL: func.func @bias_grad
// CHECK-SAME:    (%[[G:.*]]: memref<?x3x4x5xf32>, %[[OUT:.*]]: memref<3xf32>)
// CHECK:         %[[ZERO:.*]] = arith.constant 0.0
// CHECK:         scf.parallel (%[[C:.*]]) =
// CHECK:           %[[INIT:.*]] = memref.load %[[OUT]][%[[C]]]
// CHECK:           %[[SUM:.*]] = scf.for %[[N:.*]] = {{.*}} iter_args(%[[A0:.*]] = %[[ZERO]])
// CHECK:             %[[ROWS:.*]] = scf.for %[[H:.*]] = {{.*}} iter_args(%[[A1:.*]] = %[[ZERO]])
// CHECK:               %[[ROW:.*]] = scf.for %[[W:.*]] = {{.*}} iter_args(%[[A2:.*]] = %[[ZERO]])
// CHECK:                 %[[X:.*]] = memref.load %[[G]][%[[N]], %[[C]], %[[H]], %[[W]]]
// CHECK:                 %[[NEXT:.*]] = arith.addf %[[X]], %[[A2]] fastmath<reassoc> : f32
// CHECK:                 scf.yield %[[NEXT]]
// CHECK:               %[[A1NEXT:.*]] = arith.addf %[[A1]], %[[ROW]] : f32
// CHECK:               scf.yield %[[A1NEXT]]
// CHECK:             %[[A0NEXT:.*]] = arith.addf %[[A0]], %[[ROWS]] : f32
// CHECK:             scf.yield %[[A0NEXT]]
// CHECK:           %[[TOTAL:.*]] = arith.addf %[[INIT]], %[[SUM]] : f32
// CHECK:           memref.store %[[TOTAL]], %[[OUT]][%[[C]]]
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
// CHECK:         %[[SUM:.*]] = scf.for {{.*}} iter_args
// CHECK:         arith.addf %[[INIT]], %[[SUM]]
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

// -----

// Long loops are cut into blocks, each summed from zero: the outer loop
// (100 rows) in blocks of 32 rows, the inner one (4096) in blocks of 1024.
// CHECK-LABEL: func.func @long_sum
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG:     %[[C100:.*]] = arith.constant 100 : index
// CHECK-DAG:     %[[C1024:.*]] = arith.constant 1024 : index
// CHECK-DAG:     %[[C4096:.*]] = arith.constant 4096 : index
// CHECK:         scf.for %[[I0:.*]] = %{{.*}} to %[[C100]] step %[[C32]]
// CHECK:           %[[I1:.*]] = arith.minsi {{.*}}, %[[C100]]
// CHECK:           scf.for %[[I:.*]] = %[[I0]] to %[[I1]] step
// CHECK:             scf.for %[[J0:.*]] = %{{.*}} to %[[C4096]] step %[[C1024]]
// CHECK:               %[[J1:.*]] = arith.minsi {{.*}}, %[[C4096]]
// CHECK:               scf.for %[[J:.*]] = %[[J0]] to %[[J1]] step
// CHECK:                 memref.load %{{.*}}[%[[I]], %[[J]]]
func.func @long_sum(%x: memref<100x4096xf32>, %out: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
                  iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<100x4096xf32>) outs(%out : memref<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A reduction that is not a float sum (a max) keeps one accumulator,
// starting from the output's value, through every loop.
// CHECK-LABEL: func.func @row_max
// CHECK:         %[[INIT:.*]] = memref.load
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
// CHECK:           scf.for {{.*}} iter_args
// CHECK:             arith.maximumf
func.func @row_max(%x: memref<2x8x16xf32>, %out: memref<2xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i)>],
                  iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x : memref<2x8x16xf32>) outs(%out : memref<2xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.maximumf %v, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// More blocks than 32 are summed in chunks of blocks: 65536 iterations are
// 2 chunks of 32 blocks of 1024.
// CHECK-LABEL: func.func @very_long_sum
// CHECK-DAG:     %[[C32768:.*]] = arith.constant 32768 : index
// CHECK-DAG:     %[[C1024:.*]] = arith.constant 1024 : index
// CHECK:         scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step %[[C32768]]
// CHECK:           %[[K1:.*]] = arith.minsi
// CHECK:           scf.for %[[J0:.*]] = %[[K0]] to %[[K1]] step %[[C1024]]
// CHECK:             %[[J1:.*]] = arith.minsi
// CHECK:             scf.for %{{.*}} = %[[J0]] to %[[J1]] step
func.func @very_long_sum(%x: memref<65536xf32>, %out: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x : memref<65536xf32>) outs(%out : memref<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %v, %acc : f32
    linalg.yield %r : f32
  }
  return
}
