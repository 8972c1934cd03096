//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
#include "CudaDriver.h"

#include <cstdlib>
#include <dlfcn.h>

namespace vitc::cuda {

using rt::Status;
using rt::StatusOr;

namespace {

struct ErrorInfo {
  CUresult code;
  const char *name, *description;
};

// cuda.h's CUresult values this runtime can meet, with what they mean.
constexpr ErrorInfo kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "an argument is out of range"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of GPU memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "the driver is not initialised (cuInit)"},
    {4, "CUDA_ERROR_DEINITIALIZED", "the driver is shutting down"},
    {34, "CUDA_ERROR_STUB_LIBRARY",
     "the CUDA toolkit's stub libcuda was loaded, not a driver"},
    {35, "CUDA_ERROR_INSUFFICIENT_DRIVER",
     "the installed driver is older than the CUDA runtime needs"},
    {46, "CUDA_ERROR_DEVICE_UNAVAILABLE",
     "the GPU is busy or unavailable (exclusive compute mode?)"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "no such device"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "the kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "no valid context is current"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "the kernel image has no code for this GPU's architecture"},
    {218, "CUDA_ERROR_INVALID_PTX", "the PTX failed to compile"},
    {221, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
     "the driver has no PTX JIT compiler"},
    {222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
     "the PTX is newer than the driver supports"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "an invalid handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "a named symbol was not found"},
    {600, "CUDA_ERROR_NOT_READY", "the operation has not completed"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "a kernel accessed an illegal address"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for the launch"},
    {702, "CUDA_ERROR_LAUNCH_TIMEOUT", "a kernel ran too long"},
    {710, "CUDA_ERROR_ASSERT", "a kernel's assertion failed"},
    {715, "CUDA_ERROR_ILLEGAL_INSTRUCTION",
     "a kernel executed an illegal instruction"},
    {716, "CUDA_ERROR_MISALIGNED_ADDRESS",
     "a kernel accessed a misaligned address"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "a kernel failed"},
    {803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
     "the kernel driver and libcuda are different versions"},
    {999, "CUDA_ERROR_UNKNOWN", "an unknown error"},
};

const ErrorInfo *find(CUresult result) {
  for (const ErrorInfo &e : kErrors)
    if (e.code == result)
      return &e;
  return nullptr;
}

} // namespace

std::string errorName(CUresult result) {
  const ErrorInfo *e = find(result);
  return e ? e->name : "CUDA error " + std::to_string(result);
}

const char *errorDescription(CUresult result) {
  const ErrorInfo *e = find(result);
  return e ? e->description : "";
}

Status Driver::check(CUresult result, const char *call) {
  if (result == kSuccess)
    return Status::ok();
  std::string text = std::string(call) + ": " + errorName(result) + " (" +
                     std::to_string(result) + ")";
  if (*errorDescription(result))
    text += std::string(": ") + errorDescription(result);
  return Status::error(text);
}

StatusOr<std::unique_ptr<Driver>> Driver::load(const std::string &path) {
  std::string library = path;
  if (library.empty()) {
    const char *env = std::getenv("VITC_CUDA_DRIVER");
    library = env && *env ? env : "libcuda.so.1";
  }
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Status::error("no CUDA driver on this machine: cannot load '" +
                         library + "'" + (why ? std::string(" (") + why + ")" : ""));
  }
  std::unique_ptr<Driver> driver(new Driver(handle, library));
  DriverApi &a = driver->api_;
  struct Entry {
    void **slot;
    const char *symbol;
  };
  const Entry entries[] = {
      {reinterpret_cast<void **>(&a.cuInit), "cuInit"},
      {reinterpret_cast<void **>(&a.cuDriverGetVersion), "cuDriverGetVersion"},
      {reinterpret_cast<void **>(&a.cuDeviceGetCount), "cuDeviceGetCount"},
      {reinterpret_cast<void **>(&a.cuDeviceGet), "cuDeviceGet"},
      {reinterpret_cast<void **>(&a.cuDeviceGetName), "cuDeviceGetName"},
      {reinterpret_cast<void **>(&a.cuDeviceGetAttribute), "cuDeviceGetAttribute"},
      {reinterpret_cast<void **>(&a.cuDevicePrimaryCtxRetain),
       "cuDevicePrimaryCtxRetain"},
      {reinterpret_cast<void **>(&a.cuDevicePrimaryCtxRelease),
       "cuDevicePrimaryCtxRelease_v2"},
      {reinterpret_cast<void **>(&a.cuCtxSetCurrent), "cuCtxSetCurrent"},
      {reinterpret_cast<void **>(&a.cuMemAlloc), "cuMemAlloc_v2"},
      {reinterpret_cast<void **>(&a.cuMemFree), "cuMemFree_v2"},
      {reinterpret_cast<void **>(&a.cuMemcpyHtoD), "cuMemcpyHtoD_v2"},
      {reinterpret_cast<void **>(&a.cuMemcpyDtoH), "cuMemcpyDtoH_v2"},
      {reinterpret_cast<void **>(&a.cuMemcpyHtoDAsync), "cuMemcpyHtoDAsync_v2"},
      {reinterpret_cast<void **>(&a.cuMemcpyDtoHAsync), "cuMemcpyDtoHAsync_v2"},
      {reinterpret_cast<void **>(&a.cuMemcpyDtoDAsync), "cuMemcpyDtoDAsync_v2"},
      {reinterpret_cast<void **>(&a.cuModuleLoadData), "cuModuleLoadData"},
      {reinterpret_cast<void **>(&a.cuModuleLoadDataEx), "cuModuleLoadDataEx"},
      {reinterpret_cast<void **>(&a.cuModuleUnload), "cuModuleUnload"},
      {reinterpret_cast<void **>(&a.cuModuleGetFunction), "cuModuleGetFunction"},
      {reinterpret_cast<void **>(&a.cuFuncSetAttribute), "cuFuncSetAttribute"},
      {reinterpret_cast<void **>(&a.cuLaunchKernel), "cuLaunchKernel"},
      {reinterpret_cast<void **>(&a.cuStreamCreate), "cuStreamCreate"},
      {reinterpret_cast<void **>(&a.cuStreamDestroy), "cuStreamDestroy_v2"},
      {reinterpret_cast<void **>(&a.cuStreamSynchronize), "cuStreamSynchronize"},
  };
  for (const Entry &e : entries) {
    *e.slot = dlsym(handle, e.symbol);
    if (!*e.slot)
      return Status::error("the CUDA driver '" + library + "' has no " +
                           e.symbol + ": it is older than this runtime needs");
  }
  return driver;
}

Driver::~Driver() { dlclose(handle_); }

Status Driver::init() { return check(api_.cuInit(0), "cuInit"); }

StatusOr<int> Driver::deviceCount() {
  int count = 0;
  if (Status s = check(api_.cuDeviceGetCount(&count), "cuDeviceGetCount");
      !s.isOk())
    return s;
  return count;
}

StatusOr<DeviceInfo> Driver::device(int ordinal) {
  DeviceInfo info;
  info.ordinal = ordinal;
  CUdevice device = 0;
  char name[256] = {};
  if (Status s = check(api_.cuDeviceGet(&device, ordinal), "cuDeviceGet");
      !s.isOk())
    return s;
  if (Status s = check(api_.cuDeviceGetName(name, sizeof name - 1, device),
                       "cuDeviceGetName");
      !s.isOk())
    return s;
  info.name = name;
  if (Status s = check(api_.cuDeviceGetAttribute(
                           &info.major, kComputeCapabilityMajor, device),
                       "cuDeviceGetAttribute");
      !s.isOk())
    return s;
  if (Status s = check(api_.cuDeviceGetAttribute(
                           &info.minor, kComputeCapabilityMinor, device),
                       "cuDeviceGetAttribute");
      !s.isOk())
    return s;
  return info;
}

} // namespace vitc::cuda
