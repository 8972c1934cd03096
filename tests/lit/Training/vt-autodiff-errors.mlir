// RUN: vitc-opt %s -split-input-file -vt-autodiff -verify-diagnostics
// RUN: not vitc-opt %s -vt-autodiff=function=nope 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: vt-autodiff: no function @nope

// An op on the path from an argument to the loss without a gradient rule.
func.func @no_rule(%x: tensor<1x3x8x8xf32>) -> tensor<f32> {
  // expected-error @+1 {{no gradient rule for vt.hard_swish}}
  %0 = vt.hard_swish %x : tensor<1x3x8x8xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x3x8x8xf32> -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// The same op off the path (on a constant) needs no rule.
func.func @off_path(%x: tensor<1x3x8x8xf32>) -> tensor<f32> {
  %c = vt.constant dense<1.0> : tensor<1x3x8x8xf32>
  %0 = vt.hard_swish %c : tensor<1x3x8x8xf32>
  %1 = vt.mul %0, %x : tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32> -> tensor<1x3x8x8xf32>
  %2 = vt.reduce_sum %1 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x3x8x8xf32> -> tensor<f32>
  return %2 : tensor<f32>
}

// -----

// expected-error @+1 {{'func.func' op vt-autodiff expects a float scalar (rank 0 or one element) first result}}
func.func @not_scalar(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = vt.exp %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Convolution gradients need static spatial dims (the transposed
// convolution's pads are computed from them).
func.func @conv_dynamic_spatial(%x: tensor<1x1x?x?xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<f32> {
  // expected-error @+1 {{'vt.conv2d' op gradient of conv2d with dynamic spatial dims is not implemented}}
  %0 = vt.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x?x?xf32>, tensor<2x1x3x3xf32> -> tensor<1x2x?x?xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x2x?x?xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
