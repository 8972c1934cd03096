//===- EntrySignature.cpp - names, dtypes and shapes of @main -------------===//
#include "vitc/Backend/Artifact.h"
#include "vitc/Backend/WeightsTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace vitc::backend {

/// Builds the signature of one argument or result; `fallback` names it when
/// it has no vt.name attribute.
static FailureOr<TensorSig> makeSig(func::FuncOp func, Type type,
                                    DictionaryAttr attrs, StringRef what,
                                    unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return func.emitError() << "@main " << what << " #" << index
                            << " must be a ranked tensor, got " << type;
  TensorSig sig;
  auto name = attrs ? attrs.getAs<StringAttr>("vt.name") : nullptr;
  sig.name = name ? name.str() : (what + llvm::Twine(index)).str();
  sig.dtype = dtypeName(tensor.getElementType());
  if (sig.dtype.empty())
    return func.emitError() << "@main " << what << " '" << sig.name
                            << "' has unsupported element type "
                            << tensor.getElementType();
  for (int64_t dim : tensor.getShape())
    sig.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  return sig;
}

llvm::FailureOr<std::pair<std::vector<TensorSig>, std::vector<TensorSig>>>
getEntrySignature(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("the model has no func.func @main");
  std::vector<TensorSig> inputs, outputs;
  FunctionType type = main.getFunctionType();
  for (auto [i, argType] : llvm::enumerate(type.getInputs())) {
    FailureOr<TensorSig> sig =
        makeSig(main, argType, main.getArgAttrDict(i), "input", i);
    if (failed(sig))
      return failure();
    inputs.push_back(std::move(*sig));
  }
  for (auto [i, resultType] : llvm::enumerate(type.getResults())) {
    FailureOr<TensorSig> sig =
        makeSig(main, resultType, main.getResultAttrDict(i), "output", i);
    if (failed(sig))
      return failure();
    outputs.push_back(std::move(*sig));
  }
  return std::make_pair(std::move(inputs), std::move(outputs));
}

} // namespace vitc::backend
