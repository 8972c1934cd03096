//===- Passes.td - vitc compiler passes --------------------*- tablegen -*-===//
//
// One pass per file under compiler/lib/, in pipeline order:
//   graph (vt -> vt):      vt-infer-shapes, vt-decompose, vt-fuse
//   lowering:              convert-vt-to-linalg
//   after bufferization:   vitc-linalg-to-library, vitc-plan-memory
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

#endif // VITC_COMPILER_PASSES
