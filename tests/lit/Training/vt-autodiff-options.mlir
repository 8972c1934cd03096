// RUN: vitc-opt %s -vt-autodiff="function=wrt_only wrt=1 replace=true" | FileCheck %s

// wrt restricts the differentiated arguments; replace gives the gradient
// function F's name (a driver compiles @main only).
// CHECK-LABEL: func.func @wrt_only
// CHECK-SAME:      (%[[X:[a-z0-9]+]]: tensor<3xf32>, %{{.*}}: tensor<3xf32> {vt.name = "w"})
// CHECK-SAME:      -> (tensor<f32>, tensor<3xf32> {vt.name = "grad_w"})
// CHECK:         vt.constant dense<1.000000e+00>
// CHECK:         %[[DW:.*]] = vt.mul %{{.*}}, %[[X]] : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
// CHECK-NEXT:    return %{{.*}}, %[[DW]]
// CHECK-NOT:     func.func @wrt_only_grad
func.func @wrt_only(%x: tensor<3xf32>, %w: tensor<3xf32> {vt.name = "w"}) -> tensor<f32> {
  %0 = vt.mul %x, %w : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0>, keepdims = false} : tensor<3xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
