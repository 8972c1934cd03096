// RUN: vitc-opt %s -split-input-file -vitc-plan-memory | FileCheck %s

// %a dies (last use: the copy into %b) before %c is first written: %c reuses
// %a's bytes. %b overlaps both and sits after them. %r is returned and keeps
// its own allocation.
// CHECK-LABEL: func.func @reuse
//   CHECK-DAG:   %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<512xi8>
//   CHECK-DAG:   %[[OFF0:.*]] = arith.constant 0 : index
//   CHECK-DAG:   %[[OFF256:.*]] = arith.constant 256 : index
//       CHECK:   %[[A:.*]] = memref.view %[[ARENA]][%[[OFF0]]][] : memref<512xi8> to memref<4x16xf32>
//       CHECK:   %[[B:.*]] = memref.view %[[ARENA]][%[[OFF256]]][] : memref<512xi8> to memref<4x16xf32>
//       CHECK:   %[[C:.*]] = memref.view %[[ARENA]][%[[OFF0]]][] : memref<512xi8> to memref<4x16xf32>
//       CHECK:   %[[R:.*]] = memref.alloc() : memref<4x16xf32>
//       CHECK:   return %[[R]]
//   CHECK-NOT:   memref.dealloc
func.func @reuse(%x: memref<4x16xf32>) -> memref<4x16xf32> {
  %a = memref.alloc() : memref<4x16xf32>
  memref.copy %x, %a : memref<4x16xf32> to memref<4x16xf32>
  %b = memref.alloc() : memref<4x16xf32>
  memref.copy %a, %b : memref<4x16xf32> to memref<4x16xf32>
  %c = memref.alloc() : memref<4x16xf32>
  memref.copy %b, %c : memref<4x16xf32> to memref<4x16xf32>
  %r = memref.alloc() : memref<4x16xf32>
  memref.copy %c, %r : memref<4x16xf32> to memref<4x16xf32>
  return %r : memref<4x16xf32>
}

// -----

// Both live at once: no sharing. The larger buffer is placed first, at 0;
// sizes are rounded up to 64 bytes (3 x f32 = 12 -> 64).
// CHECK-LABEL: func.func @overlap
//   CHECK-DAG:   %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<320xi8>
//   CHECK-DAG:   %[[OFF0:.*]] = arith.constant 0 : index
//   CHECK-DAG:   %[[OFF256:.*]] = arith.constant 256 : index
//       CHECK:   memref.view %[[ARENA]][%[[OFF256]]][] : memref<320xi8> to memref<3xf32>
//       CHECK:   memref.view %[[ARENA]][%[[OFF0]]][] : memref<320xi8> to memref<64xf32>
func.func @overlap(%x: memref<3xf32>, %y: memref<64xf32>, %out: memref<3xf32>, %out2: memref<64xf32>) {
  %small = memref.alloc() : memref<3xf32>
  %big = memref.alloc() : memref<64xf32>
  memref.copy %x, %small : memref<3xf32> to memref<3xf32>
  memref.copy %y, %big : memref<64xf32> to memref<64xf32>
  memref.copy %small, %out : memref<3xf32> to memref<3xf32>
  memref.copy %big, %out2 : memref<64xf32> to memref<64xf32>
  return
}

// -----

// %a is last used through a subview (and a cast of it) after %b is written:
// they overlap, so no reuse. Without the alias walk they would share.
// CHECK-LABEL: func.func @alias_through_view
//   CHECK-DAG:   %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<512xi8>
//   CHECK-DAG:   %[[OFF0:.*]] = arith.constant 0 : index
//   CHECK-DAG:   %[[OFF256:.*]] = arith.constant 256 : index
//       CHECK:   memref.view %[[ARENA]][%[[OFF0]]][]
//       CHECK:   memref.subview
//       CHECK:   memref.view %[[ARENA]][%[[OFF256]]][]
func.func @alias_through_view(%x: memref<4x16xf32>, %out: memref<2x16xf32>, %out2: memref<4x16xf32>) {
  %a = memref.alloc() : memref<4x16xf32>
  memref.copy %x, %a : memref<4x16xf32> to memref<4x16xf32>
  %sv = memref.subview %a[0, 0] [2, 16] [1, 1] : memref<4x16xf32> to memref<2x16xf32, strided<[16, 1]>>
  %b = memref.alloc() : memref<4x16xf32>
  memref.copy %x, %b : memref<4x16xf32> to memref<4x16xf32>
  %cast = memref.cast %sv : memref<2x16xf32, strided<[16, 1]>> to memref<2x16xf32, strided<[?, ?], offset: ?>>
  memref.copy %cast, %out : memref<2x16xf32, strided<[?, ?], offset: ?>> to memref<2x16xf32>
  memref.copy %b, %out2 : memref<4x16xf32> to memref<4x16xf32>
  return
}

