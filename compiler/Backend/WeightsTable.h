//===- WeightsTable.h - the weights recorded by vitc-externalize-weights ---===//
#ifndef VITC_BACKEND_WEIGHTSTABLE_H
#define VITC_BACKEND_WEIGHTSTABLE_H

#include "compiler/ElementTypes.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace vitc::backend {

struct WeightEntry {
  std::string name;
  uint64_t offset = 0, bytes = 0;
  mlir::ElementsAttr value;
};

struct WeightsTable {
  std::vector<WeightEntry> entries;
  uint64_t size = 0;
};

/// Reads the `vitc.weights` / `vitc.weights_size` attributes of `module`.
llvm::Expected<WeightsTable> readWeightsTable(mlir::ModuleOp module);

/// Writes the in-memory bytes of `entry` (as the LLVM lowering of memrefs
/// lays them out: little-endian, C order, i1 as one byte).
llvm::Error writeWeightBytes(const WeightEntry &entry, llvm::raw_ostream &os);

} // namespace vitc::backend

#endif // VITC_BACKEND_WEIGHTSTABLE_H
