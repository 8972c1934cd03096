//===- Devices.cpp - one device per target, shared by the process ---------===//
#include "vitc/runtime/Device.h"

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
  else if (target == "cuda")
    return Status::error("this runtime cannot run cuda artifacts yet: the CUDA "
                         "device is in progress (issue #12); compile with "
                         "--target cpu, or --target cuda-emulator to test the "
                         "CUDA target's kernels on the CPU");
  else
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
