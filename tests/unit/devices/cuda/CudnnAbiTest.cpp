//===- CudnnAbiTest.cpp - our cuDNN declarations against its headers ------===//
//
// Cudnn.h declares the few cuDNN types, values and entry points the runtime
// uses, so that the runtime builds without the CUDA toolkit. Built only
// where the toolkit's cuDNN headers are installed: a declaration that
// drifted from the real ABI fails to compile here.
//
//===----------------------------------------------------------------------===//
#include "Cudnn.h"

#include <cudnn.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

namespace dnn = vitc::cuda;

static_assert(dnn::kCudnnSuccess == CUDNN_STATUS_SUCCESS);
static_assert(dnn::kCudnnNotInitialized == CUDNN_STATUS_NOT_INITIALIZED);
// The codes our status table names (Cudnn.cpp).
static_assert(CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH == 1002 &&
              CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH == 1003 &&
              CUDNN_STATUS_DEPRECATED == 1004 &&
              CUDNN_STATUS_LICENSE_ERROR == 1005 &&
              CUDNN_STATUS_RUNTIME_IN_PROGRESS == 1006 &&
              CUDNN_STATUS_RUNTIME_FP_OVERFLOW == 1007 &&
              CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED == 1008);
static_assert(CUDNN_STATUS_BAD_PARAM == 2000 &&
              CUDNN_STATUS_INVALID_VALUE == 2001 &&
              CUDNN_STATUS_BAD_PARAM_NULL_POINTER == 2002 &&
              CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER == 2003 &&
              CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED == 2004 &&
              CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND == 2005 &&
              CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT == 2006 &&
              CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH == 2007 &&
              CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH == 2008 &&
              CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES == 2009 &&
              CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE == 2010 &&
              CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH == 2011 &&
              CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE == 2012);
static_assert(CUDNN_STATUS_NOT_SUPPORTED == 3000 &&
              CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN == 3001 &&
              CUDNN_STATUS_NOT_SUPPORTED_SHAPE == 3002 &&
              CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE == 3003 &&
              CUDNN_STATUS_NOT_SUPPORTED_LAYOUT == 3004 &&
              CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER == 3005 &&
              CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART == 3006 &&
              CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH == 3007 &&
              CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING == 3008 &&
              CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE == 3009 &&
              CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT == 3010 &&
              CUDNN_STATUS_NOT_SUPPORTED_PADDING == 3011 &&
              CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM == 3012 &&
              CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API == 3013 &&
              CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE == 3014);
static_assert(CUDNN_STATUS_INTERNAL_ERROR == 4000 &&
              CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED == 4001 &&
              CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE == 4002 &&
              CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED == 4003 &&
              CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED == 4004 &&
              CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM == 4005 &&
              CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED == 4006);
static_assert(CUDNN_STATUS_EXECUTION_FAILED == 5000 &&
              CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER == 5001 &&
              CUDNN_STATUS_EXECUTION_FAILED_CUBLAS == 5002 &&
              CUDNN_STATUS_EXECUTION_FAILED_CUDART == 5003 &&
              CUDNN_STATUS_EXECUTION_FAILED_CURAND == 5004);
static_assert(dnn::kCudnnDataFloat == CUDNN_DATA_FLOAT &&
              dnn::kCudnnDataBfloat16 == CUDNN_DATA_BFLOAT16);
static_assert(dnn::kCudnnTensorNchw == CUDNN_TENSOR_NCHW);
static_assert(dnn::kCudnnCrossCorrelation == CUDNN_CROSS_CORRELATION);
static_assert(dnn::kCudnnDefaultMath == CUDNN_DEFAULT_MATH &&
              dnn::kCudnnTensorOpMath == CUDNN_TENSOR_OP_MATH &&
              dnn::kCudnnTensorOpMathAllowConversion ==
                  CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION &&
              dnn::kCudnnFmaMath == CUDNN_FMA_MATH);
static_assert(dnn::kCudnnFwdAlgoCount == CUDNN_CONVOLUTION_FWD_ALGO_COUNT);

