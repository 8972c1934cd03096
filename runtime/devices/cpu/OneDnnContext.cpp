//===- OneDnnContext.cpp - what the CPU library kernels share -------------===//
//
// The out-of-line part of OneDnnContext.h: what runs once per failure or
// per primitive built, never per call.
//
//===----------------------------------------------------------------------===//
#include "OneDnnContext.h"

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu { // See OneDnnContext.h.

void fail(const char *kernel, const dnnl::error &e) {
  std::fprintf(stderr, "vitc: oneDNN failed in kernel %s: %s (dnnl_status %d)\n",
               kernel, e.what(), static_cast<int>(e.status));
  std::abort();
}

dnnl::primitive_attr accumulateAttr(bool accumulate) {
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

} // namespace cpu
} // namespace vitc::kernels
