//===- TensorBoardTest.cpp - TFRecord framing of the event files ----------===//
//
// TensorBoard's own reader checks the files end to end
// (tests/e2e/test_tensorboard.py); this checks the CRC and the framing
// byte by byte, and the errors.
//
//===----------------------------------------------------------------------===//
#include "TensorBoard.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace vitc::train;
namespace fs = std::filesystem;

namespace {

uint32_t masked(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/// The records of a TFRecord file, each checked against its CRCs.
std::vector<std::string> readRecords(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::vector<std::string> records;
  size_t at = 0;
  while (at < bytes.size()) {
    uint64_t length;
    uint32_t lengthCrc, dataCrc;
    EXPECT_LE(at + 12, bytes.size());
    std::memcpy(&length, &bytes[at], 8);
    std::memcpy(&lengthCrc, &bytes[at + 8], 4);
    EXPECT_EQ(lengthCrc, masked(crc32c(&bytes[at], 8)));
    EXPECT_LE(at + 16 + length, bytes.size());
    std::string data = bytes.substr(at + 12, length);
    std::memcpy(&dataCrc, &bytes[at + 12 + length], 4);
    EXPECT_EQ(dataCrc, masked(crc32c(data.data(), data.size())));
    records.push_back(data);
    at += 16 + length;
  }
  return records;
}

class EventFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() /
           ("vitc-tb-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string dir;
};

} // namespace

TEST(Crc32c, KnownValues) {
  // The check value of CRC-32C (RFC 3720, appendix B.4).
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8a9136aau);
}

TEST_F(EventFileTest, WritesVersionThenScalars) {
  std::string path;
  {
    EventFile file;
    ASSERT_TRUE(file.open(dir + "/run", "--tensorboard").isOk());
    path = file.path();
    EXPECT_EQ(
        fs::path(path).filename().string().rfind("events.out.tfevents.", 0),
        0u);
    ASSERT_TRUE(file.scalar("train/loss", 7, 0.5).isOk());
  } // closed: flushed
  std::vector<std::string> records = readRecords(path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  const std::string &event = records[1];
  // step = 7 (field 2, varint), then the summary (field 5) holding one value
  // (field 1) with tag (field 1) "train/loss" and simple_value (field 2,
  // fixed32) 0.5.
  EXPECT_NE(event.find(std::string("\x10\x07", 2)), std::string::npos);
  float half = 0.5f;
  std::string value = std::string("\x0a\x0atrain/loss\x15", 13) +
                      std::string(reinterpret_cast<char *>(&half), 4);
  std::string summary = "\x0a" + std::string(1, char(value.size())) + value;
  EXPECT_NE(event.find("\x2a" + std::string(1, char(summary.size())) + summary),
            std::string::npos);
}

TEST_F(EventFileTest, SecondFileOfTheSameSecondGetsItsOwnName) {
  EventFile a, b;
  ASSERT_TRUE(a.open(dir, "--tensorboard").isOk());
  ASSERT_TRUE(b.open(dir, "--tensorboard").isOk());
  EXPECT_NE(a.path(), b.path());
}

TEST_F(EventFileTest, DirectoryUnderAFileIsAnError) {
  fs::create_directories(dir);
  std::ofstream(dir + "/file") << "x";
  EventFile file;
  vitc::rt::Status status = file.open(dir + "/file/tb", "--tensorboard");
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find("--tensorboard"), std::string::npos);
  EXPECT_NE(status.message().find(dir + "/file/tb"), std::string::npos);
}
