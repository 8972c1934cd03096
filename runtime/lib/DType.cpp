//===- DType.cpp - tensor element types ------------------------------------===//
#include "vitc/runtime/DType.h"

#include <cstring>

namespace vitc::rt {

namespace {
struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "f32", 4}, {DType::F16, "f16", 2}, {DType::BF16, "bf16", 2},
    {DType::F64, "f64", 8}, {DType::I64, "i64", 8}, {DType::I32, "i32", 4},
    {DType::I8, "i8", 1},   {DType::U8, "u8", 1},   {DType::I1, "i1", 1},
};
const DTypeInfo *find(DType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return &info;
  return nullptr;
}
} // namespace

const char *dtypeName(DType dtype) {
  const DTypeInfo *info = find(dtype);
  return info ? info->name : nullptr;
}

size_t dtypeSize(DType dtype) {
  const DTypeInfo *info = find(dtype);
  return info ? info->size : 0;
}

std::optional<DType> parseDType(const std::string &name) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name)
      return info.dtype;
  return std::nullopt;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string result = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      result += ", ";
    result += std::to_string(shape[i]);
  }
  return result + "]";
}

} // namespace vitc::rt
