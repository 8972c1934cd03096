// RUN: vitc-opt %s -split-input-file -vt-decompose -verify-diagnostics

func.func @batch_norm_rank1(%x: tensor<16xf32>, %p: tensor<16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{'vt.batch_norm' op cannot be decomposed: expects an input of rank >= 2 (N, C, ...)}}
  %0 = vt.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-3 : f64} : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @softmax_bad_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'vt.softmax' op cannot be decomposed: axis out of range}}
  %0 = vt.softmax %x {axis = 2} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
