// RUN: vitc-opt %s --vitc-graph --vitc-lower=target=cuda --vitc-cuda-codegen | FileCheck %s
//
// A dropout on a dynamic batch becomes one GPU kernel that computes its mask
// in place: vt.random_uniform's SplitMix64 hash of (seed, stream, linear
// index) in 64-bit integer arithmetic, the same operations as on the CPU,
// so both targets draw the same mask. Each thread hashes its own element
// index; nothing depends on the launch shape.

// CHECK: vitc.gpu_schedules = {main = {commands = [
// CHECK-SAME: kernel = @main_kernel::@main_kernel, op = "launch"
// CHECK-NOT: op = "launch"
// CHECK: gpu.binary @main_kernel
//   mix64's multipliers, the stream (3), the counter step (golden ratio),
//   the top 24 bits scaled by 2^-24 (0f33800000), compared with the ratio.
// CHECK-SAME: mul.lo.s64 {{[^;]*}}, -4658895280553007687;
// CHECK-SAME: mul.lo.s64 {{[^;]*}}, -7723592293110705685;
// CHECK-SAME: xor.b64 {{[^;]*}}, 3;
// CHECK-SAME: -7046029254386353131
// CHECK-SAME: shr.u64 {{[^;]*}}, 40;
// CHECK-SAME: cvt.rn.f32.u64
// CHECK-SAME: mul.rn.f32 {{[^;]*}}, 0f33800000;
// CHECK-SAME: setp.lt.f32 {{[^;]*}}, 0f3E800000;
// CHECK-NOT: .f64
func.func @main(%seed: tensor<i64> {vt.name = "seed"}, %x: tensor<?x5xf32> {vt.name = "x"}) -> (tensor<?x5xf32> {vt.name = "y"}) {
  %s = vt.shape_of %x : tensor<?x5xf32> -> tensor<2xi64>
  %u = vt.random_uniform %seed, %s {stream = 3 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x5xf32>
  %p = vt.constant dense<2.5e-01> : tensor<f32>
  %drop = vt.less %u, %p : tensor<?x5xf32>, tensor<f32> -> tensor<?x5xi1>
  %zero = vt.constant dense<0.0> : tensor<f32>
  %scale = vt.constant dense<1.33333337> : tensor<f32>
  %m = vt.select %drop, %zero, %scale : tensor<?x5xi1>, tensor<f32>, tensor<f32> -> tensor<?x5xf32>
  %y = vt.mul %x, %m : tensor<?x5xf32>, tensor<?x5xf32> -> tensor<?x5xf32>
  return %y : tensor<?x5xf32>
}
