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

namespace vitc::rt {

/// A device address (a CUdeviceptr; a host pointer on the emulated GPU).
using DevicePtr = uint64_t;

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
