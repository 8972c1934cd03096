//===- Passes.td - CUDA code generation --------------------*- tablegen -*-===//
//
// CUDA code generation: elementwise and fused loop nests become GPU
// kernels (outlined, lowered to NVVM, compiled to PTX or cubin), launched
// by host code. Pipeline order:
//   vitc-gpu-distribute-reductions, vitc-gpu-wrap-serial-ops,
//   vitc-gpu-map-parallel-loops, (outlining), vitc-gpu-build-schedule;
//   on the kernels: vitc-gpu-lower-reductions
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGENCUDA_PASSES
#define VITC_COMPILER_CODEGENCUDA_PASSES

include "mlir/Pass/PassBase.td"

def GpuDistributeReductions
    : Pass<"vitc-gpu-distribute-reductions", "mlir::func::FuncOp"> {
  let summary = "Give each reduction a kernel whose threads share its rows";
  let description = [{
    A `linalg.generic` on buffers that reduces (one output indexed by its
    parallel dims, a known combiner: add, or, min, max; every input read
    once per iteration, the innermost dim reducing) becomes a `gpu.launch`:
    - rows of a static length from 32 up to 4096 elements: a warp per row,
      eight rows per block, the lanes' partials combined with
      `gpu.subgroup_reduce`;
    - longer or dynamic rows: a block of 256 threads per row and
      `gpu.all_reduce`;
    - a full reduction to a 0-d output: 128 blocks reduce contiguous chunks
      into partials (a temporary buffer), then one block reduces those into
      the output.
    Lanes stride through a row, so a warp's loads are contiguous; partials
    are f32 for narrower floats. Rows shorter than a warp, contractions and
    column reductions are left alone (a thread per output element).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def GpuLowerReductions
    : Pass<"vitc-gpu-lower-reductions", "mlir::gpu::GPUModuleOp"> {
  let summary = "Spell warp and block reductions out as shuffles, barriers "
                "and workgroup memory";
  let description = [{
    On outlined kernels: `gpu.subgroup_reduce` becomes a butterfly of
    32-bit `gpu.shuffle xor`; `gpu.all_reduce` becomes a reduction per
    warp, the warps' results through a workgroup buffer between
    `gpu.barrier`s, and a reduction of those (upstream's all-reduce
    rewrite); 64-bit shuffles become pairs of 32-bit ones. Runs before
    NVVM lowering and before the emulator compiles kernels for the host,
    so both execute the same algorithm.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def GpuWrapSerialOps : Pass<"vitc-gpu-wrap-serial-ops", "mlir::func::FuncOp"> {
  let summary = "Give linalg ops whose outer loop reduces a GPU form";
  let description = [{
    convert-linalg-to-parallel-loops parallelises a linalg op's outer
    parallel dims; an op on buffers whose outermost loop reduces would
    become host loops reading device memory. Each such op is rewritten:
    - a `linalg.generic` with parallel dims (a bias gradient: the sum over
      rows per column) is interchanged so that they come first: a thread
      per output element, each reducing sequentially;
    - anything else (0-d ops, unknown combiners) is moved into a
      32-iteration `scf.parallel` whose iteration 0 runs it (a
      one-iteration loop would be folded away before mapping): a kernel of
      one working thread.
    Runs after vitc-gpu-distribute-reductions, which gives the reductions
    that threads can share (rows, full reductions) kernels of their own.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def GpuMapParallelLoops
    : Pass<"vitc-gpu-map-parallel-loops", "mlir::func::FuncOp"> {
  let summary = "Map the host's scf.parallel loop nests to a 1-D GPU grid";
  let description = [{
    Every outermost `scf.parallel` of the function (the loop nests that
    convert-linalg-to-parallel-loops makes of elementwise and fused linalg
    ops) is collapsed into one dimension, the innermost original dimension
    varying fastest so that neighbouring threads touch neighbouring
    elements, and tiled by `block-size`. The tile loop is mapped to
    `block_x`, the intra-tile loop to `thread_x` with a bounds guard, and
    loops nested inside run sequentially in each thread (reduction
    dimensions become `scf.for` and stay so). convert-parallel-loops-to-gpu
    then turns the mapped nests into `gpu.launch` regions; it must run right
    after, since canonicalization merges the nested loops and drops the
    mapping.

    Memory accesses left outside any parallel loop would run on the host
    against device buffers: they are reported as errors.
  }];
  let options = [Option<"blockSize", "block-size", "int64_t", "256",
                        "Threads per block (a multiple of 32)">];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuBuildSchedule : Pass<"vitc-gpu-build-schedule", "mlir::ModuleOp"> {
  let summary = "Record each host function's launches as a schedule and "
                "erase the host code";
  let description = [{
    After kernel outlining, every defined `func.func` is host code: index
    arithmetic on the inputs' dims, allocations, views, `gpu.launch_func`,
    copies and frees in one block. Each is interpreted symbolically into a
    schedule: `scalars` (an int64 program of constants, input dims and
    arithmetic, evaluated by the runtime once per input shape), `memrefs`
    (base: the weights, an input or an allocation, plus the slots of byte
    offset, element offset, sizes and strides), `commands` (alloc, launch
    with grid, block, shared memory and arguments, copy, free; each with
    the ONNX node it came from) and `results`. The schedules go on the
    module as `vitc.gpu_schedules = {<function> = {...}}` and the host
    functions are erased; what a schedule cannot express is an error naming
    the operation.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // VITC_COMPILER_CODEGENCUDA_PASSES
