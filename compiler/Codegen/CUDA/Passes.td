//===- Passes.td - CUDA code generation --------------------*- tablegen -*-===//
//
// CUDA code generation: elementwise and fused loop nests become GPU
// kernels (outlined, lowered to NVVM, compiled to PTX or cubin), launched
// by host code. Pipeline order:
//   vitc-gpu-map-parallel-loops
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGENCUDA_PASSES
#define VITC_COMPILER_CODEGENCUDA_PASSES

include "mlir/Pass/PassBase.td"

def GpuWrapSerialOps : Pass<"vitc-gpu-wrap-serial-ops", "mlir::func::FuncOp"> {
  let summary = "Give linalg ops whose outer loop reduces a GPU form";
  let description = [{
    convert-linalg-to-parallel-loops parallelises a linalg op's outer
    parallel dims; an op on buffers whose outermost loop reduces would
    become host loops reading device memory. Each such op is rewritten:
    - a `linalg.generic` with parallel dims (a bias gradient: the sum over
      rows per column) is interchanged so that they come first: a thread
      per output element, each reducing sequentially;
    - a full reduction to a 0-d output whose combiner is known (addf,
      addi, ori, max/min) is split in two: 1024 threads each reduce a
      strided share of the elements into a partial (`scf.parallel` of
      `scf.for`), then a reduction of the partials into the output;
    - anything else (0-d ops, the partials' reduction, unknown combiners)
      is moved into a 32-iteration `scf.parallel` whose iteration 0 runs
      it (a one-iteration loop would be folded away before mapping): a
      kernel of one working thread.
    Warp- and block-level reductions replace the last two next.
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
