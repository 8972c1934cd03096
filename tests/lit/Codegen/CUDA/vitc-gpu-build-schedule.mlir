// RUN: vitc-opt %s --split-input-file --vitc-gpu-build-schedule --verify-diagnostics | FileCheck %s
//
// Host functions after kernel outlining become schedules: int64 slots for
// the dims and the index arithmetic on them (constants folded where both
// operands are constants), memrefs as a base plus slots, and the commands.

// The arena: one allocation sized by the batch, a view into it at a
// batch-dependent byte offset, a reshape, a launch, a free; the result is a
// view of the input.
// CHECK-LABEL: module attributes
// CHECK-SAME: vitc.gpu_schedules = {main = {
// CHECK-SAME: commands = [
// CHECK-SAME: {alloc = 0 : i64, bytes = [[ARENA:[0-9]+]] : i64, op = "alloc"},
// CHECK-SAME: {args = {{\[}}{{\[}}"i64", [[N:[0-9]+]]], {{\[}}"memref", 1], {{\[}}"memref", 3], {{\[}}"memref", 4]], block = {{\[}}[[C128:[0-9]+]], [[C1:[0-9]+]], [[C1]]], grid = {{\[}}[[N]], [[C1]], [[C1]]], kernel = @k::@k, node = "Gemm_0", op = "launch", shared = [[C0:[0-9]+]] : i64},
// CHECK-SAME: {alloc = 0 : i64, node = "Gemm_0", op = "free"}],
// CHECK-SAME: memrefs = [
// CHECK-SAME: {base = "weights", byte_offset = [[C0]] : i64, dtype = "i8", index = 0 : i64, offset = [[C0]] : i64, sizes = {{\[}}{{[0-9]+}}], strides = {{\[}}[[C1]]]},
// CHECK-SAME: {base = "input", byte_offset = [[C0]] : i64, dtype = "f32", index = 1 : i64, offset = [[C0]] : i64, sizes = {{\[}}[[N]], [[C128]]], strides = {{\[}}[[C128]], [[C1]]]},
// CHECK-SAME: {base = "alloc", byte_offset = [[C0]] : i64, dtype = "i8", index = 0 : i64, offset = [[C0]] : i64, sizes = {{\[}}[[ARENA]]], strides = {{\[}}[[C1]]]},
// CHECK-SAME: {base = "alloc", byte_offset = [[SHIFT:[0-9]+]] : i64, dtype = "f32", index = 0 : i64, offset = [[C0]] : i64, sizes = {{\[}}[[N]], [[C128]]], strides = {{\[}}[[C128]], [[C1]]]},
// CHECK-SAME: {base = "alloc", byte_offset = [[SHIFT]] : i64, dtype = "f32", index = 0 : i64, offset = [[C0]] : i64, sizes = {{\[}}[[N]], [[C2:[0-9]+]], [[C64:[0-9]+]]], strides = {{\[}}[[C128]], [[C64]], [[C1]]]}],
// CHECK-SAME: results = [1],
// CHECK-SAME: scalars = {{\[}}{{\[}}"dim", 0, 0], {{\[}}"const", 1], {{\[}}"const", 0], {{\[}}"dim", 1, 0], {{\[}}"const", 128], {{\[}}"muli", 3, 4], {{\[}}"const", 1024], {{\[}}"muli", 3, 6], {{\[}}"const", 2], {{\[}}"const", 64]]
// CHECK-NOT: func.func
// CHECK: gpu.module @k
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @k(%n: index, %a: memref<?x128xf32>, %b: memref<?x128xf32>, %c: memref<?x2x64xf32>) kernel {
      gpu.return
    }
  }
  func.func @main(%w: memref<?xi8>, %x: memref<?x128xf32>) -> memref<?x128xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %c1024 = arith.constant 1024 : index
    %n = memref.dim %x, %c0 : memref<?x128xf32>
    %bytes = arith.muli %n, %c1024 : index
    %arena = memref.alloc(%bytes) : memref<?xi8>
    %shift = arith.muli %n, %c128 : index
    %v = memref.view %arena[%shift][%n] : memref<?xi8> to memref<?x128xf32>
    %r = memref.expand_shape %v [[0], [1, 2]] output_shape [%n, 2, 64] : memref<?x128xf32> into memref<?x2x64xf32>
    gpu.launch_func @k::@k blocks in (%n, %c1, %c1) threads in (%c128, %c1, %c1) args(%n : index, %x : memref<?x128xf32>, %v : memref<?x128xf32>, %r : memref<?x2x64xf32>) loc("Gemm_0")
    memref.dealloc %arena : memref<?xi8> loc("Gemm_0")
    return %x : memref<?x128xf32>
  }
}

