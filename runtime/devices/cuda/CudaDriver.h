//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The CUDA device (issue #12) talks to the GPU through the driver API, which
// it loads with dlopen("libcuda.so.1") and resolves through its own symbol
// table: no link-time dependency on the driver, so the CPU build and the
// tests run on machines without one, and a CUDA artifact there fails with one
// clear line instead of a loader error. Every failed call becomes a Status
// naming the call and the error by name, from our own table: the toolkit's
// stub library (the only libcuda on machines without a driver) answers
// every call, cuGetErrorName included, with CUDA_ERROR_STUB_LIBRARY.
//
// The types are the driver's ABI (cuda.h), declared here so this compiles
// without the CUDA headers.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_CUDADRIVER_H
#define VITC_DEVICES_CUDA_CUDADRIVER_H

#include "vitc/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vitc::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

constexpr CUresult kSuccess = 0;
/// cuDeviceGetAttribute: CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR/MINOR.
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;
/// cuModuleLoadDataEx options (CUjit_option): where the JIT writes why PTX
/// failed to compile.
constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferSizeBytes = 6;
/// cuFuncSetAttribute: CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, which
/// a launch with more than 48 KiB of dynamic shared memory must raise first.
constexpr int kFuncMaxDynamicSharedSizeBytes = 8;

/// "CUDA_ERROR_NO_DEVICE", or "CUDA error <code>" for a code not in the table.
std::string errorName(CUresult result);
/// What the error means, in a few words ("" for an unknown code).
const char *errorDescription(CUresult result);

/// The driver's entry points this runtime uses (their versioned symbols).
struct DriverApi {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int *version);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, int *options,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra);
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags);
  CUresult (*cuStreamDestroy)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);
};

/// One GPU as the driver describes it.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int major = 0, minor = 0; // compute capability
};

class Driver {
public:
  /// Loads the driver library: `path`, else $VITC_CUDA_DRIVER, else
  /// libcuda.so.1, and resolves every entry point. An error names the
  /// library and what failed ("no CUDA driver on this machine: ...").
  static rt::StatusOr<std::unique_ptr<Driver>> load(const std::string &path = "");
  ~Driver();
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

  /// cuInit; then the GPUs.
  rt::Status init();
  rt::StatusOr<int> deviceCount();
  rt::StatusOr<DeviceInfo> device(int ordinal);

  /// OK for kSuccess, else "<call>: <error name> (<code>): <description>".
  static rt::Status check(CUresult result, const char *call);

  const std::string &path() const { return path_; }
  const DriverApi &api() const { return api_; }

private:
  Driver(void *handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  void *handle_;
  std::string path_;
  DriverApi api_{};
};

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_CUDADRIVER_H
