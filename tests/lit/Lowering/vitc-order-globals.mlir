// RUN: vitc-opt %s -split-input-file -vitc-order-globals | FileCheck %s
//
// Bufferization's constant globals come out sorted by type and contents
// (a digest of them), renumbered in that order, at the top of the module,
// whatever order and clash suffixes bufferization gave them; uses follow
// the new names; other globals stay. Both cases hold the same constants,
// listed and named differently, and come out the same.

// CHECK-LABEL: module
//       CHECK:   memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<{{\[}}3.000000e+00, 4.000000e+00]>
//  CHECK-NEXT:   memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<{{\[}}1.000000e+00, 2.000000e+00]>
//  CHECK-NEXT:   memref.global "private" constant @__constant_3xi64 : memref<3xi64> = dense<[0, 1, 2]>
//  CHECK-NEXT:   memref.global "private" constant @other
// CHECK-LABEL: func.func @f
//       CHECK:   memref.get_global @__constant_2xf32_0 : memref<2xf32>
//       CHECK:   memref.get_global @__constant_2xf32 : memref<2xf32>
//       CHECK:   memref.get_global @__constant_3xi64 : memref<3xi64>
memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[1.0, 2.0]> {alignment = 64 : i64}
memref.global "private" constant @other : memref<2xf32> = dense<[5.0, 6.0]>
memref.global "private" constant @__constant_3xi64 : memref<3xi64> = dense<[0, 1, 2]>
memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[3.0, 4.0]> {alignment = 64 : i64}
func.func @f() -> (memref<2xf32>, memref<2xf32>, memref<3xi64>) {
  %a = memref.get_global @__constant_2xf32 : memref<2xf32>
  %b = memref.get_global @__constant_2xf32_0 : memref<2xf32>
  %c = memref.get_global @__constant_3xi64 : memref<3xi64>
  return %a, %b, %c : memref<2xf32>, memref<2xf32>, memref<3xi64>
}

// -----

// CHECK-LABEL: module
//       CHECK:   memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<{{\[}}3.000000e+00, 4.000000e+00]>
//  CHECK-NEXT:   memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<{{\[}}1.000000e+00, 2.000000e+00]>
//  CHECK-NEXT:   memref.global "private" constant @__constant_3xi64 : memref<3xi64> = dense<[0, 1, 2]>
//  CHECK-NEXT:   memref.global "private" constant @other
// CHECK-LABEL: func.func @f
//       CHECK:   memref.get_global @__constant_2xf32_0 : memref<2xf32>
//       CHECK:   memref.get_global @__constant_2xf32 : memref<2xf32>
//       CHECK:   memref.get_global @__constant_3xi64 : memref<3xi64>
memref.global "private" constant @__constant_3xi64 : memref<3xi64> = dense<[0, 1, 2]>
memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[1.0, 2.0]> {alignment = 64 : i64}
memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[3.0, 4.0]> {alignment = 64 : i64}
memref.global "private" constant @other : memref<2xf32> = dense<[5.0, 6.0]>
func.func @f() -> (memref<2xf32>, memref<2xf32>, memref<3xi64>) {
  %a = memref.get_global @__constant_2xf32_0 : memref<2xf32>
  %b = memref.get_global @__constant_2xf32 : memref<2xf32>
  %c = memref.get_global @__constant_3xi64 : memref<3xi64>
  return %a, %b, %c : memref<2xf32>, memref<2xf32>, memref<3xi64>
}
