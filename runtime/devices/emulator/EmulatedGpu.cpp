//===- EmulatedGpu.cpp - the emulated GPU, a test device ------------------===//
//
// Runs cuda-emulator artifacts: the CUDA target's schedules and kernels,
// the kernels compiled for this CPU (compiler/Codegen/GpuEmulator). Device
// memory is host memory, copies are memcpy, and a launch calls the kernel's
// launch entry once per thread with that thread's launch context (its ids
// and the launch's sizes), blocks spread over worker threads. It checks
// what CI cannot check on a GPU: the kernels' numerics, the schedule, its
// arena offsets and argument passing; library routines (cuBLASLt on a GPU)
// run on the CPU device's kernels. It is a test device: slow, and never a
// GPU result.
//
//===----------------------------------------------------------------------===//
#include "EmulatedGpu.h"
#include "LibraryRoutines.h"

#include "../cpu/HostCode.h"
#include "../gpu/GpuBackend.h"
#include "vitc/runtime/ArtifactFormat.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <thread>
#include <vector>

namespace vitc::rt {
namespace {

/// What a GPU gives a thread in special registers; the layout the kernels
/// read (GpuKernelsToHost.cpp: ContextWord).
struct LaunchContext {
  int64_t threadId[3], blockId[3], blockDim[3], gridDim[3];
};

using LaunchEntry = void (*)(LaunchContext *, void **);

class EmulatedGpu final : public GpuBackend {
public:
  EmulatedGpu(void *handle, std::vector<LaunchEntry> kernels, int threads)
      : handle(handle), kernels(std::move(kernels)), threads(threads) {}
  ~EmulatedGpu() override { ::dlclose(handle); }

  std::string name() const override {
    return "cuda-emulator (the CPU; a test device, not a GPU)";
  }

  StatusOr<DevicePtr> allocate(size_t bytes) override {
    void *data = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!data)
      return Status::error("out of memory allocating " +
                           std::to_string(bytes) + " bytes");
    return reinterpret_cast<DevicePtr>(data);
  }
  void free(DevicePtr pointer) override {
    std::free(reinterpret_cast<void *>(pointer));
  }
  Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) override {
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
    return Status::ok();
  }
  Status copyToHost(void *dst, DevicePtr src, size_t bytes) override {
    std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
    return Status::ok();
  }
  Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) override {
    std::memmove(reinterpret_cast<void *>(dst),
                 reinterpret_cast<const void *>(src), bytes);
    return Status::ok();
  }

  Status launch(size_t kernel, const std::array<uint32_t, 3> &grid,
                const std::array<uint32_t, 3> &block, uint32_t sharedBytes,
                void **params) override {
    if (sharedBytes)
      return Status::error("the emulated GPU has no shared memory yet");
    LaunchEntry entry = kernels[kernel];
    int64_t numBlocks = int64_t(grid[0]) * grid[1] * grid[2];
    auto runBlocks = [&](int64_t first, int64_t step) {
      LaunchContext context;
      for (int d = 0; d < 3; ++d) {
        context.blockDim[d] = block[d];
        context.gridDim[d] = grid[d];
      }
      for (int64_t b = first; b < numBlocks; b += step) {
        context.blockId[0] = b % grid[0];
        context.blockId[1] = (b / grid[0]) % grid[1];
        context.blockId[2] = b / (int64_t(grid[0]) * grid[1]);
        for (uint32_t z = 0; z < block[2]; ++z)
          for (uint32_t y = 0; y < block[1]; ++y)
            for (uint32_t x = 0; x < block[0]; ++x) {
              context.threadId[0] = x;
              context.threadId[1] = y;
              context.threadId[2] = z;
              entry(&context, params);
            }
      }
    };
    int64_t workers = std::min<int64_t>(threads, numBlocks);
    if (workers <= 1) {
      runBlocks(0, 1);
      return Status::ok();
    }
    std::vector<std::thread> pool;
    for (int64_t w = 1; w < workers; ++w)
      pool.emplace_back(runBlocks, w, workers);
    runBlocks(0, workers);
    for (std::thread &worker : pool)
      worker.join();
    return Status::ok();
  }

  Status callLibrary(const LibraryCall &call) override {
    return runEmulatedLibraryCall(call);
  }

  Status synchronize() override { return Status::ok(); }

private:
  void *handle;
  std::vector<LaunchEntry> kernels;
  int threads;
};

class EmulatedGpuDevice final : public Device {
public:
  DeviceKind kind() const override { return DeviceKind::CudaEmulator; }
  std::string name() const override {
    return "cuda-emulator (the CPU; a test device, not a GPU)";
  }

  Status checkCompatible(const Artifact &artifact) const override {
    return checkHostCode(artifact, "cuda-emulator",
                         "the emulated GPU (cuda-emulator)");
  }

  StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const Artifact &artifact) override {
    auto loaded = loadHostCode(artifact);
    if (!loaded.isOk())
      return loaded.status();
    void *handle = *loaded;
    std::vector<LaunchEntry> kernels;
    for (const GpuKernelSpec &kernel : artifact.kernels()) {
      std::string symbol = artifact::kEmulatedLaunchPrefix + kernel.module +
                           "." + kernel.name;
      auto entry = reinterpret_cast<LaunchEntry>(::dlsym(handle, symbol.c_str()));
      if (!entry) {
        ::dlclose(handle);
        return Status::error("'" + artifact.path() + "' has no kernel '" +
                             symbol + "'");
      }
      kernels.push_back(entry);
    }
    auto backend =
        std::make_shared<EmulatedGpu>(handle, std::move(kernels), threads);
    return createScheduleExecutable(artifact, std::move(backend));
  }

  StatusOr<std::unique_ptr<Buffer>> allocate(size_t bytes) override {
    return allocateHostBuffer(bytes);
  }
  std::unique_ptr<Stream> createStream() override { return createHostStream(); }

  /// Worker threads for a launch's blocks (set before loading).
  void setThreadCount(int count) override {
    threads = count > 0 ? count
                        : std::max(1u, std::thread::hardware_concurrency());
  }

private:
  int threads = std::max(1u, std::thread::hardware_concurrency());
};

} // namespace

std::unique_ptr<Device> createEmulatedGpuDevice() {
  return std::unique_ptr<Device>(new EmulatedGpuDevice());
}

} // namespace vitc::rt
