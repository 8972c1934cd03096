//===- Passes.td - the emulated GPU's code generation ------*- tablegen -*-===//
//
// The emulated GPU (a test device, never a GPU result): the CUDA target's
// kernels and schedule, with the kernels compiled for the host CPU so that
// the runtime's emulator runs them a thread at a time. Pipeline order
// (vitc-cuda-emulator-codegen):
//   the CUDA host passes (vitc-gpu-map-parallel-loops · outlining ·
//   vitc-gpu-build-schedule) · vitc-gpu-kernels-to-host · the CPU's
//   loops -> LLVM lowering
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGENGPUEMULATOR_PASSES
#define VITC_COMPILER_CODEGENGPUEMULATOR_PASSES

include "mlir/Pass/PassBase.td"

def GpuKernelsToHost : Pass<"vitc-gpu-kernels-to-host", "mlir::ModuleOp"> {
  let summary = "Turn outlined GPU kernels into host functions that take "
                "their thread's launch context";
  let description = [{
    Every kernel `@M::@K` of a `gpu.module` becomes a public `func.func
    @"vitc_kernel.M.K"(%ctx: !llvm.ptr, <the kernel's arguments>)` in the
    top module, marked `vitc.gpu_kernel = @M::@K`. The launch context is
    twelve int64 words (thread id, block id, block size, grid size; x, y,
    z each) that the runtime's emulator fills per thread: `gpu.thread_id`,
    `gpu.block_id`, `gpu.block_dim` and `gpu.grid_dim` become loads from
    it. `gpu.barrier` becomes a call of `vitc_emu_barrier(%ctx)` and a
    32-bit `gpu.shuffle` one of `vitc_emu_shuffle(%ctx, value, offset,
    width, mode) -> i64` (the value in the low word, validity in the high
    one): the emulator runs such kernels' blocks as fibers that switch
    there. Workgroup attributions become views of the block's workgroup
    memory, whose address is context word 12 (at most 48 KiB, 16-byte
    aligned each). Such a kernel also gets `@"vitc_fibers.M.K"() -> i64`,
    returning its workgroup bytes. The GPU modules are erased; other GPU
    operations are errors naming the operation.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // VITC_COMPILER_CODEGENGPUEMULATOR_PASSES
