//===- CublasLtTest.cpp - the CUDA device's matmuls on cuBLASLt -----------===//
//
// Without a GPU: loading a missing cuBLASLt is one clear line; statuses are
// named from our table; the plan of each kind of matmul call (row- and
// column-major c, transposes, padded leading dims, batches with a broadcast
// operand, k = 0, empty c) and the errors for operands cuBLASLt cannot read
// are checked as plain data; with the toolkit's libcublasLt, the plans'
// descriptors are built and read back; cublasLtCreate fails by name. The
// products on a GPU: CublasLtGpuTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "CudaGpu.h"
#include "LtMatmul.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>

using namespace vitc::rt;
using vitc::cuda::CublasLt;
using vitc::cuda::LtDescriptors;
using vitc::cuda::LtHandle;
using vitc::cuda::LtMatmul;
using vitc::cuda::LtMatrix;
using vitc::cuda::MatmulPlan;
using vitc::cuda::planMatmul;

using namespace vitc::testing;

namespace {

DeviceTensor tensor(std::vector<int64_t> sizes, std::vector<int64_t> strides,
                    DType dtype = DType::F32, DevicePtr data = 0) {
  return {data, dtype, std::move(sizes), std::move(strides)};
}

LibraryCall call(const std::string &routine, DeviceTensor a, DeviceTensor b,
                 DeviceTensor c, bool transA = false, bool transB = false,
                 bool accumulate = false) {
  return {routine,
          {std::move(a), std::move(b), std::move(c)},
          {transA, transB, accumulate, /*constantB=*/0}};
}

/// "4x3 ld 4 N", with " step 12" for a batch offset: a matrix of a plan.
std::string str(const LtMatrix &m) {
  std::string text = std::to_string(m.rows) + "x" + std::to_string(m.cols) +
                     " ld " + std::to_string(m.ld) +
                     (m.transpose ? " T" : " N");
  if (m.batchOffset)
    text += " step " + std::to_string(m.batchOffset);
  return text;
}

MatmulPlan plan(const LibraryCall &c) {
  auto p = planMatmul(c);
  EXPECT_TRUE(p.isOk()) << p.status().message();
  return p.isOk() ? *p : MatmulPlan{};
}

std::string planError(const LibraryCall &c) {
  auto p = planMatmul(c);
  return p.isOk() ? "no error" : p.status().message();
}

/// The toolkit's cuBLASLt (the default search), or why there is none.
StatusOr<std::unique_ptr<CublasLt>> realLibrary() { return CublasLt::load(); }

} // namespace

TEST(CublasLt, AMissingLibraryIsOneClearError) {
  auto lt = CublasLt::load("/nonexistent/libcublasLt.so.13");
  expectOneLine(lt.status(), "cuBLASLt is not available: cannot load "
                             "'/nonexistent/libcublasLt.so.13'");
  // $VITC_CUBLASLT is the only library tried when set.
  ScopedEnv env("VITC_CUBLASLT", "/nonexistent/libcublasLt.so");
  expectOneLine(CublasLt::load().status(),
                "cannot load '/nonexistent/libcublasLt.so'");
  vitc::cuda::DriverApi noDriver{};
  expectOneLine(LtMatmul::load(noDriver).status(),
                "cuBLASLt is not available: cannot load "
                "'/nonexistent/libcublasLt.so'");
}

TEST(CublasLt, StatusesAreNamedFromOurTable) {
  const std::pair<int, const char *> names[] = {
      {0, "CUBLAS_STATUS_SUCCESS"},
      {1, "CUBLAS_STATUS_NOT_INITIALIZED"},
      {3, "CUBLAS_STATUS_ALLOC_FAILED"},
      {7, "CUBLAS_STATUS_INVALID_VALUE"},
      {8, "CUBLAS_STATUS_ARCH_MISMATCH"},
      {11, "CUBLAS_STATUS_MAPPING_ERROR"},
      {13, "CUBLAS_STATUS_EXECUTION_FAILED"},
      {14, "CUBLAS_STATUS_INTERNAL_ERROR"},
      {15, "CUBLAS_STATUS_NOT_SUPPORTED"},
      {16, "CUBLAS_STATUS_LICENSE_ERROR"}};
  for (auto [code, name] : names)
    EXPECT_EQ(vitc::cuda::cublasStatusName(code), name);
  EXPECT_EQ(vitc::cuda::cublasStatusName(42), "cuBLAS status 42");
  EXPECT_TRUE(CublasLt::check(0, "cublasLtMatmul").isOk());
  EXPECT_EQ(CublasLt::check(15, "cublasLtMatmul").message(),
            "cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED (15): the operation "
            "or its configuration is not supported");
  EXPECT_EQ(CublasLt::check(42, "cublasLtMatmul").message(),
            "cublasLtMatmul: cuBLAS status 42 (42)");
}

