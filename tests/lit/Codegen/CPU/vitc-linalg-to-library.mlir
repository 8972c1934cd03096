// RUN: vitc-opt %s -split-input-file -vitc-linalg-to-library | FileCheck %s

// The zero fill of the output is dropped: the kernel overwrites.
// CHECK-LABEL: func.func @matmul
//  CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8x16xf32>, %[[C:.*]]: memref<4x16xf32>)
//   CHECK-NOT:   linalg.fill
//   CHECK-DAG:   %[[FALSE:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[CA:.*]] = memref.cast %[[A]] : memref<4x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
//   CHECK-DAG:   %[[CB:.*]] = memref.cast %[[B]]
//   CHECK-DAG:   %[[CC:.*]] = memref.cast %[[C]]
//       CHECK:   call @vitc_cpu_matmul_f32(%[[CA]], %[[CB]], %[[CC]], %[[FALSE]], %[[FALSE]], %[[FALSE]], %[[FALSE]])
//  CHECK-SAME:     : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
//   CHECK-NOT:   linalg.matmul
//       CHECK: func.func private @vitc_cpu_matmul_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64)
//  CHECK-SAME:   attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func @matmul(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x16xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// -----

// x W^T with the bias broadcast into the output first: transposed B, and the
// kernel accumulates onto the bias. B is an argument, not a view of the
// weights: not constant. One declaration serves both calls.
// CHECK-LABEL: func.func @linear_transposed_b
//       CHECK:   linalg.generic
//   CHECK-DAG:   %[[ZERO:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[ONE:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]], %[[ONE]], %[[ONE]], %[[ZERO]])
//       CHECK:   call @vitc_cpu_matmul_f32(
//   CHECK-NOT:   linalg.matmul
//       CHECK: func.func private @vitc_cpu_matmul_f32
//   CHECK-NOT: func.func private @vitc_cpu_matmul_f32
func.func @linear_transposed_b(%x: memref<?x64xf32>, %w: memref<32x64xf32>, %bias: memref<32xf32>, %y: memref<?x32xf32>, %z: memref<?x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<32xf32>) outs(%y : memref<?x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : memref<?x64xf32>, memref<32x64xf32>) outs(%y : memref<?x32xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : memref<?x64xf32>, memref<32x64xf32>) outs(%z : memref<?x32xf32>)
  return
}

// -----

// The fill is read before the matmul: it stays and the kernel accumulates.
// CHECK-LABEL: func.func @fill_read_in_between
//       CHECK:   linalg.fill
//       CHECK:   memref.copy
//       CHECK:   %[[ZERO:.*]] = arith.constant 0 : i64
//       CHECK:   %[[ONE:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]], %[[ZERO]], %[[ONE]], %[[ZERO]])
func.func @fill_read_in_between(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>, %d: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x16xf32>)
  memref.copy %c, %d : memref<4x16xf32> to memref<4x16xf32>
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// -----

// Attention-style batched matmuls: q k^T (transposed B), and a weight
// shared by every batch (2-D B, expanded to a batch of one).
// CHECK-LABEL: func.func @batch_matmuls
//  CHECK-SAME: (%[[Q:.*]]: memref<2x4x8xf32>, %[[K:.*]]: memref<2x5x8xf32>, %[[S:.*]]: memref<2x4x5xf32>, %[[W:.*]]: memref<8x3xf32>, %[[O:.*]]: memref<2x4x3xf32>)
//   CHECK-DAG:   %[[ZERO:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[ONE:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_batch_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]], %[[ONE]], %[[ZERO]], %[[ZERO]])
//       CHECK:   %[[EW:.*]] = memref.expand_shape %[[W]] {{\[\[}}0, 1], [2]] output_shape [1, 8, 3] : memref<8x3xf32> into memref<1x8x3xf32>
//       CHECK:   %[[Z:.*]] = arith.constant 0 : i64
//       CHECK:   %[[CW:.*]] = memref.cast %[[EW]] : memref<1x8x3xf32> to memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
//       CHECK:   call @vitc_cpu_batch_matmul_f32(%{{.*}}, %[[CW]], %{{.*}}, %[[Z]], %[[Z]], %[[Z]], %[[Z]])
//       CHECK: func.func private @vitc_cpu_batch_matmul_f32(memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, i64, i64, i64, i64)
func.func @batch_matmuls(%q: memref<2x4x8xf32>, %k: memref<2x5x8xf32>, %s: memref<2x4x5xf32>, %w: memref<8x3xf32>, %o: memref<2x4x3xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<2x4x5xf32>)
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q, %k : memref<2x4x8xf32>, memref<2x5x8xf32>) outs(%s : memref<2x4x5xf32>)
  linalg.fill ins(%zero : f32) outs(%o : memref<2x4x3xf32>)
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q, %w : memref<2x4x8xf32>, memref<8x3xf32>) outs(%o : memref<2x4x3xf32>)
  return
}

