//===- CheckpointTest.cpp - checkpoint round trip, corruption, failed writes ===//
#include "Checkpoint.h"

#include "vitc_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vitc::train;
namespace fs = std::filesystem;

namespace {

class CheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("vitc-ckpt-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    path = (fs::path(dir) / kCheckpointFile).string();
    weights.resize(3 * 4);
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i] = 0.25f * static_cast<float>(i) - 1.f;
    moments.assign(4, 7);
  }
  void TearDown() override {
    fs::permissions(dir, fs::perms::owner_all);
    fs::remove_all(dir);
  }

  Checkpoint sample(size_t extraBytes = 0) {
    Checkpoint c;
    c.identity = "0123456789abcdef";
    c.step = 1234;
    c.epoch = 2;
    c.batch = 17;
    c.settings = {{"--seed", "42"}, {"--batch-size", "64"}};
    c.progress = {12.5, 99, 1088, 3.25, 40.5};
    EpochRecord r;
    r.epoch = 1;
    r.step = 843;
    r.trainLoss = 0.5;
    r.valAcc = NAN;
    c.history = {r};
    c.tensors = {{"conv.weight", VITC_DTYPE_F32, {3, 4},
                  reinterpret_cast<const char *>(weights.data()),
                  weights.size() * sizeof(float)},
                 {"adamw_m.count", VITC_DTYPE_I64, {4},
                  reinterpret_cast<const char *>(moments.data()),
                  moments.size() * sizeof(int64_t)}};
    if (extraBytes) {
      big.assign(extraBytes / 4, 1.5f);
      c.tensors.push_back({"big", VITC_DTYPE_F32,
                           {static_cast<int64_t>(big.size())},
                           reinterpret_cast<const char *>(big.data()),
                           big.size() * sizeof(float)});
    }
    return c;
  }

  std::string readBytes() {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void writeBytes(const std::string &bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  /// Reading must fail with a message naming the file and `problem`.
  void expectReadError(const std::string &problem) {
    Checkpoint c;
    std::string error;
    EXPECT_FALSE(readCheckpoint(path, c, error));
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find(problem), std::string::npos) << error;
  }
  /// The file holds exactly `sample()`.
  void expectSample() {
    Checkpoint c;
    std::string error;
    ASSERT_TRUE(readCheckpoint(path, c, error)) << error;
    EXPECT_EQ(c.step, 1234);
    ASSERT_EQ(c.tensors.size(), 2u);
    EXPECT_EQ(0, std::memcmp(c.tensors[0].data, weights.data(), c.tensors[0].bytes));
  }
  /// No temporary files left next to the checkpoint.
  void expectOnlyCheckpoint() {
    for (const auto &entry : fs::directory_iterator(dir))
      EXPECT_EQ(entry.path().filename(), kCheckpointFile) << entry.path();
  }

  std::string dir, path;
  std::vector<float> weights, big;
  std::vector<int64_t> moments;
};

} // namespace

TEST_F(CheckpointTest, RoundTrip) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  Checkpoint c;
  ASSERT_TRUE(readCheckpoint(path, c, error)) << error;
  EXPECT_EQ(c.identity, "0123456789abcdef");
  EXPECT_EQ(c.step, 1234);
  EXPECT_EQ(c.epoch, 2);
  EXPECT_EQ(c.batch, 17);
  EXPECT_EQ(c.setting("--seed"), "42");
  EXPECT_EQ(c.setting("--batch-size"), "64");
  EXPECT_EQ(c.setting("--absent"), "");
  EXPECT_EQ(c.progress.lossSum, 12.5);
  EXPECT_EQ(c.progress.correct, 99);
  EXPECT_EQ(c.progress.samples, 1088);
  EXPECT_EQ(c.progress.seconds, 3.25);
  EXPECT_EQ(c.progress.runSeconds, 40.5);
  ASSERT_EQ(c.history.size(), 1u);
  EXPECT_EQ(c.history[0].epoch, 1);
  EXPECT_EQ(c.history[0].step, 843);
  EXPECT_EQ(c.history[0].trainLoss, 0.5);
  EXPECT_TRUE(std::isnan(c.history[0].valAcc));
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].name, "conv.weight");
  EXPECT_EQ(c.tensors[0].dtype, VITC_DTYPE_F32);
  EXPECT_EQ(c.tensors[0].shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(c.tensors[0].bytes, weights.size() * sizeof(float));
  EXPECT_EQ(0, std::memcmp(c.tensors[0].data, weights.data(), c.tensors[0].bytes));
  EXPECT_EQ(c.tensors[1].name, "adamw_m.count");
  EXPECT_EQ(c.tensors[1].dtype, VITC_DTYPE_I64);
  EXPECT_EQ(0, std::memcmp(c.tensors[1].data, moments.data(), c.tensors[1].bytes));
  expectOnlyCheckpoint();
}

TEST_F(CheckpointTest, FlippedPayloadByteFailsTheCrc) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  std::string bytes = readBytes();
  // Flip a bit of the first weight (near the end of the payload).
  bytes[bytes.size() - 4 - 8 * 4 - 10] ^= 0x10;
  writeBytes(bytes);
  expectReadError("CRC32 mismatch");
}

TEST_F(CheckpointTest, FlippedCrcByteFails) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  std::string bytes = readBytes();
  bytes.back() ^= 1;
  writeBytes(bytes);
  expectReadError("CRC32 mismatch");
}

