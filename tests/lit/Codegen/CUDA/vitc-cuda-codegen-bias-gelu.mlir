// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen | FileCheck %s
// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen=gpu-arch=sm_80 | FileCheck %s --check-prefix=SM80
//
// The epilogue of a linear layer (bias + GELU), a vt.fusion after the graph
// stage, through vitc's own stages to kernels: the host function launches
// outlined kernels over a 1-D grid of 256-thread blocks, the bias is read
// from the weights argument (not a host global), and each kernel is PTX for
// the requested architecture.

// CHECK: module attributes {{{.*}}gpu.container_module
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<?xi8> {vt.name = "weights"}
// CHECK-NOT: memref.get_global
// CHECK: %[[BIAS:.*]] = memref.view %[[W]]
// CHECK: gpu.launch_func @[[K0:[a-z0-9_]+]]::@{{[a-z0-9_]+}} blocks in (%{{.*}}, %c1, %c1) threads in (%c256, %c1, %c1) args({{.*}}%[[BIAS]] : memref<128xf32>
// CHECK-NOT: linalg.
// CHECK-NOT: scf.
// CHECK-NOT: memref.load
// CHECK: return
// CHECK: gpu.binary @[[K0]] [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// CHECK-SAME: assembly = "
// CHECK-SAME: .target sm_90
// CHECK-SAME: .visible .entry main_kernel(
// CHECK-SAME: %tid.x
// CHECK-SAME: ld.global

// SM80: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// SM80-SAME: .target sm_80

func.func @main(%x: tensor<?x17x128xf32> {vt.name = "h"}) -> (tensor<?x17x128xf32> {vt.name = "y"}) {
  %b = vt.constant {name = "fc1.bias"} dense<[-0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25]> : tensor<128xf32>
  %hb = vt.add %x, %b : tensor<?x17x128xf32>, tensor<128xf32> -> tensor<?x17x128xf32>
  %ge = vt.gelu %hb : tensor<?x17x128xf32>
  return %ge : tensor<?x17x128xf32>
}
