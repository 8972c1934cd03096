//===- Npy.h - read and write NumPy .npy files ----------------------------===//
//
// Format versions 1.0, 2.0 and 3.0; little-endian (or byte-order free) f32,
// f64, f16, i64, i32, i8, u8 and bool, C order. Anything else is rejected
// with a message naming the file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DATA_NPY_H
#define VITC_DATA_NPY_H

#include "vitc/runtime/DType.h"
#include "vitc/runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::npy {

struct Array {
  rt::DType dtype = rt::DType::F32;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

/// Reads `path`; the error names it.
rt::StatusOr<Array> readNpy(const std::string &path);

/// Writes a C-order array as a version 1.0 file (2.0 if the header needs it).
rt::Status writeNpy(const std::string &path, rt::DType dtype,
                    const std::vector<int64_t> &shape, const void *data);

} // namespace vitc::npy

#endif // VITC_DATA_NPY_H
