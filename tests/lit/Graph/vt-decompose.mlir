// RUN: vitc-opt %s -split-input-file -vt-decompose | FileCheck %s

// softmax subtracts the row max before exp (no overflow for large logits).
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<?x10xf32>)
// CHECK: %[[M:.*]] = vt.reduce_max %[[X]] {axes = array<i64: 1>} : tensor<?x10xf32> -> tensor<?x1xf32>
// CHECK: %[[S:.*]] = vt.sub %[[X]], %[[M]] : tensor<?x10xf32>, tensor<?x1xf32> -> tensor<?x10xf32>
// CHECK: %[[E:.*]] = vt.exp %[[S]] : tensor<?x10xf32>
// CHECK: %[[Z:.*]] = vt.reduce_sum %[[E]] {axes = array<i64: 1>} : tensor<?x10xf32> -> tensor<?x1xf32>
// CHECK: %[[R:.*]] = vt.div %[[E]], %[[Z]] : tensor<?x10xf32>, tensor<?x1xf32> -> tensor<?x10xf32>
// CHECK: return %[[R]]
func.func @softmax(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = vt.softmax %x {axis = 1} : tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// log-softmax = (x - max) - log(sum(exp(x - max))).
// CHECK-LABEL: func.func @log_softmax
// CHECK-SAME: (%[[X:.*]]: tensor<4x?x8xf32>)
// CHECK: %[[M:.*]] = vt.reduce_max %[[X]] {axes = array<i64: 1>
// CHECK: %[[S:.*]] = vt.sub %[[X]], %[[M]]
// CHECK: %[[E:.*]] = vt.exp %[[S]]
// CHECK: %[[Z:.*]] = vt.reduce_sum %[[E]] {axes = array<i64: 1>
// CHECK: %[[L:.*]] = vt.log %[[Z]] : tensor<4x1x8xf32>
// CHECK: %[[R:.*]] = vt.sub %[[S]], %[[L]] : tensor<4x?x8xf32>, tensor<4x1x8xf32> -> tensor<4x?x8xf32>
// CHECK: return %[[R]]
func.func @log_softmax(%x: tensor<4x?x8xf32>) -> tensor<4x?x8xf32> {
  %0 = vt.softmax %x {axis = 1, log = true} : tensor<4x?x8xf32>
  return %0 : tensor<4x?x8xf32>
}

// -----

// layer_norm over the last dim: biased variance, eps inside the rsqrt,
// then scale and bias.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x197x768xf32>, %[[G:.*]]: tensor<768xf32>, %[[B:.*]]: tensor<768xf32>)
// CHECK: %[[EPS:.*]] = vt.constant dense<9.99999974E-6> : tensor<f32>
// CHECK: %[[MEAN:.*]] = vt.reduce_mean %[[X]] {axes = array<i64: 2>} : tensor<?x197x768xf32> -> tensor<?x197x1xf32>
// CHECK: %[[D:.*]] = vt.sub %[[X]], %[[MEAN]]
// CHECK: %[[SQ:.*]] = vt.mul %[[D]], %[[D]]
// CHECK: %[[VAR:.*]] = vt.reduce_mean %[[SQ]] {axes = array<i64: 2>}
// CHECK: %[[VE:.*]] = vt.add %[[VAR]], %[[EPS]] : tensor<?x197x1xf32>, tensor<f32> -> tensor<?x197x1xf32>
// CHECK: %[[INV:.*]] = vt.rsqrt %[[VE]]
// CHECK: %[[N:.*]] = vt.mul %[[D]], %[[INV]]
// CHECK: %[[S:.*]] = vt.mul %[[N]], %[[G]] : tensor<?x197x768xf32>, tensor<768xf32> -> tensor<?x197x768xf32>
// CHECK: %[[R:.*]] = vt.add %[[S]], %[[B]]
// CHECK: return %[[R]]
func.func @layer_norm(%x: tensor<?x197x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) -> tensor<?x197x768xf32> {
  %0 = vt.layer_norm %x scale %g : tensor<768xf32> bias %b : tensor<768xf32> {axis = 2 : i64, epsilon = 1.0e-5 : f64} : tensor<?x197x768xf32> -> tensor<?x197x768xf32>
  return %0 : tensor<?x197x768xf32>
}

// -----

// Without scale and bias, over the last two dims.
// CHECK-LABEL: func.func @layer_norm_plain
// CHECK: vt.reduce_mean %{{.*}} {axes = array<i64: 1, 2>} : tensor<2x3x4xf32> -> tensor<2x1x1xf32>
// CHECK: vt.rsqrt
// CHECK: %[[R:.*]] = vt.mul
// CHECK-NEXT: return %[[R]]
func.func @layer_norm_plain(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = vt.layer_norm %x {axis = 1 : i64, epsilon = 1.0e-5 : f64} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// batch_norm: one multiply-add per element with per-channel [C, 1, 1]
// factors computed from the parameters.
// CHECK-LABEL: func.func @batch_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x16x8x8xf32>, %[[S:.*]]: tensor<16xf32>, %[[B:.*]]: tensor<16xf32>, %[[M:.*]]: tensor<16xf32>, %[[V:.*]]: tensor<16xf32>)
// CHECK-DAG: %[[SHAPE:.*]] = vt.constant dense<[0, 1, 1]> : tensor<3xi64>
// CHECK-DAG: %[[EPS:.*]] = vt.constant dense<1.000000e-03> : tensor<f32>
// CHECK: %[[VE:.*]] = vt.add %[[V]], %[[EPS]]
// CHECK: %[[R:.*]] = vt.rsqrt %[[VE]] : tensor<16xf32>
// CHECK: %[[MULT:.*]] = vt.mul %[[S]], %[[R]]
// CHECK: %[[MM:.*]] = vt.mul %[[M]], %[[MULT]]
// CHECK: %[[SHIFT:.*]] = vt.sub %[[B]], %[[MM]]
// CHECK: %[[MULT3:.*]] = vt.reshape %[[MULT]], %[[SHAPE]] : tensor<16xf32>, tensor<3xi64> -> tensor<16x1x1xf32>
// CHECK: %[[SHIFT3:.*]] = vt.reshape %[[SHIFT]], %[[SHAPE]] : tensor<16xf32>, tensor<3xi64> -> tensor<16x1x1xf32>
// CHECK: %[[Y:.*]] = vt.mul %[[X]], %[[MULT3]] : tensor<?x16x8x8xf32>, tensor<16x1x1xf32> -> tensor<?x16x8x8xf32>
// CHECK: %[[Z:.*]] = vt.add %[[Y]], %[[SHIFT3]]
// CHECK: return %[[Z]]
func.func @batch_norm(%x: tensor<?x16x8x8xf32>, %s: tensor<16xf32>, %b: tensor<16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>) -> tensor<?x16x8x8xf32> {
  %0 = vt.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-3 : f64} : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x8x8xf32>
  return %0 : tensor<?x16x8x8xf32>
}

// -----

// gelu, erf form: x/2 * (1 + erf(x / sqrt 2)).
// CHECK-LABEL: func.func @gelu_erf
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-DAG: %[[ONE:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CHECK-DAG: %[[H:.*]] = vt.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[C:.*]] = vt.constant dense<0.707106769> : tensor<f32>
// CHECK: %[[XS:.*]] = vt.mul %[[X]], %[[C]]
// CHECK: %[[E:.*]] = vt.erf %[[XS]]
// CHECK: %[[HX:.*]] = vt.mul %[[X]], %[[H]]
// CHECK: %[[P:.*]] = vt.add %[[E]], %[[ONE]]
// CHECK: %[[R:.*]] = vt.mul %[[HX]], %[[P]]
// CHECK: return %[[R]]
func.func @gelu_erf(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = vt.gelu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// gelu, tanh form: x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[ONE:.*]] = vt.constant dense<1.000000e+00>
// CHECK-DAG: %[[H:.*]] = vt.constant dense<5.000000e-01>
// CHECK-DAG: %[[S:.*]] = vt.constant dense<0.797884583>
// CHECK-DAG: %[[K:.*]] = vt.constant dense<4.471500e-02>
// CHECK: %[[X2:.*]] = vt.mul %[[X]], %[[X]]
// CHECK: %[[X3:.*]] = vt.mul %[[X2]], %[[X]]
// CHECK: %[[KX3:.*]] = vt.mul %[[X3]], %[[K]]
// CHECK: %[[POLY:.*]] = vt.add %[[X]], %[[KX3]]
// CHECK: %[[ARG:.*]] = vt.mul %[[POLY]], %[[S]]
// CHECK: %[[T:.*]] = vt.tanh %[[ARG]]
// CHECK: %[[HX:.*]] = vt.mul %[[X]], %[[H]]
// CHECK: %[[P:.*]] = vt.add %[[T]], %[[ONE]]
// CHECK: %[[R:.*]] = vt.mul %[[HX]], %[[P]]
// CHECK: return %[[R]]
func.func @gelu_tanh(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = vt.gelu %x {approximate_tanh = true} : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// CHECK-LABEL: func.func @hard_sigmoid
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[B:.*]] = vt.constant dense<5.000000e-01>
// CHECK-DAG: %[[A:.*]] = vt.constant dense<2.000000e-01>
// CHECK: %[[AX:.*]] = vt.mul %[[X]], %[[A]]
// CHECK: %[[V:.*]] = vt.add %[[AX]], %[[B]]
// CHECK: %[[R:.*]] = vt.clamp %[[V]] {max = 1.000000e+00 : f64, min = 0.000000e+00 : f64}
// CHECK: return %[[R]]
func.func @hard_sigmoid(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = vt.hard_sigmoid %x {alpha = 0.2 : f64, beta = 0.5 : f64} : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// hard_swish(x) = x * clamp(x / 6 + 1/2, 0, 1).
// CHECK-LABEL: func.func @hard_swish
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[B:.*]] = vt.constant dense<5.000000e-01>
// CHECK-DAG: %[[A:.*]] = vt.constant dense<0.166666672>
// CHECK: %[[AX:.*]] = vt.mul %[[X]], %[[A]]
// CHECK: %[[V:.*]] = vt.add %[[AX]], %[[B]]
// CHECK: %[[C:.*]] = vt.clamp %[[V]] {max = 1.000000e+00 : f64, min = 0.000000e+00 : f64}
// CHECK: %[[R:.*]] = vt.mul %[[X]], %[[C]]
// CHECK: return %[[R]]
func.func @hard_swish(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = vt.hard_swish %x : tensor<8xf32>
  return %0 : tensor<8xf32>
}
