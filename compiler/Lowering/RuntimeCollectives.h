//===- RuntimeCollectives.h - the runtime's collective entry points -*- C++ -*-===//
//
// Compiled steps reach the job's ranks through the runtime's functions
// (vitc/runtime/CompiledCollectives.h); the lowering passes declare them
// here, once per module.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_LOWERING_RUNTIMECOLLECTIVES_H
#define VITC_COMPILER_LOWERING_RUNTIMECOLLECTIVES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace vitc {

/// `func.func private @name : type` taking memref descriptors
/// (llvm.emit_c_interface: the C symbol is _mlir_ciface_<name>) and never
/// retaining them (vitc.library_kernel, which vitc-plan-memory relies on).
mlir::func::FuncOp declareRuntimeCollective(mlir::ModuleOp module,
                                            llvm::StringRef name,
                                            mlir::FunctionType type);

/// `func.func private @vitc_coll_world_size() -> i64`, a plain C function.
mlir::func::FuncOp declareWorldSize(mlir::ModuleOp module);

} // namespace vitc

#endif // VITC_COMPILER_LOWERING_RUNTIMECOLLECTIVES_H
