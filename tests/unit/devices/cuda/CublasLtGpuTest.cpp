//===- CublasLtGpuTest.cpp - the CUDA device's matmuls on a GPU -----------===//
//
// f32, bf16 and batched matmuls through the CUDA backend's callLibrary
// (cuBLASLt) against a naive reference on the host. Without a GPU each test
// says why it is skipped.
//
//===----------------------------------------------------------------------===//
#include "CudaGpu.h"
#include "LtMatmul.h"

#include "GpuTestSupport.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>

using namespace vitc::rt;

using namespace vitc::testing;

namespace {

struct Case {
  std::string routine;
  HostTensor a, b, c;
  bool transA = false, transB = false, accumulate = false;
};

/// Runs `cs` on the GPU and checks every element of c against a naive
/// product on the host, within `tolerance` of the sum of the products'
/// magnitudes (the rounding error's scale); c's storage outside its view
/// must be untouched.
void expectProduct(GpuBackend &gpu, const Case &cs, double tolerance) {
  DeviceCopy a(gpu, cs.a), b(gpu, cs.b), c(gpu, cs.c);
  LibraryCall libraryCall{cs.routine,
                          {a.tensor(), b.tensor(), c.tensor()},
                          {cs.transA, cs.transB, cs.accumulate, 0}};
  Status called = gpu.callLibrary(libraryCall);
  ASSERT_TRUE(called.isOk()) << called.message();
  Status synced = gpu.synchronize();
  ASSERT_TRUE(synced.isOk()) << synced.message();
  std::vector<float> got = c.storage();

  size_t r = cs.c.sizes.size();
  int64_t batch = r == 3 ? cs.c.sizes[0] : 1;
  int64_t m = cs.c.sizes[r - 2], n = cs.c.sizes[r - 1];
  int64_t k = cs.a.sizes[r - (cs.transA ? 2 : 1)];
  std::vector<bool> inView(got.size(), false);
  for (int64_t bi = 0; bi < batch; ++bi) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, magnitude = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          double x = cs.transA ? cs.a.at(bi, kk, i) : cs.a.at(bi, i, kk);
          double y = cs.transB ? cs.b.at(bi, j, kk) : cs.b.at(bi, kk, j);
          sum += x * y;
          magnitude += std::fabs(x * y);
        }
        int64_t index = cs.c.offset + i * cs.c.strides[r - 2] +
                        j * cs.c.strides[r - 1] +
                        (r == 3 ? bi * cs.c.strides[0] : 0);
        inView[index] = true;
        double initial = cs.c.storage[index];
        double expected = cs.accumulate ? initial + sum : sum;
        double bound =
            tolerance * (magnitude + (cs.accumulate ? std::fabs(initial) : 0)) +
            1e-6;
        ASSERT_NEAR(got[index], expected, bound)
            << cs.routine << " c[" << bi << ", " << i << ", " << j << "]";
      }
    }
  }
  for (size_t index = 0; index < got.size(); ++index)
    if (!inView[index])
      ASSERT_EQ(got[index], cs.c.storage[index])
          << "c's storage at " << index << ", outside its view, changed";
}

} // namespace

TEST(CublasLtGpu, F32MatmulsWithTransposesAndStrides) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(12);
  const DType f32 = DType::F32;
  const int64_t m = 33, k = 47, n = 29;
  for (bool accumulate : {false, true}) {
    for (bool transA : {false, true}) {
      for (bool transB : {false, true}) {
        SCOPED_TRACE(std::string("transA ") + (transA ? "1" : "0") +
                     ", transB " + (transB ? "1" : "0") + ", accumulate " +
                     (accumulate ? "1" : "0"));
        Case cs{"matmul_f32",
                dense(transA ? std::vector<int64_t>{k, m}
                             : std::vector<int64_t>{m, k},
                      f32, rng),
                dense(transB ? std::vector<int64_t>{n, k}
                             : std::vector<int64_t>{k, n},
                      f32, rng),
                dense({m, n}, f32, rng),
                transA,
                transB,
                accumulate};
        expectProduct(**gpu, cs, 1e-4);
      }
    }
  }
  // Column-major c and a; padded rows of b; views that start off the
  // 256-byte alignment cuBLASLt assumes by default.
  Case strided{"matmul_f32", hostTensor({m, k}, {1, m + 3}, 1, f32, rng),
               hostTensor({k, n}, {n + 5, 1}, 3, f32, rng),
               hostTensor({m, n}, {1, m + 1}, 1, f32, rng)};
  expectProduct(**gpu, strided, 1e-4);
  strided.accumulate = true;
  expectProduct(**gpu, strided, 1e-4);
  // A row times a matrix.
  expectProduct(**gpu,
                Case{"matmul_f32", dense({1, k}, f32, rng),
                     dense({k, n}, f32, rng), dense({1, n}, f32, rng)},
                1e-4);
}

