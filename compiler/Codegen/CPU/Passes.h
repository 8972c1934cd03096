//===- Passes.h - CPU code generation: passes and pipeline -------*- C++ -*-===//
//
// Bufferized memrefs -> LLVM dialect for the host CPU: oneDNN library calls
// (the CPU target's hook in the lowering stage), loops, vectorisable
// reductions, bf16 and math expansion. Passes.td in this folder declares the
// passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_CPU_PASSES_H
#define VITC_COMPILER_CODEGEN_CPU_PASSES_H

#include "compiler/PipelineOptions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Codegen/CPU/Passes.h.inc"

/// The CPU target's library calls (the lowering stage's hook): matmuls,
/// convolutions and pooling become oneDNN kernel calls.
void addCpuLibraryCallPasses(mlir::OpPassManager &pm,
                             const PipelineOptions &opts);

/// CPU code generation (`vitc-cpu-codegen`): bufferized memrefs -> LLVM
/// dialect.
void buildCpuCodegenPipeline(mlir::OpPassManager &pm,
                             const PipelineOptions &opts);

/// The end of CPU code generation, from loops on memrefs (scf, memref,
/// arith, math; bf16 computed in f32) to the LLVM dialect. The emulated GPU
/// lowers its kernels with it too.
void addCpuLoopsToLLVMPasses(mlir::OpPassManager &pm);

/// Registers addCpuLibraryCallPasses as the "cpu" target's hook in the
/// lowering stage (LibraryCalls.h).
void registerCpuTarget();

/// Registers the CPU passes and the vitc-cpu-codegen pipeline.
void registerCpuCodegen();

} // namespace vitc

#endif // VITC_COMPILER_CODEGEN_CPU_PASSES_H
