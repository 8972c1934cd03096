//===- TestSupport.h - what the CUDA device's tests share -------*- C++ -*-===//
#ifndef VITC_TESTS_DEVICES_CUDA_TESTSUPPORT_H
#define VITC_TESTS_DEVICES_CUDA_TESTSUPPORT_H

#include "vitc/runtime/Status.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace vitc::testing {

/// The CUDA toolkit's stub driver, or "" when the toolkit is not installed.
inline std::string stubLibrary() {
  for (const char *path : {"/usr/local/cuda/lib64/stubs/libcuda.so",
                           "/usr/local/cuda/lib/stubs/libcuda.so"})
    if (std::filesystem::exists(path))
      return path;
  return "";
}

/// Sets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const std::string &value) : name(name) {
    if (const char *old = std::getenv(name))
      previous = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (previous)
      ::setenv(name, previous->c_str(), 1);
    else
      ::unsetenv(name);
  }

private:
  const char *name;
  std::optional<std::string> previous;
};

/// The error is one line and contains `part`.
inline void expectOneLine(const rt::Status &status, const std::string &part) {
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find(part), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
}

} // namespace vitc::testing

#endif // VITC_TESTS_DEVICES_CUDA_TESTSUPPORT_H