// c (2x4) = a (2x3) b (3x4). A row-major c is the column-major c^T, so
// cuBLASLt computes c^T = b^T a^T: its A is b, its B is a.
TEST(MatmulPlan, RowMajorOperandsAreSwapped) {
  MatmulPlan p = plan(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {4, 1}), tensor({2, 4}, {4, 1})));
  EXPECT_EQ(p.work, MatmulPlan::Work::Product);
  EXPECT_TRUE(p.swapped);
  EXPECT_FALSE(p.bf16);
  EXPECT_EQ(p.m, 2);
  EXPECT_EQ(p.n, 4);
  EXPECT_EQ(p.k, 3);
  EXPECT_EQ(p.batchCount, 1);
  EXPECT_EQ(str(p.a), "4x3 ld 4 N");
  EXPECT_EQ(str(p.b), "3x2 ld 3 N");
  EXPECT_EQ(str(p.c), "4x2 ld 4 N");
}

TEST(MatmulPlan, TransposeFlagsBecomeTransposedOperands) {
  // a stored (k, m) = (3, 2) with transA: logically (2, 3).
  MatmulPlan ta = plan(call("matmul_f32", tensor({3, 2}, {2, 1}),
                            tensor({3, 4}, {4, 1}), tensor({2, 4}, {4, 1}),
                            /*transA=*/true));
  EXPECT_EQ(str(ta.a), "4x3 ld 4 N");
  EXPECT_EQ(str(ta.b), "2x3 ld 2 T");
  // b stored (n, k) = (4, 3) with transB: a Linear layer's weight.
  MatmulPlan tb =
      plan(call("matmul_f32", tensor({2, 3}, {3, 1}), tensor({4, 3}, {3, 1}),
                tensor({2, 4}, {4, 1}), false, /*transB=*/true));
  EXPECT_EQ(str(tb.a), "3x4 ld 3 T");
  EXPECT_EQ(str(tb.b), "3x2 ld 3 N");
  MatmulPlan both =
      plan(call("matmul_f32", tensor({3, 2}, {2, 1}), tensor({4, 3}, {3, 1}),
                tensor({2, 4}, {4, 1}), true, true));
  EXPECT_EQ(str(both.a), "3x4 ld 3 T");
  EXPECT_EQ(str(both.b), "2x3 ld 2 T");
  EXPECT_EQ(str(both.c), "4x2 ld 4 N");
}

TEST(MatmulPlan, AColumnMajorCIsNotSwapped) {
  MatmulPlan p = plan(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {1, 3}), tensor({2, 4}, {1, 2})));
  EXPECT_FALSE(p.swapped);
  EXPECT_EQ(str(p.a), "3x2 ld 3 T"); // a, row-major
  EXPECT_EQ(str(p.b), "3x4 ld 3 N"); // b, column-major
  EXPECT_EQ(str(p.c), "2x4 ld 2 N");
}

TEST(MatmulPlan, LeadingDimensionsComeFromTheOtherStride) {
  // Slices of wider matrices: rows 8 (a) and 16 (c) elements apart.
  MatmulPlan p = plan(call("matmul_f32", tensor({2, 3}, {8, 1}),
                           tensor({3, 4}, {5, 1}), tensor({2, 4}, {16, 1})));
  EXPECT_EQ(str(p.a), "4x3 ld 5 N");
  EXPECT_EQ(str(p.b), "3x2 ld 8 N");
  EXPECT_EQ(str(p.c), "4x2 ld 16 N");
}

