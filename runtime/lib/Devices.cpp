//===- Devices.cpp - one device per target, shared by the process ---------===//
#include "vitc/runtime/Device.h"

#include "../devices/cuda/CudaGpu.h"
#include "../devices/emulator/EmulatedGpu.h"

#include <map>
#include <mutex>

namespace vitc::rt {
namespace {

std::mutex devicesMutex;

std::map<std::string, std::shared_ptr<Device>> &devices() {
  static std::map<std::string, std::shared_ptr<Device>> created;
  return created;
}

int threadCount = 0; // 0: each device's default

} // namespace

StatusOr<std::shared_ptr<Device>> deviceForTarget(const std::string &target) {
  std::lock_guard<std::mutex> lock(devicesMutex);
  auto found = devices().find(target);
  if (found != devices().end())
    return found->second;
  std::shared_ptr<Device> device;
  if (target == "cpu")
    device = createCpuDevice();
  else if (target == "cuda-emulator")
    device = createEmulatedGpuDevice();
  else if (target == "cuda") {
    // GPU $VITC_CUDA_DEVICE (else 0) through the driver loaded now. A
    // failure (no driver, the toolkit's stub, no GPU) is one line naming
    // the cause; it is not remembered, so a later call tries again.
    auto cuda = createCudaDevice();
    if (!cuda.isOk())
      return cuda.status();
    device = std::move(*cuda);
  } else
    return Status::error("no device runs target '" + target +
                         "' (cpu, cuda, cuda-emulator)");
  device->setThreadCount(threadCount);
  devices().emplace(target, device);
  return device;
}

void setDevicesThreadCount(int threads) {
  std::lock_guard<std::mutex> lock(devicesMutex);
  threadCount = threads;
  for (auto &[target, device] : devices())
    device->setThreadCount(threads);
}

} // namespace vitc::rt
