//===- Passes.h - the emulated GPU's code generation -------------*- C++ -*-===//
//
// The CUDA target's kernels and schedule, with the kernels compiled for the
// host CPU: what the runtime's emulated GPU (a test device) runs in CI,
// which has no GPU. Passes.td in this folder declares the passes.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_GPUEMULATOR_PASSES_H
#define VITC_COMPILER_CODEGEN_GPUEMULATOR_PASSES_H

#include "compiler/PipelineOptions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Codegen/GpuEmulator/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Codegen/GpuEmulator/Passes.h.inc"

/// Emulated-GPU code generation (`vitc-cuda-emulator-codegen`): the CUDA
/// host passes and schedule, then the kernels lowered for the host.
void buildGpuEmulatorCodegenPipeline(mlir::OpPassManager &pm,
                                     const PipelineOptions &opts);

void registerGpuEmulatorCodegen();

} // namespace vitc

#endif // VITC_COMPILER_CODEGEN_GPUEMULATOR_PASSES_H
