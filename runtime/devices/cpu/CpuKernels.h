//===- CpuKernels.h - the CPU library kernels called by compiled code ------===//
//
// vitc-linalg-to-library turns matmul / conv / pooling linalg ops into calls
// to `vitc_cpu_<op>_<dtype>` declared `llvm.emit_c_interface`; compiled code
// then calls the C symbols below with pointers to memref descriptors. The
// descriptor mirrors mlir/ExecutionEngine/CRunnerUtils.h's
// StridedMemRefType (no MLIR at run time). Sizes and strides are in
// elements; `data + offset` is the first element.
//
// All kernels overwrite their output unless `accumulate` is non-zero, in
// which case they add to it (linalg's accumulate-into-init semantics).
//
// `_bf16` kernels are mixed precision: bf16 inputs (raw bit patterns), f32
// products, accumulation and output. On CPUs without bf16 instructions
// (avx512_bf16 or AMX) the inputs are widened to f32, which is exact, and
// the f32 kernels run: same results up to summation order.
// Inputs are validated by the compiler; a oneDNN failure aborts with a
// message naming the kernel and the oneDNN status.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICES_CPU_CPUKERNELS_H
#define VITC_RUNTIME_DEVICES_CPU_CPUKERNELS_H

#include <cstdint>

namespace vitc::kernels {
template <typename T, int N> struct StridedMemRef {
  T *basePtr;
  T *data;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};
} // namespace vitc::kernels

extern "C" {
using VitcMemRef2F32 = vitc::kernels::StridedMemRef<float, 2>;
using VitcMemRef3F32 = vitc::kernels::StridedMemRef<float, 3>;
using VitcMemRef4F32 = vitc::kernels::StridedMemRef<float, 4>;
using VitcMemRef5F32 = vitc::kernels::StridedMemRef<float, 5>;
/// bf16 elements as their bits (the upper half of an f32's).
using VitcMemRef2BF16 = vitc::kernels::StridedMemRef<uint16_t, 2>;
using VitcMemRef3BF16 = vitc::kernels::StridedMemRef<uint16_t, 3>;
using VitcMemRef4BF16 = vitc::kernels::StridedMemRef<uint16_t, 4>;
using VitcMemRef5BF16 = vitc::kernels::StridedMemRef<uint16_t, 5>;

/// C (MxN) (+)= op(A) op(B); A is stored MxK (KxM if transA), B KxN (NxK if
/// transB). constantB != 0 makes the promise of constantFilter (below) for B:
/// the kernel caches B packed in oneDNN's layout, keyed by address.
void _mlir_ciface_vitc_cpu_matmul_f32(VitcMemRef2F32 *a, VitcMemRef2F32 *b,
                                      VitcMemRef2F32 *c, int64_t transA,
                                      int64_t transB, int64_t accumulate,
                                      int64_t constantB);

/// Batched: the same with a leading batch dim; an operand with batch 1 is
/// broadcast over the batch of C.
void _mlir_ciface_vitc_cpu_batch_matmul_f32(VitcMemRef3F32 *a,
                                            VitcMemRef3F32 *b,
                                            VitcMemRef3F32 *c, int64_t transA,
                                            int64_t transB, int64_t accumulate,
                                            int64_t constantB);

/// NCHW input, FCHW filter, NFHW output. Dilations count from 1 (1 = dense,
/// linalg's convention); pads are [top, left, bottom, right] of zeros.
/// constantFilter != 0 promises that the filter's buffer never changes while
/// the process runs (a view of the artifact's weights section): the kernel
/// then caches the filter reordered into oneDNN's layout, keyed by address.
/// reorderHints: two bits per read operand (input bits 0-1, filter 2-3),
/// promises from the compiler about the memory it reads. Bit 0 (reuse): the
/// previous convolution that read this memory read it at the same address
/// and nothing wrote it since. Bit 1 (keep): a later convolution reads it
/// unchanged. The kernel then keeps its copy in oneDNN's layout from one
/// read to the next instead of reordering again; 0 is always correct.
void _mlir_ciface_vitc_cpu_conv2d_f32(VitcMemRef4F32 *input,
                                      VitcMemRef4F32 *filter,
                                      VitcMemRef4F32 *output, int64_t strideH,
                                      int64_t strideW, int64_t dilationH,
                                      int64_t dilationW, int64_t padTop,
                                      int64_t padLeft, int64_t padBottom,
                                      int64_t padRight, int64_t accumulate,
                                      int64_t constantFilter,
                                      int64_t reorderHints);

/// Grouped: NGCHW input, GFCHW filter, NGFHW output (linalg's
/// conv_2d_ngchw_gfchw); the G and C dims of each operand must be
/// contiguous with each other (stride of G = C * stride of C).
void _mlir_ciface_vitc_cpu_conv2d_grouped_f32(
    VitcMemRef5F32 *input, VitcMemRef5F32 *filter, VitcMemRef5F32 *output,
    int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
    int64_t padTop, int64_t padLeft, int64_t padBottom, int64_t padRight,
    int64_t accumulate, int64_t constantFilter, int64_t reorderHints);

/// Mixed precision: the kernels above with bf16 inputs and an f32 output.
void _mlir_ciface_vitc_cpu_matmul_bf16(VitcMemRef2BF16 *a, VitcMemRef2BF16 *b,
                                       VitcMemRef2F32 *c, int64_t transA,
                                       int64_t transB, int64_t accumulate,
                                       int64_t constantB);
void _mlir_ciface_vitc_cpu_batch_matmul_bf16(VitcMemRef3BF16 *a,
                                             VitcMemRef3BF16 *b,
                                             VitcMemRef3F32 *c, int64_t transA,
                                             int64_t transB,
                                             int64_t accumulate,
                                             int64_t constantB);
void _mlir_ciface_vitc_cpu_conv2d_bf16(VitcMemRef4BF16 *input,
                                       VitcMemRef4BF16 *filter,
                                       VitcMemRef4F32 *output, int64_t strideH,
                                       int64_t strideW, int64_t dilationH,
                                       int64_t dilationW, int64_t padTop,
                                       int64_t padLeft, int64_t padBottom,
                                       int64_t padRight, int64_t accumulate,
                                       int64_t constantFilter,
                                       int64_t reorderHints);
void _mlir_ciface_vitc_cpu_conv2d_grouped_bf16(
    VitcMemRef5BF16 *input, VitcMemRef5BF16 *filter, VitcMemRef5F32 *output,
    int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
    int64_t padTop, int64_t padLeft, int64_t padBottom, int64_t padRight,
    int64_t accumulate, int64_t constantFilter, int64_t reorderHints);

/// Max pooling over a kernelH x kernelW window, NCHW; padding never wins.
void _mlir_ciface_vitc_cpu_max_pool2d_f32(
    VitcMemRef4F32 *input, VitcMemRef4F32 *output, int64_t kernelH,
    int64_t kernelW, int64_t strideH, int64_t strideW, int64_t dilationH,
    int64_t dilationW, int64_t padTop, int64_t padLeft, int64_t padBottom,
    int64_t padRight);

/// Sum pooling (padding counts as zeros); average pooling divides after.
void _mlir_ciface_vitc_cpu_sum_pool2d_f32(
    VitcMemRef4F32 *input, VitcMemRef4F32 *output, int64_t kernelH,
    int64_t kernelW, int64_t strideH, int64_t strideW, int64_t dilationH,
    int64_t dilationW, int64_t padTop, int64_t padLeft, int64_t padBottom,
    int64_t padRight);
}

#endif // VITC_RUNTIME_DEVICES_CPU_CPUKERNELS_H
