//===- EmulatedGpu.cpp - the emulated GPU, a test device ------------------===//
//
// Runs cuda-emulator artifacts: the CUDA target's schedules and kernels,
// the kernels compiled for this CPU (compiler/Codegen/GpuEmulator). Device
// memory is host memory, copies are memcpy, and a launch calls the kernel's
// launch entry once per thread with that thread's launch context (its ids
// and the launch's sizes), blocks spread over worker threads; the threads
// of a kernel with barriers or shuffles run as fibers (BlockFibers.h), with
// the block's workgroup memory in a buffer of the worker's. It checks
// what CI cannot check on a GPU: the kernels' numerics, the schedule, its
// arena offsets and argument passing; library routines (cuBLASLt on a GPU)
// run on the CPU device's kernels. It is a test device: slow, and never a
// GPU result.
//
//===----------------------------------------------------------------------===//
#include "EmulatedGpu.h"
#include "BlockFibers.h"
#include "LibraryRoutines.h"

#include "../cpu/HostCode.h"
#include "../gpu/GpuBackend.h"
#include "vitc/runtime/ArtifactFormat.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <thread>
#include <vector>

namespace vitc::rt {
namespace {

/// A kernel's launch entry, and for a kernel that synchronises its threads
/// the workgroup bytes of a block (-1: plain threads, no fibers).
struct EmulatedKernel {
  LaunchEntry entry;
  int64_t workgroupBytes;
};

/// What a worker thread keeps from launch to launch.
struct Worker {
  BlockFibers fibers;
  alignas(64) char workgroupMemory[artifact::kEmulatedWorkgroupBytes];
};

class EmulatedGpu final : public GpuBackend {
public:
  EmulatedGpu(void *handle, std::vector<EmulatedKernel> kernels, int threads)
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
    const EmulatedKernel &k = kernels[kernel];
    // Kernels declare their workgroup memory (at most
    // kEmulatedWorkgroupBytes, checked when compiled); none asks for dynamic
    // shared memory.
    if (sharedBytes)
      return Status::error("the emulated GPU has no dynamic shared memory");
    std::lock_guard<std::mutex> lock(launching);
    int64_t numBlocks = int64_t(grid[0]) * grid[1] * grid[2];
    int64_t workerCount = std::max<int64_t>(1, std::min<int64_t>(threads, numBlocks));
    while (int64_t(workers.size()) < workerCount)
      workers.push_back(std::make_unique<Worker>());
    std::mutex failed;
    Status status = Status::ok();
    auto runBlocks = [&](int64_t first, int64_t step) {
      Worker &worker = *workers[first];
      LaunchContext context{};
      context.workgroupMemory = worker.workgroupMemory;
      for (int d = 0; d < 3; ++d) {
        context.blockDim[d] = block[d];
        context.gridDim[d] = grid[d];
      }
      for (int64_t b = first; b < numBlocks; b += step) {
        context.blockId[0] = b % grid[0];
        context.blockId[1] = (b / grid[0]) % grid[1];
        context.blockId[2] = b / (int64_t(grid[0]) * grid[1]);
        if (k.workgroupBytes >= 0) {
          Status result = worker.fibers.runBlock(k.entry, params, context);
          if (!result.isOk()) {
            std::lock_guard<std::mutex> guard(failed);
            if (status.isOk())
              status = result;
            return;
          }
          continue;
        }
        for (uint32_t z = 0; z < block[2]; ++z)
          for (uint32_t y = 0; y < block[1]; ++y)
            for (uint32_t x = 0; x < block[0]; ++x) {
              context.threadId[0] = x;
              context.threadId[1] = y;
              context.threadId[2] = z;
              k.entry(&context, params);
            }
      }
    };
    if (workerCount <= 1) {
      runBlocks(0, 1);
      return status;
    }
    std::vector<std::thread> pool;
    for (int64_t w = 1; w < workerCount; ++w)
      pool.emplace_back(runBlocks, w, workerCount);
    runBlocks(0, workerCount);
    for (std::thread &worker : pool)
      worker.join();
    return status;
  }

  Status callLibrary(const LibraryCall &call) override {
    return runEmulatedLibraryCall(call);
  }

  Status synchronize() override { return Status::ok(); }

private:
  void *handle;
  std::vector<EmulatedKernel> kernels;
  int threads;
  std::mutex launching; // one launch at a time uses the workers' state
  std::vector<std::unique_ptr<Worker>> workers;
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
    std::vector<EmulatedKernel> kernels;
    for (const GpuKernelSpec &kernel : artifact.kernels()) {
      std::string suffix = kernel.module + "." + kernel.name;
      std::string symbol = artifact::kEmulatedLaunchPrefix + suffix;
      auto entry = reinterpret_cast<LaunchEntry>(::dlsym(handle, symbol.c_str()));
      if (!entry) {
        ::dlclose(handle);
        return Status::error("'" + artifact.path() + "' has no kernel '" +
                             symbol + "'");
      }
      // Kernels that synchronise their threads say so, with their
      // workgroup memory (GpuKernelsToHost.cpp).
      using FibersInfo = int64_t (*)();
      auto fibers = reinterpret_cast<FibersInfo>(::dlsym(
          handle, (artifact::kEmulatedFibersPrefix + suffix).c_str()));
      kernels.push_back({entry, fibers ? fibers() : -1});
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
