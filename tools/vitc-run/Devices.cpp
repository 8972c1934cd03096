//===- Devices.cpp - `vitc-run --devices`: what this machine can run on ---===//
#include "Devices.h"

#include "CudaDriver.h"

#include <cstdio>
#include <thread>

namespace vitc::run {

int printDevices() {
  std::printf("cpu: %u hardware threads\n", std::thread::hardware_concurrency());
  auto driver = cuda::Driver::load();
  if (!driver.isOk()) {
    std::printf("cuda: none: %s\n", driver.status().message().c_str());
    return 0;
  }
  rt::Status init = (*driver)->init();
  auto count = init.isOk() ? (*driver)->deviceCount()
                           : rt::StatusOr<int>(init);
  if (!count.isOk()) {
    std::printf("cuda: none (driver '%s'): %s\n", (*driver)->path().c_str(),
                count.status().message().c_str());
    return 0;
  }
  if (*count == 0)
    std::printf("cuda: none (driver '%s'): no GPU\n",
                (*driver)->path().c_str());
  for (int i = 0; i < *count; ++i) {
    auto info = (*driver)->device(i);
    if (info.isOk())
      std::printf("cuda:%d: %s (sm_%d%d)\n", i, info->name.c_str(),
                  info->major, info->minor);
    else
      std::printf("cuda:%d: %s\n", i, info.status().message().c_str());
  }
  return 0;
}

} // namespace vitc::run