TEST(MatmulPlan, VectorsNeedNoStrideOfTheirSizeOneDim) {
  // m = 1: c is a row; the stride of its size-1 dim does not matter.
  for (int64_t rowStride : {4, 1, 0}) {
    MatmulPlan p =
        plan(call("matmul_f32", tensor({1, 3}, {rowStride ? 3 : 0, 1}),
                  tensor({3, 4}, {4, 1}), tensor({1, 4}, {rowStride, 1})));
    EXPECT_EQ(str(p.a), "4x3 ld 4 N");
    EXPECT_EQ(str(p.b), "3x1 ld 3 N");
    EXPECT_EQ(str(p.c), "4x1 ld 4 N");
  }
  // n = 1: b and c are columns.
  MatmulPlan p = plan(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 1}, {1, 1}), tensor({2, 1}, {1, 1})));
  EXPECT_EQ(str(p.a), "1x3 ld 1 N");
  EXPECT_EQ(str(p.b), "3x2 ld 3 N");
  EXPECT_EQ(str(p.c), "1x2 ld 1 N");
}

TEST(MatmulPlan, ASharedBMergesTheBatchIntoRows) {
  // (5, 2, 3) x (1, 3, 4): a Linear layer on (B, T, C) is one GEMM of
  // 10 rows.
  MatmulPlan p =
      plan(call("batch_matmul_f32", tensor({5, 2, 3}, {6, 3, 1}),
                tensor({1, 3, 4}, {12, 4, 1}), tensor({5, 2, 4}, {8, 4, 1})));
  EXPECT_EQ(p.batch, 5);
  EXPECT_EQ(p.batchCount, 1);
  EXPECT_EQ(str(p.a), "4x3 ld 4 N");
  EXPECT_EQ(str(p.b), "3x10 ld 3 N");
  EXPECT_EQ(str(p.c), "4x10 ld 4 N");
  // Rows not evenly spaced across batches (c stored (m, batch, n)): a
  // batch, b read again for each.
  MatmulPlan q =
      plan(call("batch_matmul_f32", tensor({5, 2, 3}, {6, 3, 1}),
                tensor({1, 3, 4}, {12, 4, 1}), tensor({5, 2, 4}, {4, 20, 1})));
  EXPECT_EQ(q.batchCount, 5);
  EXPECT_EQ(str(q.a), "4x3 ld 4 N");
  EXPECT_EQ(str(q.b), "3x2 ld 3 N step 6");
  EXPECT_EQ(str(q.c), "4x2 ld 20 N step 4");
}

TEST(MatmulPlan, ABroadcastOperandHasBatchOffsetZero) {
  MatmulPlan p =
      plan(call("batch_matmul_f32", tensor({1, 2, 3}, {6, 3, 1}),
                tensor({5, 3, 4}, {12, 4, 1}), tensor({5, 2, 4}, {8, 4, 1})));
  EXPECT_EQ(p.batchCount, 5);
  EXPECT_EQ(str(p.a), "4x3 ld 4 N step 12");
  EXPECT_EQ(str(p.b), "3x2 ld 3 N"); // a, the same for every batch
  EXPECT_EQ(str(p.c), "4x2 ld 4 N step 8");
}

TEST(MatmulPlan, BatchedTransposes) {
  MatmulPlan p =
      plan(call("batch_matmul_bf16", tensor({5, 3, 2}, {6, 2, 1}, DType::BF16),
                tensor({5, 4, 3}, {12, 3, 1}, DType::BF16),
                tensor({5, 2, 4}, {8, 4, 1}), true, true, true));
  EXPECT_TRUE(p.bf16);
  EXPECT_TRUE(p.accumulate);
  EXPECT_EQ(p.batchCount, 5);
  EXPECT_EQ(str(p.a), "3x4 ld 3 T step 12");
  EXPECT_EQ(str(p.b), "2x3 ld 2 T step 6");
  EXPECT_EQ(str(p.c), "4x2 ld 4 N step 8");
}

