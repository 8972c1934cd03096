//===- DataTestUtil.h - Helpers of the data pipeline tests ------*- C++ -*-===//
#ifndef VITC_TESTS_UNIT_DATA_DATATESTUTIL_H
#define VITC_TESTS_UNIT_DATA_DATATESTUTIL_H

#include "Data.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

/// `auto var = <the value of expr>` for an rt::StatusOr expression `expr`
/// that must succeed; on an error, fails the test with its message and
/// returns from the (void) function.
#define VITC_ASSIGN_OK(var, expr)                                              \
  auto var##OrError = (expr);                                                  \
  ASSERT_TRUE(var##OrError.isOk()) << var##OrError.status().message();         \
  auto var = std::move(*var##OrError)

namespace vitc::data::test {

/// Success of `status`, or a failure carrying its message:
/// EXPECT_TRUE(ok(...)), ASSERT_TRUE(ok(...)).
inline ::testing::AssertionResult ok(const rt::Status &status) {
  if (status.isOk())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.message();
}
template <typename T>
::testing::AssertionResult ok(const rt::StatusOr<T> &result) {
  return ok(result.status());
}

/// A fresh directory, removed with its contents at the end of the scope.
class TempDir {
public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("vitc-data-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  std::string file(const std::string &name) const {
    return (path_ / name).string();
  }

private:
  std::filesystem::path path_;
};

/// A uint8 split whose sample i has label i (a sample id) and pixel p equal to
/// (i * 37 + p * 11) % 256, so a sample can be recognised from its pixels.
inline Split makeIdSplit(int64_t count, int64_t channels, int64_t height,
                         int64_t width) {
  Split split;
  split.count = count, split.channels = channels, split.height = height,
  split.width = width;
  int64_t size = channels * height * width;
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t p = 0; p < size; ++p)
      split.u8.push_back(static_cast<uint8_t>((i * 37 + p * 11) % 256));
    split.labels.push_back(i);
  }
  return split;
}

/// The transform that only converts to floats in [0, 1] (no resize, no
/// augmentation).
inline Transform identityTransform(const Split &split) {
  Transform t;
  t.channels = split.channels, t.height = split.height, t.width = split.width;
  return t;
}

/// All batches of `epoch` from `firstBatch` on; an error fails the test (and
/// ends the batches).
inline std::vector<Batch> epochBatches(Loader &loader, int64_t epoch,
                                       int64_t firstBatch = 0) {
  std::vector<Batch> batches;
  if (rt::Status status = loader.startEpoch(epoch, firstBatch);
      !status.isOk()) {
    ADD_FAILURE() << status.message();
    return batches;
  }
  Batch batch;
  while (true) {
    rt::StatusOr<bool> more = loader.next(batch);
    if (!more.isOk()) {
      ADD_FAILURE() << "next() failed: " << more.status().message();
      break;
    }
    if (!*more)
      break;
    batches.push_back(batch);
  }
  return batches;
}

/// Every sample of `split` rendered under `t` without augmentation, in order
/// (none if the Loader cannot be made: the test fails).
inline std::vector<float> renderAll(const Split &split, const Transform &t) {
  std::vector<float> all;
  rt::StatusOr<std::unique_ptr<Loader>> loader = Loader::create(
      split, t, std::max<int64_t>(split.count, 1), /*shuffle=*/false,
      /*augment=*/false, /*dropLast=*/false, /*seed=*/0);
  if (!loader.isOk()) {
    ADD_FAILURE() << loader.status().message();
    return all;
  }
  for (const Batch &batch : epochBatches(**loader, 0))
    all.insert(all.end(), batch.images.begin(), batch.images.end());
  return all;
}

/// Expects `status` to be an error whose message contains every one of
/// `parts`.
inline void expectError(const rt::Status &status,
                        const std::vector<std::string> &parts) {
  if (status.isOk()) {
    ADD_FAILURE() << "expected an error";
    return;
  }
  const std::string &message = status.message();
  for (const std::string &part : parts)
    EXPECT_NE(message.find(part), std::string::npos)
        << "message '" << message << "' lacks '" << part << "'";
}
template <typename T>
void expectError(const rt::StatusOr<T> &result,
                 const std::vector<std::string> &parts) {
  expectError(result.status(), parts);
}

} // namespace vitc::data::test

#endif // VITC_TESTS_UNIT_DATA_DATATESTUTIL_H
