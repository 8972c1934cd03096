//===- Pipeline.cpp - the start every code generation shares --------------===//
#include "compiler/Codegen/Common/Passes.h"

#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"

using namespace mlir;

namespace vitc {

void addCommonCodegenPasses(OpPassManager &pm) {
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopies());
}

} // namespace vitc
