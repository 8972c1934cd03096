//===- RuntimeCollectives.cpp - the runtime's collective entry points -----===//
#include "compiler/Lowering/RuntimeCollectives.h"

using namespace mlir;

namespace vitc {

static func::FuncOp declare(ModuleOp module, StringRef name,
                            FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
  fn.setPrivate();
  return fn;
}

func::FuncOp declareRuntimeCollective(ModuleOp module, StringRef name,
                                      FunctionType type) {
  func::FuncOp fn = declare(module, name, type);
  Builder b(module.getContext());
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  fn->setAttr("vitc.library_kernel", b.getUnitAttr());
  return fn;
}

func::FuncOp declareWorldSize(ModuleOp module) {
  Builder b(module.getContext());
  return declare(module, "vitc_coll_world_size",
                 b.getFunctionType({}, {b.getI64Type()}));
}

} // namespace vitc
