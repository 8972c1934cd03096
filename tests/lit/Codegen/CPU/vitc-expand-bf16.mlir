// RUN: vitc-opt %s -split-input-file --vitc-expand-bf16 | FileCheck %s

// Widening bf16 is a shift of its bits into the high half of an f32.
// CHECK-LABEL: func.func @extend
//   CHECK-NOT:   arith.extf
//       CHECK:   %[[I16:.*]] = arith.bitcast %{{.*}} : bf16 to i16
//       CHECK:   %[[I32:.*]] = arith.extui %[[I16]] : i16 to i32
//       CHECK:   %[[HI:.*]] = arith.shli %[[I32]], %{{.*}} : i32
//       CHECK:   %[[F:.*]] = arith.bitcast %[[HI]] : i32 to f32
//       CHECK:   return %[[F]]
func.func @extend(%x: bf16) -> f32 {
  %0 = arith.extf %x : bf16 to f32
  return %0 : f32
}

// -----

// Narrowing to bf16 rounds to nearest even on the f32 bits, keeps NaN a
// NaN (a select on x != x), and ends in a bitcast: no truncf (which LLVM
// would lower to a __truncsfbf2 libcall) is left.
// CHECK-LABEL: func.func @truncate
//   CHECK-NOT:   arith.truncf
//       CHECK:   %[[NAN:.*]] = arith.cmpf une, %[[X:.*]], %[[X]] : f32
//       CHECK:   arith.bitcast %[[X]] : f32 to i32
//       CHECK:   %[[R:.*]] = arith.trunci %{{.*}} : i32 to i16
//       CHECK:   arith.select %[[NAN]], %{{.*}}, %[[R]] : i16
//       CHECK:   %[[B:.*]] = arith.bitcast %{{.*}} : i16 to bf16
//       CHECK:   return %[[B]]
func.func @truncate(%x: f32) -> bf16 {
  %0 = arith.truncf %x : f32 to bf16
  return %0 : bf16
}

// -----

// Vectors too; other arith ops (and f16 conversions) are left to LLVM.
// CHECK-LABEL: func.func @vector_and_others
//   CHECK-NOT:   arith.extf {{.*}}bf16
//       CHECK:   arith.maximumf
//       CHECK:   arith.extf %{{.*}} : f16 to f32
func.func @vector_and_others(%x: vector<8xbf16>, %y: f32, %z: f32, %h: f16) -> (vector<8xf32>, f32, f32) {
  %0 = arith.extf %x : vector<8xbf16> to vector<8xf32>
  %1 = arith.maximumf %y, %z : f32
  %2 = arith.extf %h : f16 to f32
  return %0, %1, %2 : vector<8xf32>, f32, f32
}
