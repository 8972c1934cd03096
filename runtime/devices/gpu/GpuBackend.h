//===- GpuBackend.h - what a GPU device offers the schedule runner -*- C++ -*-===//
//
// The GPU devices (CUDA, and the emulated GPU that CI runs on) share one
// executable, ScheduleExecutable, which runs the artifact's schedules; each
// device supplies this narrow interface: device memory, copies, and kernel
// launches with their arguments passed as cuLaunchKernel takes them
// (params[i] points to argument i, a memref as its expanded descriptor).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_GPU_GPUBACKEND_H
#define VITC_DEVICES_GPU_GPUBACKEND_H

#include "vitc/runtime/Artifact.h"
#include "vitc/runtime/Device.h"
#include "vitc/runtime/Status.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vitc::rt {

/// A device address (a CUdeviceptr; a host pointer on the emulated GPU).
using DevicePtr = uint64_t;

/// A device tensor a library routine reads or writes: its first element
/// (the memref's aligned pointer plus its offset), sizes and strides in
/// elements.
struct DeviceTensor {
  DevicePtr data = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> sizes, strides;
};

/// A schedule's call of a vendor-library routine ("call" commands). The
/// routines and their operands are the CPU kernels' (runtime/devices/cpu/
/// CpuKernels.h), named without the vitc_cpu_ / vitc_gpu_ prefix:
///   matmul_f32, matmul_bf16 (tensors a, b, c: rank 2), batch_matmul_f32,
///   batch_matmul_bf16 (rank 3, a batch of 1 broadcast), scalars transA,
///   transB, accumulate, constantB: c (+)= op(a) op(b), where op(x) swaps
///   x's last two dims when its flag is set; bf16 inputs accumulate into
///   an f32 c. constantB: b is a view of the weights (it never changes).
///   conv2d_f32, conv2d_bf16 (tensors input NCHW, filter FCHW, output NFHW),
///   conv2d_grouped_f32, conv2d_grouped_bf16 (input NGCHW, filter GFCHW,
///   output NGFHW, G and C of each contiguous with each other), scalars
///   strideH, strideW, dilationH, dilationW (1 = dense), padTop, padLeft,
///   padBottom, padRight (zeros), accumulate, constantFilter, reorderHints:
///   output (+)= the cross-correlation of input and filter; bf16 inputs
///   accumulate into an f32 output. constantFilter and reorderHints are
///   promises the CPU kernels cache by; cuDNN (CUDA) needs symmetric pads
///   and a packed filter, which the compiler gives it.
struct LibraryCall {
  std::string routine;
  std::vector<DeviceTensor> tensors;
  std::vector<int64_t> scalars;
};

class GpuBackend {
public:
  virtual ~GpuBackend() = default;
  /// E.g. "cuda:0 (NVIDIA H100 80GB HBM3, sm_90)".
  virtual std::string name() const = 0;
  /// `bytes` > 0; the memory is at least 256-byte aligned.
  virtual StatusOr<DevicePtr> allocate(size_t bytes) = 0;
  virtual void free(DevicePtr pointer) = 0;
  virtual Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) = 0;
  virtual Status copyToHost(void *dst, DevicePtr src, size_t bytes) = 0;
  virtual Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) = 0;
  /// Launches kernel #`kernel` of the artifact's kernel table (in order on
  /// one stream).
  virtual Status launch(size_t kernel, const std::array<uint32_t, 3> &grid,
                        const std::array<uint32_t, 3> &block,
                        uint32_t sharedBytes, void **params) = 0;
  /// Runs a library routine (in order on the same stream as launches).
  virtual Status callLibrary(const LibraryCall &call) {
    return Status::error("this GPU device has no library routine '" +
                         call.routine + "'");
  }
  /// Waits for everything launched so far.
  virtual Status synchronize() = 0;
};

/// The executable of a GPU artifact on `backend`: uploads the weights once,
/// then runs each call's schedule (inputs copied to the device, outputs
/// back to host memory the caller owns).
StatusOr<std::unique_ptr<Executable>>
createScheduleExecutable(const Artifact &artifact,
                         std::shared_ptr<GpuBackend> backend);

} // namespace vitc::rt

#endif // VITC_DEVICES_GPU_GPUBACKEND_H
