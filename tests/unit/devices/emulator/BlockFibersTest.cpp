//===- BlockFibersTest.cpp - the emulated GPU's block fibers --------------===//
//
// Kernels here are plain functions with the emulated kernels' signature,
// calling vitc_emu_barrier and vitc_emu_shuffle as compiled kernels do.
// Each checks what only real synchronisation gives: a value written by
// another thread before a barrier, a lane's neighbour's value.
//
//===----------------------------------------------------------------------===//
#include "BlockFibers.h"

#include <gtest/gtest.h>

#include <cstring>

using vitc::rt::BlockFibers;
using vitc::rt::LaunchContext;

extern "C" void vitc_emu_barrier(LaunchContext *context);
extern "C" uint64_t vitc_emu_shuffle(LaunchContext *context, uint32_t value,
                                     int32_t offset, int32_t width,
                                     int32_t mode);

namespace {

enum Mode { Xor = 0, Up = 1, Down = 2, Idx = 3 };

int64_t linearId(const LaunchContext *c) {
  return (c->threadId[2] * c->blockDim[1] + c->threadId[1]) * c->blockDim[0] +
         c->threadId[0];
}

LaunchContext blockOf(int64_t x, int64_t y, void *workgroup) {
  LaunchContext block{};
  block.blockDim[0] = x;
  block.blockDim[1] = y;
  block.blockDim[2] = 1;
  block.gridDim[0] = block.gridDim[1] = block.gridDim[2] = 1;
  block.workgroupMemory = workgroup;
  return block;
}

// Each thread stores its id, waits, and reads its right neighbour's.
void rotate(LaunchContext *c, void **params) {
  auto *shared = static_cast<int64_t *>(c->workgroupMemory);
  auto *out = static_cast<int64_t *>(params[0]);
  int64_t n = c->blockDim[0] * c->blockDim[1];
  int64_t id = linearId(c);
  shared[id] = id * 10;
  vitc_emu_barrier(c);
  int64_t right = shared[(id + 1) % n];
  vitc_emu_barrier(c); // before anyone overwrites
  shared[id] = -1;
  out[id] = right;
}

TEST(BlockFibers, BarrierMakesOtherThreadsWritesVisible) {
  BlockFibers fibers;
  std::vector<int64_t> shared(256), out(256, 0);
  void *params[] = {out.data()};
  LaunchContext block = blockOf(64, 4, shared.data());
  ASSERT_TRUE(fibers.runBlock(rotate, params, block).isOk());
  for (int64_t i = 0; i < 256; ++i)
    EXPECT_EQ(out[i], ((i + 1) % 256) * 10) << "thread " << i;
  // The fibers and their stacks are reused by the next block.
  std::fill(out.begin(), out.end(), 0);
  ASSERT_TRUE(fibers.runBlock(rotate, params, block).isOk());
  EXPECT_EQ(out[255], 0);
  EXPECT_EQ(out[7], 80);
}

// Butterfly sum across each warp, as the compiled reductions do.
void warpSum(LaunchContext *c, void **params) {
  auto *out = static_cast<float *>(params[0]);
  float v = float(linearId(c) % 32 + 1);
  for (int32_t offset = 1; offset < 32; offset *= 2) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint64_t packed = vitc_emu_shuffle(c, bits, offset, 32, Xor);
    uint32_t other = uint32_t(packed);
    float w;
    std::memcpy(&w, &other, 4);
    v += w;
  }
  out[linearId(c)] = v;
}

TEST(BlockFibers, XorShufflesReduceEachWarp) {
  BlockFibers fibers;
  std::vector<float> out(128);
  void *params[] = {out.data()};
  ASSERT_TRUE(fibers.runBlock(warpSum, params, blockOf(32, 4, nullptr)).isOk());
  for (float v : out)
    EXPECT_EQ(v, 32.0f * 33.0f / 2.0f);
}

