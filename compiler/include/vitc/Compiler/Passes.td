//===- Passes.td - vitc compiler passes --------------------*- tablegen -*-===//
//
// One pass per file under compiler/lib/, in pipeline order:
//   graph (vt -> vt):      vt-infer-shapes, vt-decompose, vt-fuse
//   training (vt -> vt):   vt-autodiff
//   lowering:              convert-vt-to-linalg
//   after bufferization:   vitc-linalg-to-library, vitc-plan-memory
//   CUDA codegen:          vitc-gpu-map-parallel-loops
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
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
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
  }];
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
    entry argument `%weights: memref<?xi8>`. The artifact writer stores the
    table as the weights section, which the runtime maps and passes in, so
    a 330 MB model never becomes LLVM IR constants.
  }];
  let options = [Option<"minBytes", "min-bytes", "int64_t", "256",
                        "Globals at least this large are externalized">];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
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

#endif // VITC_COMPILER_PASSES
