//===- KernelAbi.cpp - calls of the CPU kernels ---------------------------===//
#include "compiler/Codegen/CPU/KernelAbi.h"

namespace vitc::cpu {

/// The kernel name suffix for inputs of element type `input` and an output
/// of `output`: f32 for f32 -> f32, bf16 for bf16 -> f32 (mixed precision);
/// nullopt where the runtime has no kernel.
std::optional<StringRef> getDtypeSuffix(Type input, Type output) {
  if (!output.isF32())
    return std::nullopt;
  if (input.isF32())
    return StringRef("f32");
  if (input.isBF16())
    return StringRef("bf16");
  return std::nullopt;
}

/// The kernel suffix of an anchor reading `inputs` (of one element type)
/// into `output`.
std::optional<StringRef> getDtypeSuffix(ValueRange inputs, Value output) {
  Type input = getElementTypeOrSelf(inputs.front().getType());
  if (llvm::any_of(inputs, [&](Value v) {
        return getElementTypeOrSelf(v.getType()) != input;
      }))
    return std::nullopt;
  return getDtypeSuffix(input, getElementTypeOrSelf(output.getType()));
}

/// A memref type of the same rank and element type with every size, stride
/// and the offset dynamic: the one signature all shapes share.
MemRefType getFullyDynamicType(MemRefType type) {
  SmallVector<int64_t> shape(type.getRank(), ShapedType::kDynamic);
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic,
                                       strides);
  return MemRefType::get(shape, type.getElementType(), layout,
                         type.getMemorySpace());
}

} // namespace vitc::cpu
