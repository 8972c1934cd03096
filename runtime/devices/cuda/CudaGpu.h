//===- CudaGpu.h - the CUDA device ------------------------------*- C++ -*-===//
//
// Runs cuda artifacts on an NVIDIA GPU through the driver API (CudaDriver.h,
// loaded at run time): the artifact's schedules run in the shared
// ScheduleExecutable over a GpuBackend whose memory is device memory, whose
// copies and launches go to one CUDA stream, and whose kernels come from the
// artifact's "gpu-module" sections, a cubin for this GPU or PTX the driver
// compiles for it.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_CUDAGPU_H
#define VITC_DEVICES_CUDA_CUDAGPU_H

#include "../gpu/GpuBackend.h"
#include "vitc/runtime/Device.h"

#include <memory>
#include <string>
#include <vector>

namespace vitc::rt {

/// GPU #`ordinal` (< 0: $VITC_CUDA_DEVICE, else 0) through the driver at
/// `driverPath` ("" : $VITC_CUDA_DRIVER, else libcuda.so.1). Fails with one
/// line naming the cause: no driver, the driver's error from cuInit (the
/// toolkit's stub: CUDA_ERROR_STUB_LIBRARY), no GPU, no such ordinal.
StatusOr<std::shared_ptr<Device>>
createCudaDevice(int ordinal = -1, const std::string &driverPath = "");

/// The code of GPU module `module` that a GPU of compute capability
/// `major`.`minor` runs: the cubin for exactly its sm_XY first, else the
/// newest PTX for a compute_XY it can compile (XY <= its capability). The
/// error names the module, the architectures present and the GPU's.
StatusOr<const Section *>
chooseGpuModuleCode(const std::vector<Section> &sections,
                    const std::string &module, int major, int minor);

/// The backend that launches `kernels` (each a kernel of one of the
/// "gpu-module" `sections`) on `device`, a CUDA device: each needed module
/// loaded once, one stream. What loadExecutable runs the schedules on;
/// exposed so the tests can launch kernels of their own.
StatusOr<std::shared_ptr<GpuBackend>>
createCudaBackend(Device &device, const std::vector<Section> &sections,
                  const std::vector<GpuKernelSpec> &kernels);

} // namespace vitc::rt

#endif // VITC_DEVICES_CUDA_CUDAGPU_H
