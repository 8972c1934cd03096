//===- Passes.h - code generation passes every target uses -------*- C++ -*-===//
//
// Passes on bufferized memrefs shared by the CPU and the CUDA code
// generation, and the start both pipelines share. Passes.td in this folder
// declares the passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_COMMON_PASSES_H
#define VITC_COMPILER_CODEGEN_COMMON_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Codegen/Common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Codegen/Common/Passes.h.inc"

/// What every code generation starts with: the clones the deallocation
/// pipeline inserted (results aliasing arguments or weights) become alloc +
/// copy, and strided copies become loops instead of runtime helper calls.
void addCommonCodegenPasses(mlir::OpPassManager &pm);

} // namespace vitc

#endif // VITC_COMPILER_CODEGEN_COMMON_PASSES_H
