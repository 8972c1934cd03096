// RUN: vitc-opt %s -split-input-file -vt-autodiff | FileCheck %s

// Reduction add: data's gradient is g itself; each update's is g gathered
// at its column (wrapped), read from g padded with a zero column 5 where
// the index is out of range. Dims before the axis may be dynamic.
// CHECK-LABEL: func.func @scatter_add_grad(
// CHECK-SAME:      -> (tensor<f32>, tensor<?x5xf32> {vt.name = "grad_arg0"}, tensor<?x2xf32> {vt.name = "grad_arg2"})
// CHECK:         %[[G:.*]] = vt.expand {{.*}} -> tensor<?x5xf32>
// CHECK:         %[[R:.*]] = vt.constant dense<5> : tensor<i64>
// CHECK:         %[[W:.*]] = vt.select {{.*}} : tensor<2xi1>, tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
// CHECK:         %[[OK:.*]] = vt.and
// CHECK:         %[[P:.*]] = vt.pad %[[G]] {pads = array<i64: 0, 0, 0, 1>} : tensor<?x5xf32> -> tensor<?x6xf32>
// CHECK:         %[[AT:.*]] = vt.select %[[OK]], %[[W]], %[[R]]
// CHECK:         %[[DU:.*]] = vt.gather %[[P]], %[[AT]] {axis = 1 : i64} : tensor<?x6xf32>, tensor<2xi64> -> tensor<?x2xf32>
// CHECK:         return %{{.*}}, %[[G]], %[[DU]]
func.func @scatter_add(%d: tensor<?x5xf32>, %i: tensor<2xi64>, %u: tensor<?x2xf32>) -> tensor<f32> {
  %0 = vt.scatter %d, %i, %u {axis = 1 : i64, reduction = "add"} : tensor<?x5xf32>, tensor<2xi64>, tensor<?x2xf32> -> tensor<?x5xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x5xf32> -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// Reduction none: data's gradient is g with zeros scattered where the
// updates went; an update gets g at its row only if it is the last write
// there: the updates' ordinals scattered into -1s, read back at each row
// (row 6 of a -1-padded copy where the index is out of range) and compared.
// CHECK-LABEL: func.func @scatter_none_grad(
// CHECK:         %[[G:.*]] = vt.expand {{.*}} -> tensor<6x4xf32>
// CHECK:         %[[I:.*]] = vt.cast %arg1 : tensor<3xi32> -> tensor<3xi64>
// CHECK:         %[[ORD:.*]] = vt.range {{.*}} -> tensor<3xi64>
// CHECK:         %[[MINUS:.*]] = vt.expand {{.*}} -> tensor<6xi64>
// CHECK:         %[[LAST:.*]] = vt.scatter %[[MINUS]], %{{.*}}, %[[ORD]] {axis = 0 : i64} : tensor<6xi64>, tensor<3xi64>, tensor<3xi64> -> tensor<6xi64>
// CHECK:         %[[LP:.*]] = vt.pad %[[LAST]] {pads = array<i64: 0, 1>, value = -1.000000e+00 : f64}
// CHECK:         %[[BACK:.*]] = vt.gather %[[LP]]
// CHECK:         vt.equal %[[BACK]], %[[ORD]]
// CHECK:         %[[KEEP:.*]] = vt.and
// CHECK:         %[[Z:.*]] = vt.expand {{.*}} -> tensor<3x4xf32>
// CHECK:         %[[DD:.*]] = vt.scatter %[[G]], %arg1, %[[Z]] {axis = 0 : i64} : tensor<6x4xf32>, tensor<3xi32>, tensor<3x4xf32> -> tensor<6x4xf32>
// CHECK:         %[[P:.*]] = vt.pad %[[G]] {pads = array<i64: 0, 0, 1, 0>} : tensor<6x4xf32> -> tensor<7x4xf32>
// CHECK:         %[[AT:.*]] = vt.select %[[KEEP]]
// CHECK:         %[[DU:.*]] = vt.gather %[[P]], %[[AT]] {axis = 0 : i64} : tensor<7x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
// CHECK:         return %{{.*}}, %[[DD]], %[[DU]]
func.func @scatter_none(%d: tensor<6x4xf32>, %i: tensor<3xi32>, %u: tensor<3x4xf32>) -> tensor<f32> {
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<6x4xf32>, tensor<3xi32>, tensor<3x4xf32> -> tensor<6x4xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1>, keepdims = false} : tensor<6x4xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
