// RUN: vitc-opt %s --vitc-lower=target=cpu | FileCheck %s --check-prefix=CPU
// RUN: vitc-opt %s --vitc-lower=target=cuda | FileCheck %s --check-prefix=CUDA
//
// vitc-lower names no kernel: the codegen target registered under `target`
// adds its library calls after bufferization (compiler/Lowering/
// LibraryCalls.h). The CPU target turns the convolution and the matmul (a
// contraction by then) into oneDNN kernel calls; CUDA turns both into GPU
// library routines (cuDNN, cuBLASLt) with the same operands.

// CPU-LABEL: func.func @main
//       CPU:   call @vitc_cpu_conv2d_f32(
//       CPU:   call @vitc_cpu_matmul_f32(
//   CPU-NOT:   linalg.generic
//   CPU-NOT:   linalg.conv_2d
//       CPU: func.func private @vitc_cpu_conv2d_f32({{.*}}) attributes {llvm.emit_c_interface, vitc.library_kernel}

// CUDA-LABEL: func.func @main
//   CUDA-NOT:   vitc_cpu_
//       CUDA:   call @vitc_gpu_conv2d_f32(
//   CUDA-NOT:   linalg.conv_2d
//       CUDA:   call @vitc_gpu_matmul_f32({{.*}}) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64) -> ()
//   CUDA-NOT:   vitc_cpu_
//       CUDA: func.func private @vitc_gpu_matmul_f32({{.*}}) attributes {llvm.emit_c_interface, vitc.library_kernel}
func.func @main(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %m: tensor<144x5xf32>) -> tensor<2x5xf32> {
  %y = vt.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x6x6xf32>
  %s = vt.constant dense<[2, 144]> : tensor<2xi64>
  %f = vt.reshape %y, %s : tensor<2x4x6x6xf32>, tensor<2xi64> -> tensor<2x144xf32>
  %z = vt.matmul %f, %m : tensor<2x144xf32>, tensor<144x5xf32> -> tensor<2x5xf32>
  return %z : tensor<2x5xf32>
}
