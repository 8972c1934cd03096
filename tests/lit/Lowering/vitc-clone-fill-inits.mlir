// RUN: vitc-opt %s -split-input-file -vitc-clone-fill-inits | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vitc-clone-fill-inits -one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF

// Two convolutions share one zero fill (as CSE leaves them): each gets its
// own fill right before it, and the original goes. Bufferized, each
// convolution writes into a buffer filled just before it, with no copy.
// CHECK-LABEL: func.func @shared_conv_init
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x4x4x4xf32>
// CHECK-NEXT:    %[[F1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<1x4x4x4xf32>)
// CHECK-NEXT:    %[[C1:.*]] = linalg.conv_2d_nchw_fchw {{.*}} outs(%[[F1]] : tensor<1x4x4x4xf32>)
// CHECK-NEXT:    %[[F2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<1x4x4x4xf32>)
// CHECK-NEXT:    %[[C2:.*]] = linalg.conv_2d_nchw_fchw {{.*}} outs(%[[F2]] : tensor<1x4x4x4xf32>)
// CHECK-NOT:     linalg.fill
// BUF-LABEL: func.func @shared_conv_init
// BUF-NOT:     memref.copy
// BUF:         linalg.fill
// BUF-NEXT:    linalg.conv_2d_nchw_fchw
// BUF-NEXT:    linalg.fill
// BUF-NEXT:    linalg.conv_2d_nchw_fchw
// BUF-NOT:     memref.copy
func.func @shared_conv_init(%x: tensor<1x2x6x6xf32>, %w: tensor<4x2x3x3xf32>, %v: tensor<4x2x3x3xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %a = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%f : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %b = linalg.conv_2d_nchw_fchw ins(%x, %v : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%f : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %a, %b : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// A fill that is also read as an input stays for that reader; its init use
// gets a clone. A fill with one use is left alone.
// CHECK-LABEL: func.func @fill_also_read
// CHECK:         %[[F:.*]] = linalg.fill
// CHECK-NEXT:    %[[G:.*]] = linalg.fill
// CHECK-NEXT:    %[[CLONE:.*]] = linalg.fill
// CHECK-NEXT:    linalg.add ins(%[[F]], %[[G]] : tensor<8xf32>, tensor<8xf32>) outs(%[[CLONE]] : tensor<8xf32>)
// CHECK-NOT:     linalg.fill
func.func @fill_also_read(%x: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %g = linalg.fill ins(%one : f32) outs(%x : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.add ins(%f, %g : tensor<8xf32>, tensor<8xf32>) outs(%f : tensor<8xf32>) -> tensor<8xf32>
  return %s : tensor<8xf32>
}