// -----

// Convolution on the padded copy the lowering materialised (bufferized
// tensor.pad: alloc + fill + copy into a subview): the kernel reads the
// unpadded input and gets the pads; the padded buffer disappears. The
// dynamic batch does not matter: the padded dims are static.
// CHECK-LABEL: func.func @conv_padded
//  CHECK-SAME: (%[[X:.*]]: memref<?x3x8x8xf32>, %[[W:.*]]: memref<4x3x3x3xf32>, %[[Y:.*]]: memref<?x4x4x4xf32>)
//   CHECK-NOT:   memref.alloc
//   CHECK-NOT:   memref.copy
//   CHECK-NOT:   linalg.map
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//   CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : i64
//   CHECK-DAG:   %[[CX:.*]] = memref.cast %[[X]] : memref<?x3x8x8xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
//       CHECK:   call @vitc_cpu_conv2d_f32(%[[CX]], %{{.*}}, %{{.*}}, %[[C2]], %[[C2]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C0]], %[[C0]], %[[C0]])
//   CHECK-NOT:   linalg.conv_2d_nchw_fchw
func.func @conv_padded(%x: memref<?x3x8x8xf32>, %w: memref<4x3x3x3xf32>, %y: memref<?x4x4x4xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x3x8x8xf32>
  %padded = memref.alloc(%n) {alignment = 64 : i64} : memref<?x3x10x10xf32>
  // Shaped as the bufferized tensor.pad really is: the map body keeps the
  // dead linalg.index ops of the pad's region.
  linalg.map outs(%padded : memref<?x3x10x10xf32>)
    (%init: f32) {
      %i0 = linalg.index 0 : index
      %i1 = linalg.index 1 : index
      %i2 = linalg.index 2 : index
      %i3 = linalg.index 3 : index
      linalg.yield %cst : f32
    }
  %sv = memref.subview %padded[0, 0, 1, 1] [%n, 3, 8, 8] [1, 1, 1, 1] : memref<?x3x10x10xf32> to memref<?x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  memref.copy %x, %sv : memref<?x3x8x8xf32> to memref<?x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  linalg.fill ins(%cst : f32) outs(%y : memref<?x4x4x4xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%padded, %w : memref<?x3x10x10xf32>, memref<4x3x3x3xf32>) outs(%y : memref<?x4x4x4xf32>)
  return
}

// -----

// Asymmetric, dynamic spatial padding: bottom/right are computed at run
// time as padded size - top - source size.
// CHECK-LABEL: func.func @conv_padded_dynamic
//  CHECK-SAME: (%[[X:[^:]*]]: memref<1x2x?x?xf32>, %{{[^:]*}}: memref<3x2x3x3xf32>, %{{[^:]*}}: memref<1x3x?x?xf32>, %[[PH:[^:]*]]: index,
//   CHECK-NOT:   memref.alloc
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//   CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : i64
//       CHECK:   %[[SH:.*]] = memref.dim %[[X]], %c2
//       CHECK:   %[[DH:.*]] = arith.subi %[[PH]], %[[SH]] : index
//       CHECK:   %[[DH64:.*]] = arith.index_cast %[[DH]] : index to i64
//       CHECK:   %[[PB:.*]] = arith.subi %[[DH64]], %[[C2]] : i64
//       CHECK:   %[[PR:.*]] = arith.subi %{{.*}}, %[[C1]] : i64
//       CHECK:   %[[C0:.*]] = arith.constant 0 : i64
//       CHECK:   call @vitc_cpu_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C2]], %[[C1]], %[[PB]], %[[PR]], %[[C0]], %[[C0]], %[[C0]])
func.func @conv_padded_dynamic(%x: memref<1x2x?x?xf32>, %w: memref<3x2x3x3xf32>, %y: memref<1x3x?x?xf32>, %ph: index, %pw: index, %h: index, %wd: index) {
  %cst = arith.constant 0.000000e+00 : f32
  %padded = memref.alloc(%ph, %pw) : memref<1x2x?x?xf32>
  linalg.fill ins(%cst : f32) outs(%padded : memref<1x2x?x?xf32>)
  %sv = memref.subview %padded[0, 0, 2, 1] [1, 2, %h, %wd] [1, 1, 1, 1] : memref<1x2x?x?xf32> to memref<1x2x?x?xf32, strided<[?, ?, ?, 1], offset: ?>>
  memref.copy %x, %sv : memref<1x2x?x?xf32> to memref<1x2x?x?xf32, strided<[?, ?, ?, 1], offset: ?>>
  linalg.fill ins(%cst : f32) outs(%y : memref<1x3x?x?xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%padded, %w : memref<1x2x?x?xf32>, memref<3x2x3x3xf32>) outs(%y : memref<1x3x?x?xf32>)
  return
}

