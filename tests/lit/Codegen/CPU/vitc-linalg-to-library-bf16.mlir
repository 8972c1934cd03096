// RUN: vitc-opt %s -split-input-file -vitc-linalg-to-library | FileCheck %s

// Mixed precision: bf16 inputs accumulating into an f32 output call the
// _bf16 kernels, whose output descriptor is f32.
// CHECK-LABEL: func.func @matmul
//  CHECK-SAME: (%[[A:.*]]: memref<4x8xbf16>, %[[B:.*]]: memref<8x16xbf16>, %[[C:.*]]: memref<4x16xf32>)
//   CHECK-NOT:   linalg.fill
//   CHECK-DAG:   %[[FALSE:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[CA:.*]] = memref.cast %[[A]] : memref<4x8xbf16> to memref<?x?xbf16, strided<[?, ?], offset: ?>>
//   CHECK-DAG:   %[[CB:.*]] = memref.cast %[[B]] : memref<8x16xbf16> to memref<?x?xbf16, strided<[?, ?], offset: ?>>
//   CHECK-DAG:   %[[CC:.*]] = memref.cast %[[C]] : memref<4x16xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
//       CHECK:   call @vitc_cpu_matmul_bf16(%[[CA]], %[[CB]], %[[CC]], %[[FALSE]], %[[FALSE]], %[[FALSE]], %[[FALSE]])
//   CHECK-NOT:   linalg.matmul
//       CHECK: func.func private @vitc_cpu_matmul_bf16(memref<?x?xbf16, strided<[?, ?], offset: ?>>, memref<?x?xbf16, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64)
//  CHECK-SAME:   attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func @matmul(%a: memref<4x8xbf16>, %b: memref<8x16xbf16>, %c: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x16xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xbf16>, memref<8x16xbf16>) outs(%c : memref<4x16xf32>)
  return
}

// -----

// A transposed weight from the weights section (nn.Linear stored in bf16):
// constant B, transposed; the kernel accumulates onto the bias in C.
// CHECK-LABEL: func.func @linear_constant_b
//   CHECK-DAG:   %[[ZERO:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[ONE:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_matmul_bf16(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]], %[[ONE]], %[[ONE]], %[[ONE]])
func.func @linear_constant_b(%weights: memref<?xi8> {vt.name = "weights"}, %x: memref<?x64xbf16>, %y: memref<?x32xf32>) {
  %c64 = arith.constant 64 : index
  %w = memref.view %weights[%c64][] : memref<?xi8> to memref<32x64xbf16>
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : memref<?x64xbf16>, memref<32x64xbf16>) outs(%y : memref<?x32xf32>)
  return
}

// -----

// Attention scores q k^T as linalg writes them after fusion: a generic
// contraction whose body widens both bf16 inputs before the multiply-add.
// CHECK-LABEL: func.func @generic_scores
//  CHECK-SAME: (%[[Q:.*]]: memref<2x4x8xbf16>, %[[K:.*]]: memref<2x5x8xbf16>, %[[S:.*]]: memref<2x4x5xf32>)
//   CHECK-DAG:   %[[ZERO:.*]] = arith.constant 0 : i64
//   CHECK-DAG:   %[[ONE:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_cpu_batch_matmul_bf16(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]], %[[ONE]], %[[ZERO]], %[[ZERO]])
//  CHECK-SAME:     : (memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
//   CHECK-NOT:   linalg.generic
func.func @generic_scores(%q: memref<2x4x8xbf16>, %k: memref<2x5x8xbf16>, %s: memref<2x4x5xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<2x4x5xf32>)
  linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<2x4x8xbf16>, memref<2x5x8xbf16>) outs(%s : memref<2x4x5xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %wa = arith.extf %a : bf16 to f32
    %wb = arith.extf %b : bf16 to f32
    %p = arith.mulf %wa, %wb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Convolution: the padded bf16 copy is replaced by pads, the filter views
// the weights (constant); no zero fill precedes it, so the kernel adds to
// the output (accumulate = 1).
// CHECK-LABEL: func.func @conv
//  CHECK-SAME: (%[[WEIGHTS:.*]]: memref<?xi8> {vt.name = "weights"}, %[[X:.*]]: memref<?x3x8x8xbf16>, %[[Y:.*]]: memref<?x4x8x8xf32>)
//   CHECK-NOT:   memref.alloc
//   CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : i64
//   CHECK-DAG:   %[[CX:.*]] = memref.cast %[[X]] : memref<?x3x8x8xbf16> to memref<?x?x?x?xbf16, strided<[?, ?, ?, ?], offset: ?>>
//       CHECK:   call @vitc_cpu_conv2d_bf16(%[[CX]], %{{.*}}, %{{.*}}, %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %[[C1]], %{{[a-z0-9_]+}})
//  CHECK-SAME:     : (memref<?x?x?x?xbf16, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xbf16, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
//   CHECK-NOT:   linalg.conv_2d_nchw_fchw
func.func @conv(%weights: memref<?xi8> {vt.name = "weights"}, %x: memref<?x3x8x8xbf16>, %y: memref<?x4x8x8xf32>) {
  %cst = arith.constant 0.000000e+00 : bf16
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %w = memref.view %weights[%c64][] : memref<?xi8> to memref<4x3x3x3xbf16>
  %n = memref.dim %x, %c0 : memref<?x3x8x8xbf16>
  %padded = memref.alloc(%n) {alignment = 64 : i64} : memref<?x3x10x10xbf16>
  linalg.fill ins(%cst : bf16) outs(%padded : memref<?x3x10x10xbf16>)
  %sv = memref.subview %padded[0, 0, 1, 1] [%n, 3, 8, 8] [1, 1, 1, 1] : memref<?x3x10x10xbf16> to memref<?x3x8x8xbf16, strided<[300, 100, 10, 1], offset: 11>>
  memref.copy %x, %sv : memref<?x3x8x8xbf16> to memref<?x3x8x8xbf16, strided<[300, 100, 10, 1], offset: 11>>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%padded, %w : memref<?x3x10x10xbf16>, memref<4x3x3x3xbf16>) outs(%y : memref<?x4x8x8xf32>)
  return
}

