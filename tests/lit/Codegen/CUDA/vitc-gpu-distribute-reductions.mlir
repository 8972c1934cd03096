// RUN: vitc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(vitc-gpu-distribute-reductions,canonicalize))" | FileCheck %s
//
// Reductions get kernels whose threads share a row: a warp per row for
// rows of a modest static length, a block per row for long or dynamic
// ones, two block-level stages for a full reduction.

// A layer-norm row sum (64 features): a warp per row, eight rows a block;
// the lanes stride through the row, the last block's extra rows are clamped
// onto the last row and store nothing.
// CHECK-LABEL: func.func @row_sum
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[ROWS:.*]] = memref.dim
// CHECK: %[[GRID:.*]] = arith.ceildivsi %[[ROWS]], %[[C8]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GRID]], {{.*}} threads(%[[TX:.*]], %[[TY:.*]], %{{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %[[C8]],
// CHECK:   %[[ROW0:.*]] = arith.addi %{{.*}}, %[[TY]]
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[ROW0]], %[[ROWS]]
// CHECK:   %[[ROW:.*]] = arith.select %[[IN]], %[[ROW0]]
// CHECK:   %[[PART:.*]] = scf.for %[[K:.*]] = %[[TX]] to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32)
// CHECK:     %[[X:.*]] = memref.load %{{.*}}[%{{.*}}, %[[K]]] : memref<?x64xf32>
// CHECK:     arith.addf %[[ACC]], %[[X]] : f32
// CHECK:   %[[SUM:.*]] = gpu.subgroup_reduce add %[[PART]] uniform : (f32) -> f32
// CHECK:   %[[LANE0:.*]] = arith.cmpi eq, %[[TX]]
// CHECK:   %[[WRITE:.*]] = arith.andi %[[LANE0]], %[[IN]]
// CHECK:   scf.if %[[WRITE]] {
// CHECK:     %[[OLD:.*]] = memref.load %{{.*}}[%[[ROW]]] : memref<?xf32>
// CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUM]] : f32
// CHECK:     memref.store %[[NEW]], %{{.*}}[%[[ROW]]] : memref<?xf32>
// CHECK-NOT: linalg.generic
#rows = affine_map<(r, k) -> (r, k)>
#row = affine_map<(r, k) -> (r)>
func.func @row_sum(%x: memref<?x64xf32>, %s: memref<?xf32>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Batch-norm statistics over N*H*W per channel (N dynamic): a block of 256
// threads per channel, the reduction dims delinearised from the lane's
// index, gpu.all_reduce across the block.
// CHECK-LABEL: func.func @channel_sum
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C8]], {{.*}} threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]],
// CHECK:   scf.for %[[K:.*]] = %[[TX]] to %{{.*}} step %{{.*}} iter_args
// CHECK:     memref.load %{{.*}}[%{{.*}}, %[[BX]], %{{.*}}, %{{.*}}] : memref<?x8x4x4xf32>
// CHECK:   gpu.all_reduce add %{{.*}} uniform {
// CHECK:   scf.if
// CHECK:     memref.store %{{.*}}, %{{.*}}[%[[BX]]] : memref<8xf32>
#nchw = affine_map<(c, n, h, w) -> (n, c, h, w)>
#c = affine_map<(c, n, h, w) -> (c)>
func.func @channel_sum(%x: memref<?x8x4x4xf32>, %s: memref<8xf32>) {
  linalg.generic {indexing_maps = [#nchw, #c], iterator_types = ["parallel", "reduction", "reduction", "reduction"]}
      ins(%x : memref<?x8x4x4xf32>) outs(%s : memref<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A bf16 row max: the partials are f32, the result truncated back.
// CHECK-LABEL: func.func @bf16_row_max
// CHECK: %[[NEG:.*]] = arith.constant 0xFF800000 : f32
// CHECK: gpu.launch
// CHECK:   scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[NEG]]) -> (f32)
// CHECK:     %[[X:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK:     arith.maximumf %[[ACC]], %[[X]] : f32
// CHECK:   gpu.subgroup_reduce maximumf
// CHECK:   scf.if
// CHECK:     %[[OLD:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK:     %[[MAX:.*]] = arith.maximumf %[[OLD]], %{{.*}} : f32
// CHECK:     arith.truncf %[[MAX]] : f32 to bf16
#rows = affine_map<(r, k) -> (r, k)>
#row = affine_map<(r, k) -> (r)>
func.func @bf16_row_max(%x: memref<?x197xbf16>, %m: memref<?xbf16>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x197xbf16>) outs(%m : memref<?xbf16>) {
  ^bb0(%in: bf16, %acc: bf16):
    %r = arith.maximumf %in, %acc : bf16
    linalg.yield %r : bf16
  }
  return
}

// -----

// A squared norm (a full reduction): 128 blocks each reduce a contiguous
// chunk into a partial, then one block adds the partials to the output.
// CHECK-LABEL: func.func @squared_norm
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: %[[TOTAL:.*]] = arith.muli %{{.*}}, %c16
// CHECK: %[[CHUNK:.*]] = arith.ceildivsi %[[TOTAL]], %[[C128]]
// CHECK: %[[PARTIALS:.*]] = memref.alloc() : memref<128xf32>
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C128]],
// CHECK:   %[[BEGIN:.*]] = arith.muli %[[B]], %[[CHUNK]]
// CHECK:   scf.for
// CHECK:     %[[X:.*]] = memref.load %{{.*}} : memref<?x16xf32>
// CHECK:     arith.mulf %[[X]], %[[X]] : f32
// CHECK:   gpu.all_reduce add
// CHECK:     memref.store %{{.*}}, %[[PARTIALS]][%[[B]]] : memref<128xf32>
// CHECK: gpu.launch
// CHECK:   scf.for
// CHECK:     memref.load %[[PARTIALS]]
// CHECK:   gpu.all_reduce add
// CHECK:     memref.store %{{.*}}, %{{.*}}[] : memref<f32>
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

// Left alone: a row shorter than a warp (a thread per row is enough), a
// column reduction (a thread per column reads contiguously), a contraction
// (an input broadcast along a parallel dim) and a product (no GPU combiner).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-4: linalg.generic
#rows = affine_map<(r, k) -> (r, k)>
#row = affine_map<(r, k) -> (r)>
#cols = affine_map<(c, k) -> (k, c)>
#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @left_alone(%short: memref<?x17xf32>, %s: memref<?xf32>,
                      %g: memref<?x768xf32>, %db: memref<768xf32>,
                      %a: memref<?x64xf32>, %b: memref<64x64xf32>, %c: memref<?x64xf32>,
                      %x: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%short : memref<?x17xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#cols, #row], iterator_types = ["parallel", "reduction"]}
      ins(%g : memref<?x768xf32>) outs(%db : memref<768xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x64xf32>, memref<64x64xf32>) outs(%c : memref<?x64xf32>) {
  ^bb0(%in: f32, %w: f32, %acc: f32):
    %p = arith.mulf %in, %w : f32
    %r = arith.addf %p, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x64xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.mulf %in, %acc : f32
    linalg.yield %r : f32
  }
  return
}
