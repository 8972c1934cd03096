// RUN: vitc-opt %s -split-input-file -vt-autodiff | FileCheck %s

// A value used twice accumulates its gradients with vt.add; the function
// keeps its results and appends one gradient per float argument.
// CHECK-LABEL: func.func @square_sum(
// CHECK-LABEL: func.func @square_sum_grad(%{{.*}}: tensor<4xf32> {vt.name = "x"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss"}, tensor<4xf32> {vt.name = "grad_x"})
// CHECK:         %[[SQ:.*]] = vt.mul %[[X:.*]], %[[X]]
// CHECK:         %[[LOSS:.*]] = vt.reduce_sum %[[SQ]]
// CHECK:         %[[ONE:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[G:.*]] = vt.expand
// CHECK:         %[[A:.*]] = vt.mul %[[G]], %[[X]]
// CHECK:         %[[B:.*]] = vt.mul %[[G]], %[[X]]
// CHECK:         %[[SUM:.*]] = vt.add %[[A]], %[[B]]
// CHECK:         return %[[LOSS]], %[[SUM]] : tensor<f32>, tensor<4xf32>
func.func @square_sum(%x: tensor<4xf32> {vt.name = "x"}) -> (tensor<f32> {vt.name = "loss"}) {
  %0 = vt.mul %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0>, keepdims = false} : tensor<4xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
// -----

// Broadcast bias: its gradient is summed over the (dynamic) batch dim; the
// mean divides by the batch size read at run time.
// CHECK-LABEL: func.func @bias_grad(
// CHECK-SAME:      -> (tensor<f32>, tensor<?x8xf32> {vt.name = "grad_arg0"}, tensor<8xf32> {vt.name = "grad_arg1"})
// CHECK:         %[[PRE:.*]] = vt.add %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
// CHECK:         %[[N:.*]] = vt.gather
// CHECK:         %[[NF:.*]] = vt.cast %[[N]] : tensor<i64> -> tensor<f32>
// CHECK:         %[[COUNT:.*]] = vt.mul %[[NF]], %{{.*}} : tensor<f32>, tensor<f32> -> tensor<f32>
// CHECK:         vt.div %{{.*}}, %[[COUNT]]
// CHECK:         %[[POS:.*]] = vt.greater %[[PRE]]
// CHECK:         %[[DX:.*]] = vt.select %[[POS]]
// CHECK:         %[[DB:.*]] = vt.reduce_sum %[[DX]] {axes = array<i64: 0>, keepdims = false} : tensor<?x8xf32> -> tensor<8xf32>
// CHECK:         return %{{.*}}, %[[DX]], %[[DB]]
func.func @bias(%x: tensor<?x8xf32>, %b: tensor<8xf32>) -> tensor<f32> {
  %0 = vt.add %x, %b : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %1 = vt.relu %0 : tensor<?x8xf32>
  %2 = vt.reduce_mean %1 {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x8xf32> -> tensor<f32>
  return %2 : tensor<f32>
}
// -----

// A 2-D weight under a batched activation: one 2-D matmul over the
// flattened batch, not a batched product.
// CHECK-LABEL: func.func @linear_grad(
// CHECK:         %[[WT:.*]] = vt.transpose %[[W:.*]] {perm = array<i64: 1, 0>} : tensor<4x5xf32> -> tensor<5x4xf32>
// CHECK:         %[[DX:.*]] = vt.matmul %[[G:.*]], %[[WT]] : tensor<2x3x5xf32>, tensor<5x4xf32> -> tensor<2x3x4xf32>
// CHECK:         %[[XF:.*]] = vt.reshape %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<2xi64> -> tensor<?x4xf32>
// CHECK:         %[[XT:.*]] = vt.transpose %[[XF]] {perm = array<i64: 1, 0>} : tensor<?x4xf32> -> tensor<4x?xf32>
// CHECK:         %[[GF:.*]] = vt.reshape %[[G]], %{{.*}} : tensor<2x3x5xf32>, tensor<2xi64> -> tensor<?x5xf32>
// CHECK:         %[[DW:.*]] = vt.matmul %[[XT]], %[[GF]] : tensor<4x?xf32>, tensor<?x5xf32> -> tensor<4x5xf32>
// CHECK:         return %{{.*}}, %[[DX]], %[[DW]]
func.func @linear(%x: tensor<2x3x4xf32>, %w: tensor<4x5xf32>) -> tensor<f32> {
  %0 = vt.matmul %x, %w : tensor<2x3x4xf32>, tensor<4x5xf32> -> tensor<2x3x5xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2>, keepdims = false} : tensor<2x3x5xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
// -----

// log-softmax: dx = g - exp(y) * sum(g); reduce_max sends the gradient to
// the elements equal to the max.
// CHECK-LABEL: func.func @log_softmax_grad(
// CHECK:         %[[Y:.*]] = vt.softmax %{{.*}} {axis = 1 : i64, log = true}
// CHECK:         %[[HIT:.*]] = vt.equal %[[Y]], %{{.*}} : tensor<2x5xf32>, tensor<1x1xf32> -> tensor<2x5xi1>
// CHECK:         %[[MASK:.*]] = vt.cast %[[HIT]] : tensor<2x5xi1> -> tensor<2x5xf32>
// CHECK:         %[[G:.*]] = vt.mul %[[MASK]], %{{.*}} : tensor<2x5xf32>, tensor<1x1xf32> -> tensor<2x5xf32>
// CHECK:         %[[SUM:.*]] = vt.reduce_sum %[[G]] {axes = array<i64: 1>}
// CHECK:         %[[E:.*]] = vt.exp %[[Y]]
// CHECK:         %[[P:.*]] = vt.mul %[[E]], %[[SUM]]
// CHECK:         %[[DX:.*]] = vt.sub %[[G]], %[[P]]
// CHECK:         return %{{.*}}, %[[DX]] : tensor<1xf32>, tensor<2x5xf32>
func.func @log_softmax(%x: tensor<2x5xf32>) -> tensor<1xf32> {
  %0 = vt.softmax %x {axis = 1, log = true} : tensor<2x5xf32>
  %1 = vt.reduce_max %0 {axes = array<i64: 0, 1>, keepdims = false} : tensor<2x5xf32> -> tensor<f32>
  %s = vt.constant dense<[1]> : tensor<1xi64>
  %2 = vt.reshape %1, %s : tensor<f32>, tensor<1xi64> -> tensor<1xf32>
  return %2 : tensor<1xf32>
}
// -----

// Constants and integer paths are not differentiated; an argument the loss
// does not depend on gets zeros; the integer result passes through.
// CHECK-LABEL: func.func @inactive_grad(
// CHECK-SAME:      -> (tensor<f32>, tensor<3xi64>, tensor<3xf32> {vt.name = "grad_arg0"}, tensor<3xf32> {vt.name = "grad_arg1"})
// CHECK:         %[[C:.*]] = vt.constant dense<2.000000e+00>
// CHECK:         vt.reduce_sum
// CHECK:         %[[DX:.*]] = vt.mul %{{.*}}, %[[C]] : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
// CHECK-NOT:     vt.mul
// CHECK:         %[[Z:.*]] = vt.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK:         return %{{.*}}, %{{.*}}, %[[DX]], %[[Z]]
func.func @inactive(%x: tensor<3xf32>, %unused: tensor<3xf32>, %i: tensor<3xi64>) -> (tensor<f32>, tensor<3xi64>) {
  %c = vt.constant dense<2.0> : tensor<3xf32>
  %0 = vt.mul %x, %c : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0>, keepdims = false} : tensor<3xf32> -> tensor<f32>
  return %1, %i : tensor<f32>, tensor<3xi64>
}


