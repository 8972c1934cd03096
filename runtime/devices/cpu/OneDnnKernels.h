//===- OneDnnKernels.h - the kernels behind the C entry points ------------===//
//
// EntryPoints.cpp turns each `_mlir_ciface_vitc_cpu_*` call into one of
// these on plain operands: matmul (Matmul.cpp), conv2d (Conv2d.cpp) and
// pool2d (Pool2d.cpp), with bf16 inputs first widened where the CPU has no
// bf16 instructions (Bf16.cpp). Also the sliding-window geometry that
// convolution and pooling share.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICES_CPU_ONEDNNKERNELS_H
#define VITC_RUNTIME_DEVICES_CPU_ONEDNNKERNELS_H

#include "OneDnnContext.h"

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu {

//===----------------------------------------------------------------------===//
// Sliding windows: convolution and pooling
//===----------------------------------------------------------------------===//

/// oneDNN requires `(in - extent + padL + padR) / stride + 1 == out`
/// exactly; linalg only asks the input to be large enough. Returns the input
/// size and right pad that cover exactly the rows the output reads: rows
/// past them are dropped from the view, missing ones become padding (which
/// the caller's pad already accounts for).
struct WindowDim {
  int64_t in, padL, padR;
};

inline WindowDim fitWindow(int64_t in, int64_t out, int64_t kernel,
                           int64_t stride, int64_t dilation, int64_t padL) {
  int64_t extent = (kernel - 1) * dilation + 1;
  int64_t needed = (out - 1) * stride + extent - padL; // Input rows read.
  if (needed <= in)
    return {needed, padL, 0};
  return {in, padL, needed - in};
}

struct WindowParams {
  int64_t kernel[2], stride[2], dilation[2], pad[4]; // pad: t, l, b, r.
};

/// Narrows the spatial dims of `input` to what `output` reads; returns the
/// oneDNN pads. The caller's bottom/right pads only bound what may be read:
/// the output size decides how much of them is used.
inline void fitSpatialDims(const char *name, Plain &input, const Plain &output,
                           const WindowParams &w, dims &padL, dims &padR) {
  size_t r = input.shape.size();
  padL.assign(2, 0);
  padR.assign(2, 0);
  for (int i = 0; i < 2; ++i) {
    WindowDim d = fitWindow(input.shape[r - 2 + i], output.shape[r - 2 + i],
                            w.kernel[i], w.stride[i], w.dilation[i], w.pad[i]);
    if (d.padR > w.pad[2 + i]) {
      std::fprintf(stderr,
                   "vitc: kernel %s: the output needs %lld more padded input "
                   "rows in spatial dim %d than the %lld given\n",
                   name, static_cast<long long>(d.padR), i,
                   static_cast<long long>(w.pad[2 + i]));
      std::abort();
    }
    input.shape[r - 2 + i] = d.in;
    padL[i] = d.padL;
    padR[i] = d.padR;
  }
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// C (+)= op(A) op(B) on 2-D or batched 3-D operands (see CpuKernels.h);
/// `name` is the entry point's, for messages.
void matmul(const char *name, Plain a, Plain b, Plain c, bool transA,
            bool transB, bool accumulate, bool constantB);

/// A 2-D convolution, or one of its gradients written as a convolution.
/// `hints`: the compiler's reorder hints (ReorderCache), two bits per read
/// operand, input then filter: reuse, keep. Only for operands read where the
/// caller's buffer is (not a widened or flipped copy).
void conv2d(const char *name, Plain input, Plain filter, Plain output,
            const WindowParams &w, bool accumulate, bool constantFilter,
            int64_t hints);

/// Max or sum pooling.
void pool2d(const char *name, bool isMax, Plain input, Plain output,
            const WindowParams &w);

/// Whether oneDNN computes in bf16 natively on this CPU (avx512_bf16, AMX).
/// Elsewhere oneDNN 2.6 either has no bf16 kernels (AVX2: "unimplemented")
/// or emulates them (AVX-512 without bf16) at up to twice the f32 kernels'
/// time on convolutions; widening the inputs to f32, which is exact, and
/// running the f32 kernels gives the same results faster.
inline bool hasNativeBf16() {
  static const bool native = [] {
    auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16; // The ISA values nest as bit sets.
  }();
  return native;
}

/// A bf16 input as the kernels take it on this CPU: as is where oneDNN
/// computes in bf16 natively, else widened to f32, in per-thread scratch or,
/// for a `constant` operand (same promise as getConstantWeights), in a copy
/// kept for the process so the f32 kernel may cache its layout in turn.
Plain widenBf16(const Plain &p, Scratch::Slot slot, bool constant);

} // namespace cpu
} // namespace vitc::kernels

#endif // VITC_RUNTIME_DEVICES_CPU_ONEDNNKERNELS_H
