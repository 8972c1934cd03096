//===- GpuTestSupport.h - the library calls' GPU tests' helpers -*- C++ -*-===//
//
// Host tensors with random values (as views of a larger storage), their
// copies on the device, and the CUDA backend they run on: what the matmul
// (CublasLtGpuTest.cpp) and convolution (CudnnConvGpuTest.cpp) tests need
// to compare a library call with a naive reference on the host.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TESTS_DEVICES_CUDA_GPUTESTSUPPORT_H
#define VITC_TESTS_DEVICES_CUDA_GPUTESTSUPPORT_H

#include "CudaGpu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace vitc::testing {

inline uint16_t toBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits += 0x7fff + ((bits >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

inline float fromBf16(uint16_t value) {
  uint32_t bits = uint32_t(value) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

/// An operand in host memory: its storage (values of the element type,
/// as floats), and its view (sizes and strides, from `offset`).
struct HostTensor {
  std::vector<int64_t> sizes, strides;
  int64_t offset = 0;
  rt::DType dtype = rt::DType::F32;
  std::vector<float> storage;

  /// Where element `index` of the view is in the storage.
  int64_t position(const std::vector<int64_t> &index) const {
    int64_t p = offset;
    for (size_t d = 0; d < index.size(); ++d)
      p += index[d] * strides[d];
    return p;
  }

  /// Element (batch, i, j) of a matrix or batched matrix view (a batch of
  /// 1 broadcast).
  float at(int64_t batch, int64_t i, int64_t j) const {
    size_t r = sizes.size();
    int64_t index = offset + i * strides[r - 2] + j * strides[r - 1];
    if (r == 3 && sizes[0] > 1)
      index += batch * strides[0];
    return storage[index];
  }
};

inline HostTensor hostTensor(std::vector<int64_t> sizes,
                             std::vector<int64_t> strides, int64_t offset,
                             rt::DType dtype, std::mt19937 &rng) {
  HostTensor t{std::move(sizes), std::move(strides), offset, dtype, {}};
  int64_t extent = offset + 1;
  for (size_t d = 0; d < t.sizes.size(); ++d)
    extent += (t.sizes[d] - 1) * t.strides[d];
  for (int64_t s : t.sizes)
    if (s == 0)
      extent = offset + 1;
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  t.storage.resize(static_cast<size_t>(extent));
  for (float &v : t.storage)
    v = dtype == rt::DType::BF16 ? fromBf16(toBf16(uniform(rng)))
                                 : uniform(rng);
  return t;
}

inline std::vector<int64_t> contiguous(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (size_t d = sizes.size() - 1; d > 0; --d)
    strides[d - 1] = strides[d] * std::max<int64_t>(sizes[d], 1);
  return strides;
}

/// A row-major tensor.
inline HostTensor dense(std::vector<int64_t> sizes, rt::DType dtype,
                        std::mt19937 &rng, int64_t offset = 0) {
  std::vector<int64_t> strides = contiguous(sizes);
  return hostTensor(std::move(sizes), std::move(strides), offset, dtype, rng);
}

/// A CUDA backend on the default GPU, or why there is none.
inline rt::StatusOr<std::shared_ptr<rt::GpuBackend>> gpuBackend() {
  auto device = rt::createCudaDevice();
  if (!device.isOk())
    return device.status();
  return rt::createCudaBackend(**device, {}, {});
}

/// The tensor's storage on the device (freed with the object).
class DeviceCopy {
public:
  DeviceCopy(rt::GpuBackend &gpu, const HostTensor &t) : gpu(gpu), host(t) {
    size_t element = t.dtype == rt::DType::BF16 ? 2 : 4;
    size_t bytes = std::max<size_t>(t.storage.size() * element, 4);
    auto allocated = gpu.allocate(bytes);
    EXPECT_TRUE(allocated.isOk()) << allocated.status().message();
    if (!allocated.isOk())
      return;
    base = *allocated;
    rt::Status copied = rt::Status::ok();
    if (t.dtype == rt::DType::BF16) {
      std::vector<uint16_t> bf16(t.storage.size());
      for (size_t i = 0; i < bf16.size(); ++i)
        bf16[i] = toBf16(t.storage[i]);
      copied = gpu.copyToDevice(base, bf16.data(), bf16.size() * 2);
    } else {
      copied = gpu.copyToDevice(base, t.storage.data(), t.storage.size() * 4);
    }
    EXPECT_TRUE(copied.isOk()) << copied.message();
  }
  ~DeviceCopy() {
    if (base)
      gpu.free(base);
  }
  DeviceCopy(const DeviceCopy &) = delete;
  DeviceCopy &operator=(const DeviceCopy &) = delete;

  rt::DeviceTensor tensor() const {
    size_t element = host.dtype == rt::DType::BF16 ? 2 : 4;
    return {base + host.offset * element, host.dtype, host.sizes, host.strides};
  }
  /// The storage read back, for f32 tensors.
  std::vector<float> storage() const {
    std::vector<float> values(host.storage.size());
    rt::Status s = gpu.copyToHost(values.data(), base, values.size() * 4);
    EXPECT_TRUE(s.isOk()) << s.message();
    return values;
  }

private:
  rt::GpuBackend &gpu;
  const HostTensor &host;
  rt::DevicePtr base = 0;
};

} // namespace vitc::testing

#endif // VITC_TESTS_DEVICES_CUDA_GPUTESTSUPPORT_H
