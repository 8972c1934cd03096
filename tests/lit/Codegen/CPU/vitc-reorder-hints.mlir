// RUN: vitc-opt %s -split-input-file -vitc-linalg-to-library -vitc-reorder-hints | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vitc-linalg-to-library | FileCheck %s --check-prefix=NOHINTS

// Without vitc-reorder-hints, every convolution call has hints 0.
// NOHINTS-LABEL: func.func @reorder_hints
//   NOHINTS-NOT:   call @vitc_cpu_conv2d_f32({{.*}}, %c{{[1-9][0-9]*}}_i64{{(_[0-9]+)?}}) :
// NOHINTS-LABEL: func.func @reorder_hints_written
//   NOHINTS-NOT:   call @vitc_cpu_conv2d_f32({{.*}}, %c{{[1-9][0-9]*}}_i64{{(_[0-9]+)?}}) :

// vitc-linalg-to-library emits the calls, this pass their hints (last
// argument): x is read by the forward convolution and
// again, unchanged, by the filter gradient (through a transposed view of
// the same address); g by both gradients. keep = 2 on the first reads,
// reuse = 1 (input) | 4 (filter) on the second.
// CHECK-LABEL: func.func @reorder_hints
//       CHECK:   call @vitc_cpu_conv2d_f32({{.*}}, %c2_i64{{(_[0-9]+)?}}) :
//       CHECK:   call @vitc_cpu_conv2d_f32({{.*}}, %c2_i64{{(_[0-9]+)?}}) :
//       CHECK:   call @vitc_cpu_conv2d_f32({{.*}}, %c5_i64{{(_[0-9]+)?}}) :
func.func @reorder_hints(%x: memref<2x3x8x8xf32>, %w: memref<4x3x3x3xf32>, %g: memref<2x4x6x6xf32>, %wf: memref<3x4x3x3xf32>, %y: memref<2x4x6x6xf32>, %dx: memref<2x3x8x8xf32>, %dw: memref<3x4x3x3xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<2x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<2x4x6x6xf32>)
  %cst = arith.constant 0.0 : f32
  %gp = memref.alloc() : memref<2x4x10x10xf32>
  linalg.fill ins(%cst : f32) outs(%gp : memref<2x4x10x10xf32>)
  %inner = memref.subview %gp[0, 0, 2, 2] [2, 4, 6, 6] [1, 1, 1, 1] : memref<2x4x10x10xf32> to memref<2x4x6x6xf32, strided<[400, 100, 10, 1], offset: 22>>
  memref.copy %g, %inner : memref<2x4x6x6xf32> to memref<2x4x6x6xf32, strided<[400, 100, 10, 1], offset: 22>>
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%gp, %wf : memref<2x4x10x10xf32>, memref<3x4x3x3xf32>) outs(%dx : memref<2x3x8x8xf32>)
  %xt = memref.alloc() : memref<3x2x8x8xf32>
  linalg.transpose ins(%x : memref<2x3x8x8xf32>) outs(%xt : memref<3x2x8x8xf32>) permutation = [1, 0, 2, 3]
  %gt = memref.alloc() : memref<4x2x6x6xf32>
  linalg.transpose ins(%g : memref<2x4x6x6xf32>) outs(%gt : memref<4x2x6x6xf32>) permutation = [1, 0, 2, 3]
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xt, %gt : memref<3x2x8x8xf32>, memref<4x2x6x6xf32>) outs(%dw : memref<3x4x3x3xf32>)
  return
}

// -----

// x is written between two reads: no hints for it. The filter is read
// twice unchanged: keep (8) on the first read, reuse (4) on the second.
// CHECK-LABEL: func.func @reorder_hints_written
//       CHECK:   call @vitc_cpu_conv2d_f32({{.*}}, %c8_i64{{(_[0-9]+)?}}) :
//       CHECK:   linalg.fill
//       CHECK:   call @vitc_cpu_conv2d_f32({{.*}}, %c4_i64{{(_[0-9]+)?}}) :
func.func @reorder_hints_written(%x: memref<2x3x8x8xf32>, %w: memref<4x3x3x3xf32>, %y: memref<2x4x6x6xf32>, %y2: memref<2x4x6x6xf32>) {
  %cst = arith.constant 1.0 : f32
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<2x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y : memref<2x4x6x6xf32>)
  linalg.fill ins(%cst : f32) outs(%x : memref<2x3x8x8xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<2x3x8x8xf32>, memref<4x3x3x3xf32>) outs(%y2 : memref<2x4x6x6xf32>)
  return
}

// -----

// The pass also runs on calls as they come: reads of different memory get
// no hints; the same filter read twice gets keep then reuse.
// CHECK-LABEL: func.func @calls
//       CHECK:   %[[K:.*]] = arith.constant 8 : i64
//       CHECK:   call @vitc_cpu_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, {{.*}}, %[[K]])
//       CHECK:   %[[R:.*]] = arith.constant 4 : i64
//       CHECK:   call @vitc_cpu_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, {{.*}}, %[[R]])
#dyn4 = strided<[?, ?, ?, ?], offset: ?>
func.func private @vitc_cpu_conv2d_f32(memref<?x?x?x?xf32, #dyn4>, memref<?x?x?x?xf32, #dyn4>, memref<?x?x?x?xf32, #dyn4>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func @calls(%x1: memref<?x?x?x?xf32, #dyn4>, %x2: memref<?x?x?x?xf32, #dyn4>, %w: memref<?x?x?x?xf32, #dyn4>, %y1: memref<?x?x?x?xf32, #dyn4>, %y2: memref<?x?x?x?xf32, #dyn4>) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  call @vitc_cpu_conv2d_f32(%x1, %w, %y1, %c1, %c1, %c1, %c1, %c0, %c0, %c0, %c0, %c0, %c0, %c0) : (memref<?x?x?x?xf32, #dyn4>, memref<?x?x?x?xf32, #dyn4>, memref<?x?x?x?xf32, #dyn4>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
  call @vitc_cpu_conv2d_f32(%x2, %w, %y2, %c1, %c1, %c1, %c1, %c0, %c0, %c0, %c0, %c0, %c0, %c0) : (memref<?x?x?x?xf32, #dyn4>, memref<?x?x?x?xf32, #dyn4>, memref<?x?x?x?xf32, #dyn4>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
  return
}
