//===- Passes.td - CPU code generation ---------------------*- tablegen -*-===//
//
// CPU code generation: the library calls the lowering stage asks the target
// for (vitc-linalg-to-library: oneDNN kernels), then loops, vectorisable
// reductions, bf16 and math expansion on the way to the LLVM dialect.
// Pipeline order:
//   [lowering hook] vitc-linalg-to-library, vitc-reorder-hints
//   [codegen] vitc-reassociate-reductions, vitc-reductions-to-loops,
//   vitc-outline-loop-nests, vitc-cpu-parallel-kernels, vitc-expand-bf16,
//   vitc-approximate-math, [LLVM dialect] vitc-cpu-lower-parallel-calls
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGENCPU_PASSES
#define VITC_COMPILER_CODEGENCPU_PASSES

include "mlir/Pass/PassBase.td"

def LinalgToLibrary : Pass<"vitc-linalg-to-library", "mlir::ModuleOp"> {
  let summary = "Replace bufferized matmul/conv/pool linalg ops by runtime library calls";
  let description = [{
    After bufferization, linalg matmul / batch_matmul / convolution / pooling
    ops on memrefs become calls to the runtime's CPU kernels (oneDNN),
    declared `llvm.emit_c_interface` so they take memref descriptors. The
    CPU target's hook in the lowering stage: vitc-lower runs it, for
    target=cpu, between bufferization and the memory plan. The CUDA target
    runs it too, with `kernel-prefix=vitc_gpu_`, without pools (generated
    kernels are as good there) and with `cudnn-conventions`: the calls then
    become library calls of its schedules (cuBLASLt and cuDNN on a GPU,
    these CPU kernels on the emulated GPU), with the same operands.
  }];
  let options = [
    Option<"kernelPrefix", "kernel-prefix", "std::string", "\"vitc_cpu_\"",
           "Prefix of the kernels' names">,
    Option<"pools", "pools", "bool", "true",
           "Replace pooling ops too (else they stay linalg)">,
    Option<"cudnnConventions", "cudnn-conventions", "bool", "false",
           "Make only the convolution calls that cuDNN takes: pads folded "
           "into the call only when symmetric (else the padded copy stays), "
           "packed filters (no strided views)">];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def OutlineLoopNests : Pass<"vitc-outline-loop-nests", "mlir::ModuleOp"> {
  let summary = "Make each top-level loop nest a function of its own";
  let description = [{
    Every top-level `scf.for` / `scf.parallel` / `scf.while` of a defined
    function (a kernel's loop nest, after linalg is lowered to loops)
    becomes a private function `@<function>.loops.<n>` called in its place,
    its constants cloned in and every other value it uses an argument. The
    functions carry `passthrough = ["noinline"]`, so that LLVM optimises
    each kernel as a function of its own: a training step is thousands of
    loop nests, and LLVM's loop passes grow faster than linearly with a
    function's size. Identical functions (repeated blocks: the same code on
    other buffers) are folded into one. The function left, glue (a straight
    line of calls and views), gets `passthrough = ["noinline", "optnone"]`:
    the backend compiles it without optimisation, in a module of its own.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def ParallelKernels : Pass<"vitc-cpu-parallel-kernels", "mlir::ModuleOp"> {
  let summary = "Give large outlined kernels an iteration range of their parallel loop";
  let description = [{
    Runs after vitc-outline-loop-nests. A kernel (a private function whose
    body is one top-level `scf.parallel` without results, its constants and
    a return) with enough work gets two trailing `index` arguments
    `[begin, end)`: a range of the flattened iteration space of the
    parallel loop's leading dims (enough of them to have `min-chunks`
    static iterations, dynamic dims counting as one; the innermost dim is
    kept whole for the vectoriser unless every dim before it is 1). Its
    call sites pass the whole range. The function gets
    `vitc.parallel_grain`, the fewest iterations worth a thread of their
    own, which vitc-cpu-lower-parallel-calls turns into a call of the
    runtime's `vitc_parallel_for`.

    Only parallel iterators are split (upstream lowers linalg's parallel
    dims, and vitc-reductions-to-loops its reductions' parallel dims, to
    `scf.parallel`; a reduction is always an `scf.for` or inside one): every
    output element is computed by one iteration, in the same order, so
    results do not depend on the thread count. A nest whose top level is
    an `scf.for` (a reduction outermost) stays serial.

    Work is estimated as the iterations of the whole nest times the ops
    they run (dynamic trip counts count as `dynamic-trip`): kernels below
    `min-work` stay serial, and the grain gives each thread at least
    `grain-work`.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "32768",
           "Least estimated work (op executions) to parallelise a kernel">,
    Option<"grainWork", "grain-work", "int64_t", "16384",
           "Least estimated work per thread">,
    Option<"minChunks", "min-chunks", "int64_t", "16",
           "Leading dims are flattened until they have this many static "
           "iterations">,
    Option<"dynamicTrip", "dynamic-trip", "int64_t", "256",
           "Trip count assumed for a dynamic loop in the work estimate">];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def LowerParallelCalls
    : Pass<"vitc-cpu-lower-parallel-calls", "mlir::ModuleOp"> {
  let summary = "Run the calls of parallel kernels through vitc_parallel_for";
  let description = [{
    Runs on the LLVM dialect. Every `llvm.call @k(args..., begin, end)` of
    a function `@k` marked `vitc.parallel_grain` by
    vitc-cpu-parallel-kernels becomes: the arguments stored into a context
    buffer on the caller's stack (one 8-byte slot each; one buffer per
    caller, allocated in its entry block and reused by its calls, which run
    one after another), then

      llvm.call @vitc_parallel_for(@k.task, ctx, begin, end, grain)

    where the trampoline `@k.task(ctx, b, e)` loads the arguments back and
    calls `@k(args..., b, e)`. The runtime (runtime/devices/cpu/
    ParallelFor.cpp) splits `[begin, end)` into contiguous static chunks
    over the threads of the OpenMP pool that oneDNN uses, or calls the
    trampoline once with the whole range (one thread, small ranges, nested
    calls). A kernel with an argument wider than 8 bytes keeps its plain
    call, which still covers the whole range.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def ReorderHints : Pass<"vitc-reorder-hints", "mlir::ModuleOp"> {
  let summary = "Tell each convolution call which operands to keep reordered";
  let description = [{
    Sets the last operand of every `vitc_cpu_conv2d_*` call (emitted by
    vitc-linalg-to-library) to its reorder hints, two bits per read operand
    (input: bits 0-1, filter: bits 2-3). The kernels reorder their operands
    into oneDNN's blocked layouts, and a convolution and its gradients read
    the same x and g two or three times in one training step:
    - reuse (bit 0 / 2): the previous convolution that read this memory read
      it at the same address (through casts and transposed views), and
      nothing wrote it since: a copy it kept in the chosen layout still
      holds the same values;
    - keep (bit 1 / 3): a later convolution in the block reads it unchanged,
      so keeping the reordered copy pays.
    The kernel drops its copies of an address on any read without `reuse`,
    so a copy is only ever used by the chain of unchanged reads that made it.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ReassociateReductions
    : Pass<"vitc-reassociate-reductions", "mlir::func::FuncOp"> {
  let summary = "Let LLVM reorder the float sums and products of linalg reductions";
  let description = [{
    A reduction loop that adds floats in program order is one chain of
    dependent adds: LLVM may neither vectorise it nor keep several partial
    sums, so it runs at one add per add-latency (a bias gradient, the sum
    over N, H and W of a [64, 64, 24, 24] tensor, took milliseconds). This
    marks the float add/mul combiners of every linalg op with a reduction
    iterator `reassoc` (fast-math), which lets the loop vectoriser split
    the sum into vector lanes. The result changes by rounding only, and the
    same code always sums in the same order: runs stay reproducible. CPU code
    generation only; run before convert-linalg-to-loops.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ReductionsToLoops : Pass<"vitc-reductions-to-loops", "mlir::func::FuncOp"> {
  let summary = "Lower innermost-reducing linalg reductions to loops that carry the accumulator";
  let description = [{
    convert-linalg-to-loops reads and writes a reduction's output element in
    every iteration. The output and the inputs are views of one arena, so
    LLVM cannot prove they do not alias: the accumulator stays in memory and
    every add waits for the previous store (a bias gradient, 2.4M adds, took
    a millisecond). For a single-output linalg.generic on buffers whose
    innermost loop is a reduction, this emits the parallel loops outside,
    then the reduction loops with the accumulator as an scf.for iter_arg:
    loaded once, kept in a register, stored once. With
    vitc-reassociate-reductions LLVM then vectorises the inner sum. Float
    sums (`acc + term`) are summed as a tree, not as one running total: each
    reduction loop sums from zero and adds its total to the enclosing
    loop's, and long loops are cut into blocks summed on their own (outer
    loops past 32 iterations, the innermost past 2048, in blocks of 1024;
    more than 32 blocks in chunks of blocks), which keeps a sum of N terms
    about as accurate as a pairwise one (batch norm's statistics over 89k
    values: 3.2e-6 -> 1.3e-7 relative; a row of 1M: 3.0e-7 -> 5.7e-8). The
    output must not alias an input, which one-shot bufferization guarantees
    for reductions (it never writes a reduction in place of its input).
    Ops whose innermost loop is parallel (e.g. a sum over rows, which
    vectorises across the output row) are left to convert-linalg-to-loops.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ExpandBf16 : Pass<"vitc-expand-bf16"> {
  let summary = "Expand bf16 conversions into integer code";
  let description = [{
    arith.extf from bf16 becomes a shift, arith.truncf to bf16 a round to
    nearest even on the f32 bits (NaN stays NaN), so that bf16 code needs no
    bf16 instructions: LLVM lowers `fptrunc float to bfloat` to a call of
    `__truncsfbf2` on x86 CPUs without avx512_bf16, which the artifacts
    cannot link against. Arithmetic on bf16 must have been widened to f32
    first (arith-emulate-unsupported-floats). Only the bf16 patterns of
    arith-expand: its other expansions (maximumf, ...) would replace ops
    that LLVM lowers better.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ApproximateMath : Pass<"vitc-approximate-math"> {
  let summary = "Polynomial f32 erf and exp, so CPU loops vectorise";
  let description = [{
    Rewrites `math.erf` and `math.exp` on f32 (scalars and vectors) into
    MLIR's polynomial approximations: arithmetic that LLVM vectorises with
    the loop around it, where a libm call per element (erff, expf) keeps
    GELU and softmax scalar. CPU code generation only: CUDA keeps libdevice.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // VITC_COMPILER_CODEGENCPU_PASSES