// -----

// The padded buffer is padded with ones, not zeros: the padded copy stays
// and the kernel reads it with zero pads.
// CHECK-LABEL: func.func @conv_pad_not_zero
//       CHECK:   %[[P:.*]] = memref.alloc
//       CHECK:   memref.copy
//       CHECK:   %[[CP:.*]] = memref.cast %[[P]]
//       CHECK:   call @vitc_cpu_conv2d_f32(%[[CP]]
func.func @conv_pad_not_zero(%x: memref<1x1x4x4xf32>, %w: memref<1x1x3x3xf32>, %y: memref<1x1x4x4xf32>) {
  %one = arith.constant 1.0 : f32
  %cst = arith.constant 0.0 : f32
  %padded = memref.alloc() : memref<1x1x6x6xf32>
  linalg.fill ins(%one : f32) outs(%padded : memref<1x1x6x6xf32>)
  %sv = memref.subview %padded[0, 0, 1, 1] [1, 1, 4, 4] [1, 1, 1, 1] : memref<1x1x6x6xf32> to memref<1x1x4x4xf32, strided<[36, 36, 6, 1], offset: 7>>
  memref.copy %x, %sv : memref<1x1x4x4xf32> to memref<1x1x4x4xf32, strided<[36, 36, 6, 1], offset: 7>>
  linalg.fill ins(%cst : f32) outs(%y : memref<1x1x4x4xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%padded, %w : memref<1x1x6x6xf32>, memref<1x1x3x3xf32>) outs(%y : memref<1x1x4x4xf32>)
  return
}

// -----

// Grouped convolution (depthwise here: 4 groups of 1 channel).
// CHECK-LABEL: func.func @conv_grouped
//       CHECK:   call @vitc_cpu_conv2d_grouped_f32({{.*}}) : (memref<?x?x?x?x?xf32, strided<[?, ?, ?, ?, ?], offset: ?>>, memref<?x?x?x?x?xf32, strided<[?, ?, ?, ?, ?], offset: ?>>, memref<?x?x?x?x?xf32, strided<[?, ?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
func.func @conv_grouped(%x: memref<1x4x1x8x8xf32>, %w: memref<4x1x1x3x3xf32>, %y: memref<1x4x1x6x6xf32>) {
  %cst = arith.constant 0.0 : f32
  linalg.fill ins(%cst : f32) outs(%y : memref<1x4x1x6x6xf32>)
  linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<1x4x1x8x8xf32>, memref<4x1x1x3x3xf32>) outs(%y : memref<1x4x1x6x6xf32>)
  return
}

// -----

