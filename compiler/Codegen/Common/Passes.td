//===- Passes.td - shared codegen passes -------------------*- tablegen -*-===//
//
// Passes on bufferized memrefs that both the CPU and the CUDA code
// generation run:
//   vitc-lower-strided-copies
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGENCOMMON_PASSES
#define VITC_COMPILER_CODEGENCOMMON_PASSES

include "mlir/Pass/PassBase.td"

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

#endif // VITC_COMPILER_CODEGENCOMMON_PASSES