// -----

// A 1-D lhs is promoted to [1, K] and the result gradient to [1, N], as
// numpy matmul does; the 2-D rule runs and dx is reshaped back to [K].
// CHECK-LABEL: func.func @vec_matmul_grad(
// CHECK-SAME:    %[[X:.*]]: tensor<4xf32>, %[[W:.*]]: tensor<4x3xf32>
// CHECK:         %[[G:.*]] = vt.reshape %{{.*}}, %{{.*}} : tensor<3xf32>, tensor<2xi64> -> tensor<1x3xf32>
// CHECK:         %[[X2:.*]] = vt.reshape %[[X]], %{{.*}} : tensor<4xf32>, tensor<2xi64> -> tensor<1x4xf32>
// CHECK:         %[[WT:.*]] = vt.transpose %[[W]]
// CHECK:         %[[DX2:.*]] = vt.matmul %[[G]], %[[WT]] : tensor<1x3xf32>, tensor<3x4xf32> -> tensor<1x4xf32>
// CHECK:         %[[XT:.*]] = vt.transpose %[[X2]]
// CHECK:         %[[DW:.*]] = vt.matmul %[[XT]], %[[G]] : tensor<4x1xf32>, tensor<1x3xf32> -> tensor<4x3xf32>
// CHECK:         %[[DX:.*]] = vt.reshape %[[DX2]], %{{.*}} : tensor<1x4xf32>, tensor<1xi64> -> tensor<4xf32>
// CHECK:         return %{{.*}}, %[[DX]], %[[DW]]
func.func @vec_matmul(%x: tensor<4xf32>, %w: tensor<4x3xf32>) -> tensor<f32> {
  %0 = vt.matmul %x, %w : tensor<4xf32>, tensor<4x3xf32> -> tensor<3xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0>, keepdims = false} : tensor<3xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
