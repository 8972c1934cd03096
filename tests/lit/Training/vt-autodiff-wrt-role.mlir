// RUN: vitc-opt %s -vt-autodiff="wrt-role=param replace=true" | FileCheck %s
// RUN: not vitc-opt %s -vt-autodiff="wrt-role=opt_state" 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: error: 'func.func' op vt-autodiff: no argument has vt.role = "opt_state"
// RUN: not vitc-opt %s -vt-autodiff="wrt-role=param wrt=0" 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: error: 'func.func' op vt-autodiff: give `wrt` or `wrt-role`, not both

// wrt-role=param differentiates the params only, in argument order: not the
// buffer (a running statistic) nor the data, though both are float tensors
// on the path to the loss.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[W:[a-z0-9]+]]: tensor<3xf32> {vt.name = "w", vt.role = "param"},
// CHECK-SAME:      %[[RM:[a-z0-9]+]]: tensor<3xf32> {vt.name = "rm", vt.role = "buffer"},
// CHECK-SAME:      %[[B:[a-z0-9]+]]: tensor<3xf32> {vt.name = "b", vt.role = "param"},
// CHECK-SAME:      %[[X:[a-z0-9]+]]: tensor<3xf32> {vt.name = "x", vt.role = "data"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss"}, tensor<3xf32> {vt.name = "grad_w"}, tensor<3xf32> {vt.name = "grad_b"})
// d/dw sum((x * w - rm) * b) = x * b; d/db = x * w - rm.
// CHECK:         %[[XW:.*]] = vt.mul %[[X]], %[[W]]
// CHECK:         %[[D:.*]] = vt.sub %[[XW]], %[[RM]]
// CHECK:         vt.reduce_sum
// CHECK-DAG:     %[[DB:.*]] = vt.mul %{{.*}}, %[[D]]
// CHECK-DAG:     %[[DXW:.*]] = vt.mul %{{.*}}, %[[B]]
// CHECK-DAG:     %[[DW:.*]] = vt.mul %[[DXW]], %[[X]]
// CHECK:         return %{{.*}}, %[[DW]], %[[DB]] : tensor<f32>, tensor<3xf32>, tensor<3xf32>
func.func @train_step(%w: tensor<3xf32> {vt.name = "w", vt.role = "param"},
                      %rm: tensor<3xf32> {vt.name = "rm", vt.role = "buffer"},
                      %b: tensor<3xf32> {vt.name = "b", vt.role = "param"},
                      %x: tensor<3xf32> {vt.name = "x", vt.role = "data"})
    -> (tensor<f32> {vt.name = "loss"}) {
  %xw = vt.mul %x, %w : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %d = vt.sub %xw, %rm : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %p = vt.mul %d, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %l = vt.reduce_sum %p {axes = array<i64: 0>, keepdims = false} : tensor<3xf32> -> tensor<f32>
  return %l : tensor<f32>
}
