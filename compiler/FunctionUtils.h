//===- FunctionUtils.h - rewriting function signatures ----------*- C++ -*-===//
//
// The training and sharding passes (and vt-autodiff) reshape whole
// functions: they pick functions by name, add role-tagged arguments and
// replace the results. Shared by the stages, like PipelineOptions.h.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_FUNCTIONUTILS_H
#define VITC_COMPILER_FUNCTIONUTILS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace vitc {

/// The defined functions of `module` whose names are in `names` (every one
/// if `names` is empty), in module order; an error, naming `pass`, for a
/// name that is no defined function.
inline mlir::FailureOr<llvm::SmallVector<mlir::func::FuncOp>>
selectFunctions(mlir::ModuleOp module, llvm::ArrayRef<std::string> names,
                llvm::StringRef pass) {
  for (const std::string &name : names) {
    auto f = module.lookupSymbol<mlir::func::FuncOp>(name);
    if (!f || f.isExternal())
      return module.emitError(pass) << ": no function @" << name;
  }
  llvm::SmallVector<mlir::func::FuncOp> funcs;
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (!f.isExternal() &&
        (names.empty() || llvm::is_contained(names, f.getSymName())))
      funcs.push_back(f);
  return funcs;
}

/// `{vt.name = name, vt.role = role}`: the attributes of a tensor a trainer
/// binds by role (artifact.proto, TensorInfo.role).
inline mlir::DictionaryAttr nameAndRole(mlir::Builder &b, llvm::StringRef name,
                                        llvm::StringRef role) {
  return b.getDictionaryAttr(
      {b.getNamedAttr("vt.name", b.getStringAttr(name)),
       b.getNamedAttr("vt.role", b.getStringAttr(role))});
}

/// Makes `results` (with `attrs`) what the single-block `f` returns.
inline void setFunctionResults(mlir::func::FuncOp f, mlir::ValueRange results,
                               llvm::ArrayRef<mlir::DictionaryAttr> attrs) {
  mlir::Operation *ret = f.getBody().front().getTerminator();
  ret->setOperands(results);
  f.setType(mlir::FunctionType::get(f.getContext(), f.getArgumentTypes(),
                                    results.getTypes()));
  f.setAllResultAttrs(attrs);
}

} // namespace vitc

#endif // VITC_COMPILER_FUNCTIONUTILS_H