// -----

// Dynamic batch: sizes are computed at entry from the argument's dim (hoisted
// from where the allocs were), offsets as max(offset + size) (cmpi + select) over
// overlapping buffers, each size rounded up to 64 bytes at run time. %a dies
// before %c is first used: %c shares offset 0 with it; %b overlaps both.
// CHECK-LABEL: func.func @dynamic
//  CHECK-SAME: (%[[X:[^:]*]]: memref<?x8xf32>
//       CHECK:   %[[N:.*]] = memref.dim %[[X]], %{{.*}} : memref<?x8xf32>
//       CHECK:   %[[BYTES:.*]] = arith.muli %{{.*}}, %[[N]] : index
//       CHECK:   %[[BIASED:.*]] = arith.addi %{{.*}}, %{{.*}} : index
//       CHECK:   %[[ALIGNED:.*]] = arith.andi %[[BIASED]], %{{.*}} : index
//       CHECK:   %[[GT1:.*]] = arith.cmpi ugt
//       CHECK:   %[[BOFF:.*]] = arith.select %[[GT1]]
//       CHECK:   %[[GT2:.*]] = arith.cmpi ugt
//       CHECK:   %[[SIZE:.*]] = arith.select %[[GT2]]
//       CHECK:   %[[ARENA:.*]] = memref.alloc(%[[SIZE]]) {alignment = 64 : i64} : memref<?xi8>
//       CHECK:   %[[ZERO:.*]] = arith.constant 0 : index
//       CHECK:   memref.view %[[ARENA]][%[[ZERO]]][%{{.*}}] : memref<?xi8> to memref<?x8xf32>
//       CHECK:   memref.view %[[ARENA]][%[[BOFF]]][%{{.*}}] : memref<?xi8> to memref<?x4xf32>
//       CHECK:   memref.view %[[ARENA]][%[[ZERO]]][%{{.*}}] : memref<?xi8> to memref<?x8xf32>
func.func @dynamic(%x: memref<?x8xf32>, %out: memref<?x8xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x8xf32>
  %a = memref.alloc(%n) : memref<?x8xf32>
  memref.copy %x, %a : memref<?x8xf32> to memref<?x8xf32>
  %b = memref.alloc(%n) : memref<?x4xf32>
  %sa = memref.subview %a[0, 0] [%n, 4] [1, 1] : memref<?x8xf32> to memref<?x4xf32, strided<[8, 1]>>
  memref.copy %sa, %b : memref<?x4xf32, strided<[8, 1]>> to memref<?x4xf32>
  %c = memref.alloc(%n) : memref<?x8xf32>
  %sc = memref.subview %c[0, 0] [%n, 4] [1, 1] : memref<?x8xf32> to memref<?x4xf32, strided<[8, 1]>>
  memref.copy %b, %sc : memref<?x4xf32> to memref<?x4xf32, strided<[8, 1]>>
  memref.copy %c, %out : memref<?x8xf32> to memref<?x8xf32>
  return
}

// -----

// Existing per-buffer deallocs become one dealloc of the arena at exit.
// Passing a buffer to an unknown function makes it escape; library kernels
// (vitc.library_kernel) do not retain their arguments.
// CHECK-LABEL: func.func @deallocs_and_calls
//       CHECK:   %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<64xi8>
//       CHECK:   %[[K:.*]] = memref.view %[[ARENA]]
//       CHECK:   %[[U:.*]] = memref.alloc() : memref<16xf32>
//       CHECK:   call @kernel(%[[K]])
//       CHECK:   call @unknown(%[[U]])
//       CHECK:   memref.dealloc %[[U]]
//   CHECK-NOT:   memref.dealloc %[[K]]
//       CHECK:   memref.dealloc %[[ARENA]] : memref<64xi8>
//  CHECK-NEXT:   return
func.func private @kernel(memref<16xf32>) attributes {vitc.library_kernel}
func.func private @unknown(memref<16xf32>)
func.func @deallocs_and_calls() {
  %k = memref.alloc() : memref<16xf32>
  %u = memref.alloc() : memref<16xf32>
  call @kernel(%k) : (memref<16xf32>) -> ()
  call @unknown(%u) : (memref<16xf32>) -> ()
  memref.dealloc %k : memref<16xf32>
  memref.dealloc %u : memref<16xf32>
  return
}
