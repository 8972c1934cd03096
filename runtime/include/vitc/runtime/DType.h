//===- DType.h - tensor element types -----------------------------*- C++ -*-===//
#ifndef VITC_RUNTIME_DTYPE_H
#define VITC_RUNTIME_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitc::rt {

/// Values match vitc_dtype in vitc_runtime.h.
enum class DType : int32_t { F32 = 1, F16, BF16, F64, I64, I32, I8, U8, I1 };

/// The artifact's name of `dtype`: f32 f16 bf16 f64 i64 i32 i8 u8 i1.
const char *dtypeName(DType dtype);
std::optional<DType> parseDType(const std::string &name);
/// Bytes per element in memory (i1 takes one byte).
size_t dtypeSize(DType dtype);

/// "[1, 3, -1]" for messages (-1 is a dynamic dimension).
std::string shapeString(const std::vector<int64_t> &shape);

} // namespace vitc::rt

#endif // VITC_RUNTIME_DTYPE_H
