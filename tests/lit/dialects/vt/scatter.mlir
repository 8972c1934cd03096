// RUN: vitc-opt %s -split-input-file | vitc-opt -split-input-file | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vt-infer-shapes | FileCheck %s --check-prefix=INFER
// RUN: vitc-opt %s -split-input-file -vt-fuse | FileCheck %s --check-prefix=FUSE

// Round trip: ScatterND's form (axis 0, a row per index tuple) and the
// general one (dims before and after the axis, indices of rank 2); the
// reduction defaults to "none" and is not printed then.
// CHECK-LABEL: func.func @round_trip
// CHECK: vt.scatter %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<8x4xf32>
// CHECK: vt.scatter %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, reduction = "max"} : tensor<?x5x3xf32>, tensor<2x2xi32>, tensor<?x2x2x3xf32> -> tensor<?x5x3xf32>
func.func @round_trip(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf32>,
                      %d2: tensor<?x5x3xf32>, %i2: tensor<2x2xi32>, %u2: tensor<?x2x2x3xf32>)
    -> (tensor<8x4xf32>, tensor<?x5x3xf32>) {
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "none"} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<8x4xf32>
  %1 = vt.scatter %d2, %i2, %u2 {axis = 1 : i64, reduction = "max"} : tensor<?x5x3xf32>, tensor<2x2xi32>, tensor<?x2x2x3xf32> -> tensor<?x5x3xf32>
  return %0, %1 : tensor<8x4xf32>, tensor<?x5x3xf32>
}

// -----

// The result has data's type: when a reshape's result is refined, the
// scatter's follows, and so does the function's result.
// INFER-LABEL: func.func @refined_from_data
// INFER: vt.scatter {{.*}} : tensor<6x4xf32>, tensor<2xi64>, tensor<2x4xf32> -> tensor<6x4xf32>
// INFER: return {{.*}} : tensor<6x4xf32>
func.func @refined_from_data(%x: tensor<24xf32>, %i: tensor<2xi64>, %u: tensor<2x4xf32>) -> tensor<?x4xf32> {
  %s = vt.constant dense<[6, 4]> : tensor<2xi64>
  %d = vt.reshape %x, %s : tensor<24xf32>, tensor<2xi64> -> tensor<?x4xf32>
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "add"} : tensor<?x4xf32>, tensor<2xi64>, tensor<2x4xf32> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Opaque to fusion: the elementwise ops before and after it stay apart.
// FUSE-LABEL: func.func @not_fused
// FUSE: vt.fusion
// FUSE: vt.exp
// FUSE: vt.yield
// FUSE-NEXT: }
// FUSE-NEXT: vt.scatter
// FUSE-NEXT: vt.fusion
// FUSE: vt.neg
func.func @not_fused(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf32>) -> tensor<8x4xf32> {
  %e = vt.exp %d : tensor<8x4xf32>
  %a = vt.add %e, %e : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  %0 = vt.scatter %a, %i, %u {axis = 0 : i64, reduction = "add"} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<8x4xf32>
  %n = vt.neg %0 : tensor<8x4xf32>
  %m = vt.mul %n, %n : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  return %m : tensor<8x4xf32>
}