TEST(CublasLtGpu, ZeroDepthProductsZeroOrKeepC) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(0);
  for (bool accumulate : {false, true}) {
    Case cs{"batch_matmul_f32", dense({3, 5, 0}, DType::F32, rng),
            dense({3, 0, 7}, DType::F32, rng),
            hostTensor({3, 5, 7}, {40, 1, 5}, 0, DType::F32, rng)};
    cs.accumulate = accumulate;
    expectProduct(**gpu, cs, 1e-6);
  }
}

TEST(CublasLtGpu, Bf16InputsAccumulateInF32) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(16);
  const DType bf16 = DType::BF16;
  for (bool transB : {false, true}) {
    Case cs{"matmul_bf16",
            dense({64, 128}, bf16, rng),
            dense(transB ? std::vector<int64_t>{40, 128}
                         : std::vector<int64_t>{128, 40},
                  bf16, rng),
            dense({64, 40}, DType::F32, rng),
            false,
            transB,
            transB};
    expectProduct(**gpu, cs, 1e-2);
  }
  // A Linear layer on (B, T, C): a weight shared by the batch, transposed.
  Case linear{"batch_matmul_bf16",
              dense({4, 17, 96}, bf16, rng),
              dense({1, 48, 96}, bf16, rng),
              dense({4, 17, 48}, DType::F32, rng),
              false,
              true};
  expectProduct(**gpu, linear, 1e-2);
}

TEST(CublasLtGpu, BatchedF32WithBroadcastsAndTransposes) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(3);
  const DType f32 = DType::F32;
  // b shared by the batch (merged into one GEMM), accumulating.
  expectProduct(**gpu,
                Case{"batch_matmul_f32", dense({4, 17, 23}, f32, rng),
                     dense({1, 23, 19}, f32, rng), dense({4, 17, 19}, f32, rng),
                     false, false, true},
                1e-4);
  // a shared by the batch, b transposed.
  expectProduct(**gpu,
                Case{"batch_matmul_f32", dense({1, 17, 23}, f32, rng),
                     dense({4, 19, 23}, f32, rng), dense({4, 17, 19}, f32, rng),
                     false, true},
                1e-4);
  // Both transposed (attention's q k^T with q stored transposed).
  for (bool accumulate : {false, true})
    expectProduct(**gpu,
                  Case{"batch_matmul_f32", dense({6, 32, 16}, f32, rng),
                       dense({6, 24, 32}, f32, rng),
                       dense({6, 16, 24}, f32, rng), true, true, accumulate},
                  1e-4);
  // c stored (m, batch, n), as a head split leaves it: batched, not merged.
  expectProduct(**gpu,
                Case{"batch_matmul_f32", dense({3, 8, 12}, f32, rng),
                     dense({1, 12, 10}, f32, rng),
                     hostTensor({3, 8, 10}, {10, 30, 1}, 0, f32, rng)},
                1e-4);
}

TEST(CublasLtGpu, UnreadableOperandsAndUnknownRoutinesAreErrors) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(5);
  HostTensor a = dense({4, 6}, DType::F32, rng);
  HostTensor b = hostTensor({6, 5}, {10, 2}, 0, DType::F32, rng);
  HostTensor c = dense({4, 5}, DType::F32, rng);
  DeviceCopy da(**gpu, a), db(**gpu, b), dc(**gpu, c);
  LibraryCall bad{
      "matmul_f32", {da.tensor(), db.tensor(), dc.tensor()}, {0, 0, 0, 0}};
  expectOneLine((*gpu)->callLibrary(bad),
                "operand b (sizes [6, 5], strides [10, 2]) has no unit stride");
  bad.routine = "max_pool2d_f32";
  expectOneLine((*gpu)->callLibrary(bad),
                "the CUDA device has no library routine 'max_pool2d_f32'");
}