// Max pooling padded with -inf; the -inf init of the output is dropped.
// CHECK-LABEL: func.func @max_pool
//  CHECK-SAME: (%[[X:.*]]: memref<1x3x8x8xf32>
//   CHECK-NOT:   memref.alloc
//   CHECK-NOT:   linalg.fill
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//   CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : i64
//   CHECK-DAG:   %[[C3:.*]] = arith.constant 3 : i64
//   CHECK-DAG:   %[[CX:.*]] = memref.cast %[[X]]
//       CHECK:   call @vitc_cpu_max_pool2d_f32(%[[CX]], %{{.*}}, %[[C3]], %[[C3]], %[[C2]], %[[C2]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]])
//   CHECK-NOT:   linalg.pooling
func.func @max_pool(%x: memref<1x3x8x8xf32>, %y: memref<1x3x4x4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %padded = memref.alloc() : memref<1x3x10x10xf32>
  linalg.fill ins(%ninf : f32) outs(%padded : memref<1x3x10x10xf32>)
  %sv = memref.subview %padded[0, 0, 1, 1] [1, 3, 8, 8] [1, 1, 1, 1] : memref<1x3x10x10xf32> to memref<1x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  memref.copy %x, %sv : memref<1x3x8x8xf32> to memref<1x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  %window = memref.alloc() : memref<3x3xf32>
  linalg.fill ins(%ninf : f32) outs(%y : memref<1x3x4x4xf32>)
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%padded, %window : memref<1x3x10x10xf32>, memref<3x3xf32>) outs(%y : memref<1x3x4x4xf32>)
  return
}

// -----

// Sum pooling (the numerator of an average pool); a non-zero init cannot be
// expressed by the kernel: that pooling stays a linalg op.
// CHECK-LABEL: func.func @sum_pool
//       CHECK:   call @vitc_cpu_sum_pool2d_f32
//       CHECK:   linalg.fill
//       CHECK:   linalg.pooling_nchw_sum
func.func @sum_pool(%x: memref<2x3x8x8xf32>, %y: memref<2x3x4x4xf32>, %z: memref<2x3x4x4xf32>) {
  %cst = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %window = memref.alloc() : memref<2x2xf32>
  linalg.fill ins(%cst : f32) outs(%y : memref<2x3x4x4xf32>)
  linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %window : memref<2x3x8x8xf32>, memref<2x2xf32>) outs(%y : memref<2x3x4x4xf32>)
  linalg.fill ins(%one : f32) outs(%z : memref<2x3x4x4xf32>)
  linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %window : memref<2x3x8x8xf32>, memref<2x2xf32>) outs(%z : memref<2x3x4x4xf32>)
  return
}

// -----

// Element types without a kernel yet stay linalg.
// CHECK-LABEL: func.func @matmul_f16
//       CHECK:   linalg.matmul
//   CHECK-NOT:   call
func.func @matmul_f16(%a: memref<4x8xf16>, %b: memref<8x16xf16>, %c: memref<4x16xf16>) {
  linalg.matmul ins(%a, %b : memref<4x8xf16>, memref<8x16xf16>) outs(%c : memref<4x16xf16>)
  return
}

// -----

// A filter that views the weights argument is constant: the kernel may cache
// it reordered (last argument 1; no init fill, so accumulate = 1 too).
// CHECK-LABEL: func.func @conv_constant_filter
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_conv2d_f32({{.*}}, %[[C0]], %[[C0]], %[[C1]], %[[C1]], %[[C0]])
func.func @conv_constant_filter(%weights: memref<?xi8> {vt.name = "weights"}, %x: memref<1x3x8x8xf32>, %y: memref<1x4x6x6xf32>) {
  %c64 = arith.constant 64 : index
  %w = memref.view %weights[%c64][] : memref<?xi8> to memref<4x3x3x3xf32>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<1x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<1x4x6x6xf32>)
  return
}

// -----

// A B operand that views the weights argument (nn.Linear's transposed
// weight) is constant: the kernel may cache it packed (last argument 1).
// The zero fill goes, so accumulate = 0.
// CHECK-LABEL: func.func @matmul_constant_b
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_matmul_f32({{.*}}, %[[C0]], %[[C1]], %[[C0]], %[[C1]])
func.func @matmul_constant_b(%weights: memref<?xi8> {vt.name = "weights"}, %x: memref<4x8xf32>, %y: memref<4x16xf32>) {
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %w = memref.view %weights[%c64][] : memref<?xi8> to memref<16x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<4x16xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : memref<4x8xf32>, memref<16x8xf32>) outs(%y : memref<4x16xf32>)
  return
}

// -----

