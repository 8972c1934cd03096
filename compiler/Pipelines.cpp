//===- Pipelines.cpp - the whole compiler ---------------------------------===//
#include "compiler/Pipelines.h"

#include "compiler/Codegen/Common/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

using namespace mlir;

namespace vitc {

void buildFullPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  buildGraphPipeline(pm, opts);
  buildLoweringPipeline(pm, opts);
  if (opts.target == "cuda" && opts.gpuEmulator)
    buildGpuEmulatorCodegenPipeline(pm, opts);
  else if (opts.target == "cuda")
    buildCudaCodegenPipeline(pm, opts);
  else
    buildCpuCodegenPipeline(pm, opts);
}

void registerAllDialects(DialectRegistry &registry) {
  registry.insert<vt::VtDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registerCollectiveBufferizationModels(registry);
}

void registerCodegenTargets() {
  registerCpuTarget();
  registerCudaTarget();
}

void registerAllPasses() {
  mlir::registerAllPasses();
  registerGraphPipeline();
  registerShardingPasses();
  registerTrainingPipeline();
  registerLoweringPipeline();
  registerCodegenCommonPasses();
  registerCpuCodegen();
  registerCudaCodegen();
  registerGpuEmulatorCodegen();
  registerCodegenTargets();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-full", "vt -> LLVM dialect: every stage", buildFullPipeline);
}

} // namespace vitc
