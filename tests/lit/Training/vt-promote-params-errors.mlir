// RUN: vitc-opt %s -split-input-file -vt-promote-params -verify-diagnostics
// The option errors name the option; every chunk reports them (the first
// one, valid, reaches the check; the others fail earlier).
// RUN: not vitc-opt %s -split-input-file -vt-promote-params=freeze=nomatch 2>&1 | FileCheck %s --check-prefix=NOMATCH
// NOMATCH: error: --freeze 'nomatch' matches no weight of the model
// A pattern matches whole names: "fc" is part of "fc.weight", yet no match.
// RUN: not vitc-opt %s -split-input-file -vt-promote-params=freeze=fc 2>&1 | FileCheck %s --check-prefix=PARTIAL
// PARTIAL: error: --freeze 'fc' matches no weight of the model
// RUN: not vitc-opt %s -split-input-file '-vt-promote-params=freeze=fc\.(' 2>&1 | FileCheck %s --check-prefix=REGEX
// REGEX: error: --freeze 'fc\.(': parentheses not balanced
// RUN: not vitc-opt %s -split-input-file -vt-promote-params=functions=nope 2>&1 | FileCheck %s --check-prefix=NOFUNC
// NOFUNC: error: vt-promote-params: no function @nope

func.func @valid(%x: tensor<2x4xf32> {vt.name = "x"}) -> tensor<2x3xf32> {
  %w = vt.constant {name = "fc.weight"} dense<0.5> : tensor<4x3xf32>
  %y = vt.matmul %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// One name, two types: the functions do not come from one model.
func.func @train_step(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = vt.constant {name = "fc.weight"} dense<0.5> : tensor<4x3xf32>
  %y = vt.matmul %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
func.func @eval_step(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'vt.constant' op weight 'fc.weight' has type 'tensor<3x4xf32>' here and 'tensor<4x3xf32>' elsewhere}}
  %w = vt.constant {name = "fc.weight"} dense<0.5> : tensor<3x4xf32>
  %y = vt.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// vt.updates must name a float weight: not an argument...
// expected-error @+1 {{'func.func' op result 1 updates 'x', which is not a float weight}}
func.func @updates_argument(%x: tensor<3xf32> {vt.name = "x"})
    -> (tensor<3xf32>, tensor<3xf32> {vt.name = "x", vt.updates = "x"}) {
  %w = vt.constant {name = "w"} dense<0.5> : tensor<3xf32>
  %y = vt.mul %x, %w : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %y, %y : tensor<3xf32>, tensor<3xf32>
}

// -----

// ...nor an integer constant (a step counter is not trained).
// expected-error @+1 {{'func.func' op result 1 updates 'count', which is not a float weight}}
func.func @updates_integer(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<i64> {vt.updates = "count"}) {
  %w = vt.constant {name = "w"} dense<0.5> : tensor<3xf32>
  %c = vt.constant {name = "count"} dense<0> : tensor<i64>
  %one = vt.constant dense<1> : tensor<i64>
  %y = vt.mul %x, %w : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %n = vt.add %c, %one : tensor<i64>, tensor<i64> -> tensor<i64>
  return %y, %n : tensor<3xf32>, tensor<i64>
}
