//===- BlockFibers.h - a block's threads as fibers (emulated GPU) ---------===//
//
// A kernel whose threads meet at block barriers or exchange values through
// warp shuffles cannot run one thread after another: each thread must stop
// where the others have not arrived yet. The emulator runs such a block's
// threads as fibers on one worker thread, switching at every barrier and
// shuffle (the kernels call vitc_emu_barrier and vitc_emu_shuffle), which
// is exactly the synchronisation CUDA promises and nothing more: a kernel
// that relies on more (a shuffle by only some lanes, a barrier some threads
// skip) deadlocks here, and the block reports it instead of hanging.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICES_EMULATOR_BLOCKFIBERS_H
#define VITC_RUNTIME_DEVICES_EMULATOR_BLOCKFIBERS_H

#include "vitc/runtime/Status.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vitc::rt {

class BlockFibers;

/// What a GPU gives a thread in special registers, in the layout the
/// kernels read (compiler/Codegen/GpuEmulator/GpuKernelsToHost.cpp:
/// ContextWord), then the runtime's own fields.
struct LaunchContext {
  int64_t threadId[3], blockId[3], blockDim[3], gridDim[3];
  void *workgroupMemory;  // word 12: the block's workgroup memory
  BlockFibers *fibers;    // the block's scheduler (fiber kernels only)
};

using LaunchEntry = void (*)(LaunchContext *, void **);

/// Runs blocks of one launch as fibers, one block at a time; one per worker
/// thread, its stacks reused from block to block.
class BlockFibers {
public:
  BlockFibers();
  ~BlockFibers();
  BlockFibers(const BlockFibers &) = delete;
  BlockFibers &operator=(const BlockFibers &) = delete;

  /// Runs every thread of the block whose ids and sizes `block` holds (its
  /// thread ids are ignored) to completion.
  Status runBlock(LaunchEntry entry, void **params, const LaunchContext &block);

  // Called by the kernels, through the C functions, on a fiber.
  void barrier();
  uint64_t shuffle(LaunchContext *thread, uint32_t value, int32_t offset,
                   int32_t width, int32_t mode);

  struct Fiber;

private:
  struct Warp;
  void ensureFibers(size_t count);
  void suspend();
  void fail(const std::string &message);
  static void fiberMain();

  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<Warp> warps;
  void *schedulerStack = nullptr; // the worker's saved stack pointer
  size_t current = 0, threads = 0, running = 0;
  size_t atBarrier = 0;
  LaunchEntry entry = nullptr;
  void **params = nullptr;
  std::string error;
};

} // namespace vitc::rt

#endif // VITC_RUNTIME_DEVICES_EMULATOR_BLOCKFIBERS_H
