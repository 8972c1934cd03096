// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-erase-grids | FileCheck %s

// After bufferization nothing names the grid: it is dropped.
// CHECK-LABEL: module
//   CHECK-NOT:   shard.grid
//       CHECK:   func.func @f
shard.grid @dp(shape = ?)
func.func @f(%x: memref<4xf32>) {
  return
}

// -----

// A collective left on tensors has no runtime lowering.
shard.grid @dp(shape = ?)
func.func @g(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{still uses grid @dp after bufferization: it has no runtime lowering}}
  %0 = shard.all_reduce %x on @dp grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
