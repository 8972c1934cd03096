//===- CublasLtAbiTest.cpp - our cuBLASLt declarations against its headers ===//
//
// CublasLt.h declares the few cuBLASLt types and values the runtime uses, so
// that the runtime builds without the CUDA toolkit. Built only where the
// toolkit's headers are installed: a declaration that drifted from the
// real ABI fails to compile here.
//
//===----------------------------------------------------------------------===//
#include "CublasLt.h"

#include <cublasLt.h>

#include <gtest/gtest.h>

namespace lt = vitc::cuda;

static_assert(lt::kCublasSuccess == CUBLAS_STATUS_SUCCESS);
static_assert(lt::kCublasNotInitialized == CUBLAS_STATUS_NOT_INITIALIZED);
static_assert(CUBLAS_STATUS_ALLOC_FAILED == 3 &&
              CUBLAS_STATUS_INVALID_VALUE == 7 &&
              CUBLAS_STATUS_ARCH_MISMATCH == 8 &&
              CUBLAS_STATUS_MAPPING_ERROR == 11 &&
              CUBLAS_STATUS_EXECUTION_FAILED == 13 &&
              CUBLAS_STATUS_INTERNAL_ERROR == 14 &&
              CUBLAS_STATUS_NOT_SUPPORTED == 15 &&
              CUBLAS_STATUS_LICENSE_ERROR == 16);
static_assert(lt::kCudaR32F == CUDA_R_32F && lt::kCudaR16BF == CUDA_R_16BF);
static_assert(lt::kCublasCompute32F == CUBLAS_COMPUTE_32F);
static_assert(lt::kCublasOpN == CUBLAS_OP_N && lt::kCublasOpT == CUBLAS_OP_T);
static_assert(lt::kMatmulDescTransA == CUBLASLT_MATMUL_DESC_TRANSA &&
              lt::kMatmulDescTransB == CUBLASLT_MATMUL_DESC_TRANSB);
static_assert(lt::kLayoutOrder == CUBLASLT_MATRIX_LAYOUT_ORDER &&
              lt::kLayoutRows == CUBLASLT_MATRIX_LAYOUT_ROWS &&
              lt::kLayoutCols == CUBLASLT_MATRIX_LAYOUT_COLS &&
              lt::kLayoutLd == CUBLASLT_MATRIX_LAYOUT_LD &&
              lt::kLayoutBatchCount == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT &&
              lt::kLayoutStridedBatchOffset ==
                  CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET);
static_assert(CUBLASLT_MATRIX_LAYOUT_TYPE == 0); // read back by the tests
static_assert(lt::kOrderCol == CUBLASLT_ORDER_COL);
static_assert(
    lt::kPrefMaxWorkspaceBytes == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES &&
    lt::kPrefMinAlignmentABytes == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES &&
    lt::kPrefMinAlignmentBBytes == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES &&
    lt::kPrefMinAlignmentCBytes == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES &&
    lt::kPrefMinAlignmentDBytes == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES);
// The structs we copy by value.
static_assert(sizeof(lt::cublasLtMatmulAlgo_t) == sizeof(cublasLtMatmulAlgo_t));
static_assert(sizeof(lt::cublasLtMatmulHeuristicResult_t) ==
              sizeof(cublasLtMatmulHeuristicResult_t));
static_assert(offsetof(lt::cublasLtMatmulHeuristicResult_t, workspaceSize) ==
                  offsetof(cublasLtMatmulHeuristicResult_t, workspaceSize) &&
              offsetof(lt::cublasLtMatmulHeuristicResult_t, state) ==
                  offsetof(cublasLtMatmulHeuristicResult_t, state));
// The entry points' signatures, as our table declares them (enums as int).
static_assert(sizeof(cublasStatus_t) == sizeof(lt::cublasStatus_t) &&
              sizeof(cublasComputeType_t) == sizeof(int) &&
              sizeof(cudaDataType_t) == sizeof(int) &&
              sizeof(cublasLtMatrixLayoutAttribute_t) == sizeof(int));

TEST(CublasLtAbi, OurDeclarationsMatchTheToolkitsHeaders) {
  // The checks are the static_asserts above; this says they ran.
  SUCCEED() << "checked against cuBLASLt " << CUBLAS_VER_MAJOR << "."
            << CUBLAS_VER_MINOR;
}
