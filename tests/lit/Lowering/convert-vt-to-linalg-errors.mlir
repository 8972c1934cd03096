// RUN: vitc-opt %s -split-input-file -convert-vt-to-linalg -verify-diagnostics

func.func @exp_of_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+2 {{'vt.exp' op cannot lower to linalg: unsupported element type 'i32'}}
  // expected-error @+1 {{failed to legalize operation 'vt.exp'}}
  %0 = vt.exp %x : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @conv_dynamic_kernel(%x: tensor<1x1x8x8xf32>, %w: tensor<1x1x?x3xf32>) -> tensor<1x1x?x6xf32> {
  // expected-error @+2 {{'vt.conv2d' op cannot lower to linalg: dynamic kernel size}}
  // expected-error @+1 {{failed to legalize operation 'vt.conv2d'}}
  %0 = vt.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x8x8xf32>, tensor<1x1x?x3xf32> -> tensor<1x1x?x6xf32>
  return %0 : tensor<1x1x?x6xf32>
}
