// RUN: vitc-opt %s -split-input-file -verify-diagnostics --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s
//
// One-shot bufferization of FSDP's shard.all_gather and shard.reduce_scatter
// (compiler/Lowering/CollectiveBufferization.cpp): a fresh result buffer of
// the input's size times (gather) or over (scatter) the world size, which
// the runtime gives, and a call from input to result.

// CHECK-LABEL: func.func @fsdp(
//  CHECK-SAME:     %[[S:.*]]: memref<?xf32>, %[[G:.*]]: memref<?xf32>)
//       CHECK:   %[[D:.*]] = memref.dim %[[S]], %{{.*}} : memref<?xf32>
//       CHECK:   %[[N:.*]] = call @vitc_coll_world_size() : () -> i64
//       CHECK:   %[[NI:.*]] = arith.index_cast %[[N]] : i64 to index
//       CHECK:   %[[LEN:.*]] = arith.muli %[[D]], %[[NI]] : index
//       CHECK:   %[[FULL:.*]] = memref.alloc(%[[LEN]]) {{.*}}: memref<?xf32>
//       CHECK:   call @vitc_coll_all_gather_f32(%[[S]], %[[FULL]]) : (memref<?xf32>, memref<?xf32>) -> ()
//       CHECK:   %[[GD:.*]] = memref.dim %[[G]], %{{.*}} : memref<?xf32>
//       CHECK:   call @vitc_coll_world_size()
//       CHECK:   %[[SLEN:.*]] = arith.divui %[[GD]], %{{.*}} : index
//       CHECK:   %[[SH:.*]] = memref.alloc(%[[SLEN]]) {{.*}}: memref<?xf32>
//       CHECK:   %[[AVG:.*]] = arith.constant 5 : i64
//       CHECK:   call @vitc_coll_reduce_scatter_f32(%[[G]], %[[SH]], %[[AVG]])
//       CHECK:   return %[[FULL]], %[[SH]]
//       CHECK: func.func private @vitc_coll_world_size() -> i64
//       CHECK: func.func private @vitc_coll_all_gather_f32(memref<?xf32>, memref<?xf32>) attributes {llvm.emit_c_interface, vitc.library_kernel}
//       CHECK: func.func private @vitc_coll_reduce_scatter_f32(memref<?xf32>, memref<?xf32>, i64) attributes {llvm.emit_c_interface, vitc.library_kernel}
shard.grid @dp(shape = ?)
func.func @fsdp(%shard: tensor<?xf32>, %grad: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  %full = shard.all_gather %shard on @dp grid_axes = [0] gather_axis = 0 : tensor<?xf32> -> tensor<?xf32>
  %g = shard.reduce_scatter %grad on @dp grid_axes = [0] reduction = average scatter_axis = 0 : tensor<?xf32> -> tensor<?xf32>
  return %full, %g : tensor<?xf32>, tensor<?xf32>
}

// -----

// Only flat tensors: FSDP gathers flattened parameters.
shard.grid @dp(shape = ?)
func.func @two_dims(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+2 {{runs on one-dimensional tensors (axis 0) only}}
  // expected-error @+1 {{failed to bufferize op}}
  %0 = shard.all_gather %x on @dp grid_axes = [0] gather_axis = 0 : tensor<?x4xf32> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
