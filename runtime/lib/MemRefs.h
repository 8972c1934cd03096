//===- MemRefs.h - memref descriptors as the compiled code passes them ----===//
//
// A ranked memref of rank R is { T *allocated; T *aligned; int64 offset;
// int64 sizes[R]; int64 strides[R] }: 3 + 2R words; several results are
// their concatenation.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_LIB_MEMREFS_H
#define VITC_RUNTIME_LIB_MEMREFS_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vitc::rt {

inline int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

/// Writes the descriptor of dense C-order memory at `data` into `words`
/// (3 + 2 * rank of them).
inline void fillDescriptor(int64_t *words, const void *data,
                           const int64_t *shape, size_t rank) {
  auto pointer = reinterpret_cast<int64_t>(data);
  words[0] = pointer;
  words[1] = pointer;
  words[2] = 0;
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    words[3 + i] = shape[i];
    words[3 + rank + i] = stride;
    stride *= shape[i];
  }
}

/// Copies a strided memref into contiguous C-order memory, a row at a time
/// where the innermost dim is contiguous (outputs that are views into
/// shared buffers: a training step's new parameters are megabytes).
inline void copyStrided(const char *src, char *dst, const int64_t *sizes,
                        const int64_t *strides, size_t rank, size_t elemSize,
                        size_t &written) {
  if (rank == 0) {
    std::memcpy(dst + written, src, elemSize);
    written += elemSize;
    return;
  }
  if (rank == 1 && strides[0] == 1) {
    size_t bytes = static_cast<size_t>(sizes[0]) * elemSize;
    std::memcpy(dst + written, src, bytes);
    written += bytes;
    return;
  }
  for (int64_t i = 0; i < sizes[0]; ++i)
    copyStrided(src + i * strides[0] * static_cast<int64_t>(elemSize), dst,
                sizes + 1, strides + 1, rank - 1, elemSize, written);
}

} // namespace vitc::rt

#endif // VITC_RUNTIME_LIB_MEMREFS_H
