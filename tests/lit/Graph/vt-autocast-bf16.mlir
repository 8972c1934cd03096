// RUN: vitc-opt %s -split-input-file -vt-autocast-bf16 | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vt-autocast-bf16=ops=matmul | FileCheck %s --check-prefix=MATMUL
// RUN: vitc-opt %s -split-input-file -vt-autocast-bf16=fold-constants=false | FileCheck %s --check-prefix=NOFOLD
// RUN: not vitc-opt %s -split-input-file -vt-autocast-bf16=ops=gelu 2>&1 | FileCheck %s --check-prefix=BADOP

// BADOP: error: vt-autocast-bf16: unknown op kind 'gelu' in ops (expected matmul or conv2d)

// A linear layer: both operands in bf16, the product accumulates and stays
// in f32, so the bias add and the softmax read f32 with no cast between.
// CHECK-LABEL: func.func @linear
//  CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[W:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<16xf32>)
//   CHECK-DAG:   %[[WB:.*]] = vt.cast %[[W]] : tensor<8x16xf32> -> tensor<8x16xbf16>
//   CHECK-DAG:   %[[XB:.*]] = vt.cast %[[X]] : tensor<?x8xf32> -> tensor<?x8xbf16>
//       CHECK:   %[[Y:.*]] = vt.matmul %[[XB]], %[[WB]] : tensor<?x8xbf16>, tensor<8x16xbf16> -> tensor<?x16xf32>
//   CHECK-NOT:   vt.cast
//       CHECK:   %[[YB:.*]] = vt.add %[[Y]], %[[B]] : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
//       CHECK:   vt.softmax %[[YB]] {axis = 1 : i64} : tensor<?x16xf32>
func.func @linear(%x: tensor<?x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %y = vt.matmul %x, %w : tensor<?x8xf32>, tensor<8x16xf32> -> tensor<?x16xf32>
  %yb = vt.add %y, %b : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  %p = vt.softmax %yb {axis = 1} : tensor<?x16xf32>
  return %p : tensor<?x16xf32>
}

// -----