TEST(MatmulPlan, EmptyAndZeroDepthProducts) {
  // No element of c: nothing to do.
  EXPECT_EQ(plan(call("matmul_f32", tensor({0, 3}, {3, 1}),
                      tensor({3, 4}, {4, 1}), tensor({0, 4}, {4, 1})))
                .work,
            MatmulPlan::Work::None);
  EXPECT_EQ(
      plan(call("batch_matmul_f32", tensor({0, 2, 3}, {6, 3, 1}),
                tensor({1, 3, 4}, {12, 4, 1}), tensor({0, 2, 4}, {8, 4, 1})))
          .work,
      MatmulPlan::Work::None);
  // k = 0: c += 0 is nothing; c = 0 is a product of zeros the runner
  // supplies, written through c's layout.
  EXPECT_EQ(
      plan(call("matmul_f32", tensor({2, 0}, {0, 1}), tensor({0, 4}, {4, 1}),
                tensor({2, 4}, {4, 1}), false, false, /*accumulate=*/true))
          .work,
      MatmulPlan::Work::None);
  // c column-major in each batch, its columns 3 apart.
  MatmulPlan zeros =
      plan(call("batch_matmul_f32", tensor({3, 2, 0}, {0, 0, 1}),
                tensor({3, 0, 4}, {0, 4, 1}), tensor({3, 2, 4}, {12, 1, 3})));
  EXPECT_EQ(zeros.work, MatmulPlan::Work::Zeros);
  EXPECT_FALSE(zeros.swapped);
  EXPECT_EQ(zeros.batchCount, 3);
  EXPECT_EQ(str(zeros.c), "2x4 ld 3 N step 12");
  EXPECT_EQ(str(zeros.a), "2x1 ld 2 N");
  EXPECT_EQ(str(zeros.b), "1x4 ld 1 N");
}

TEST(MatmulPlan, OperandsWithoutAUnitStrideAreNamedErrors) {
  EXPECT_EQ(planError(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {8, 2}), tensor({2, 4}, {4, 1}))),
            "operand b (sizes [3, 4], strides [8, 2]) has no unit stride in "
            "its last two dims: cuBLASLt needs its rows or its columns "
            "contiguous");
  EXPECT_EQ(planError(call("batch_matmul_f32", tensor({5, 2, 3}, {12, 6, 2}),
                           tensor({5, 3, 4}, {12, 4, 1}),
                           tensor({5, 2, 4}, {8, 4, 1}))),
            "operand a (sizes [5, 2, 3], strides [12, 6, 2]) has no unit "
            "stride in its last two dims: cuBLASLt needs its rows or its "
            "columns contiguous");
  EXPECT_EQ(planError(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {4, 1}), tensor({2, 4}, {8, 2}))),
            "operand c (sizes [2, 4], strides [8, 2]) has no unit stride in "
            "its last two dims: cuBLASLt needs its rows or its columns "
            "contiguous");
  // A broadcast row (stride 0) has a unit stride but overlapping rows.
  EXPECT_EQ(planError(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {0, 1}), tensor({2, 4}, {4, 1}))),
            "operand b (sizes [3, 4], strides [0, 1]) has overlapping rows or "
            "columns: cuBLASLt needs the stride beside the unit one to be at "
            "least the length of a contiguous row or column");
  EXPECT_EQ(planError(call("batch_matmul_f32", tensor({5, 2, 3}, {6, 3, 1}),
                           tensor({5, 3, 4}, {12, 4, 1}),
                           tensor({5, 2, 4}, {0, 4, 1}))),
            "operand c (sizes [5, 2, 4], strides [0, 4, 1]) has batch stride "
            "0: its batches would overwrite each other");
}

