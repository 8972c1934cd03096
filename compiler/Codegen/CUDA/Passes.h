//===- Passes.h - CUDA code generation: passes and pipeline ------*- C++ -*-===//
//
// Bufferized memrefs -> GPU schedules (the host side as data, see
// GpuSchedule.h) launching outlined kernels whose code is in gpu.binary ops
// (PTX or cubin). The only
// part of the compiler that links MLIR's GPU and NVVM libraries. Passes.td
// in this folder declares the passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_CUDA_PASSES_H
#define VITC_COMPILER_CODEGEN_CUDA_PASSES_H

#include "compiler/PipelineOptions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Codegen/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Codegen/CUDA/Passes.h.inc"

/// The host side of CUDA code generation, shared with the emulated GPU:
/// fused loop nests mapped to grids and outlined into kernels, then the host
/// functions recorded as schedules (vitc-gpu-build-schedule) and erased.
void addCudaHostPasses(mlir::OpPassManager &pm, const PipelineOptions &opts);

/// CUDA code generation (`vitc-cuda-codegen`): the host passes, then the
/// kernels through NVVM to PTX or cubins (gpu.binary ops).
void buildCudaCodegenPipeline(mlir::OpPassManager &pm,
                              const PipelineOptions &opts);

/// Registers the CUDA passes and the vitc-cuda-codegen pipeline.
void registerCudaCodegen();

/// The CUDA target's hook in the lowering stage: matmuls become calls of
/// GPU library routines (vitc_gpu_*), which the schedule records as call
/// commands. Convolutions and pools stay generated kernels for now.
void addCudaLibraryCallPasses(mlir::OpPassManager &pm,
                              const PipelineOptions &opts);
void registerCudaTarget();

} // namespace vitc

#endif // VITC_COMPILER_CODEGEN_CUDA_PASSES_H
