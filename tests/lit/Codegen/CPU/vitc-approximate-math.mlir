// RUN: vitc-opt %s -split-input-file --vitc-approximate-math | FileCheck %s

// erf and exp become f32 arithmetic (no libm call is left to block
// vectorisation); other math ops stay.
// CHECK-LABEL: func.func @erf_exp
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: math.tanh
// CHECK: return
func.func @erf_exp(%x: f32) -> f32 {
  %0 = math.erf %x : f32
  %1 = math.exp %0 : f32
  %2 = math.tanh %1 : f32
  return %2 : f32
}

// -----

// CHECK-LABEL: func.func @vector_exp
// CHECK-NOT: math.exp
// CHECK: return
func.func @vector_exp(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.exp %x : vector<8xf32>
  return %0 : vector<8xf32>
}
