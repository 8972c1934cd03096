//===- Pipelines.h - the whole compiler ---------------------------*- C++ -*-===//
//
// Each stage folder owns its pipeline (Graph, Training, Lowering,
// Codegen/{Common,CPU,CUDA}); this is what drivers use to get all of them:
// the full CPU pipeline, the dialects, and every pass, pipeline and codegen
// target registered.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_PIPELINES_H
#define VITC_COMPILER_PIPELINES_H

#include "compiler/Codegen/CPU/Passes.h"
#include "compiler/Codegen/CUDA/Passes.h"
#include "compiler/Codegen/GpuEmulator/Passes.h"
#include "compiler/Graph/Passes.h"
#include "compiler/Lowering/Passes.h"
#include "compiler/Sharding/Passes.h"
#include "compiler/PipelineOptions.h"
#include "compiler/Training/Passes.h"

#include "mlir/IR/DialectRegistry.h"

namespace vitc {

/// Graph, lowering and CPU codegen: vt -> LLVM dialect (`vitc-full`).
void buildFullPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);

/// vt plus every upstream dialect the pipelines produce.
void registerAllDialects(mlir::DialectRegistry &registry);
/// The codegen targets' hooks into the lowering stage ("cpu", "cuda"):
/// needed before building vitc-lower for a target.
void registerCodegenTargets();
/// vitc's passes, the named pipelines and codegen targets, and the upstream
/// passes lit uses.
void registerAllPasses();

} // namespace vitc

#endif // VITC_COMPILER_PIPELINES_H