TEST(MatmulPlan, MismatchedCallsAreNamedErrors) {
  EXPECT_EQ(planError(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({4, 4}, {4, 1}), tensor({2, 4}, {4, 1}))),
            "the shapes do not match: op(a) is 2x3, op(b) is 4x4, c is 2x4");
  EXPECT_EQ(planError(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {4, 1}), tensor({2, 4}, {4, 1}),
                           /*transA=*/true)),
            "the shapes do not match: op(a) is 3x2, op(b) is 3x4, c is 2x4");
  EXPECT_EQ(planError(call("batch_matmul_f32", tensor({3, 2, 3}, {6, 3, 1}),
                           tensor({1, 3, 4}, {12, 4, 1}),
                           tensor({5, 2, 4}, {8, 4, 1}))),
            "the batches do not match: a has 3, b 1, c 5 (only a batch of 1 "
            "is broadcast)");
  EXPECT_EQ(planError(call("matmul_bf16", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {4, 1}, DType::BF16),
                           tensor({2, 4}, {4, 1}))),
            "operand a is f32, not bf16");
  EXPECT_EQ(planError(call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {4, 1}),
                           tensor({2, 4}, {4, 1}, DType::BF16))),
            "operand c is bf16, not f32");
  EXPECT_EQ(planError(call("matmul_f32", tensor({1, 2, 3}, {6, 3, 1}),
                           tensor({3, 4}, {4, 1}), tensor({2, 4}, {4, 1}))),
            "operand a has sizes [1, 2, 3] and strides [6, 3, 1]; the routine "
            "takes rank-2 tensors");
  EXPECT_EQ(
      planError(call("matmul_f32", tensor({2, 3}, {3, -1}),
                     tensor({3, 4}, {4, 1}), tensor({2, 4}, {4, 1}))),
      "operand a has sizes [2, 3] and strides [3, -1]: negative sizes and "
      "strides are not supported");
  LibraryCall two{"matmul_f32",
                  {tensor({2, 3}, {3, 1}), tensor({3, 4}, {4, 1})},
                  {0, 0, 0, 0}};
  EXPECT_EQ(planError(two), "expected 3 tensors (a, b, c), got 2");
  LibraryCall three = call("matmul_f32", tensor({2, 3}, {3, 1}),
                           tensor({3, 4}, {4, 1}), tensor({2, 4}, {4, 1}));
  three.scalars.pop_back();
  EXPECT_EQ(planError(three), "expected 4 scalars (transA, transB, "
                              "accumulate, constantB), got 3");
  three.routine = "conv2d_f32";
  EXPECT_FALSE(vitc::cuda::isMatmulRoutine("conv2d_f32"));
  EXPECT_TRUE(vitc::cuda::isMatmulRoutine("batch_matmul_bf16"));
  EXPECT_EQ(planError(three),
            "'conv2d_f32' is not a matmul routine (matmul_f32, matmul_bf16, "
            "batch_matmul_f32, batch_matmul_bf16)");
}

namespace {

/// What cuBLASLt stored in a layout descriptor.
struct ReadLayout {
  uint32_t type = 99;
  int32_t order = 99, batchCount = 0;
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0, batchOffset = -1;
};

template <typename T>
void get(const CublasLt &lt, vitc::cuda::cublasLtMatrixLayout_t layout,
         int attribute, T &value) {
  size_t written = 0;
  Status s =
      CublasLt::check(lt.api().cublasLtMatrixLayoutGetAttribute(
                          layout, attribute, &value, sizeof value, &written),
                      "cublasLtMatrixLayoutGetAttribute");
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(written, sizeof value) << "attribute " << attribute;
}

ReadLayout read(const CublasLt &lt, vitc::cuda::cublasLtMatrixLayout_t layout) {
  ReadLayout r;
  get(lt, layout, /*CUBLASLT_MATRIX_LAYOUT_TYPE*/ 0, r.type);
  get(lt, layout, vitc::cuda::kLayoutOrder, r.order);
  get(lt, layout, vitc::cuda::kLayoutRows, r.rows);
  get(lt, layout, vitc::cuda::kLayoutCols, r.cols);
  get(lt, layout, vitc::cuda::kLayoutLd, r.ld);
  get(lt, layout, vitc::cuda::kLayoutBatchCount, r.batchCount);
  get(lt, layout, vitc::cuda::kLayoutStridedBatchOffset, r.batchOffset);
  return r;
}

int32_t transpose(const CublasLt &lt, vitc::cuda::cublasLtMatmulDesc_t desc,
                  int attribute) {
  int32_t op = 99;
  size_t written = 0;
  Status s = CublasLt::check(lt.api().cublasLtMatmulDescGetAttribute(
                                 desc, attribute, &op, sizeof op, &written),
                             "cublasLtMatmulDescGetAttribute");
  EXPECT_TRUE(s.isOk()) << s.message();
  return op;
}

void expectLayout(const CublasLt &lt, vitc::cuda::cublasLtMatrixLayout_t layout,
                  const LtMatrix &m, int32_t batchCount, uint32_t type,
                  const char *which) {
  SCOPED_TRACE(which);
  ReadLayout r = read(lt, layout);
  EXPECT_EQ(r.type, type);
  EXPECT_EQ(r.order, vitc::cuda::kOrderCol);
  EXPECT_EQ(r.rows, m.rows);
  EXPECT_EQ(r.cols, m.cols);
  EXPECT_EQ(r.ld, m.ld);
  EXPECT_EQ(r.batchCount, batchCount);
  EXPECT_EQ(r.batchOffset, batchCount > 1 ? m.batchOffset : 0);
}

} // namespace