// Lane l shuffles its id with mode params[1] and offset params[2] among
// the first params[3] lanes; the others wait out of the way.
void shuffleOnce(LaunchContext *c, void **params) {
  auto *out = static_cast<int64_t *>(params[0]);
  int32_t mode = *static_cast<int32_t *>(params[1]);
  int32_t offset = *static_cast<int32_t *>(params[2]);
  int32_t width = *static_cast<int32_t *>(params[3]);
  int64_t lane = linearId(c);
  if (lane >= width) {
    out[lane] = -2;
    return;
  }
  uint64_t packed = vitc_emu_shuffle(c, uint32_t(100 + lane), offset, width, mode);
  bool valid = packed >> 32;
  out[lane] = valid ? int64_t(uint32_t(packed)) : -1;
}

std::vector<int64_t> shuffleResults(int32_t mode, int32_t offset,
                                    int32_t width) {
  BlockFibers fibers;
  std::vector<int64_t> out(32);
  void *params[] = {out.data(), &mode, &offset, &width};
  EXPECT_TRUE(fibers.runBlock(shuffleOnce, params, blockOf(32, 1, nullptr)).isOk());
  return out;
}

TEST(BlockFibers, ShuffleModesAndValidity) {
  std::vector<int64_t> down = shuffleResults(Down, 3, 32);
  EXPECT_EQ(down[0], 103);
  EXPECT_EQ(down[28], 131);
  EXPECT_EQ(down[29], -1); // lane 32 does not exist
  std::vector<int64_t> up = shuffleResults(Up, 2, 32);
  EXPECT_EQ(up[1], -1);
  EXPECT_EQ(up[2], 100);
  EXPECT_EQ(up[31], 129);
  std::vector<int64_t> idx = shuffleResults(Idx, 5, 32);
  EXPECT_EQ(idx[0], 105);
  EXPECT_EQ(idx[31], 105);
  // Eight lanes take part: lane 7 xor 8 is outside the width.
  std::vector<int64_t> narrow = shuffleResults(Xor, 8, 8);
  EXPECT_EQ(narrow[7], -1);
  EXPECT_EQ(narrow[8], -2);
  std::vector<int64_t> pairs = shuffleResults(Xor, 1, 8);
  EXPECT_EQ(pairs[6], 107);
}

// Thread 0 waits at a barrier that the others reach only after a shuffle
// that thread 0 never joins.
void deadlocks(LaunchContext *c, void **) {
  if (linearId(c) == 0) {
    vitc_emu_barrier(c);
    return;
  }
  (void)vitc_emu_shuffle(c, 0, 1, 32, Xor);
  vitc_emu_barrier(c);
}

TEST(BlockFibers, DeadlockIsAnErrorNotAHang) {
  BlockFibers fibers;
  vitc::rt::Status status =
      fibers.runBlock(deadlocks, nullptr, blockOf(32, 1, nullptr));
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("deadlock"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("1 thread(s) wait at a barrier and 31 at a "
                                  "shuffle"),
            std::string::npos)
      << status.message();
}

// Lanes 16-31 claim a width of 16, which leaves them out.
void mismatchedWidths(LaunchContext *c, void **) {
  int32_t width = linearId(c) < 16 ? 32 : 16;
  (void)vitc_emu_shuffle(c, 0, 1, width, Xor);
}

TEST(BlockFibers, InconsistentShuffleIsAnError) {
  BlockFibers fibers;
  vitc::rt::Status status =
      fibers.runBlock(mismatchedWidths, nullptr, blockOf(32, 1, nullptr));
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("shuffle of width 16 by lane 16"),
            std::string::npos)
      << status.message();
}

// Deep frames on a fiber's stack (kernels keep memref descriptors there).
int64_t deep(int depth, volatile char *sink) {
  char frame[1024];
  frame[0] = char(depth);
  *sink = frame[0];
  return depth == 0 ? 1 : 1 + deep(depth - 1, frame);
}

void deepStack(LaunchContext *c, void **params) {
  char sink;
  int64_t levels = deep(150, &sink);
  vitc_emu_barrier(c);
  static_cast<int64_t *>(params[0])[linearId(c)] = levels;
}

TEST(BlockFibers, FibersHaveRoomyStacks) {
  BlockFibers fibers;
  std::vector<int64_t> out(64);
  void *params[] = {out.data()};
  ASSERT_TRUE(fibers.runBlock(deepStack, params, blockOf(64, 1, nullptr)).isOk());
  for (int64_t v : out)
    EXPECT_EQ(v, 151);
}

} // namespace
