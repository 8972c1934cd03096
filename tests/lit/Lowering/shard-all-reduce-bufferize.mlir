// RUN: vitc-opt %s -split-input-file -verify-diagnostics --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s
//
// One-shot bufferization of shard.all_reduce (compiler/Lowering/
// CollectiveBufferization.cpp): a fresh buffer gets a copy of the input and
// is reduced in place, seen flat, by the runtime's collective; the i64 is the
// reduction kind (sum 1, average 5).

// CHECK-LABEL: func.func @grads(
//  CHECK-SAME:     %[[G:.*]]: memref<4x3xf32>, %[[L:.*]]: memref<f32>, %[[H:.*]]: memref<?xi64>)
//       CHECK:   %[[B:.*]] = memref.alloc() {{.*}}: memref<4x3xf32>
//       CHECK:   memref.copy %[[G]], %[[B]]
//       CHECK:   %[[FLAT:.*]] = memref.collapse_shape %[[B]] {{\[\[}}0, 1]] : memref<4x3xf32> into memref<12xf32>
//       CHECK:   %[[DYN:.*]] = memref.cast %[[FLAT]] : memref<12xf32> to memref<?xf32>
//       CHECK:   %[[AVG:.*]] = arith.constant 5 : i64
//       CHECK:   call @vitc_coll_all_reduce_f32(%[[DYN]], %[[AVG]])
//       CHECK:   %[[BL:.*]] = memref.alloc() {{.*}}: memref<f32>
//       CHECK:   memref.copy %[[L]], %[[BL]]
//       CHECK:   memref.expand_shape %[[BL]] [] output_shape [1] : memref<f32> into memref<1xf32>
//       CHECK:   call @vitc_coll_all_reduce_f32(
//       CHECK:   %[[N:.*]] = memref.dim %[[H]], %{{.*}} : memref<?xi64>
//       CHECK:   %[[BH:.*]] = memref.alloc(%[[N]]) {{.*}}: memref<?xi64>
//       CHECK:   memref.copy %[[H]], %[[BH]]
//       CHECK:   %[[SUM:.*]] = arith.constant 1 : i64
//       CHECK:   call @vitc_coll_all_reduce_i64(%[[BH]], %[[SUM]])
//       CHECK:   return %[[B]], %[[BL]], %[[BH]]
//       CHECK: func.func private @vitc_coll_all_reduce_f32(memref<?xf32>, i64) attributes {llvm.emit_c_interface, vitc.library_kernel}
//       CHECK: func.func private @vitc_coll_all_reduce_i64(memref<?xi64>, i64) attributes {llvm.emit_c_interface, vitc.library_kernel}
shard.grid @dp(shape = ?)
func.func @grads(%g: tensor<4x3xf32>, %l: tensor<f32>, %h: tensor<?xi64>) -> (tensor<4x3xf32>, tensor<f32>, tensor<?xi64>) {
  %0 = shard.all_reduce %g on @dp grid_axes = [0] reduction = average : tensor<4x3xf32> -> tensor<4x3xf32>
  %1 = shard.all_reduce %l on @dp grid_axes = [0] reduction = average : tensor<f32> -> tensor<f32>
  %2 = shard.all_reduce %h on @dp grid_axes = [0] : tensor<?xi64> -> tensor<?xi64>
  return %0, %1, %2 : tensor<4x3xf32>, tensor<f32>, tensor<?xi64>
}

// -----

shard.grid @tp(shape = 2x2)
func.func @grid_2d(%g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{runs on one-dimensional grids only (the job's world)}}
  // expected-error @+1 {{failed to bufferize op}}
  %0 = shard.all_reduce %g on @tp grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

shard.grid @dp(shape = ?)
func.func @f16(%g: tensor<4xf16>) -> tensor<4xf16> {
  // expected-error @+2 {{has no runtime collective for element type 'f16'}}
  // expected-error @+1 {{failed to bufferize op}}
  %0 = shard.all_reduce %g on @dp grid_axes = [0] : tensor<4xf16> -> tensor<4xf16>
  return %0 : tensor<4xf16>
}
