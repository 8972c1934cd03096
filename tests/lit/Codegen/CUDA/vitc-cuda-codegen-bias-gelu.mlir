// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen | FileCheck %s
// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen=gpu-arch=sm_80 | FileCheck %s --check-prefix=SM80
//
// The epilogue of a linear layer (bias + GELU), a vt.fusion after the graph
// stage, through vitc's own stages to kernels: the schedule launches
// outlined kernels over a 1-D grid of 256-thread blocks, the bias is read
// from the weights argument (not a host global), and each kernel is PTX for
// the requested architecture.

// The host function is now its schedule: one allocation (the output), one
// launch of 256-thread blocks over input #1, a view of the weights (the
// bias: base "weights", f32) and the output.
// CHECK: module attributes {gpu.container_module, vitc.gpu_schedules = {main = {commands = [
// CHECK-SAME: {alloc = 0 : i64, bytes = {{[0-9]+}} : i64, op = "alloc"},
// CHECK-SAME: ["memref", 1], ["memref", 2], ["memref", 3]], block = {{\[}}{{[0-9]+}}, 1, 1], grid = {{\[}}{{[0-9]+}}, 1, 1], kernel = @[[K0:[a-z0-9_]+]]::@main_kernel, op = "launch", shared = {{[0-9]+}} : i64}]
// CHECK-SAME: memrefs = [{base = "weights", {{[^}]*}}}, {base = "input", {{[^}]*}}index = 1 {{[^}]*}}}, {base = "weights", {{[^}]*}}dtype = "f32", {{[^}]*}}}, {base = "alloc", {{[^}]*}}}], results = [3],
// CHECK-SAME: "const", 256]
// CHECK-NOT: func.func
// CHECK-NOT: memref.get_global
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
