// RUN: vitc-opt %s -split-input-file -vitc-cpu-lower-parallel-calls | FileCheck %s

// Each call of a kernel marked vitc.parallel_grain stores its arguments
// (all but the range) into the caller's context buffer, one 8-byte slot
// each, and calls vitc_parallel_for with the kernel's trampoline, which
// loads them back. One buffer per caller, as large as its largest call.
// CHECK-LABEL: llvm.func @kernel(
//  CHECK-SAME:   %{{.*}}: !llvm.ptr, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64)
//  CHECK-SAME:   attributes {passthrough = ["noinline"]}
// CHECK-LABEL: llvm.func internal @kernel.task(
//  CHECK-SAME:   %[[CTX:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
//       CHECK:   %[[S0:.*]] = llvm.getelementptr %[[CTX]][0] : (!llvm.ptr) -> !llvm.ptr, i64
//       CHECK:   %[[P:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
//       CHECK:   %[[S1:.*]] = llvm.getelementptr %[[CTX]][1] : (!llvm.ptr) -> !llvm.ptr, i64
//       CHECK:   %[[F:.*]] = llvm.load %[[S1]] : !llvm.ptr -> f32
//       CHECK:   llvm.call @kernel(%[[P]], %[[F]], %[[B]], %[[E]])
//       CHECK:   llvm.return
// CHECK-LABEL: llvm.func @step(
//  CHECK-SAME:   %[[X:.*]]: !llvm.ptr, %[[Y:.*]]: !llvm.ptr, %[[S:.*]]: f32)
//       CHECK:   %[[BUF:.*]] = llvm.alloca %{{.*}} x !llvm.array<2 x i64> {alignment = 8 : i64}
//       CHECK:   %[[N:.*]] = llvm.mlir.constant(4096 : i64)
//       CHECK:   %[[A0:.*]] = llvm.getelementptr %[[BUF]][0]
//       CHECK:   llvm.store %[[X]], %[[A0]] : !llvm.ptr, !llvm.ptr
//       CHECK:   %[[A1:.*]] = llvm.getelementptr %[[BUF]][1]
//       CHECK:   llvm.store %[[S]], %[[A1]] : f32, !llvm.ptr
//       CHECK:   %[[T:.*]] = llvm.mlir.addressof @kernel.task
//       CHECK:   %[[G:.*]] = llvm.mlir.constant(8 : i64)
//       CHECK:   llvm.call @vitc_parallel_for(%[[T]], %[[BUF]], %{{.*}}, %[[N]], %[[G]])
//       CHECK:   llvm.store %[[Y]], %{{.*}} : !llvm.ptr, !llvm.ptr
//       CHECK:   llvm.call @vitc_parallel_for(%{{.*}}, %[[BUF]],
//   CHECK-NOT:   llvm.call @kernel(
//       CHECK:   llvm.return
//       CHECK: llvm.func @vitc_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64, i64)
//   CHECK-NOT: vitc.parallel_grain
llvm.func @kernel(%p: !llvm.ptr, %s: f32, %b: i64, %e: i64) attributes {passthrough = ["noinline"], vitc.parallel_grain = 8 : i64} {
  llvm.return
}
llvm.func @step(%x: !llvm.ptr, %y: !llvm.ptr, %s: f32) {
  %zero = llvm.mlir.constant(0 : i64) : i64
  %n = llvm.mlir.constant(4096 : i64) : i64
  llvm.call @kernel(%x, %s, %zero, %n) : (!llvm.ptr, f32, i64, i64) -> ()
  llvm.call @kernel(%y, %s, %zero, %n) : (!llvm.ptr, f32, i64, i64) -> ()
  llvm.return
}

// -----

// A kernel with an argument wider than a slot keeps its plain call, which
// covers the whole range; the mark goes either way.
// CHECK-LABEL: llvm.func @wide(
//   CHECK-NOT:   vitc.parallel_grain
// CHECK-LABEL: llvm.func @caller(
//       CHECK:   llvm.call @wide(
//   CHECK-NOT:   vitc_parallel_for
llvm.func @wide(%v: vector<8xf32>, %b: i64, %e: i64) attributes {vitc.parallel_grain = 1 : i64} {
  llvm.return
}
llvm.func @caller(%v: vector<8xf32>) {
  %zero = llvm.mlir.constant(0 : i64) : i64
  %n = llvm.mlir.constant(64 : i64) : i64
  llvm.call @wide(%v, %zero, %n) : (vector<8xf32>, i64, i64) -> ()
  llvm.return
}
