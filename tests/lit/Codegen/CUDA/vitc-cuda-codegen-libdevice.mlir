// REQUIRES: cuda-toolkit
// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen | FileCheck %s
// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen="gpu-format=bin cuda-path=%cuda_path" | FileCheck %s --check-prefix=CUBIN
//
// With a CUDA toolkit, libdevice is linked into the kernels: GELU's erf is
// code in the PTX, not an unresolved `__nv_erff` the driver would reject
// at load time. gpu-format=bin runs the toolkit's ptxas and embeds a cubin.

// CHECK-NOT: __nv_erff
// CHECK: gpu.binary @{{.*}}.visible .entry main_kernel({{.*}}copysign.f32
// CHECK-NOT: __nv_erff

// CUBIN: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {{{.*}}}, bin = "\7FELF

func.func @main(%x: tensor<?x17x128xf32> {vt.name = "h"}) -> (tensor<?x17x128xf32> {vt.name = "y"}) {
  %b = vt.constant {name = "fc1.bias"} dense<[-0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, -0.375, -0.25]> : tensor<128xf32>
  %hb = vt.add %x, %b : tensor<?x17x128xf32>, tensor<128xf32> -> tensor<?x17x128xf32>
  %ge = vt.gelu %hb : tensor<?x17x128xf32>
  return %ge : tensor<?x17x128xf32>
}
