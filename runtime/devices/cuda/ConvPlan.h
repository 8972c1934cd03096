//===- ConvPlan.h - a convolution call as cuDNN computes it -----*- C++ -*-===//
//
// The pure half of the CUDA device's convolutions (CudnnConv.h runs them):
// the descriptors' parameters that make cuDNN's legacy forward convolution
// compute a schedule's conv2d call (GpuBackend.h's LibraryCall), or why it
// cannot. No library, handle or GPU is involved, so the unit tests check it
// everywhere.
//
// cuDNN takes x and y as 4-D NCHW tensors with any positive strides, and
// the filter packed (KCRS). A grouped call's NGCHW operands are its NCHW
// ones with G*C channels (G and C are contiguous with each other) and
// cuDNN's group count G; its GFCHW filter, packed, is cuDNN's (G*F)CRS.
// cuDNN pads both sides of a dim alike and computes exactly the output its
// arithmetic gives, while a call only asks the input to be large enough
// (linalg's convention, which the CPU kernels follow): rows the output
// never reads are left out of x's view.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_CONVPLAN_H
#define VITC_DEVICES_CUDA_CONVPLAN_H

#include "../gpu/GpuBackend.h"
#include "Cudnn.h"

#include <array>
#include <string>

namespace vitc::cuda {

/// A 4-D NCHW tensor as cuDNN's descriptors take it: dims and strides in
/// elements (int, as cuDNN's legacy API), and where its first element is.
struct CudnnTensor {
  std::array<int, 4> dims{}, strides{};
  rt::DevicePtr data = 0;
};

/// The NCHW fully packed (row-major) strides of `dims`.
std::array<int, 4> packedStrides(const std::array<int, 4> &dims);
/// Whether `t` is NCHW fully packed (a dim of size 1 has no stride that
/// matters).
bool isPacked(const CudnnTensor &t);

struct ConvPlan {
  enum class Work {
    None,        ///< The output is empty: nothing to do.
    Convolution, ///< y (+)= conv(x, w).
  };
  Work work = Work::None;
  bool bf16 = false;       ///< x and w are bf16 (y is always f32).
  bool accumulate = false; ///< y += conv(x, w), else y = conv(x, w).
  /// N, C (all groups'), H, W. x's H and W are the rows and columns the
  /// output reads, which may be fewer than the call's.
  CudnnTensor x, y;
  /// The filter, packed: K (all groups' output channels), C (per group),
  /// KH, KW.
  std::array<int, 4> filter{};
  rt::DevicePtr w = 0;
  int groups = 1;
  /// Per spatial dim (H, W); pads on both sides, dilations counting from 1.
  std::array<int, 2> pad{}, stride{}, dilation{};
  /// cudnnDataType_t of x, w and what the convolution writes; the compute
  /// type is always float.
  int dataType = kCudnnDataFloat;
  /// The convolution writes a packed scratch tensor of dataType that is
  /// then added (or copied) into the f32 y: cuDNN's bf16 configuration
  /// (PSEUDO_BFLOAT16: x, w and y bf16, float arithmetic) writes bf16.
  bool scratchOutput = false;
  /// cudnnMathType_t asked of the heuristic: FMA (exact fp32) for f32,
  /// tensor cores for bf16.
  int mathType = kCudnnFmaMath;
};

/// conv2d_f32, conv2d_bf16, conv2d_grouped_f32 or conv2d_grouped_bf16.
bool isConvRoutine(const std::string &routine);

/// How cuDNN computes `call`, one of the convolution routines (tensors
/// input, filter, output; scalars strideH, strideW, dilationH, dilationW,
/// padTop, padLeft, padBottom, padRight, accumulate, constantFilter,
/// reorderHints: the CPU kernels' hints, which cuDNN does not need). An
/// error says what is wrong: the operands, their shapes, strides cuDNN
/// cannot read, asymmetric pads, a filter that is not packed. Like every
/// library call's error, it is reported after the ONNX node and the routine
/// (ScheduleExecutable), so it names neither.
rt::StatusOr<ConvPlan> planConv(const rt::LibraryCall &call);

/// "input 2x3x8x8, filter 6x3x3x3, output 2x6x8x8, stride 1x1, dilation
/// 1x1, pad 1x1" (and ", groups 4"): the problem, for messages.
std::string describe(const ConvPlan &plan);

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_CONVPLAN_H
