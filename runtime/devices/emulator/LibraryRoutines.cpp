//===- LibraryRoutines.cpp - the emulated GPU's library routines ----------===//
//
// What cuBLASLt and cuDNN do on a GPU, the emulated GPU does with the CPU device's
// kernels (runtime/devices/cpu/CpuKernels.h): the routines take the same
// operands, and the emulated device memory is host memory, so a routine's
// tensors are the CPU kernels' memref descriptors as they are.
//
//===----------------------------------------------------------------------===//
#include "LibraryRoutines.h"

#include "../cpu/CpuKernels.h"

namespace vitc::rt {
namespace {

template <typename T, int Rank>
kernels::StridedMemRef<T, Rank> view(const DeviceTensor &tensor) {
  kernels::StridedMemRef<T, Rank> memref;
  memref.basePtr = memref.data = reinterpret_cast<T *>(tensor.data);
  memref.offset = 0;
  for (int d = 0; d < Rank; ++d) {
    memref.sizes[d] = tensor.sizes[d];
    memref.strides[d] = tensor.strides[d];
  }
  return memref;
}

/// Calls a matmul kernel with (a, b, c) of rank `Rank`, A/B of element type
/// `In`.
template <typename In, int Rank, typename Kernel>
Status matmul(const LibraryCall &call, Kernel kernel) {
  if (call.tensors.size() != 3 || call.scalars.size() != 4)
    return Status::error("expected 3 tensors and 4 scalars");
  for (const DeviceTensor &t : call.tensors)
    if (t.sizes.size() != Rank || t.strides.size() != Rank)
      return Status::error("expected rank-" + std::to_string(Rank) +
                           " tensors");
  auto a = view<In, Rank>(call.tensors[0]);
  auto b = view<In, Rank>(call.tensors[1]);
  auto c = view<float, Rank>(call.tensors[2]);
  const std::vector<int64_t> &s = call.scalars;
  kernel(&a, &b, &c, s[0], s[1], s[2], s[3]);
  return Status::ok();
}

/// Calls a convolution kernel with (input, filter, output) of rank `Rank`
/// (5: grouped), input and filter of element type `In`, and its 11 scalars.
template <typename In, int Rank, typename Kernel>
Status conv(const LibraryCall &call, Kernel kernel) {
  if (call.tensors.size() != 3 || call.scalars.size() != 11)
    return Status::error("expected 3 tensors and 11 scalars");
  for (const DeviceTensor &t : call.tensors)
    if (t.sizes.size() != Rank || t.strides.size() != Rank)
      return Status::error("expected rank-" + std::to_string(Rank) +
                           " tensors");
  auto input = view<In, Rank>(call.tensors[0]);
  auto filter = view<In, Rank>(call.tensors[1]);
  auto output = view<float, Rank>(call.tensors[2]);
  const std::vector<int64_t> &s = call.scalars;
  // No filter caching (the emulated device's memory is reused from call to
  // call) and no reorder hints: each call converts its operands afresh.
  kernel(&input, &filter, &output, s[0], s[1], s[2], s[3], s[4], s[5], s[6],
         s[7], s[8], /*constantFilter=*/0, /*reorderHints=*/0);
  return Status::ok();
}

} // namespace

Status runEmulatedLibraryCall(const LibraryCall &call) {
  const std::string &r = call.routine;
  if (r == "matmul_f32")
    return matmul<float, 2>(call, _mlir_ciface_vitc_cpu_matmul_f32);
  if (r == "batch_matmul_f32")
    return matmul<float, 3>(call, _mlir_ciface_vitc_cpu_batch_matmul_f32);
  if (r == "matmul_bf16")
    return matmul<uint16_t, 2>(call, _mlir_ciface_vitc_cpu_matmul_bf16);
  if (r == "batch_matmul_bf16")
    return matmul<uint16_t, 3>(call, _mlir_ciface_vitc_cpu_batch_matmul_bf16);
  if (r == "conv2d_f32")
    return conv<float, 4>(call, _mlir_ciface_vitc_cpu_conv2d_f32);
  if (r == "conv2d_bf16")
    return conv<uint16_t, 4>(call, _mlir_ciface_vitc_cpu_conv2d_bf16);
  if (r == "conv2d_grouped_f32")
    return conv<float, 5>(call, _mlir_ciface_vitc_cpu_conv2d_grouped_f32);
  if (r == "conv2d_grouped_bf16")
    return conv<uint16_t, 5>(call, _mlir_ciface_vitc_cpu_conv2d_grouped_bf16);
  return Status::error("the emulated GPU has no library routine '" + r + "'");
}

} // namespace vitc::rt