// -----

// Grouped convolution in bf16.
// CHECK-LABEL: func.func @conv_grouped
//       CHECK:   call @vitc_cpu_conv2d_grouped_bf16(
//  CHECK-SAME:     memref<?x?x?x?x?xbf16, strided<[?, ?, ?, ?, ?], offset: ?>>, memref<?x?x?x?x?xbf16, strided<[?, ?, ?, ?, ?], offset: ?>>, memref<?x?x?x?x?xf32, strided<[?, ?, ?, ?, ?], offset: ?>>
func.func @conv_grouped(%x: memref<1x2x2x6x6xbf16>, %w: memref<2x3x2x3x3xbf16>, %y: memref<1x2x3x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x2x3x4x4xf32>)
  linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<1x2x2x6x6xbf16>, memref<2x3x2x3x3xbf16>) outs(%y : memref<1x2x3x4x4xf32>)
  return
}

// -----

// No kernel for these: a bf16 output (no f32 accumulation), operands of two
// types, f16 inputs. They stay linalg ops (then loops).
// CHECK-LABEL: func.func @no_kernel
//   CHECK-NOT:   call
//   CHECK-COUNT-3: linalg.matmul
//   CHECK-NOT:   call
func.func @no_kernel(%a: memref<4x8xbf16>, %b: memref<8x16xbf16>, %c: memref<4x16xbf16>, %bf: memref<8x16xf32>, %d: memref<4x16xf32>, %h: memref<4x8xf16>, %hb: memref<8x16xf16>) {
  linalg.matmul ins(%a, %b : memref<4x8xbf16>, memref<8x16xbf16>) outs(%c : memref<4x16xbf16>)
  linalg.matmul ins(%a, %bf : memref<4x8xbf16>, memref<8x16xf32>) outs(%d : memref<4x16xf32>)
  linalg.matmul ins(%h, %hb : memref<4x8xf16>, memref<8x16xf16>) outs(%d : memref<4x16xf32>)
  return
}

// -----

// The weight gradient of a linear layer on (N, T, C) activations, dW =
// x^T g over batch and tokens, as the folded flattening reshape leaves it:
// two reduction dims, one k.
// CHECK-LABEL: func.func @weight_gradient
//  CHECK-SAME: (%[[X:.*]]: memref<64x?x17xbf16>, %[[G:.*]]: memref<?x17x192xbf16>, %[[DW:.*]]: memref<64x192xf32>)
//   CHECK-DAG:   %[[X2:.*]] = memref.collapse_shape %[[X]] {{\[\[}}0], [1, 2]] : memref<64x?x17xbf16> into memref<64x?xbf16>
//   CHECK-DAG:   %[[G2:.*]] = memref.collapse_shape %[[G]] {{\[\[}}0, 1], [2]] : memref<?x17x192xbf16> into memref<?x192xbf16>
//       CHECK:   call @vitc_cpu_matmul_bf16(
//   CHECK-NOT:   linalg.generic
func.func @weight_gradient(%x: memref<64x?x17xbf16>, %g: memref<?x17x192xbf16>, %dw: memref<64x192xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%dw : memref<64x192xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, b, t) -> (m, b, t)>, affine_map<(m, n, b, t) -> (b, t, n)>, affine_map<(m, n, b, t) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %g : memref<64x?x17xbf16>, memref<?x17x192xbf16>) outs(%dw : memref<64x192xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %wa = arith.extf %a : bf16 to f32
    %wb = arith.extf %b : bf16 to f32
    %p = arith.mulf %wa, %wb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}
