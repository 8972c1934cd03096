//===- EntryPoints.cpp - the C entry points that compiled code calls ------===//
//
// Each `_mlir_ciface_vitc_cpu_*` symbol of CpuKernels.h views its memref
// descriptors as plain operands and runs the kernel on them; the bf16 ones
// first widen their inputs where the CPU has no bf16 instructions.
//
//===----------------------------------------------------------------------===//
#include "OneDnnKernels.h"

#include <cstdio>
#include <cstdlib>

using namespace vitc::kernels::cpu;

namespace {

WindowParams makeWindow(int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                        int64_t dh, int64_t dw, int64_t pt, int64_t pl,
                        int64_t pb, int64_t pr) {
  return WindowParams{{kh, kw}, {sh, sw}, {dh, dw}, {pt, pl, pb, pr}};
}

/// Views a grouped (N, G, C, H, W) operand as oneDNN's (N, G*C, H, W).
Plain mergeGroups(const char *name, Plain p) {
  if (p.shape[1] > 1 && p.shape[2] > 1 &&
      p.strides[1] != p.shape[2] * p.strides[2]) {
    std::fprintf(stderr,
                 "vitc: kernel %s: group and channel dims are not contiguous "
                 "(stride %lld != %lld * %lld)\n",
                 name, static_cast<long long>(p.strides[1]),
                 static_cast<long long>(p.shape[2]),
                 static_cast<long long>(p.strides[2]));
    std::abort();
  }
  int64_t channelStride = p.shape[2] > 1 ? p.strides[2] : p.strides[1];
  return Plain{{p.shape[0], p.shape[1] * p.shape[2], p.shape[3], p.shape[4]},
               {p.strides[0], channelStride, p.strides[3], p.strides[4]},
               p.data, p.type};
}

} // namespace

