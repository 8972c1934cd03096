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

// A block reduction's pieces: the barrier and the shuffle become calls into
// the emulator, which runs the block's threads as fibers; the workgroup
// buffer is a view of the block's memory (context word 12); the kernel gets
// a vitc_fibers function returning its workgroup bytes (32 floats, rounded
// to 16 bytes each buffer: 128 + 16).
// CHECK-DAG: func.func private @vitc_emu_shuffle(!llvm.ptr, i32, i32, i32, i32) -> i64
// CHECK-DAG: func.func private @vitc_emu_barrier(!llvm.ptr)
// CHECK-LABEL: func.func @vitc_kernel.k.reduce(
// CHECK-SAME: %[[CTX:.*]]: !llvm.ptr, %[[X:.*]]: memref<256xf32>)
// CHECK: %[[WORD:.*]] = llvm.getelementptr %[[CTX]][12] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[BASE:.*]] = llvm.load %[[WORD]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[DATA:.*]] = llvm.getelementptr %[[BASE]][0] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: llvm.insertvalue %[[DATA]]
// CHECK: %[[BUF:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<{{.*}}> to memref<32xf32>
// CHECK: %[[DATA2:.*]] = llvm.getelementptr %{{.*}}[128] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: %[[BUF2:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<{{.*}}> to memref<2xi8>
// CHECK: %[[BITS:.*]] = arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[MODE:.*]] = arith.constant 0 : i32
// CHECK: %[[PACKED:.*]] = call @vitc_emu_shuffle(%[[CTX]], %[[BITS]], %{{.*}}, %{{.*}}, %[[MODE]]) : (!llvm.ptr, i32, i32, i32, i32) -> i64
// CHECK: %[[LOW:.*]] = arith.trunci %[[PACKED]] : i64 to i32
// CHECK: %[[VALUE:.*]] = arith.bitcast %[[LOW]] : i32 to f32
// CHECK: %[[HIGH:.*]] = arith.shrui %[[PACKED]]
// CHECK: %[[VALID:.*]] = arith.trunci %[[HIGH]] : i64 to i1
// CHECK: arith.select %[[VALID]], %[[VALUE]]
// CHECK: memref.store %{{.*}}, %[[BUF]]
// CHECK: call @vitc_emu_barrier(%[[CTX]]) : (!llvm.ptr) -> ()
// CHECK: memref.load %[[BUF]]
// CHECK: memref.store %{{.*}}, %[[BUF2]]
// CHECK-LABEL: func.func @vitc_fibers.k.reduce() -> i64
// CHECK: %[[BYTES:.*]] = arith.constant 144 : i64
// CHECK: return %[[BYTES]]
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @reduce(%x: memref<256xf32>)
        workgroup(%buf : memref<32xf32, #gpu.address_space<workgroup>>,
                  %flags : memref<2xi8, #gpu.address_space<workgroup>>) kernel {
      %t = gpu.thread_id x
      %v = memref.load %x[%t] : memref<256xf32>
      %one = arith.constant 1 : i32
      %width = arith.constant 32 : i32
      %other, %valid = gpu.shuffle xor %v, %one, %width : f32
      %w = arith.select %valid, %other, %v : f32
      %c0 = arith.constant 0 : index
      memref.store %w, %buf[%c0] : memref<32xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %r = memref.load %buf[%c0] : memref<32xf32, #gpu.address_space<workgroup>>
      %f = arith.constant 1 : i8
      memref.store %f, %flags[%c0] : memref<2xi8, #gpu.address_space<workgroup>>
      memref.store %r, %x[%t] : memref<256xf32>
      gpu.return
    }
  }
}

// -----

// Shuffles of other widths are split into 32-bit ones before
// (vitc-gpu-lower-reductions); one left is refused by name.
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @wide(%x: memref<1xf64>) kernel {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%c0] : memref<1xf64>
      %one = arith.constant 1 : i32
      %width = arith.constant 32 : i32
      // expected-error @+1 {{the GPU emulator shuffles 32-bit values only}}
      %other, %valid = gpu.shuffle xor %v, %one, %width : f64
      memref.store %other, %x[%c0] : memref<1xf64>
      gpu.return
    }
  }
}

// -----

// Private memory has no emulation: refused by name.
module attributes {gpu.container_module} {
  gpu.module @k {
    // expected-error @+1 {{the GPU emulator runs kernels without private memory attributions only}}
    gpu.func @scratch() private(%p : memref<4xf32, #gpu.address_space<private>>) kernel {
      gpu.return
    }
  }
}
