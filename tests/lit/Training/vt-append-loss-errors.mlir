// RUN: vitc-opt %s -split-input-file -vt-append-loss -verify-diagnostics
// RUN: not vitc-opt %s -split-input-file -vt-append-loss=loss=hinge 2>&1 | FileCheck %s --check-prefix=LOSS
// LOSS: error: --loss=hinge: expected cross_entropy or mse
// RUN: not vitc-opt %s -split-input-file -vt-append-loss=label-smoothing=1.0 2>&1 | FileCheck %s --check-prefix=SMOOTH
// SMOOTH: error: --label-smoothing=1.000000e+00: expected a value in [0, 1)
// RUN: not vitc-opt %s -split-input-file -vt-append-loss=functions=nope 2>&1 | FileCheck %s --check-prefix=NOFUNC
// NOFUNC: error: vt-append-loss: no function @nope

// Logits must be [batch, classes]: a sequence model's [N, T, C] is not.
// expected-error @+1 {{'func.func' op the loss needs output 'logits' to be float [batch, classes], got 'tensor<?x5x3xf32>'}}
func.func @rank3(%x: tensor<?x5x3xf32> {vt.name = "x"}) -> (tensor<?x5x3xf32> {vt.name = "logits"}) {
  return %x : tensor<?x5x3xf32>
}

// -----

// Integer outputs are no logits (an unnamed result is named by its number).
// expected-error @+1 {{'func.func' op the loss needs output '0' to be float [batch, classes], got 'tensor<?x3xi64>'}}
func.func @integer(%x: tensor<?x3xi64>) -> tensor<?x3xi64> {
  return %x : tensor<?x3xi64>
}

// -----

// expected-error @+1 {{'func.func' op the loss needs a static class count; output 'logits' is 'tensor<?x?xf32>'}}
func.func @dynamic_classes(%x: tensor<?x?xf32> {vt.name = "x"}) -> (tensor<?x?xf32> {vt.name = "logits"}) {
  return %x : tensor<?x?xf32>
}

// -----

// Every argument has a role: nothing is left to be the data.
// expected-error @+1 {{'func.func' op has no data argument (every argument is a weight)}}
func.func @no_data(%w: tensor<2x3xf32> {vt.name = "w", vt.role = "param"}) -> tensor<2x3xf32> {
  return %w : tensor<2x3xf32>
}

// -----

// expected-error @+1 {{'func.func' op has no result to take the loss of}}
func.func @no_result(%x: tensor<2x3xf32>) {
  return
}
