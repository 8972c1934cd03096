//===- CudaDriverTest.cpp - the CUDA driver API loaded at run time --------===//
//
// The error paths of the CUDA device's driver loader, where there is no GPU:
// a missing library is one clear line; the toolkit's stub libcuda (every
// call fails with CUDA_ERROR_STUB_LIBRARY) resolves every entry point and
// its errors are reported by name. On a machine with a driver, the default
// library loads and lists its GPUs.
//
//===----------------------------------------------------------------------===//
#include "CudaDriver.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace vitc::cuda;
using namespace vitc::testing;

TEST(CudaDriver, AMissingLibraryIsOneClearError) {
  auto driver = Driver::load("/nonexistent/libcuda.so.1");
  ASSERT_FALSE(driver.isOk());
  EXPECT_NE(driver.status().message().find(
                "no CUDA driver on this machine: cannot load "
                "'/nonexistent/libcuda.so.1'"),
            std::string::npos)
      << driver.status().message();
}

TEST(CudaDriver, ErrorsAreNamedFromOurTable) {
  EXPECT_EQ(errorName(0), "CUDA_SUCCESS");
  EXPECT_EQ(errorName(100), "CUDA_ERROR_NO_DEVICE");
  EXPECT_EQ(errorName(34), "CUDA_ERROR_STUB_LIBRARY");
  EXPECT_EQ(errorName(12345), "CUDA error 12345");
  EXPECT_TRUE(Driver::check(0, "cuInit").isOk());
  EXPECT_EQ(Driver::check(2, "cuMemAlloc").message(),
            "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2): out of GPU memory");
}

TEST(CudaDriver, TheStubResolvesEveryEntryPointAndFailsByName) {
  std::string stub = stubLibrary();
  if (stub.empty())
    GTEST_SKIP() << "no CUDA toolkit stub libcuda.so on this machine";
  auto driver = Driver::load(stub);
  ASSERT_TRUE(driver.isOk()) << driver.status().message();
  vitc::rt::Status init = (*driver)->init();
  ASSERT_FALSE(init.isOk());
  EXPECT_EQ(init.message(),
            "cuInit: CUDA_ERROR_STUB_LIBRARY (34): the CUDA toolkit's stub "
            "libcuda was loaded, not a driver");
  auto count = (*driver)->deviceCount();
  ASSERT_FALSE(count.isOk());
  EXPECT_NE(count.status().message().find("cuDeviceGetCount: "
                                          "CUDA_ERROR_STUB_LIBRARY"),
            std::string::npos);
}

TEST(CudaDriver, TheDefaultDriverLoadsOrSaysWhyNot) {
  auto driver = Driver::load();
  if (!driver.isOk()) {
    EXPECT_NE(driver.status().message().find("no CUDA driver on this machine"),
              std::string::npos);
    GTEST_SKIP() << driver.status().message();
  }
  vitc::rt::Status init = (*driver)->init();
  if (!init.isOk())
    GTEST_SKIP() << "a driver without a usable GPU: " << init.message();
  auto count = (*driver)->deviceCount();
  ASSERT_TRUE(count.isOk()) << count.status().message();
  for (int i = 0; i < *count; ++i) {
    auto info = (*driver)->device(i);
    ASSERT_TRUE(info.isOk()) << info.status().message();
    EXPECT_FALSE(info->name.empty());
    EXPECT_GE(info->major, 5);
  }
}
