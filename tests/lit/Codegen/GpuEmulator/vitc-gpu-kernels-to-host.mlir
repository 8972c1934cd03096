// RUN: vitc-opt %s --split-input-file --vitc-gpu-kernels-to-host --verify-diagnostics | FileCheck %s
//
// Each kernel becomes a host function taking the launch context first; the
// ids and sizes a GPU keeps in special registers are loads from its words
// (thread id 0-2, block id 3-5, block size 6-8, grid size 9-11).

// CHECK-NOT: gpu.container_module
// CHECK-LABEL: func.func @vitc_kernel.k.scale(
// CHECK-SAME: %[[CTX:.*]]: !llvm.ptr, %[[N:.*]]: index, %[[X:.*]]: memref<?xf32>)
// CHECK-SAME: attributes {vitc.gpu_kernel = @k::@scale}
// CHECK: %[[BID_P:.*]] = llvm.getelementptr %[[CTX]][3] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[BID:.*]] = llvm.load %[[BID_P]] : !llvm.ptr -> i64
// CHECK: arith.index_cast %[[BID]] : i64 to index
// CHECK: llvm.getelementptr %[[CTX]][6]
// CHECK: llvm.getelementptr %[[CTX]][0]
// CHECK: llvm.getelementptr %[[CTX]][10]
// CHECK: memref.store
// CHECK: return
// CHECK-NOT: gpu.
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @scale(%n: index, %x: memref<?xf32>) kernel {
      %b = gpu.block_id x
      %bd = gpu.block_dim x
      %t = gpu.thread_id x
      %gy = gpu.grid_dim y
      %i0 = arith.muli %b, %bd : index
      %i1 = arith.addi %i0, %t : index
      %i = arith.addi %i1, %gy : index
      %in = arith.cmpi slt, %i, %n : index
      scf.if %in {
        %v = memref.load %x[%i] : memref<?xf32>
        %two = arith.addf %v, %v : f32
        memref.store %two, %x[%i] : memref<?xf32>
      }
      gpu.return
    }
  }
}

// -----

// Barriers need the block's threads as fibers, which the emulator does not
// have yet: refused by name.
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @sync() kernel {
      // expected-error @+1 {{the GPU emulator cannot run 'gpu.barrier' yet}}
      gpu.barrier
      gpu.return
    }
  }
}
