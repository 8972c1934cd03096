//===- ElementTypes.h - element types as artifacts store them ---*- C++ -*-===//
//
// The artifact's names for element types and the bytes one element takes in
// memory, as the LLVM lowering of memrefs lays it out. Shared by the stages
// that size buffers (memory planning, the weights table, GPU schedules) and
// the backend, like PipelineOptions.h.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_ELEMENTTYPES_H
#define VITC_COMPILER_ELEMENTTYPES_H

#include "mlir/IR/BuiltinTypes.h"

#include <string>

namespace vitc {

/// "f32", "bf16", "i64", ... (the manifest's dtype), or "" if unsupported.
inline std::string dtypeName(mlir::Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isF64())
    return "f64";
  if (type.isInteger(1))
    return "i1";
  if (auto integer = mlir::dyn_cast<mlir::IntegerType>(type)) {
    bool isUnsigned = integer.isUnsigned();
    switch (integer.getWidth()) {
    case 8:
      return isUnsigned ? "u8" : "i8";
    case 32:
      return isUnsigned ? "" : "i32";
    case 64:
      return isUnsigned ? "" : "i64";
    default:
      return "";
    }
  }
  return "";
}

/// Bytes one element occupies in memory (i1 takes a byte, index 8), or 0
/// for a type that cannot be stored.
inline int64_t storageBytes(mlir::Type type) {
  if (type.isIndex())
    return 8;
  if (type.isInteger(1))
    return 1;
  if (mlir::isa<mlir::IntegerType, mlir::FloatType>(type) &&
      type.getIntOrFloatBitWidth() % 8 == 0)
    return type.getIntOrFloatBitWidth() / 8;
  return 0;
}

} // namespace vitc

#endif // VITC_COMPILER_ELEMENTTYPES_H
