//===- WeightsTable.cpp - read the table vitc-externalize-weights records -===//
#include "compiler/Backend/WeightsTable.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace vitc::backend {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<WeightsTable> readWeightsTable(ModuleOp module) {
  WeightsTable table;
  auto entries = module->getAttrOfType<ArrayAttr>("vitc.weights");
  auto size = module->getAttrOfType<IntegerAttr>("vitc.weights_size");
  if (!entries || !size)
    return makeError("the module has no weights table (run "
                     "vitc-externalize-weights after bufferization)");
  table.size = size.getValue().getZExtValue();
  for (Attribute attr : entries) {
    auto dict = dyn_cast<DictionaryAttr>(attr);
    auto name = dict ? dict.getAs<StringAttr>("name") : nullptr;
    auto offset = dict ? dict.getAs<IntegerAttr>("offset") : nullptr;
    auto bytes = dict ? dict.getAs<IntegerAttr>("bytes") : nullptr;
    auto value = dict ? dict.getAs<ElementsAttr>("value") : nullptr;
    if (!name || !offset || !bytes || !value) {
      std::string text;
      llvm::raw_string_ostream os(text);
      attr.print(os);
      return makeError("malformed vitc.weights entry: " + text);
    }
    WeightEntry entry{name.str(), offset.getValue().getZExtValue(),
                      bytes.getValue().getZExtValue(), value};
    if (entry.offset + entry.bytes > table.size)
      return makeError("weight '" + entry.name +
                       "' lies outside the weights section");
    table.entries.push_back(std::move(entry));
  }
  return table;
}

llvm::Error writeWeightBytes(const WeightEntry &entry, llvm::raw_ostream &os) {
  auto sizeError = [&](uint64_t got) {
    return makeError("weight '" + entry.name + "' has " + llvm::Twine(got) +
                     " bytes of data, expected " + llvm::Twine(entry.bytes));
  };
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(entry.value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return makeError("weight '" + entry.name +
                       "' has no data (its resource blob was elided)");
    ArrayRef<char> data = blob->getData();
    if (data.size() != entry.bytes)
      return sizeError(data.size());
    os.write(data.data(), data.size());
    return llvm::Error::success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(entry.value);
  if (!dense)
    return makeError("weight '" + entry.name +
                     "' is neither a dense nor a dense_resource attribute");
  int64_t count = dense.getNumElements();
  // i1 is bit-packed in the attribute but a byte per element in memory.
  if (dense.getElementType().isInteger(1)) {
    if (static_cast<uint64_t>(count) != entry.bytes)
      return sizeError(count);
    for (bool bit : dense.getValues<bool>())
      os << static_cast<char>(bit ? 1 : 0);
    return llvm::Error::success();
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    if (raw.size() * count != entry.bytes)
      return sizeError(raw.size() * count);
    for (int64_t i = 0; i < count; ++i)
      os.write(raw.data(), raw.size());
    return llvm::Error::success();
  }
  if (raw.size() != entry.bytes)
    return sizeError(raw.size());
  os.write(raw.data(), raw.size());
  return llvm::Error::success();
}

} // namespace vitc::backend
