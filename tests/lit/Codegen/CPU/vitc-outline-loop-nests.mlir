// RUN: vitc-opt %s --vitc-outline-loop-nests | FileCheck %s
//
// Each top-level loop nest becomes a noinline private function called in
// its place; constants are cloned in, other values become arguments.
// Identical nests (the third: the first on other buffers) share one
// function; the caller, now glue, is compiled without optimisation.

// CHECK-LABEL: func.func private @step.loops.0(
//  CHECK-SAME:   %{{.*}}: memref<?xf32>, %{{.*}}: memref<?xf32>, %{{.*}}: index) attributes {passthrough = ["noinline"]}
//   CHECK-DAG:   arith.constant 2.000000e+00 : f32
//       CHECK:   scf.for
//       CHECK:     arith.mulf
// CHECK-LABEL: func.func private @step.loops.1(
//  CHECK-SAME:   %{{.*}}: memref<?xf32>, %{{.*}}: index) -> f32 attributes {passthrough = ["noinline"]}
//       CHECK:   %[[R:.*]] = scf.for {{.*}} iter_args
//       CHECK:   return %[[R]] : f32
//   CHECK-NOT: func.func private @step.loops.2
// CHECK-LABEL: func.func @step(
//  CHECK-SAME:   %[[X:[a-z0-9]+]]: memref<?xf32>, %[[Y:[a-z0-9]+]]: memref<?xf32>, %[[Z:[a-z0-9]+]]: memref<?xf32>)
//  CHECK-SAME:   attributes {passthrough = ["noinline", "optnone"]}
//       CHECK:   %[[N:.*]] = memref.dim %[[X]]
//       CHECK:   call @step.loops.0(%[[X]], %[[Y]], %[[N]]) : (memref<?xf32>, memref<?xf32>, index) -> ()
//       CHECK:   %[[SUM:.*]] = call @step.loops.1(%[[Y]], %[[N]]) : (memref<?xf32>, index) -> f32
//       CHECK:   call @step.loops.0(%[[Y]], %[[Z]], %[[N]]) : (memref<?xf32>, memref<?xf32>, index) -> ()
//   CHECK-NOT:   scf.for
//       CHECK:   return %[[SUM]]
func.func @step(%x: memref<?xf32>, %y: memref<?xf32>, %z: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant 2.0 : f32
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %x[%i] : memref<?xf32>
    %d = arith.mulf %v, %two : f32
    memref.store %d, %y[%i] : memref<?xf32>
  }
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %y[%i] : memref<?xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %y[%i] : memref<?xf32>
    %d = arith.mulf %v, %two : f32
    memref.store %d, %z[%i] : memref<?xf32>
  }
  return %sum : f32
}
