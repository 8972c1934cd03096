// RUN: vitc-opt %s -split-input-file -vitc-linalg-to-library="kernel-prefix=vitc_gpu_ pools=false cudnn-conventions=true" | FileCheck %s
//
// The CUDA target's library calls (cuDNN on a GPU): only convolution calls
// that cuDNN takes, pools left to generated kernels.

// Symmetric padding is folded into the call, as on the CPU.
// CHECK-LABEL: func.func @conv_symmetric_pads
//   CHECK-NOT:   memref.copy
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_gpu_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C0]],
//   CHECK-NOT:   linalg.conv_2d_nchw_fchw
func.func @conv_symmetric_pads(%x: memref<?x3x8x8xf32>, %w: memref<4x3x3x3xf32>, %y: memref<?x4x8x8xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x3x8x8xf32>
  %padded = memref.alloc(%n) : memref<?x3x10x10xf32>
  linalg.fill ins(%cst : f32) outs(%padded : memref<?x3x10x10xf32>)
  %sv = memref.subview %padded[0, 0, 1, 1] [%n, 3, 8, 8] [1, 1, 1, 1] : memref<?x3x10x10xf32> to memref<?x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  memref.copy %x, %sv : memref<?x3x8x8xf32> to memref<?x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  linalg.fill ins(%cst : f32) outs(%y : memref<?x4x8x8xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%padded, %w : memref<?x3x10x10xf32>, memref<4x3x3x3xf32>) outs(%y : memref<?x4x8x8xf32>)
  return
}

// -----

// Padding of one row and column at the start only: cuDNN has one pad per
// dim, so the padded copy stays and the call reads it with zero pads.
// CHECK-LABEL: func.func @conv_asymmetric_pads
//       CHECK:   %[[PADDED:.*]] = memref.alloc(%{{.*}}) : memref<?x3x9x9xf32>
//       CHECK:   memref.copy
//   CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : i64
//       CHECK:   %[[IN:.*]] = memref.cast %[[PADDED]]
//       CHECK:   call @vitc_gpu_conv2d_f32(%[[IN]], %{{.*}}, %{{.*}}, %[[C2]], %[[C2]], %{{.*}}, %{{.*}}, %[[C0]], %[[C0]], %[[C0]], %[[C0]],
func.func @conv_asymmetric_pads(%x: memref<?x3x8x8xf32>, %w: memref<4x3x3x3xf32>, %y: memref<?x4x4x4xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x3x8x8xf32>
  %padded = memref.alloc(%n) : memref<?x3x9x9xf32>
  linalg.fill ins(%cst : f32) outs(%padded : memref<?x3x9x9xf32>)
  %sv = memref.subview %padded[0, 0, 1, 1] [%n, 3, 8, 8] [1, 1, 1, 1] : memref<?x3x9x9xf32> to memref<?x3x8x8xf32, strided<[243, 81, 9, 1], offset: 10>>
  memref.copy %x, %sv : memref<?x3x8x8xf32> to memref<?x3x8x8xf32, strided<[243, 81, 9, 1], offset: 10>>
  linalg.fill ins(%cst : f32) outs(%y : memref<?x4x4x4xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%padded, %w : memref<?x3x9x9xf32>, memref<4x3x3x3xf32>) outs(%y : memref<?x4x4x4xf32>)
  return
}

// -----

// A filter gradient's x^T and g^T: x^T becomes a strided view (cuDNN takes
// strided tensors), g^T, the filter, stays a packed copy.
// CHECK-LABEL: func.func @conv_transposed_filter_stays_packed
//  CHECK-SAME:   (%[[X:.*]]: memref<2x3x8x8xf32>, %[[G:.*]]: memref<2x4x6x6xf32>
//       CHECK:   %[[GT:.*]] = memref.alloc() : memref<4x2x6x6xf32>
//       CHECK:   linalg.transpose ins(%[[G]]
//       CHECK:   %[[XT:.*]] = memref.transpose %[[X]]
//       CHECK:   %[[XC:.*]] = memref.cast %[[XT]]
//       CHECK:   %[[GC:.*]] = memref.cast %[[GT]]
//       CHECK:   call @vitc_gpu_conv2d_f32(%[[XC]], %[[GC]],
func.func @conv_transposed_filter_stays_packed(%x: memref<2x3x8x8xf32>, %g: memref<2x4x6x6xf32>, %dw: memref<3x4x3x3xf32>) {
  %xt = memref.alloc() : memref<3x2x8x8xf32>
  linalg.transpose ins(%x : memref<2x3x8x8xf32>) outs(%xt : memref<3x2x8x8xf32>) permutation = [1, 0, 2, 3]
  %gt = memref.alloc() : memref<4x2x6x6xf32>
  linalg.transpose ins(%g : memref<2x4x6x6xf32>) outs(%gt : memref<4x2x6x6xf32>) permutation = [1, 0, 2, 3]
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xt, %gt : memref<3x2x8x8xf32>, memref<4x2x6x6xf32>) outs(%dw : memref<3x4x3x3xf32>)
  return
}

// -----

// A filter that is a strided view (a transposed weight): no call, the
// convolution stays a generated kernel.
// CHECK-LABEL: func.func @conv_strided_filter
//       CHECK:   linalg.conv_2d_nchw_fchw
//   CHECK-NOT:   call
func.func @conv_strided_filter(%x: memref<1x3x8x8xf32>, %w: memref<3x4x3x3xf32>, %y: memref<1x4x6x6xf32>) {
  %wt = memref.transpose %w (f, c, h, k) -> (c, f, h, k) : memref<3x4x3x3xf32> to memref<4x3x3x3xf32, strided<[9, 36, 3, 1]>>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %wt : memref<1x3x8x8xf32>, memref<4x3x3x3xf32, strided<[9, 36, 3, 1]>>) outs(%y : memref<1x4x6x6xf32>)
  return
}

// -----

// Pools stay linalg (generated kernels).
// CHECK-LABEL: func.func @max_pool
//       CHECK:   linalg.pooling_nchw_max
//   CHECK-NOT:   call
func.func @max_pool(%x: memref<1x3x8x8xf32>, %y: memref<1x3x4x4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %window = memref.alloc() : memref<2x2xf32>
  linalg.fill ins(%ninf : f32) outs(%y : memref<1x3x4x4xf32>)
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %window : memref<1x3x8x8xf32>, memref<2x2xf32>) outs(%y : memref<1x3x4x4xf32>)
  return
}
