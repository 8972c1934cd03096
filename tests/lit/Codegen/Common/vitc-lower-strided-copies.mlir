// RUN: vitc-opt %s -split-input-file -vitc-lower-strided-copies | FileCheck %s

// CHECK-LABEL: func @strided_target
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<?x16xf32>) outs(%{{.*}} : memref<?x16xf32, strided<[32, 1], offset: ?>>)
func.func @strided_target(%src: memref<?x16xf32>, %dst: memref<?x32xf32>, %off: index) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %src, %c0 : memref<?x16xf32>
  %sub = memref.subview %dst[0, %off] [%n, 16] [1, 1] : memref<?x32xf32> to memref<?x16xf32, strided<[32, 1], offset: ?>>
  memref.copy %src, %sub : memref<?x16xf32> to memref<?x16xf32, strided<[32, 1], offset: ?>>
  return
}

// -----

// Contiguous copies stay memref.copy: they lower to llvm.memcpy.
// CHECK-LABEL: func @contiguous
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @contiguous(%src: memref<4x8xf32>, %dst: memref<4x8xf32>) {
  memref.copy %src, %dst : memref<4x8xf32> to memref<4x8xf32>
  return
}
