// RUN: vitc-opt %s --split-input-file --pass-pipeline="builtin.module(gpu.module(vitc-gpu-lower-reductions))" | FileCheck %s
//
// Warp and block reductions spelled out as the hardware runs them (and the
// emulator, which compiles the same kernels for the host).

// A warp reduction: a butterfly of five 32-bit xor shuffles.
// CHECK-LABEL: gpu.func @warp_sum
// CHECK-NOT: gpu.subgroup_reduce
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK: arith.addf
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c4_i32, %c32_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c8_i32, %c32_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK-NOT: gpu.shuffle
// CHECK: gpu.return
gpu.module @k {
  gpu.func @warp_sum(%x: memref<32xf32>, %out: memref<f32>) kernel {
    %t = gpu.thread_id x
    %v = memref.load %x[%t] : memref<32xf32>
    %s = gpu.subgroup_reduce add %v uniform : (f32) -> f32
    memref.store %s, %out[] : memref<f32>
    gpu.return
  }
}

// -----

// A block reduction: the warps' results through a 32-element workgroup
// buffer between barriers.
// CHECK-LABEL: gpu.func @block_max
// CHECK-SAME: workgroup(%[[BUF:.*]] : memref<32xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: gpu.all_reduce
// CHECK: gpu.shuffle  xor
// CHECK: arith.maximumf
// CHECK: memref.store %{{.*}}, %[[BUF]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[BUF]]
// CHECK: gpu.barrier
gpu.module @k {
  gpu.func @block_max(%x: memref<256xf32>, %out: memref<f32>) kernel {
    %t = gpu.thread_id x
    %v = memref.load %x[%t] : memref<256xf32>
    %m = gpu.all_reduce maximumf %v uniform {} : (f32) -> f32
    memref.store %m, %out[] : memref<f32>
    gpu.return
  }
}