// The heuristic's results, which we read by field.
using RealPerf = cudnnConvolutionFwdAlgoPerf_t;
using OurPerf = dnn::cudnnConvolutionFwdAlgoPerf_t;
static_assert(sizeof(OurPerf) == sizeof(RealPerf));
static_assert(offsetof(OurPerf, algo) == offsetof(RealPerf, algo) &&
              offsetof(OurPerf, status) == offsetof(RealPerf, status) &&
              offsetof(OurPerf, time) == offsetof(RealPerf, time) &&
              offsetof(OurPerf, memory) == offsetof(RealPerf, memory) &&
              offsetof(OurPerf, determinism) ==
                  offsetof(RealPerf, determinism) &&
              offsetof(OurPerf, mathType) == offsetof(RealPerf, mathType));

// The entry points: ours take the same number of arguments as cuDNN's,
// each of the same kind (pointer, integer or enum, floating point) and
// size, and return the same. Our handles and descriptors are pointers to
// structs of our own, our enums ints.
namespace {

template <typename A, typename B> constexpr bool sameKind() {
  if constexpr (std::is_void_v<A> || std::is_void_v<B>)
    return std::is_void_v<A> && std::is_void_v<B>;
  else if constexpr (std::is_pointer_v<A> || std::is_pointer_v<B>)
    return std::is_pointer_v<A> && std::is_pointer_v<B>;
  else if constexpr (std::is_floating_point_v<A> || std::is_floating_point_v<B>)
    return std::is_same_v<A, B>;
  else
    return (std::is_integral_v<A> || std::is_enum_v<A>)&&(
               std::is_integral_v<B> || std::is_enum_v<B>)&&sizeof(A) ==
           sizeof(B);
}

template <typename R1, typename... A1, typename R2, typename... A2>
constexpr bool sameAbi(R1 (*)(A1...), R2 (*)(A2...)) {
  if constexpr (sizeof...(A1) != sizeof...(A2))
    return false;
  else
    return sameKind<R1, R2>() &&
           (sameKind<std::decay_t<A1>, std::decay_t<A2>>() && ...);
}

#define VITC_SAME_ABI(name)                                                    \
  static_assert(sameAbi(&::name, decltype(dnn::CudnnApi::name){}),             \
                #name " differs from cuDNN's")
VITC_SAME_ABI(cudnnCreate);
VITC_SAME_ABI(cudnnDestroy);
VITC_SAME_ABI(cudnnSetStream);
VITC_SAME_ABI(cudnnGetLastErrorString);
VITC_SAME_ABI(cudnnCreateTensorDescriptor);
VITC_SAME_ABI(cudnnSetTensorNdDescriptor);
VITC_SAME_ABI(cudnnGetTensorNdDescriptor);
VITC_SAME_ABI(cudnnDestroyTensorDescriptor);
VITC_SAME_ABI(cudnnCreateFilterDescriptor);
VITC_SAME_ABI(cudnnSetFilterNdDescriptor);
VITC_SAME_ABI(cudnnGetFilterNdDescriptor);
VITC_SAME_ABI(cudnnDestroyFilterDescriptor);
VITC_SAME_ABI(cudnnCreateConvolutionDescriptor);
VITC_SAME_ABI(cudnnSetConvolutionNdDescriptor);
VITC_SAME_ABI(cudnnGetConvolutionNdDescriptor);
VITC_SAME_ABI(cudnnSetConvolutionGroupCount);
VITC_SAME_ABI(cudnnGetConvolutionGroupCount);
VITC_SAME_ABI(cudnnSetConvolutionMathType);
VITC_SAME_ABI(cudnnGetConvolutionMathType);
VITC_SAME_ABI(cudnnDestroyConvolutionDescriptor);
VITC_SAME_ABI(cudnnGetConvolutionNdForwardOutputDim);
VITC_SAME_ABI(cudnnGetConvolutionForwardAlgorithm_v7);
VITC_SAME_ABI(cudnnGetConvolutionForwardWorkspaceSize);
VITC_SAME_ABI(cudnnConvolutionForward);
VITC_SAME_ABI(cudnnTransformTensor);
#undef VITC_SAME_ABI

} // namespace

TEST(CudnnAbi, OurDeclarationsMatchTheToolkitsHeaders) {
  // The checks are the static_asserts above; this says they ran.
  SUCCEED() << "checked against cuDNN " << CUDNN_MAJOR << "." << CUDNN_MINOR;
}
