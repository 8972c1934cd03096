//===- Pipeline.cpp - the lowering stage's pipeline, vitc-lower -----------===//
#include "compiler/Lowering/Passes.h"

#include "compiler/Lowering/LibraryCalls.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace vitc {

void buildLoweringPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  ConvertVtToLinalgOptions toLinalg;
  toLinalg.target = opts.target;
  pm.addPass(createConvertVtToLinalg(toLinalg));
  pm.addNestedPass<func::FuncOp>(createScalarizeShapeTensors());
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createCloneFillInits());
  pm.addNestedPass<func::FuncOp>(createSinkTransposes());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Bufferization's constant globals, in an order of their contents.
  pm.addPass(createOrderGlobals());
  // Collectives are runtime calls now: their grids have nothing to lower.
  pm.addPass(createEraseGrids());
  // Each collective runs while the step computes, until its result is read.
  pm.addPass(createOverlapCollectives());
  // GPU kernels cannot read host globals: on CUDA every constant goes to the
  // weights section, which the runtime uploads to the device.
  ExternalizeWeightsOptions weights;
  if (opts.target == "cuda")
    weights.minBytes = 0;
  pm.addPass(createExternalizeWeights(weights));
  if (const LibraryCallsHook *libraryCalls =
          lookupLibraryCallsHook(opts.target))
    (*libraryCalls)(pm, opts);
  pm.addNestedPass<func::FuncOp>(createPlanMemory());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
}

void registerLoweringPipeline() {
  registerLoweringPasses();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-lower", "vt -> linalg -> bufferized memrefs with the target's "
      "library calls and a memory plan",
      buildLoweringPipeline);
}

} // namespace vitc