TEST_F(CheckpointTest, Truncated) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  std::string bytes = readBytes();
  for (size_t keep : {bytes.size() - 1, bytes.size() / 2, size_t(20)}) {
    writeBytes(bytes.substr(0, keep));
    expectReadError("truncated");
  }
  writeBytes(bytes.substr(0, 5));
  expectReadError("bad magic");
}

TEST_F(CheckpointTest, TrailingBytes) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  writeBytes(readBytes() + "xx");
  expectReadError("2 unexpected trailing bytes");
}

TEST_F(CheckpointTest, BadMagicAndVersion) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  std::string bytes = readBytes();
  std::string other = bytes;
  other[0] = 'X';
  writeBytes(other);
  expectReadError("not a vitc checkpoint");
  other = bytes;
  other[8] = 9; // version 9
  writeBytes(other);
  expectReadError("format version 9");
}

TEST_F(CheckpointTest, MissingFile) { expectReadError("No such file"); }

TEST_F(CheckpointTest, OverwriteReplacesAtomically) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  Checkpoint next = sample();
  next.step = 2000;
  ASSERT_TRUE(writeCheckpoint(dir, next, error)) << error;
  Checkpoint c;
  ASSERT_TRUE(readCheckpoint(path, c, error)) << error;
  EXPECT_EQ(c.step, 2000);
  expectOnlyCheckpoint();
}

TEST_F(CheckpointTest, UnwritableDirectoryKeepsTheOldCheckpoint) {
  if (geteuid() == 0)
    GTEST_SKIP() << "root ignores directory permissions (see DiskFull...)";
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  Checkpoint next = sample();
  next.step = 2000;
  EXPECT_FALSE(writeCheckpoint(dir, next, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
  fs::permissions(dir, fs::perms::owner_all);
  expectSample();
  expectOnlyCheckpoint();
}

TEST_F(CheckpointTest, DiskFullKeepsTheOldCheckpoint) {
  std::string error;
  ASSERT_TRUE(writeCheckpoint(dir, sample(), error)) << error;
  // A child process whose file-size limit makes the write fail midway, as
  // a full disk would (works as root, unlike permissions).
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    std::string childError;
    bool ok = writeCheckpoint(dir, sample(1 << 20), childError);
    bool named = childError.find(path) != std::string::npos &&
                 childError.find("File too large") != std::string::npos;
    _exit(!ok && named ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the write did not fail cleanly";
  expectSample();
  expectOnlyCheckpoint();
}

TEST_F(CheckpointTest, MissingDirectoryIsAnError) {
  std::string error;
  EXPECT_FALSE(writeCheckpoint(dir + "/absent", sample(), error));
  EXPECT_NE(error.find(dir + "/absent/" + kCheckpointFile), std::string::npos)
      << error;
}

// A sharded checkpoint: the 3x4 weights split over 3 ranks (blocks of 4),
// each block in its rank's shard file, the index with the whole shape. Its
// tensors come back whole; a missing or foreign shard file is an error
// naming it; older shard files go, the index's stay.
TEST_F(CheckpointTest, ShardedTensorsComeBackWhole) {
  std::string error;
  for (int r = 0; r < 3; ++r) {
    Checkpoint shard;
    shard.identity = "0123456789abcdef";
    shard.step = 1234;
    shard.tensors = {{"conv.weight", VITC_DTYPE_F32, {4},
                      reinterpret_cast<const char *>(weights.data() + 4 * r),
                      4 * sizeof(float)}};
    ASSERT_TRUE(writeCheckpointFile(
        (fs::path(dir) / shardFileName(1234, r, 3)).string(), shard, error))
        << error;
  }
  std::ofstream(fs::path(dir) / shardFileName(1000, 0, 3)) << "stale";
  Checkpoint index = sample();
  index.tensors.erase(index.tensors.begin()); // conv.weight is sharded
  index.shardWorld = 3;
  index.sharded = {{"conv.weight", VITC_DTYPE_F32, {3, 4}, nullptr, 0}};
  ASSERT_TRUE(writeCheckpoint(dir, index, error)) << error;
  removeStaleShards(dir, 1234);
  EXPECT_FALSE(fs::exists(fs::path(dir) / shardFileName(1000, 0, 3)));
  EXPECT_TRUE(fs::exists(fs::path(dir) / shardFileName(1234, 0, 3)));

  Checkpoint c;
  ASSERT_TRUE(readCheckpoint(path, c, error)) << error;
  EXPECT_EQ(c.shardWorld, 3);
  ASSERT_EQ(c.sharded.size(), 1u);
  ASSERT_TRUE(readShards(dir, c, error)) << error;
  ASSERT_EQ(c.tensors.size(), 2u);
  const CheckpointTensor &w = c.tensors[1];
  EXPECT_EQ(w.name, "conv.weight");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(w.bytes, weights.size() * sizeof(float));
  EXPECT_EQ(0, std::memcmp(w.data, weights.data(), w.bytes));

  fs::remove(fs::path(dir) / shardFileName(1234, 2, 3));
  Checkpoint missing;
  ASSERT_TRUE(readCheckpoint(path, missing, error)) << error;
  EXPECT_FALSE(readShards(dir, missing, error));
  EXPECT_NE(error.find(shardFileName(1234, 2, 3)), std::string::npos) << error;
}
