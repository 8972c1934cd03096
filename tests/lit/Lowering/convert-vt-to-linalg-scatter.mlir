// RUN: vitc-opt %s -split-input-file -convert-vt-to-linalg | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vitc-lower | FileCheck %s --check-prefix=LOWER
// RUN: not vitc-opt %s -split-input-file -convert-vt-to-linalg=target=cuda 2>&1 | FileCheck %s --check-prefix=CUDA

// ScatterND's form: a loop per update row, the row read from the indices
// (i32 here) and wrapped; out of [0, 8) the scf.if skips the update. The
// result starts as a copy of data (alloc_tensor), never data itself.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[D:.*]]: tensor<8x4xf32>, %[[I:.*]]: tensor<3xi32>, %[[U:.*]]: tensor<3x4xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[D]]) : tensor<8x4xf32>
// CHECK: %[[R:.*]] = scf.for %[[Q:[a-z0-9_]+]] = %[[C0]] to %[[C3]] step %{{.*}} iter_args(%[[ACC:[a-z0-9_]+]] = %[[COPY]])
// CHECK: %[[RAW:.*]] = tensor.extract %[[I]][%[[Q]]] : tensor<3xi32>
// CHECK: %[[IDX:.*]] = arith.index_cast %[[RAW]] : i32 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[IDX]], %[[C0]]
// CHECK: %[[PLUS:.*]] = arith.addi %[[IDX]], %[[C8]]
// CHECK: %[[ROW:[a-z0-9_]+]] = arith.select %[[NEG]], %[[PLUS]], %[[IDX]]
// CHECK: %[[GE:.*]] = arith.cmpi sge, %[[ROW]], %[[C0]]
// CHECK: %[[LT:.*]] = arith.cmpi slt, %[[ROW]], %[[C8]]
// CHECK: %[[IN:.*]] = arith.andi %[[GE]], %[[LT]]
// CHECK: scf.if %[[IN]] -> (tensor<8x4xf32>)
// CHECK: scf.for %[[S:[a-z0-9_]+]] = %[[C0]] to %[[C4]] step %{{.*}} iter_args(%[[ACC2:[a-z0-9_]+]] = %[[ACC]])
// CHECK: %[[V:.*]] = tensor.extract %[[U]][%[[Q]], %[[S]]]
// CHECK-NOT: tensor.extract
// CHECK: tensor.insert %[[V]] into %[[ACC2]][%[[ROW]], %[[S]]]
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[ACC]]
// CHECK: return %[[R]]
func.func @rows(%d: tensor<8x4xf32>, %i: tensor<3xi32>, %u: tensor<3x4xf32>) -> tensor<8x4xf32> {
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<8x4xf32>, tensor<3xi32>, tensor<3x4xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

// Dims before and after the axis, indices of rank 2: loops in the updates'
// row-major order [batch, q0, q1, s], so repeated indices apply in index
// order; the dynamic batch runs to the smaller of updates' and data's.
// The reduction reads the old value and combines.
// CHECK-LABEL: func.func @middle_axis
// CHECK-SAME: (%[[D:.*]]: tensor<?x5x3xf32>, %[[I:.*]]: tensor<2x2xi64>, %[[U:.*]]: tensor<?x2x2x3xf32>)
// CHECK: %[[DD:.*]] = tensor.dim %[[D]], %{{.*}} : tensor<?x5x3xf32>
// CHECK: %[[DU:.*]] = tensor.dim %[[U]], %{{.*}} : tensor<?x2x2x3xf32>
// CHECK: %[[N:.*]] = arith.minsi %[[DU]], %[[DD]] : index
// CHECK: scf.for %[[B:[a-z0-9_]+]] = %{{.*}} to %[[N]]
// CHECK: scf.for %[[Q0:[a-z0-9_]+]] =
// CHECK: scf.for %[[Q1:[a-z0-9_]+]] =
// CHECK: tensor.extract %[[I]][%[[Q0]], %[[Q1]]] : tensor<2x2xi64>
// CHECK: scf.if
// CHECK: scf.for %[[S:[a-z0-9_]+]] = {{.*}} iter_args(%[[ACC:[a-z0-9_]+]] =
// CHECK: %[[V:.*]] = tensor.extract %[[U]][%[[B]], %[[Q0]], %[[Q1]], %[[S]]]
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]][%[[B]], %[[ROW:[a-z0-9_]+]], %[[S]]]
// CHECK: %[[NEW:.*]] = arith.maximumf %[[OLD]], %[[V]] : f32
// CHECK: tensor.insert %[[NEW]] into %[[ACC]][%[[B]], %[[ROW]], %[[S]]]
func.func @middle_axis(%d: tensor<?x5x3xf32>, %i: tensor<2x2xi64>, %u: tensor<?x2x2x3xf32>) -> tensor<?x5x3xf32> {
  %0 = vt.scatter %d, %i, %u {axis = 1 : i64, reduction = "max"} : tensor<?x5x3xf32>, tensor<2x2xi64>, tensor<?x2x2x3xf32> -> tensor<?x5x3xf32>
  return %0 : tensor<?x5x3xf32>
}

// -----

// One scalar index: no loop, one guarded update; integer reductions.
// CHECK-LABEL: func.func @scalar_index
// CHECK-NOT: scf.for
// CHECK: tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: scf.if
// CHECK: arith.muli
// CHECK: tensor.insert
func.func @scalar_index(%d: tensor<5xi64>, %i: tensor<i64>, %u: tensor<i64>) -> tensor<5xi64> {
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "mul"} : tensor<5xi64>, tensor<i64>, tensor<i64> -> tensor<5xi64>
  return %0 : tensor<5xi64>
}

// -----

// Booleans: add and max are `or`, mul and min `and`.
// CHECK-LABEL: func.func @booleans
// CHECK: arith.ori
// CHECK-LABEL: func.func @booleans_min
// CHECK: arith.andi %{{.*}}, %{{.*}} : i1
func.func @booleans(%d: tensor<5xi1>, %i: tensor<2xi64>, %u: tensor<2xi1>) -> tensor<5xi1> {
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "add"} : tensor<5xi1>, tensor<2xi64>, tensor<2xi1> -> tensor<5xi1>
  return %0 : tensor<5xi1>
}
func.func @booleans_min(%d: tensor<5xi1>, %i: tensor<2xi64>, %u: tensor<2xi1>) -> tensor<5xi1> {
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "min"} : tensor<5xi1>, tensor<2xi64>, tensor<2xi1> -> tensor<5xi1>
  return %0 : tensor<5xi1>
}

// LOWER-LABEL: func.func @rows
// LOWER-SAME: %[[D:[a-z0-9]+]]: memref<8x4xf32>
// LOWER: %[[BUF:.*]] = memref.alloc() {{.*}} : memref<8x4xf32>
// LOWER: memref.copy %[[D]], %[[BUF]]
// LOWER: scf.for
// LOWER: memref.store %{{.*}}, %[[BUF]]
// LOWER-NOT: memref.store %{{.*}}, %[[D]]
// LOWER: return %[[BUF]]

// CUDA: error: 'vt.scatter' op is not supported on the CUDA target (a scatter with indices computed at run time lowers to a sequential loop nest, compiled for the CPU only)
