// RUN: vitc-opt %s -split-input-file -vitc-sink-transposes | FileCheck %s

// x^T moves from after the forward op to right before its first user.
// CHECK-LABEL: func.func @sink
// CHECK:         %[[Y:.*]] = linalg.exp
// CHECK-NEXT:    %[[E:.*]] = tensor.empty() : tensor<3x2xf32>
// CHECK-NEXT:    %[[Z:.*]] = linalg.exp
// CHECK-NEXT:    %[[T:.*]] = linalg.transpose ins(%[[Y]] : tensor<2x3xf32>) outs(%[[E]] : tensor<3x2xf32>) permutation = [1, 0]
// CHECK-NEXT:    linalg.exp ins(%[[T]]
func.func @sink(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  %e0 = tensor.empty() : tensor<2x3xf32>
  %y = linalg.exp ins(%x : tensor<2x3xf32>) outs(%e0 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%y : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  %z = linalg.exp ins(%y : tensor<2x3xf32>) outs(%e0 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %w = linalg.exp ins(%t : tensor<3x2xf32>) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %z, %w : tensor<2x3xf32>, tensor<3x2xf32>
}

// -----

// A user in a nested region pins the transpose before the op holding it.
// CHECK-LABEL: func.func @nested_user
// CHECK:         linalg.transpose
// CHECK-NEXT:    scf.if
func.func @nested_user(%x: tensor<2x3xf32>, %c: i1) -> tensor<3x2xf32> {
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  %e0 = tensor.empty() : tensor<2x3xf32>
  %y = linalg.exp ins(%x : tensor<2x3xf32>) outs(%e0 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = scf.if %c -> tensor<3x2xf32> {
    scf.yield %t : tensor<3x2xf32>
  } else {
    scf.yield %e : tensor<3x2xf32>
  }
  return %r : tensor<3x2xf32>
}