extern "C" {

void _mlir_ciface_vitc_cpu_matmul_f32(VitcMemRef2F32 *a, VitcMemRef2F32 *b,
                                      VitcMemRef2F32 *c, int64_t transA,
                                      int64_t transB, int64_t accumulate,
                                      int64_t constantB) {
  matmul("vitc_cpu_matmul_f32", toPlain(a), toPlain(b), toPlain(c), transA,
         transB, accumulate, constantB);
}

void _mlir_ciface_vitc_cpu_batch_matmul_f32(VitcMemRef3F32 *a,
                                            VitcMemRef3F32 *b,
                                            VitcMemRef3F32 *c, int64_t transA,
                                            int64_t transB, int64_t accumulate,
                                            int64_t constantB) {
  matmul("vitc_cpu_batch_matmul_f32", toPlain(a), toPlain(b), toPlain(c),
         transA, transB, accumulate, constantB);
}

void _mlir_ciface_vitc_cpu_conv2d_f32(VitcMemRef4F32 *input,
                                      VitcMemRef4F32 *filter,
                                      VitcMemRef4F32 *output, int64_t strideH,
                                      int64_t strideW, int64_t dilationH,
                                      int64_t dilationW, int64_t padTop,
                                      int64_t padLeft, int64_t padBottom,
                                      int64_t padRight,
                                      int64_t accumulate,
                                      int64_t constantFilter,
                                      int64_t reorderHints) {
  Plain f = toPlain(filter);
  conv2d("vitc_cpu_conv2d_f32", toPlain(input), f, toPlain(output),
         makeWindow(f.shape[2], f.shape[3], strideH, strideW, dilationH,
                    dilationW, padTop, padLeft, padBottom, padRight),
         accumulate, constantFilter, reorderHints);
}

void _mlir_ciface_vitc_cpu_conv2d_grouped_f32(
    VitcMemRef5F32 *input, VitcMemRef5F32 *filter, VitcMemRef5F32 *output,
    int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
    int64_t padTop, int64_t padLeft, int64_t padBottom,
    int64_t padRight, int64_t accumulate, int64_t constantFilter,
    int64_t reorderHints) {
  const char *name = "vitc_cpu_conv2d_grouped_f32";
  // oneDNN's grouped weights are (G, F, C, KH, KW): linalg's gfchw as is.
  Plain f = toPlain(filter);
  conv2d(name, mergeGroups(name, toPlain(input)), f,
         mergeGroups(name, toPlain(output)),
         makeWindow(f.shape[3], f.shape[4], strideH, strideW, dilationH,
                    dilationW, padTop, padLeft, padBottom, padRight),
         accumulate, constantFilter, reorderHints);
}

void _mlir_ciface_vitc_cpu_matmul_bf16(VitcMemRef2BF16 *a, VitcMemRef2BF16 *b,
                                       VitcMemRef2F32 *c, int64_t transA,
                                       int64_t transB, int64_t accumulate,
                                       int64_t constantB) {
  matmul("vitc_cpu_matmul_bf16", widenBf16(toPlain(a), Scratch::WideA, false),
         widenBf16(toPlain(b), Scratch::WideB, constantB), toPlain(c), transA,
         transB, accumulate, constantB);
}

void _mlir_ciface_vitc_cpu_batch_matmul_bf16(VitcMemRef3BF16 *a,
                                             VitcMemRef3BF16 *b,
                                             VitcMemRef3F32 *c, int64_t transA,
                                             int64_t transB,
                                             int64_t accumulate,
                                             int64_t constantB) {
  matmul("vitc_cpu_batch_matmul_bf16",
         widenBf16(toPlain(a), Scratch::WideA, false),
         widenBf16(toPlain(b), Scratch::WideB, constantB), toPlain(c), transA,
         transB, accumulate, constantB);
}

void _mlir_ciface_vitc_cpu_conv2d_bf16(VitcMemRef4BF16 *input,
                                       VitcMemRef4BF16 *filter,
                                       VitcMemRef4F32 *output, int64_t strideH,
                                       int64_t strideW, int64_t dilationH,
                                       int64_t dilationW, int64_t padTop,
                                       int64_t padLeft, int64_t padBottom,
                                       int64_t padRight, int64_t accumulate,
                                       int64_t constantFilter,
                                       int64_t reorderHints) {
  Plain f = toPlain(filter);
  conv2d("vitc_cpu_conv2d_bf16", widenBf16(toPlain(input), Scratch::WideA, false),
         widenBf16(f, Scratch::WideB, constantFilter), toPlain(output),
         makeWindow(f.shape[2], f.shape[3], strideH, strideW, dilationH,
                    dilationW, padTop, padLeft, padBottom, padRight),
         accumulate, constantFilter, hasNativeBf16() ? reorderHints : 0);
}

void _mlir_ciface_vitc_cpu_conv2d_grouped_bf16(
    VitcMemRef5BF16 *input, VitcMemRef5BF16 *filter, VitcMemRef5F32 *output,
    int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
    int64_t padTop, int64_t padLeft, int64_t padBottom, int64_t padRight,
    int64_t accumulate, int64_t constantFilter, int64_t reorderHints) {
  const char *name = "vitc_cpu_conv2d_grouped_bf16";
  Plain f = toPlain(filter);
  conv2d(name,
         widenBf16(mergeGroups(name, toPlain(input)), Scratch::WideA, false),
         widenBf16(f, Scratch::WideB, constantFilter),
         mergeGroups(name, toPlain(output)),
         makeWindow(f.shape[3], f.shape[4], strideH, strideW, dilationH,
                    dilationW, padTop, padLeft, padBottom, padRight),
         accumulate, constantFilter, hasNativeBf16() ? reorderHints : 0);
}

void _mlir_ciface_vitc_cpu_max_pool2d_f32(
    VitcMemRef4F32 *input, VitcMemRef4F32 *output, int64_t kernelH,
    int64_t kernelW, int64_t strideH, int64_t strideW, int64_t dilationH,
    int64_t dilationW, int64_t padTop, int64_t padLeft, int64_t padBottom,
    int64_t padRight) {
  pool2d("vitc_cpu_max_pool2d_f32", /*isMax=*/true, toPlain(input),
         toPlain(output),
         makeWindow(kernelH, kernelW, strideH, strideW, dilationH, dilationW,
                    padTop, padLeft, padBottom, padRight));
}

void _mlir_ciface_vitc_cpu_sum_pool2d_f32(
    VitcMemRef4F32 *input, VitcMemRef4F32 *output, int64_t kernelH,
    int64_t kernelW, int64_t strideH, int64_t strideW, int64_t dilationH,
    int64_t dilationW, int64_t padTop, int64_t padLeft, int64_t padBottom,
    int64_t padRight) {
  pool2d("vitc_cpu_sum_pool2d_f32", /*isMax=*/false, toPlain(input),
         toPlain(output),
         makeWindow(kernelH, kernelW, strideH, strideW, dilationH, dilationW,
                    padTop, padLeft, padBottom, padRight));
}

} // extern "C"
