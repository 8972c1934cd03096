//===- Bf16.cpp - bf16 inputs without oneDNN bf16 kernels -----------------===//
//
// Matmul and convolution take bf16 inputs too (mixed precision, f32 output):
// the same code with bf16 memory descriptors where the CPU has bf16
// instructions (avx512_bf16, AMX). Elsewhere the bf16 entry points widen
// their inputs to f32 and run the f32 kernels (see hasNativeBf16).
//
//===----------------------------------------------------------------------===//
#include "OneDnnKernels.h"

#include <algorithm>

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu { // See OneDnnContext.h.
namespace {

/// A dense row-major f32 memory of `shape` at `data`.
Plain denseF32(const dims &shape, float *data) {
  Plain p{shape, dims(shape.size()), data, dnnl::memory::data_type::f32};
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    p.strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return p;
}

/// Widens `p` (bf16) into `out` (dense, as denseF32): exact, a bf16 is the
/// upper half of an f32.
void widenInto(const Plain &p, float *out) {
  const uint16_t *in = static_cast<const uint16_t *>(p.data);
  auto *bits = reinterpret_cast<uint32_t *>(out);
  forEachRow(p, [&](int64_t offset, int64_t length, int64_t stride) {
    const uint16_t *row = in + offset;
    if (stride == 1) // Dense rows (the usual case): a loop that vectorises.
      for (int64_t j = 0; j < length; ++j)
        bits[j] = static_cast<uint32_t>(row[j]) << 16;
    else
      for (int64_t j = 0; j < length; ++j)
        bits[j] = static_cast<uint32_t>(row[j * stride]) << 16;
    bits += length;
  });
}

} // namespace

Plain widenBf16(const Plain &p, Scratch::Slot slot, bool constant) {
  if (hasNativeBf16())
    return p;
  size_t elements = static_cast<size_t>(std::max<int64_t>(p.numElements(), 1));
  if (!constant) {
    auto *out = static_cast<float *>(Scratch::get(slot, elements * 4));
    widenInto(p, out);
    return denseF32(p.shape, out);
  }
  static std::mutex mutex;
  static std::unordered_map<CacheKey, std::unique_ptr<float[]>, CacheKeyHash>
      cache;
  CacheKey key{static_cast<int64_t>(reinterpret_cast<intptr_t>(p.data))};
  p.appendTo(key);
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<float[]> &copy = cache[key];
  if (!copy) {
    copy.reset(new float[elements]);
    widenInto(p, copy.get());
  }
  return denseF32(p.shape, copy.get());
}

} // namespace cpu
} // namespace vitc::kernels
