//===- FunctionSignature.cpp - names, roles, dtypes and shapes of a func --===//
#include "compiler/Backend/Artifact.h"
#include "compiler/Backend/WeightsTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace vitc::backend {

/// Builds the signature of one argument or result; it is named "<what><i>"
/// when it has no vt.name attribute.
static FailureOr<TensorSig> makeSig(func::FuncOp func, Type type,
                                    DictionaryAttr attrs, StringRef what,
                                    unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return func.emitError() << "@" << func.getSymName() << " " << what << " #"
                            << index << " must be a ranked tensor, got "
                            << type;
  auto stringAttr = [&](StringRef key) -> std::string {
    auto attr = attrs ? attrs.getAs<StringAttr>(key) : nullptr;
    return attr ? attr.str() : "";
  };
  TensorSig sig;
  sig.name = stringAttr("vt.name");
  if (sig.name.empty())
    sig.name = (what + Twine(index)).str();
  sig.role = stringAttr("vt.role");
  sig.updates = stringAttr("vt.updates");
  if (auto full = attrs ? attrs.getAs<DenseI64ArrayAttr>("vt.full_shape")
                        : nullptr)
    sig.fullShape.assign(full.asArrayRef().begin(), full.asArrayRef().end());
  sig.dtype = dtypeName(tensor.getElementType());
  if (sig.dtype.empty())
    return func.emitError() << "@" << func.getSymName() << " " << what << " '"
                            << sig.name << "' has unsupported element type "
                            << tensor.getElementType();
  for (int64_t dim : tensor.getShape())
    sig.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  return sig;
}

FailureOr<FunctionSig> getFunctionSignature(ModuleOp module,
                                            StringRef funcName) {
  auto func = module.lookupSymbol<func::FuncOp>(funcName);
  if (!func)
    return module.emitError() << "the model has no func.func @" << funcName;
  FunctionSig signature;
  signature.name = funcName.str();
  FunctionType type = func.getFunctionType();
  for (auto [i, argType] : llvm::enumerate(type.getInputs())) {
    FailureOr<TensorSig> sig =
        makeSig(func, argType, func.getArgAttrDict(i), "input", i);
    if (failed(sig))
      return failure();
    signature.inputs.push_back(std::move(*sig));
  }
  for (auto [i, resultType] : llvm::enumerate(type.getResults())) {
    FailureOr<TensorSig> sig =
        makeSig(func, resultType, func.getResultAttrDict(i), "output", i);
    if (failed(sig))
      return failure();
    signature.outputs.push_back(std::move(*sig));
  }
  return signature;
}

std::vector<std::string> getPublicFunctionNames(ModuleOp module) {
  std::vector<std::string> names;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      names.push_back(func.getSymName().str());
  return names;
}

} // namespace vitc::backend