// One cast per value, shared: x feeds three projections (q, k, v) and w two
// of them; the scores q k^T read two f32 results, each cast right after it
// is computed.
// CHECK-LABEL: func.func @shared_casts
//  CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32>, %[[V:.*]]: tensor<8x8xf32>)
//  CHECK-NEXT:   %[[VB:.*]] = vt.cast %[[V]] : tensor<8x8xf32> -> tensor<8x8xbf16>
//  CHECK-NEXT:   %[[WB:.*]] = vt.cast %[[W]] : tensor<8x8xf32> -> tensor<8x8xbf16>
//  CHECK-NEXT:   %[[XB:.*]] = vt.cast %[[X]] : tensor<4x8xf32> -> tensor<4x8xbf16>
//  CHECK-NEXT:   %[[Q:.*]] = vt.matmul %[[XB]], %[[WB]] : tensor<4x8xbf16>, tensor<8x8xbf16> -> tensor<4x8xf32>
//  CHECK-NEXT:   %[[QB:.*]] = vt.cast %[[Q]] : tensor<4x8xf32> -> tensor<4x8xbf16>
//  CHECK-NEXT:   %[[K:.*]] = vt.matmul %[[XB]], %[[WB]]
//  CHECK-NEXT:   vt.matmul %[[XB]], %[[VB]]
//  CHECK-NEXT:   %[[KT:.*]] = vt.transpose %[[K]]
//  CHECK-NEXT:   %[[KTB:.*]] = vt.cast %[[KT]] : tensor<8x4xf32> -> tensor<8x4xbf16>
//  CHECK-NEXT:   vt.matmul %[[QB]], %[[KTB]] : tensor<4x8xbf16>, tensor<8x4xbf16> -> tensor<4x4xf32>
//  CHECK-NEXT:   return
func.func @shared_casts(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %v: tensor<8x8xf32>) -> tensor<4x4xf32> {
  %q = vt.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %k = vt.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %u = vt.matmul %x, %v : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %kt = vt.transpose %k {perm = array<i64: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
  %s = vt.matmul %q, %kt : tensor<4x8xf32>, tensor<8x4xf32> -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----

// Normalisations, reductions, elementwise math and pooling stay in f32.
// CHECK-LABEL: func.func @f32_ops
//   CHECK-NOT:   bf16
// MATMUL-LABEL: func.func @f32_ops
//   MATMUL-NOT:   bf16
func.func @f32_ops(%x: tensor<2x4x6x6xf32>, %s: tensor<6xf32>, %b: tensor<6xf32>, %m: tensor<4xf32>) -> (tensor<2x4x6x6xf32>, tensor<2x4x6xf32>, tensor<2x4x3x3xf32>, tensor<2x4x6x6xf32>) {
  %ln = vt.layer_norm %x scale %s : tensor<6xf32> bias %b : tensor<6xf32> {axis = 3 : i64, epsilon = 1.0e-5 : f64} : tensor<2x4x6x6xf32> -> tensor<2x4x6x6xf32>
  %sm = vt.softmax %ln {axis = 3} : tensor<2x4x6x6xf32>
  %r = vt.reduce_mean %sm {axes = array<i64: 3>, keepdims = false} : tensor<2x4x6x6xf32> -> tensor<2x4x6xf32>
  %p = vt.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<2x4x6x6xf32> -> tensor<2x4x3x3xf32>
  %bn = vt.batch_norm %x, %m, %m, %m, %m {epsilon = 1.0e-5 : f64} : (tensor<2x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x6x6xf32>
  return %sm, %r, %p, %bn : tensor<2x4x6x6xf32>, tensor<2x4x6xf32>, tensor<2x4x3x3xf32>, tensor<2x4x6x6xf32>
}

// -----

// A convolution: input and filter in bf16, the bias and the result in f32.
// The constant filter is rounded at compile time (to nearest, ties to even:
// 1 + 2^-8 -> 1, 1 + 3 2^-8 -> 1 + 2^-6) and the f32 one goes.
// CHECK-LABEL: func.func @conv
//  CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x4xf32>, %[[B:.*]]: tensor<2xf32>)
//   CHECK-NOT:   tensor<2x1x1x2xf32>
//   CHECK-DAG:   %[[XB:.*]] = vt.cast %[[X]] : tensor<1x1x4x4xf32> -> tensor<1x1x4x4xbf16>
//   CHECK-DAG:   %[[W:.*]] = vt.constant dense<{{\[\[\[\[}}1.000000e+00, 1.015630e+00]]], {{\[\[\[}}-2.000000e+00, 5.000000e-01]]]]> : tensor<2x1x1x2xbf16>
//       CHECK:   vt.conv2d %[[XB]], %[[W]] bias %[[B]] : tensor<2xf32> {{.*}} : tensor<1x1x4x4xbf16>, tensor<2x1x1x2xbf16> -> tensor<1x2x4x3xf32>
// MATMUL-LABEL: func.func @conv
//   MATMUL-NOT:   bf16
// NOFOLD-LABEL: func.func @conv
//       NOFOLD:   %[[W:.*]] = vt.constant {{.*}} : tensor<2x1x1x2xf32>
//       NOFOLD:   vt.cast %[[W]] : tensor<2x1x1x2xf32> -> tensor<2x1x1x2xbf16>
func.func @conv(%x: tensor<1x1x4x4xf32>, %b: tensor<2xf32>) -> tensor<1x2x4x3xf32> {
  %w = vt.constant dense<[[[[1.00390625, 1.01171875]]], [[[-2.0, 0.5]]]]> : tensor<2x1x1x2xf32>
  %y = vt.conv2d %x, %w bias %b : tensor<2xf32> {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32> -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}

// -----

// Weights as dense_resource blobs (how the importer holds them) become bf16
// blobs: 1.0, -2.0, 1 + 2^-8 (ties to even: 1.0), 3.0 -> 0x3F80, 0xC000,
// 0x3F80, 0x4040, little-endian after the 4-byte alignment header.
// CHECK-LABEL: func.func @resource_weight
//       CHECK:   vt.constant dense_resource<fc.weight.bf16> : tensor<2x2xbf16>
//       CHECK:   vt.matmul {{.*}} : tensor<3x2xbf16>, tensor<2x2xbf16> -> tensor<3x2xf32>
//       CHECK: fc.weight.bf16: "0x40000000803F00C0803F4040"
// MATMUL-LABEL: func.func @resource_weight
//       MATMUL:   vt.matmul {{.*}} : tensor<3x2xbf16>, tensor<2x2xbf16> -> tensor<3x2xf32>
func.func @resource_weight(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = vt.constant {name = "fc.weight"} dense_resource<fc.weight> : tensor<2x2xf32>
  %y = vt.matmul %x, %w : tensor<3x2xf32>, tensor<2x2xf32> -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      fc.weight: "0x040000000000803F000000C00080803F00004040"
    }
  }
#-}

// -----

// A value widened from bf16 is used through its bf16 source (exact), and no
// further cast is built; f64 and mixed computations keep their precision.
// CHECK-LABEL: func.func @widened_and_f64
//  CHECK-SAME: (%[[H:.*]]: tensor<4x8xbf16>, %[[W:.*]]: tensor<8x2xf32>, %[[D:.*]]: tensor<4x8xf64>, %[[E:.*]]: tensor<8x2xf64>)
//       CHECK:   %[[WB:.*]] = vt.cast %[[W]] : tensor<8x2xf32> -> tensor<8x2xbf16>
//       CHECK:   vt.matmul %[[H]], %[[WB]] : tensor<4x8xbf16>, tensor<8x2xbf16> -> tensor<4x2xf32>
//       CHECK:   vt.matmul %[[D]], %[[E]] : tensor<4x8xf64>, tensor<8x2xf64> -> tensor<4x2xf64>
func.func @widened_and_f64(%h: tensor<4x8xbf16>, %w: tensor<8x2xf32>, %d: tensor<4x8xf64>, %e: tensor<8x2xf64>) -> (tensor<4x2xf32>, tensor<4x2xf64>) {
  %x = vt.cast %h : tensor<4x8xbf16> -> tensor<4x8xf32>
  %y = vt.matmul %x, %w : tensor<4x8xf32>, tensor<8x2xf32> -> tensor<4x2xf32>
  %z = vt.matmul %d, %e : tensor<4x8xf64>, tensor<8x2xf64> -> tensor<4x2xf64>
  return %y, %z : tensor<4x2xf32>, tensor<4x2xf64>
}

// -----

// A Gemm's weight reaches the matmul through a transpose (and here a
// reshape): the constant itself is rounded, then moved in bf16, and the
// f32 chain goes. NOFOLD keeps the constant and casts the moved value.
// CHECK-LABEL: func.func @moved_weight
//   CHECK-NOT:   tensor<2x3xf32>
//   CHECK-NOT:   tensor<3x2xf32>
//       CHECK:   %[[W:.*]] = vt.constant dense<{{.*}}> : tensor<2x3xbf16>
//       CHECK:   %[[T:.*]] = vt.transpose %[[W]] {perm = array<i64: 1, 0>} : tensor<2x3xbf16> -> tensor<3x2xbf16>
//       CHECK:   %[[R:.*]] = vt.reshape %[[T]], %{{.*}} : tensor<3x2xbf16>, tensor<2xi64> -> tensor<3x2xbf16>
//       CHECK:   vt.matmul %{{.*}}, %[[R]] : tensor<4x3xbf16>, tensor<3x2xbf16> -> tensor<4x2xf32>
//   CHECK-NOT:   tensor<3x2xf32>
//       CHECK:   return
// NOFOLD-LABEL: func.func @moved_weight
//       NOFOLD:   %[[R:.*]] = vt.reshape {{.*}} -> tensor<3x2xf32>
//       NOFOLD:   vt.cast %[[R]] : tensor<3x2xf32> -> tensor<3x2xbf16>
func.func @moved_weight(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = vt.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %s = vt.constant dense<[3, 2]> : tensor<2xi64>
  %t = vt.transpose %w {perm = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %r = vt.reshape %t, %s : tensor<3x2xf32>, tensor<2xi64> -> tensor<3x2xf32>
  %y = vt.matmul %x, %r : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
