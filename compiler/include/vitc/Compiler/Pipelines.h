//===- Pipelines.h - named pass pipelines -------------------------*- C++ -*-===//
#ifndef VITC_COMPILER_PIPELINES_H
#define VITC_COMPILER_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace vitc {

struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cpu or cuda"),
                             llvm::cl::init("cpu")};
};

/// Graph stage: shape inference, canonicalisation, decomposition, fusion.
void buildGraphPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);
/// vt (after the graph stage) -> linalg -> bufferized memrefs with library
/// calls and a memory plan.
void buildLoweringPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);
/// Bufferized memrefs -> LLVM dialect (CPU code and host code).
void buildCpuCodegenPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);
/// All of the above.
void buildFullPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);

/// vt plus every upstream dialect the pipelines produce.
void registerAllDialects(mlir::DialectRegistry &registry);
/// vitc's passes, the named pipelines, and the upstream passes lit uses.
void registerAllPasses();

} // namespace vitc

#endif // VITC_COMPILER_PIPELINES_H
