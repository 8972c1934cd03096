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

// -----

// The size of the job's grid is the runtime's world size.
// CHECK-LABEL: func.func @world
//       CHECK:   %[[N:.*]] = call @vitc_coll_world_size() : () -> i64
//       CHECK:   %[[I:.*]] = arith.index_cast %[[N]] : i64 to index
//       CHECK:   return %[[I]]
// CHECK: func.func private @vitc_coll_world_size() -> i64
shard.grid @dp(shape = ?)
func.func @world() -> index {
  %n = shard.grid_shape @dp axes = [0] : index
  return %n : index
}