// Only B counts: a weights view as A (and a computed B) is not constant.
// CHECK-LABEL: func.func @matmul_constant_a
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//       CHECK:   call @vitc_cpu_matmul_f32({{.*}}, %[[C0]], %[[C0]], %[[C0]], %[[C0]])
func.func @matmul_constant_a(%weights: memref<?xi8> {vt.name = "weights"}, %x: memref<8x16xf32>, %y: memref<4x16xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %w = memref.view %weights[%c0][] : memref<?xi8> to memref<4x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<4x16xf32>)
  linalg.matmul ins(%w, %x : memref<4x8xf32>, memref<8x16xf32>) outs(%y : memref<4x16xf32>)
  return
}

// -----

// A Linear layer on (N, T, C) with a transposed weight from the weights
// argument, as a generic contraction: the expanded (batch 1) B is constant.
#lin_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#lin_w = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#lin_y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @generic_linear_constant_b
//       CHECK:   memref.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, 6, 8]
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_batch_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0]], %[[C1]], %[[C0]], %[[C1]])
//   CHECK-NOT:   linalg.generic
func.func @generic_linear_constant_b(%weights: memref<?xi8> {vt.name = "weights"}, %a: memref<2x5x8xf32>, %c: memref<2x5x6xf32>) {
  %c128 = arith.constant 128 : index
  %cst = arith.constant 0.000000e+00 : f32
  %w = memref.view %weights[%c128][] : memref<?xi8> to memref<6x8xf32>
  linalg.fill ins(%cst : f32) outs(%c : memref<2x5x6xf32>)
  linalg.generic {indexing_maps = [#lin_x, #lin_w, #lin_y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<2x5x8xf32>, memref<6x8xf32>) outs(%c : memref<2x5x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A Linear layer on (T, B, C) as the importer lowers it: a generic
// contraction with the weight shared by the leading dim. It becomes a
// batch_matmul with B given a unit batch dim.
#lhs = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#rhs = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#out = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @generic_linear
//   CHECK-NOT:   linalg.fill
//       CHECK:   %[[B:.*]] = memref.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, 8, 6]
//       CHECK:   call @vitc_cpu_batch_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0:.*]], %[[C0]], %[[C0]], %[[C0]])
//   CHECK-NOT:   linalg.generic
func.func @generic_linear(%a: memref<5x?x8xf32>, %b: memref<8x6xf32>, %c: memref<5x?x6xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.fill ins(%cst : f32) outs(%c : memref<5x?x6xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<5x?x8xf32>, memref<8x6xf32>) outs(%c : memref<5x?x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Attention scores Q.K^T with two batch dims (N, heads), K read transposed:
// the batch dims collapse into one.
#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @generic_attention_scores
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//   CHECK-DAG:   memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] : memref<?x4x7x16xf32> into memref<?x7x16xf32>
//       CHECK:   call @vitc_cpu_batch_matmul_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0]], %[[C1]], %[[C1]], %[[C0]])
//   CHECK-NOT:   linalg.generic
func.func @generic_attention_scores(%q: memref<?x4x7x16xf32>, %k: memref<?x4x9x16xf32>, %s: memref<?x4x7x9xf32>) {
  linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x4x7x16xf32>, memref<?x4x9x16xf32>) outs(%s : memref<?x4x7x9xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A contraction whose combiner is not mul-add (max-plus) stays a loop nest.
#ma = affine_map<(d0, d1, d2) -> (d0, d2)>
#mb = affine_map<(d0, d1, d2) -> (d2, d1)>
#mc = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @generic_not_mul_add
//   CHECK-NOT:   call
//       CHECK:   linalg.generic
func.func @generic_not_mul_add(%a: memref<4x8xf32>, %b: memref<8x6xf32>, %c: memref<4x6xf32>) {
  linalg.generic {indexing_maps = [#ma, #mb, #mc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x6xf32>) outs(%c : memref<4x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.addf %x, %y : f32
    %r = arith.maximumf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Attention's output projection after the head merge folded into it: two
// reduction dims (heads x head_dim) that run contiguously through A and B
// are one k. Both are collapsed; the leading batch dim becomes the kernel's
// batch with a shared B.
// CHECK-LABEL: func.func @generic_two_reduction_dims
//  CHECK-SAME: (%[[A:.*]]: memref<2x5x4x16xf32>, %[[B:.*]]: memref<4x16x64xf32>, %[[C:.*]]: memref<2x5x64xf32>)
//   CHECK-DAG:   %[[A3:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0], [1], [2, 3]] : memref<2x5x4x16xf32> into memref<2x5x64xf32>
//   CHECK-DAG:   %[[B2:.*]] = memref.collapse_shape %[[B]] {{\[\[}}0, 1], [2]] : memref<4x16x64xf32> into memref<64x64xf32>
//       CHECK:   %[[B3:.*]] = memref.expand_shape %[[B2]] {{\[\[}}0, 1], [2]]
//       CHECK:   call @vitc_cpu_batch_matmul_f32(
//   CHECK-NOT:   linalg.generic
func.func @generic_two_reduction_dims(%a: memref<2x5x4x16xf32>, %b: memref<4x16x64xf32>, %c: memref<2x5x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<2x5x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(b, m, n, h, d) -> (b, m, h, d)>, affine_map<(b, m, n, h, d) -> (h, d, n)>, affine_map<(b, m, n, h, d) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%a, %b : memref<2x5x4x16xf32>, memref<4x16x64xf32>) outs(%c : memref<2x5x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Reduction dims in different orders in A and B, or not adjacent: not one
// k; the op stays a loop nest.
// CHECK-LABEL: func.func @generic_reduction_dims_mismatch
//   CHECK-NOT:   call
//       CHECK:   linalg.generic
//       CHECK:   linalg.generic
//   CHECK-NOT:   call
func.func @generic_reduction_dims_mismatch(%a: memref<5x4x16xf32>, %b: memref<16x4x64xf32>, %a2: memref<4x5x16xf32>, %b2: memref<4x16x64xf32>, %c: memref<5x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, h, d) -> (m, h, d)>, affine_map<(m, n, h, d) -> (d, h, n)>, affine_map<(m, n, h, d) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a, %b : memref<5x4x16xf32>, memref<16x4x64xf32>) outs(%c : memref<5x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, h, d) -> (h, m, d)>, affine_map<(m, n, h, d) -> (h, d, n)>, affine_map<(m, n, h, d) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a2, %b2 : memref<4x5x16xf32>, memref<4x16x64xf32>) outs(%c : memref<5x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A filter gradient's x^T and g^T, transposed just for the convolution: the
// kernel reads strided views of x and g, the copies and their buffers go.
// CHECK-LABEL: func.func @conv_transposed_inputs
//  CHECK-SAME:   (%[[X:.*]]: memref<2x3x8x8xf32>, %[[G:.*]]: memref<2x4x6x6xf32>
//   CHECK-NOT:   linalg.transpose
//   CHECK-NOT:   memref.alloc
//       CHECK:   %[[XT:.*]] = memref.transpose %[[X]] (d0, d1, d2, d3) -> (d1, d0, d2, d3) : memref<2x3x8x8xf32> to memref<3x2x8x8xf32, strided<[64, 192, 8, 1]>>
//       CHECK:   %[[GT:.*]] = memref.transpose %[[G]] (d0, d1, d2, d3) -> (d1, d0, d2, d3)
//       CHECK:   %[[XC:.*]] = memref.cast %[[XT]]
//       CHECK:   %[[GC:.*]] = memref.cast %[[GT]]
//       CHECK:   call @vitc_cpu_conv2d_f32(%[[XC]], %[[GC]],
//   CHECK-NOT:   linalg.transpose
func.func @conv_transposed_inputs(%x: memref<2x3x8x8xf32>, %g: memref<2x4x6x6xf32>, %dw: memref<3x4x3x3xf32>) {
  %xt = memref.alloc() : memref<3x2x8x8xf32>
  linalg.transpose ins(%x : memref<2x3x8x8xf32>) outs(%xt : memref<3x2x8x8xf32>) permutation = [1, 0, 2, 3]
  %gt = memref.alloc() : memref<4x2x6x6xf32>
  linalg.transpose ins(%g : memref<2x4x6x6xf32>) outs(%gt : memref<4x2x6x6xf32>) permutation = [1, 0, 2, 3]
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xt, %gt : memref<3x2x8x8xf32>, memref<4x2x6x6xf32>) outs(%dw : memref<3x4x3x3xf32>)
  return
}

// -----

// The copy stays where the view would read other data: x is overwritten
// after the transpose (bufferization reused its buffer), x^T is read again
// after the convolution, or the transposed buffer is returned.
// CHECK-LABEL: func.func @conv_transposed_copy_needed
//  CHECK-COUNT-3: linalg.transpose
//  CHECK-NOT:     memref.transpose
func.func @conv_transposed_copy_needed(%x: memref<2x3x8x8xf32>, %g: memref<4x2x6x6xf32>, %dw: memref<3x4x3x3xf32>, %out: memref<3x2x8x8xf32>) -> memref<3x2x8x8xf32> {
  %cst = arith.constant 0.0 : f32
  %xt = memref.alloc() : memref<3x2x8x8xf32>
  linalg.transpose ins(%x : memref<2x3x8x8xf32>) outs(%xt : memref<3x2x8x8xf32>) permutation = [1, 0, 2, 3]
  linalg.fill ins(%cst : f32) outs(%x : memref<2x3x8x8xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xt, %g : memref<3x2x8x8xf32>, memref<4x2x6x6xf32>) outs(%dw : memref<3x4x3x3xf32>)
  %xt2 = memref.alloc() : memref<3x2x8x8xf32>
  linalg.transpose ins(%x : memref<2x3x8x8xf32>) outs(%xt2 : memref<3x2x8x8xf32>) permutation = [1, 0, 2, 3]
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xt2, %g : memref<3x2x8x8xf32>, memref<4x2x6x6xf32>) outs(%dw : memref<3x4x3x3xf32>)
  memref.copy %xt2, %out : memref<3x2x8x8xf32> to memref<3x2x8x8xf32>
  %xt3 = memref.alloc() : memref<3x2x8x8xf32>
  linalg.transpose ins(%x : memref<2x3x8x8xf32>) outs(%xt3 : memref<3x2x8x8xf32>) permutation = [1, 0, 2, 3]
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xt3, %g : memref<3x2x8x8xf32>, memref<4x2x6x6xf32>) outs(%dw : memref<3x4x3x3xf32>)
  return %xt3 : memref<3x2x8x8xf32>
}

// -----

// A Linear weight's gradient as the autodiff writes it: x^T g, transposed
// into the weight's layout. x^T becomes a view of x, and the product is
// computed transposed, g^T x (operands swapped, transpose flags flipped),
// straight into the destination: no copy is left.
// CHECK-LABEL: func.func @matmul_transposed_in_and_out
//  CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[G:.*]]: memref<4x16xf32>
//   CHECK-DAG:   %[[FALSE:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[TRUE:.*]] = arith.constant 1 : i64
//   CHECK-DAG:   %[[DW:.*]] = memref.alloc() : memref<16x8xf32>
//   CHECK-DAG:   %[[XT:.*]] = memref.transpose %[[X]] (d0, d1) -> (d1, d0)
//   CHECK-DAG:   %[[CG:.*]] = memref.cast %[[G]]
//   CHECK-DAG:   %[[CXT:.*]] = memref.cast %[[XT]]
//   CHECK-DAG:   %[[CDW:.*]] = memref.cast %[[DW]]
//       CHECK:   call @vitc_cpu_matmul_f32(%[[CG]], %[[CXT]], %[[CDW]], %[[TRUE]], %[[TRUE]], %[[FALSE]], %[[FALSE]])
//   CHECK-NOT:   linalg.transpose
//       CHECK:   return %[[DW]]
func.func @matmul_transposed_in_and_out(%x: memref<4x8xf32>, %g: memref<4x16xf32>) -> memref<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %xt = memref.alloc() : memref<8x4xf32>
  linalg.transpose ins(%x : memref<4x8xf32>) outs(%xt : memref<8x4xf32>) permutation = [1, 0]
  %c = memref.alloc() : memref<8x16xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<8x16xf32>)
  linalg.matmul ins(%xt, %g : memref<8x4xf32>, memref<4x16xf32>) outs(%c : memref<8x16xf32>)
  %dw = memref.alloc() : memref<16x8xf32>
  linalg.transpose ins(%c : memref<8x16xf32>) outs(%dw : memref<16x8xf32>) permutation = [1, 0]
  return %dw : memref<16x8xf32>
}

// -----

// The product is read untransposed too, or the destination is an operand's
// buffer: it stays as computed, and the transpose stays.
// CHECK-LABEL: func.func @matmul_output_read_twice
//       CHECK:   call @vitc_cpu_matmul_f32
//       CHECK:   linalg.transpose
//       CHECK:   call @vitc_cpu_matmul_f32
//       CHECK:   linalg.transpose
func.func @matmul_output_read_twice(%a: memref<8x8xf32>, %g: memref<8x8xf32>, %out: memref<8x8xf32>) -> memref<8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<8x8xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<8x8xf32>)
  linalg.matmul ins(%a, %g : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>)
  %t = memref.alloc() : memref<8x8xf32>
  linalg.transpose ins(%c : memref<8x8xf32>) outs(%t : memref<8x8xf32>) permutation = [1, 0]
  memref.copy %c, %out : memref<8x8xf32> to memref<8x8xf32>
  %c2 = memref.alloc() : memref<8x8xf32>
  linalg.fill ins(%zero : f32) outs(%c2 : memref<8x8xf32>)
  linalg.matmul ins(%a, %g : memref<8x8xf32>, memref<8x8xf32>) outs(%c2 : memref<8x8xf32>)
  linalg.transpose ins(%c2 : memref<8x8xf32>) outs(%a : memref<8x8xf32>) permutation = [1, 0]
  return %t : memref<8x8xf32>
}

// -----

// A linear layer's weight gradient x^T g on (batch, tokens, features), the
// transpose made through a reshape (its destination an expand_shape of a
// (features, batch * tokens) buffer, as reshape propagation leaves it): the
// matmul reads x in place through a strided view (features stride 1), batch
// and tokens collapsed into k; the copy, its buffer and the fill are gone.
#wg_a = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#wg_b = affine_map<(d0, d1, d2, d3) -> (d2, d3, d1)>
#wg_c = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @weight_grad_transposed_reshape
//  CHECK-SAME:   (%[[X:.*]]: memref<?x17x256xf32>, %[[G:.*]]: memref<?x17x64xf32>, %[[DW:.*]]: memref<256x64xf32>)
//   CHECK-NOT:   memref.alloc
//   CHECK-NOT:   linalg.transpose
//   CHECK-NOT:   linalg.fill
//       CHECK:   %[[XT:.*]] = memref.transpose %[[X]] (d0, d1, d2) -> (d2, d0, d1)
//       CHECK:   %[[A:.*]] = memref.collapse_shape %[[XT]] {{\[\[}}0], [1, 2]] : {{.*}} into memref<256x?xf32, strided<[1, 256]>>
//       CHECK:   %[[B:.*]] = memref.collapse_shape %[[G]] {{\[\[}}0, 1], [2]]
//       CHECK:   %[[AC:.*]] = memref.cast %[[A]]
//       CHECK:   %[[BC:.*]] = memref.cast %[[B]]
//       CHECK:   %[[CC:.*]] = memref.cast %[[DW]]
//       CHECK:   call @vitc_cpu_matmul_f32(%[[AC]], %[[BC]], %[[CC]],
//   CHECK-NOT:   linalg.transpose
//   CHECK-NOT:   linalg.generic
func.func @weight_grad_transposed_reshape(%x: memref<?x17x256xf32>, %g: memref<?x17x64xf32>, %dw: memref<256x64xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %n = memref.dim %x, %c0 : memref<?x17x256xf32>
  %c17 = arith.constant 17 : index
  %rows = arith.muli %n, %c17 : index
  %buf = memref.alloc(%rows) : memref<256x?xf32>
  %xt = memref.expand_shape %buf [[0], [1, 2]] output_shape [256, %n, 17] : memref<256x?xf32> into memref<256x?x17xf32>
  linalg.transpose ins(%x : memref<?x17x256xf32>) outs(%xt : memref<256x?x17xf32>) permutation = [2, 0, 1]
  linalg.fill ins(%cst : f32) outs(%dw : memref<256x64xf32>)
  linalg.generic {indexing_maps = [#wg_a, #wg_b, #wg_c], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%xt, %g : memref<256x?x17xf32>, memref<?x17x64xf32>) outs(%dw : memref<256x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
