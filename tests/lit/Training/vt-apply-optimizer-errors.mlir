// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer -verify-diagnostics
// RUN: not vitc-opt %s -split-input-file -vt-apply-optimizer=optimizer=lamb 2>&1 | FileCheck %s --check-prefix=OPTIMIZER
// OPTIMIZER: error: --optimizer=lamb: expected adamw or sgd
// RUN: not vitc-opt %s -split-input-file -vt-apply-optimizer=function=nope 2>&1 | FileCheck %s --check-prefix=NOFUNC
// NOFUNC: error: vt-apply-optimizer: no function @nope
// Nesterov needs a momentum buffer (PyTorch's SGD rejects it too).
// RUN: not vitc-opt %s -split-input-file -vt-apply-optimizer="optimizer=sgd nesterov=true" 2>&1 | FileCheck %s --check-prefix=NESTEROV
// NESTEROV: error: --nesterov needs --momentum > 0

// Every weight frozen: nothing to train.
// expected-error @+1 {{'func.func' op has no trainable parameter (every weight is frozen, or the model has none)}}
func.func @train_step(%w: tensor<3xf32> {vt.name = "w", vt.role = "buffer"},
                      %x: tensor<?x3xf32> {vt.name = "x", vt.role = "data"},
                      %label: tensor<?xi64> {vt.name = "label", vt.role = "label"})
    -> (tensor<f32>, tensor<i64>) {
  %loss = vt.constant dense<1.0> : tensor<f32>
  %correct = vt.constant dense<2> : tensor<i64>
  return %loss, %correct : tensor<f32>, tensor<i64>
}

// -----

// The loss has not been appended: no label.
// expected-error @+1 {{'func.func' op needs data and label arguments (run vt-append-loss first)}}
func.func @train_step(%w: tensor<3xf32> {vt.name = "w", vt.role = "param"},
                      %x: tensor<?x3xf32> {vt.name = "x"})
    -> (tensor<f32>, tensor<i64>, tensor<3xf32> {vt.name = "grad_w"}) {
  %loss = vt.constant dense<1.0> : tensor<f32>
  %correct = vt.constant dense<2> : tensor<i64>
  return %loss, %correct, %w : tensor<f32>, tensor<i64>, tensor<3xf32>
}

// -----

// Not differentiated: fewer results than loss, correct and one gradient per param.
// expected-error @+1 {{'func.func' op expected (loss, correct, ..., one gradient per param) results from vt-autodiff}}
func.func @train_step(%w: tensor<3xf32> {vt.name = "w", vt.role = "param"},
                      %b: tensor<3xf32> {vt.name = "b", vt.role = "param"},
                      %x: tensor<?x3xf32> {vt.name = "x", vt.role = "data"},
                      %label: tensor<?xi64> {vt.name = "label", vt.role = "label"})
    -> (tensor<f32>, tensor<i64>, tensor<3xf32> {vt.name = "grad_w"}) {
  %loss = vt.constant dense<1.0> : tensor<f32>
  %correct = vt.constant dense<2> : tensor<i64>
  return %loss, %correct, %w : tensor<f32>, tensor<i64>, tensor<3xf32>
}

// -----

// Gradients must follow the params' order (vt-autodiff wrt-role=param).
// expected-error @+1 {{'func.func' op result 3 is not the gradient of param #0}}
func.func @train_step(%w: tensor<3xf32> {vt.name = "w", vt.role = "param"},
                      %b: tensor<3xf32> {vt.name = "b", vt.role = "param"},
                      %x: tensor<?x3xf32> {vt.name = "x", vt.role = "data"},
                      %label: tensor<?xi64> {vt.name = "label", vt.role = "label"})
    -> (tensor<f32>, tensor<i64>, tensor<3xf32>, tensor<3xf32> {vt.name = "grad_b"}, tensor<3xf32> {vt.name = "grad_w"}) {
  %loss = vt.constant dense<1.0> : tensor<f32>
  %correct = vt.constant dense<2> : tensor<i64>
  return %loss, %correct, %w, %b, %w : tensor<f32>, tensor<i64>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}
