//===- Passes.td - vitc compiler passes --------------------*- tablegen -*-===//
//
// One pass per file under compiler/lib/, in pipeline order:
//   graph (vt -> vt):      vt-infer-shapes, vt-decompose, vt-fuse
//   training (vt -> vt):   vt-autodiff
//   lowering:              convert-vt-to-linalg
//   after bufferization:   vitc-linalg-to-library, vitc-plan-memory
//   CUDA codegen:          vitc-gpu-map-parallel-loops
//   mixed precision:       vt-autocast-bf16 (first in the graph stage),
//                          vitc-expand-bf16 (CPU codegen)
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_PASSES
#define VITC_COMPILER_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Graph passes (vt -> vt)
//===----------------------------------------------------------------------===//

def VtInferShapes : Pass<"vt-infer-shapes", "mlir::ModuleOp"> {
  let summary = "Refine result types from operands and folded shape tensors";
  let description = [{
    Re-infers every vt op's result type from its (possibly refined) operands,
    folds shape computations to constants where the shapes are static, and
    refines `vt.reshape`/`vt.expand` results from constant shape operands.
    Function result types are updated to match. Runs to a fixed point.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def VtDecompose : Pass<"vt-decompose", "mlir::func::FuncOp"> {
  let summary = "Decompose composite vt ops into the small core";
  let description = [{
    softmax / log-softmax, layer_norm, batch_norm (inference), gelu,
    hard_sigmoid, hard_swish become elementwise ops and reductions, which
    the fusion pass regroups into kernels. Anchors (matmul, conv, pools) and
    data movement stay.
  }];
}

def VtFuse : Pass<"vt-fuse", "mlir::func::FuncOp"> {
  let summary = "Group elementwise and reduction ops into vt.fusion kernels";
  let description = [{
    Greedy producer/consumer fusion on the vt graph: maximal groups of
    elementwise, movement and reduction ops (a reduction with its
    elementwise prologue and epilogue, e.g. a whole softmax or layer-norm)
    become one `vt.fusion` op, i.e. one kernel. Anchors stay outside; their
    elementwise epilogue (bias, activation, residual) forms the next kernel.
    Target-independent: the CPU and CUDA backends lower the same regions.
  }];
}

def VtAutodiff : Pass<"vt-autodiff", "mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of vt functions";
  let description = [{
    For a function @F whose first result is a float scalar (rank 0 or one
    element), adds @F_grad with F's arguments and results followed by the
    gradient of result 0 with respect to each differentiated argument (by
    default every float tensor argument), named `grad_<vt.name>`. The
    backward graph is built by reverse traversal: each op on a path from a
    differentiated argument to result 0 writes its vector-Jacobian product
    through GradientOpInterface, and gradients of values used several times
    are summed with vt.add. An op on that path without a rule is an error at
    the op. Composite ops without rules (layer_norm) differentiate once
    vt-decompose has run.
  }];
  let options = [
    Option<"function", "function", "std::string", "\"\"",
           "The function to differentiate (default: every defined function)">,
    ListOption<"wrt", "wrt", "unsigned",
               "Indices of the arguments to differentiate (default: every "
               "float tensor argument)">,
    Option<"suffix", "suffix", "std::string", "\"_grad\"",
           "Appended to F's name to name the gradient function">,
    Option<"replace", "replace", "bool", "false",
           "Erase F and give the gradient function F's name (for drivers "
           "that compile one entry point)">,
    Option<"wrtRole", "wrt-role", "std::string", "\"\"",
           "Differentiate the arguments whose vt.role is this (e.g. param), "
           "instead of `wrt`">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// Training step
//===----------------------------------------------------------------------===//

def VtPromoteParams : Pass<"vt-promote-params", "mlir::ModuleOp"> {
  let summary = "Turn named float weights into function arguments";
  let description = [{
    The first step of compiling a training step: every named float
    `vt.constant` (an ONNX float initializer) of the given functions becomes
    a leading function argument, `vt.name` = its name, so that parameters
    are explicit values that autodiff differentiates, the optimizer updates
    and a partitioner can later shard. Roles (`vt.role`): "buffer" for a
    weight that some function result replaces (`vt.updates`: BatchNorm
    running statistics) or that matches a `freeze` pattern, "param"
    otherwise. Every function gets the same arguments in the same order
    (params, then buffers), whether it uses them or not, so a trainer feeds
    all functions from one set of tensors. The initial values are kept in
    the module attribute `vitc.initial_values` (name -> elements).
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to rewrite (default: every defined function)">,
    ListOption<"freeze", "freeze", "std::string",
               "Regular expressions (llvm::Regex, whole name) of weights to "
               "keep fixed; each must match at least one weight">,
  ];
}

def VtAppendLoss : Pass<"vt-append-loss", "mlir::ModuleOp"> {
  let summary = "Replace a function's logits result by the loss and the hits";
  let description = [{
    @F(..., data, ...) -> (logits [N, C], others...) becomes
    @F(..., data, label, ...) -> (loss, correct, others...): `label` (role
    "label") is added after the data argument (role "data": the first
    argument without a role), `loss` (f32 scalar, mean over the batch) and
    `correct` (i64 scalar, top-1 hits; first index wins ties, as argmax)
    replace the logits.
    - cross_entropy: softmax cross-entropy on i64 class ids [N], with label
      smoothing e: the target is (1 - e) one-hot + e / C (PyTorch's
      CrossEntropyLoss(label_smoothing=e)).
    - mse: mean squared error against f32 targets shaped like the logits;
      `correct` counts rows whose argmax matches the target's argmax.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to rewrite (default: every defined function)">,
    Option<"loss", "loss", "std::string", "\"cross_entropy\"",
           "cross_entropy or mse">,
    Option<"labelSmoothing", "label-smoothing", "double", "0.0",
           "Label smoothing of cross_entropy, in [0, 1)">,
  ];
}

def VtApplyOptimizer : Pass<"vt-apply-optimizer", "mlir::ModuleOp"> {
  let summary = "Append gradient clipping and the optimizer update";
  let description = [{
    Runs on the output of vt-autodiff over a function whose results are
    (loss, correct, others..., grad_<p> for each "param" argument p, in
    argument order). The gradients become, in the same function:
    - `grad_norm`, the global L2 norm of all gradients (f32 scalar, before
      clipping), and clipping by `clip-norm` (PyTorch clip_grad_norm_:
      g *= min(1, clip / (norm + 1e-6))) when it is > 0;
    - the update of every param, with its optimizer state as new arguments
      (role "opt_state", zero at step 1) and new results, PyTorch's formulas:
      AdamW (decoupled weight decay; state adamw_m.<p>, adamw_v.<p>) or SGD
      (momentum, Nesterov, L2 weight decay; state sgd_momentum.<p>).
    New arguments `lr` and `step` (f32 scalars: the trainer owns the
    schedule and the 1-based step count used by Adam's bias correction).
    Arguments become: params, buffers, opt_state, data, label, lr, step,
    then any others (seed); results: loss, correct, grad_norm, then the new
    params, buffers and opt_state, each naming the input it replaces in
    `vt.updates`. The update is elementwise vt math: it fuses and lowers
    like the rest of the step.
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"",
           "The function to rewrite">,
    Option<"optimizer", "optimizer", "std::string", "\"adamw\"",
           "adamw or sgd">,
    Option<"weightDecay", "weight-decay", "double", "0.01",
           "Weight decay (AdamW: decoupled; SGD: added to the gradient)">,
    Option<"momentum", "momentum", "double", "0.0", "SGD momentum">,
    Option<"nesterov", "nesterov", "bool", "false", "SGD Nesterov momentum">,
    Option<"beta1", "beta1", "double", "0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", "0.999", "AdamW beta2">,
    Option<"epsilon", "epsilon", "double", "1e-8", "AdamW epsilon">,
    Option<"clipNorm", "clip-norm", "double", "0.0",
           "Clip gradients to this global L2 norm (0: off)">,
  ];
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

def ConvertVtToLinalg : Pass<"convert-vt-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower vt ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Elementwise ops become linalg.generic with broadcasting maps, reductions
    linalg.generic with reduction iterators, matmul and convolution linalg
    named ops (which vitc-linalg-to-library turns into library calls after
    bufferization), data movement tensor ops. vt.fusion regions are lowered
    in place and inlined, then fused by linalg elementwise fusion. Large
    constants become views into the weights argument of the entry function.
    For the CPU, `vt.random_uniform`'s stream key is computed from the seed
    once, before the loop; GPU kernels must read the seed themselves (it is
    a device buffer), so for `target=cuda` each element computes it.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Code target: cpu or cuda">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def FuseElementwise : Pass<"vitc-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse linalg elementwise ops into one loop nest per fused region";
  let description = [{
    Upstream elementwise fusion, whose default only fuses a producer with a
    single use. A vt.fusion region often reuses a value (GELU reads x + b
    twice), and the lowering queries result dims (tensor.dim), which counts
    as a use too: both would leave a region as several loops with
    temporaries in between. Here a cheap all-parallel producer (arith only: no math
    functions, no division) is also fused into each all-parallel consumer
    when it has several uses: recomputing an add is cheaper than a round
    trip through memory. Reductions and contractions take single-use
    producers only, so matmul-shaped generics stay library calls.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LinalgToLibrary : Pass<"vitc-linalg-to-library", "mlir::ModuleOp"> {
  let summary = "Replace bufferized matmul/conv/pool linalg ops by runtime library calls";
  let description = [{
    After bufferization, linalg matmul / batch_matmul / convolution / pooling
    ops on memrefs become calls to the runtime's kernels (oneDNN on CPU;
    cuBLASLt and cuDNN on CUDA), declared `llvm.emit_c_interface` so they
    take memref descriptors.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def PlanMemory : Pass<"vitc-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Place temporaries in one arena, reusing memory by liveness";
  let description = [{
    Replaces the function's memref.alloc / dealloc of temporaries by views
    into one arena allocated at entry. Buffers whose live ranges do not
    overlap share memory; offsets are decided statically (greedy by size)
    and computed at run time where sizes depend on the batch. Device
    independent: the same plan serves the CPU and the CUDA backend.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def ExternalizeWeights : Pass<"vitc-externalize-weights", "mlir::ModuleOp"> {
  let summary = "Move large constant globals into the artifact's weights section";
  let description = [{
    After bufferization, every memref.global constant larger than
    `min-bytes` is removed from the module: its bytes are laid out (64-byte
    aligned) in a weights table recorded on the module (`vitc.weights`),
    each get_global becomes a memref.view at its offset into a new leading
    argument `%weights: memref<?xi8>` of every public function (each is an
    entry point of the artifact; they share the one section). The initial
    values of training parameters (`vitc.initial_values`, from
    vt-promote-params) join the table as entries named `init:<name>`. The
    artifact writer stores the table as the weights section, which the
    runtime maps and passes in, so a 330 MB model never becomes LLVM IR
    constants.
  }];
  let options = [Option<"minBytes", "min-bytes", "int64_t", "256",
                        "Globals at least this large are externalized">];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
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
    vitc-reassociate-reductions LLVM then vectorises the inner sum. The
    output must not alias an input, which one-shot bufferization guarantees
    for reductions (it never writes a reduction in place of its input).
    Ops whose innermost loop is parallel (e.g. a sum over rows, which
    vectorises across the output row) are left to convert-linalg-to-loops.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::memref::MemRefDialect"];
}

def SinkTransposes : Pass<"vitc-sink-transposes", "mlir::func::FuncOp"> {
  let summary = "Move each tensor linalg.transpose right before its first user";
  let description = [{
    The autodiff and the graph stage leave transposes where their operand
    was computed, e.g. x^T of a convolution's filter gradient right after
    the forward convolution. Bufferized there, the copy is made early and
    x's buffer is free to be reused before the gradient reads x^T, so
    vitc-linalg-to-library cannot replace the copy by a strided view of x
    and the copy's buffer lives across the whole backward pass. Sunk to its
    first user (same block, operands already dominate), the transpose reads
    x just before the kernel does.
  }];
}

def CloneFillInits : Pass<"vitc-clone-fill-inits", "mlir::func::FuncOp"> {
  let summary = "Give each linalg op whose init is a shared linalg.fill its own fill";
  let description = [{
    CSE merges identical `linalg.fill`s, e.g. the zero inits of two
    convolutions with the same result type. One-shot bufferization must then
    keep the shared fill's buffer intact for all its readers: each op gets a
    copy of the filled buffer (or writes into a buffer filled far earlier),
    and vitc-linalg-to-library no longer sees a fill directly before the op,
    so the kernel accumulates into zeros it must read. Run after CSE and
    before bufferization, this clones the fill (not its tensor.empty)
    right before every destination-style op that uses it as an init (and
    drops the original once nothing else reads it), so that each init fill
    has one use, next to it, and bufferizes in place.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LowerStridedCopies : Pass<"vitc-lower-strided-copies", "mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between strided memrefs into linalg.copy";
  let description = [{
    Bufferization copies into subviews (concat, insert_slice, in-place
    conflicts). MemRef-to-LLVM lowers contiguous copies to llvm.memcpy but
    strided ones to a call of `memrefCopy`, a generic element-by-element
    helper of MLIR's runner library that our runtime neither ships nor
    wants. As linalg.copy they become loop nests that LLVM vectorises.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

//===----------------------------------------------------------------------===//
// CUDA code generation
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Mixed precision (vt -> vt)
//===----------------------------------------------------------------------===//

def VtAutocastBf16 : Pass<"vt-autocast-bf16", "mlir::func::FuncOp"> {
  let summary = "Compute matmuls and convolutions in bf16, the rest in f32";
  let description = [{
    Mixed precision in the manner of torch.autocast, as a graph rewrite
    that runs before vt-decompose and vt-fuse (and, for training, on the
    forward graph before vt-autodiff, so that the backward graph inherits
    bf16 products through the gradient rules). The f32 operands of each
    `vt.matmul` and `vt.conv2d` (input and filter; a bias stays f32) are cast
    to bf16, and the op keeps its f32 result: the products accumulate in f32
    and are returned in f32, as oneDNN and cuBLASLt do, so no bf16 rounding
    of the result is inserted and no cast back is needed. Everything else
    (elementwise math, softmax, layer-norm, reductions, losses, optimizer
    state) stays f32; f32 function arguments (the master weights in training)
    are only cast inside the graph.

    One cast per value, shared by all its autocast users; a value that is a
    `vt.cast` from bf16 is used as is rather than rounded again. Constant
    operands (inference weights), also where they reach the op through
    transposes and reshapes, are converted at compile time, so the weights
    section holds them in bf16 and kernels may cache their layouts.
  }];
  let options = [
    ListOption<"ops", "ops", "std::string",
               "The op kinds computed in bf16: matmul, conv2d (default: "
               "both)">,
    Option<"foldConstants", "fold-constants", "bool", "true",
           "Convert constant operands to bf16 constants at compile time">,
  ];
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

#endif // VITC_COMPILER_PASSES