// -----

// A subview's offset and strides are arithmetic on its source's slots.
// CHECK-LABEL: module attributes
// CHECK-SAME: {base = "input", byte_offset = 2 : i64, dtype = "f32", index = 1 : i64, offset = 3 : i64, sizes = [6], strides = [4]}
// CHECK-SAME: scalars = {{\[}}{{\[}}"dim", 0, 0], {{\[}}"const", 1], {{\[}}"const", 0], {{\[}}"const", 8], {{\[}}"const", 16], {{\[}}"const", 128], {{\[}}"const", 4]]
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @k(%a: memref<4xf32, strided<[16], offset: 8>>) kernel {
      gpu.return
    }
  }
  func.func @main(%w: memref<?xi8>, %x: memref<8x16xf32>) {
    %c1 = arith.constant 1 : index
    %s = memref.subview %x[0, 8] [4, 1] [1, 1] : memref<8x16xf32> to memref<4xf32, strided<[16], offset: 8>>
    gpu.launch_func @k::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%s : memref<4xf32, strided<[16], offset: 8>>)
    return
  }
}

// -----

// A library routine (vitc_gpu_<routine>, from vitc-linalg-to-library) is a
// call command: its memrefs and i64 scalars, the prefix dropped. A
// transposed view swaps its source's sizes and strides.
// CHECK-LABEL: module attributes
// CHECK-SAME: commands = [{args = {{\[}}{{\[}}"memref", 5], {{\[}}"memref", 6], {{\[}}"memref", 7], {{\[}}"i64", [[ZERO:[0-9]+]]], {{\[}}"i64", [[ONE:[0-9]+]]], {{\[}}"i64", [[ZERO]]], {{\[}}"i64", [[ZERO]]]], node = "MatMul_7", op = "call", routine = "matmul_f32"}]
// CHECK-NOT: func.func
module attributes {gpu.container_module} {
  func.func private @vitc_gpu_matmul_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64) attributes {llvm.emit_c_interface, vitc.library_kernel}
  func.func @main(%w: memref<?xi8>, %x: memref<4x8xf32>, %y: memref<5x8xf32>, %z: memref<4x5xf32>) {
    %c0 = arith.constant 0 : i64
    %c1 = arith.constant 1 : i64
    %t = memref.transpose %x (i, j) -> (j, i) : memref<4x8xf32> to memref<8x4xf32, strided<[1, 8]>>
    %a = memref.cast %t : memref<8x4xf32, strided<[1, 8]>> to memref<?x?xf32, strided<[?, ?], offset: ?>>
    %b = memref.cast %y : memref<5x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
    %c = memref.cast %z : memref<4x5xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
    func.call @vitc_gpu_matmul_f32(%a, %b, %c, %c0, %c1, %c0, %c0) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64) -> () loc("MatMul_7")
    return
  }
}

// -----

// Host code the schedule cannot express is an error naming the operation.
module attributes {gpu.container_module} {
  func.func private @vitc_coll_all_reduce_f32(memref<?xf32>, i32)
  func.func @main(%w: memref<?xi8>, %x: memref<?xf32>) {
    %kind = arith.constant 0 : i32
    // expected-error @+1 {{the GPU target cannot call 'vitc_coll_all_reduce_f32' yet (collectives on the GPU: issue #12)}}
    func.call @vitc_coll_all_reduce_f32(%x, %kind) : (memref<?xf32>, i32) -> ()
    return
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @main(%w: memref<?xi8>, %x: memref<?xf32>) {
    %c0 = arith.constant 0 : index
    %f = arith.constant 1.0 : f32
    // expected-error @+1 {{the GPU schedule cannot run 'memref.store' on the host}}
    memref.store %f, %x[%c0] : memref<?xf32>
    return
  }
}