TEST(CublasLt, DescriptorsHoldThePlansWithoutAGpu) {
  auto lt = realLibrary();
  if (!lt.isOk())
    GTEST_SKIP() << "no cuBLASLt: " << lt.status().message();
  const std::vector<LibraryCall> calls = {
      call("matmul_f32", tensor({2, 3}, {3, 1}), tensor({3, 4}, {4, 1}),
           tensor({2, 4}, {4, 1})),
      call("matmul_f32", tensor({3, 2}, {2, 1}), tensor({4, 3}, {3, 1}),
           tensor({2, 4}, {1, 2}), true, true, true),
      call("matmul_bf16", tensor({2, 3}, {8, 1}, DType::BF16),
           tensor({4, 3}, {3, 1}, DType::BF16), tensor({2, 4}, {16, 1}), false,
           true),
      call("batch_matmul_f32", tensor({1, 2, 3}, {6, 3, 1}),
           tensor({5, 3, 4}, {12, 4, 1}), tensor({5, 2, 4}, {8, 4, 1})),
      call("batch_matmul_f32", tensor({5, 2, 3}, {6, 3, 1}),
           tensor({1, 3, 4}, {12, 4, 1}), tensor({5, 2, 4}, {8, 4, 1})),
      call("batch_matmul_bf16", tensor({5, 3, 2}, {6, 2, 1}, DType::BF16),
           tensor({5, 4, 3}, {12, 3, 1}, DType::BF16),
           tensor({5, 2, 4}, {8, 4, 1}), true, true),
      call("batch_matmul_f32", tensor({3, 2, 0}, {0, 0, 1}),
           tensor({3, 0, 4}, {0, 4, 1}), tensor({3, 2, 4}, {12, 1, 3})),
  };
  for (const LibraryCall &c : calls) {
    MatmulPlan p = plan(c);
    SCOPED_TRACE(c.routine + " " + vitc::cuda::describe(p));
    auto d = LtDescriptors::create(**lt, p);
    ASSERT_TRUE(d.isOk()) << d.status().message();
    uint32_t input = p.bf16 ? vitc::cuda::kCudaR16BF : vitc::cuda::kCudaR32F;
    expectLayout(**lt, (*d)->a, p.a, p.batchCount, input, "A");
    expectLayout(**lt, (*d)->b, p.b, p.batchCount, input, "B");
    expectLayout(**lt, (*d)->c, p.c, p.batchCount, vitc::cuda::kCudaR32F, "C");
    EXPECT_EQ(transpose(**lt, (*d)->operation, vitc::cuda::kMatmulDescTransA),
              p.a.transpose ? vitc::cuda::kCublasOpT : vitc::cuda::kCublasOpN);
    EXPECT_EQ(transpose(**lt, (*d)->operation, vitc::cuda::kMatmulDescTransB),
              p.b.transpose ? vitc::cuda::kCublasOpT : vitc::cuda::kCublasOpN);
  }
}

TEST(CublasLt, CreatingAHandleWithoutAGpuFailsByName) {
  auto lt = realLibrary();
  if (!lt.isOk())
    GTEST_SKIP() << "no cuBLASLt: " << lt.status().message();
  auto gpu = createCudaDevice();
  auto handle = LtHandle::create(**lt);
  if (gpu.isOk()) {
    // cuBLASLt initialises its own context on the GPU.
    EXPECT_TRUE(handle.isOk()) << handle.status().message();
    return;
  }
  ASSERT_FALSE(handle.isOk());
  EXPECT_EQ(handle.status().message(),
            "cublasLtCreate: CUBLAS_STATUS_NOT_INITIALIZED (1): cuBLASLt could "
            "not initialise (no GPU, no driver, or no current context)");
}
