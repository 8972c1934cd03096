//===- NpyTest.cpp - the .npy reader and writer of vitc-run ---------------===//
#include "Npy.h"
#include "DataTestUtil.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

using vitc::data::test::expectError;
using vitc::data::test::ok;
using vitc::rt::DType;

namespace {

std::string tempPath(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("vitc-npy-test-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

/// Writes a .npy file with a hand-made header (version 1.0 unless v2).
std::string writeRaw(const std::string &name, const std::string &dict,
                     const std::string &data, bool v2 = false) {
  std::string path = tempPath(name);
  std::ofstream os(path, std::ios::binary);
  os.write("\x93NUMPY", 6);
  os.put(v2 ? 2 : 1);
  os.put(0);
  uint32_t length = dict.size();
  for (int i = 0; i < (v2 ? 4 : 2); ++i)
    os.put(static_cast<char>(length >> (8 * i)));
  os << dict << data;
  return path;
}

TEST(Npy, RoundTripsFloat32Matrix) {
  std::string path = tempPath("f32.npy");
  float values[6] = {1.5f, -2, 3, 4, 5, 6.25f};
  ASSERT_TRUE(ok(vitc::npy::writeNpy(path, DType::F32, {2, 3}, values)));
  VITC_ASSIGN_OK(array, vitc::npy::readNpy(path));
  EXPECT_EQ(array.dtype, DType::F32);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(array.data.size(), sizeof(values));
  EXPECT_EQ(std::memcmp(array.data.data(), values, sizeof(values)), 0);
  // The data starts 64-byte aligned, as numpy writes it.
  EXPECT_EQ(std::filesystem::file_size(path), 128u + sizeof(values));
  std::filesystem::remove(path);
}

TEST(Npy, RoundTripsScalarsAndVectorsOfEveryDType) {
  for (DType dtype : {DType::F64, DType::I64, DType::I32, DType::I8,
                      DType::U8, DType::I1, DType::F16}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{}, std::vector<int64_t>{5},
          std::vector<int64_t>{0, 3}}) {
      std::string path = tempPath("rt.npy");
      std::vector<char> data(40, 1);
      ASSERT_TRUE(ok(vitc::npy::writeNpy(path, dtype, shape, data.data())));
      VITC_ASSIGN_OK(array, vitc::npy::readNpy(path));
      EXPECT_EQ(array.dtype, dtype);
      EXPECT_EQ(array.shape, shape);
      std::filesystem::remove(path);
    }
  }
}

TEST(Npy, ReadsVersion2Headers) {
  std::string path = writeRaw(
      "v2.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n",
      std::string("\x01\x00\x00\x00\x02\x00\x00\x00", 8), /*v2=*/true);
  VITC_ASSIGN_OK(array, vitc::npy::readNpy(path));
  EXPECT_EQ(array.dtype, DType::I32);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(reinterpret_cast<int32_t *>(array.data.data())[1], 2);
  std::filesystem::remove(path);
}

/// Reading `path` fails with an error containing `expected`.
void expectReadError(const std::string &path, const std::string &expected) {
  expectError(vitc::npy::readNpy(path), {expected, path});
  std::filesystem::remove(path);
}

TEST(Npy, RejectsFortranOrder) {
  expectReadError(
      writeRaw("fortran.npy",
               "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n",
               std::string(4, '\0')),
      "Fortran-order arrays are not supported");
}

TEST(Npy, RejectsUnsupportedDTypes) {
  expectReadError(
      writeRaw("complex.npy",
               "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n",
               std::string(8, '\0')),
      "unsupported dtype '<c8'");
  expectReadError(
      writeRaw("bigendian.npy",
               "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n",
               std::string(4, '\0')),
      "big-endian");
}

TEST(Npy, RejectsTruncatedAndForeignFiles) {
  expectReadError(
      writeRaw("short.npy",
               "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n",
               std::string(8, '\0')),
      "truncated data");
  std::string path = tempPath("text.npy");
  std::ofstream(path) << "hello world";
  expectReadError(path, "bad magic");
  expectError(vitc::npy::readNpy(tempPath("missing.npy")), {"cannot open"});
}

} // namespace
