// RUN: vitc-opt %s -split-input-file -vt-autodiff -verify-diagnostics

// Multiplying, max and min scatters have no gradient rule.
func.func @scatter_mul(%d: tensor<6x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'vt.scatter' op gradient of scatter with reduction 'mul' is not implemented (none and add are)}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "mul"} : tensor<6x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<6x4xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1>, keepdims = false} : tensor<6x4xf32> -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// Off the path to the loss (integer data, as in a mask built at run time)
// it needs none.
func.func @scatter_max_off_path(%x: tensor<6x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xi64>) -> tensor<f32> {
  %z = vt.constant dense<0> : tensor<6x4xi64>
  %0 = vt.scatter %z, %i, %u {axis = 0 : i64, reduction = "max"} : tensor<6x4xi64>, tensor<3xi64>, tensor<3x4xi64> -> tensor<6x4xi64>
  %1 = vt.cast %0 : tensor<6x4xi64> -> tensor<6x4xf32>
  %2 = vt.mul %1, %x : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
  %3 = vt.reduce_sum %2 {axes = array<i64: 0, 1>, keepdims = false} : tensor<6x4xf32> -> tensor<f32>
  return %3 : tensor<f32>
}
