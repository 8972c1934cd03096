// RUN: vitc-opt %s -split-input-file -vitc-overlap-collectives | FileCheck %s

// A gradient's all-reduce starts where the blocking call was and is waited
// for right before the first later op that touches its buffer (through a
// view); the work in between overlaps it. The wait names the buffer, which
// keeps it alive for memory planning and deallocation.
// CHECK-LABEL: func.func @grad(
//  CHECK-SAME:     %[[G:.*]]: memref<4x3xf32>, %[[X:.*]]: memref<8xf32>
//       CHECK:   %[[FLAT:.*]] = memref.collapse_shape %[[G]]
//       CHECK:   %[[DYN:.*]] = memref.cast %[[FLAT]]
//       CHECK:   %[[H:.*]] = call @vitc_coll_start_all_reduce_f32(%[[DYN]], %{{.*}}) : (memref<?xf32>, i64) -> i64
//       CHECK:   linalg.fill ins(%{{.*}} : f32) outs(%[[X]] : memref<8xf32>)
//       CHECK:   call @vitc_coll_wait_f32(%[[H]], %[[DYN]], %[[DYN]]) : (i64, memref<?xf32>, memref<?xf32>) -> ()
//  CHECK-NEXT:   memref.load %[[G]]
//   CHECK-NOT:   call @vitc_coll_all_reduce_f32
//       CHECK: func.func private @vitc_coll_start_all_reduce_f32(memref<?xf32>, i64) -> i64 attributes {llvm.emit_c_interface, vitc.library_kernel}
//       CHECK: func.func private @vitc_coll_wait_f32(i64, memref<?xf32>, memref<?xf32>) attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func private @vitc_coll_all_reduce_f32(memref<?xf32>, i64) attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func @grad(%g: memref<4x3xf32>, %x: memref<8xf32>) -> f32 {
  %flat = memref.collapse_shape %g [[0, 1]] : memref<4x3xf32> into memref<12xf32>
  %dyn = memref.cast %flat : memref<12xf32> to memref<?xf32>
  %avg = arith.constant 5 : i64
  call @vitc_coll_all_reduce_f32(%dyn, %avg) : (memref<?xf32>, i64) -> ()
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%x : memref<8xf32>)
  %c0 = arith.constant 0 : index
  %v = memref.load %g[%c0, %c0] : memref<4x3xf32>
  return %v : f32
}

// -----

// A gather's wait comes before the first op that touches either buffer;
// with no later use it comes before the terminator.
// CHECK-LABEL: func.func @gather(
//       CHECK:   %[[H:.*]] = call @vitc_coll_start_all_gather_f32(%[[S:.*]], %[[R:.*]]) : (memref<?xf32>, memref<?xf32>) -> i64
//  CHECK-NEXT:   call @vitc_coll_wait_f32(%[[H]], %[[S]], %[[R]])
//  CHECK-NEXT:   return
func.func private @vitc_coll_all_gather_f32(memref<?xf32>, memref<?xf32>) attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func @gather(%s: memref<?xf32>, %r: memref<?xf32>) {
  call @vitc_coll_all_gather_f32(%s, %r) : (memref<?xf32>, memref<?xf32>) -> ()
  return
}
