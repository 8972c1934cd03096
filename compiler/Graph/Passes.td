//===- Passes.td - graph stage (vt -> vt) ------------------*- tablegen -*-===//
//
// The graph stage rewrites vt graphs into what fusion and autodiff
// understand, then groups them into kernels. Pipeline order:
//   vt-autocast-bf16 (--precision bf16), vt-infer-shapes, vt-decompose,
//   vt-fuse
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_GRAPH_PASSES
#define VITC_COMPILER_GRAPH_PASSES

include "mlir/Pass/PassBase.td"

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

def VtRandomExpectation : Pass<"vt-random-expectation", "mlir::ModuleOp"> {
  let summary = "Evaluate stochastic-depth masks by their expectation";
  let description = [{
    A model exported in training mode draws stochastic-depth masks as
    `div(cast(less(u, p)), p)` of a uniform draw `u` (ONNX
    RandomUniformLike, or Bernoulli); evaluated (PyTorch's `eval()`), the
    model keeps every sample. In the given functions (the evaluation step,
    an inference `main`), such a mask rescaled by its own keep probability
    becomes ones, its expectation, as dropout's inverted scaling is in
    evaluation. A draw used otherwise (a Bernoulli sample not rescaled)
    stays random; an evaluation import keys it by the node's seed.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "The functions to evaluate deterministically">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

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

#endif // VITC_COMPILER_GRAPH_PASSES
