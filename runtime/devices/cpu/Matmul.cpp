//===- Matmul.cpp - matmul and batch matmul on oneDNN ---------------------===//
#include "OneDnnKernels.h"
#include "ReorderCache.h"

#include <optional>
#include <string>
#include <utility>

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu { // See OneDnnContext.h.
namespace {

/// Sets every element of a plain f32 memory to zero (outputs of empty
/// reductions).
void zeroFill(const Plain &p) {
  float *data = static_cast<float *>(p.data);
  forEachRow(p, [&](int64_t offset, int64_t length, int64_t stride) {
    for (int64_t j = 0; j < length; ++j)
      data[offset + j * stride] = 0.f;
  });
}

/// Swaps the last two logical dims of a stored operand (a transposed view).
Plain transposeLastTwo(Plain p) {
  size_t r = p.shape.size();
  std::swap(p.shape[r - 1], p.shape[r - 2]);
  std::swap(p.strides[r - 1], p.strides[r - 2]);
  return p;
}

/// A matmul primitive and, when it reads B in a layout oneDNN chose (a
/// constant B), that layout and the reorder into it.
struct MatmulPlan {
  dnnl::primitive matmul;
  dnnl::memory::desc weights;
  dnnl::primitive weightsIn; // Empty: B is read in the caller's layout.
};

} // namespace

void matmul(const char *name, Plain a, Plain b, Plain c, bool transA,
            bool transB, bool accumulate, bool constantB) {
  if (transA)
    a = transposeLastTwo(a);
  if (transB)
    b = transposeLastTwo(b);
  if (c.numElements() == 0)
    return;
  if (a.shape.back() == 0) { // K = 0: the product is zero.
    if (!accumulate)
      zeroFill(c);
    return;
  }
  // A weight shared by every batch (batch dim 1) of a batch whose rows are
  // evenly spaced across batches (e.g. a Linear layer on (B, T, C)) is one
  // big GEMM: merge the batch into M. oneDNN would otherwise run many tiny
  // GEMMs (M = 1 for a batch of one image), re-packing B for each.
  if (a.shape.size() == 3 && b.shape[0] == 1 && a.shape[0] > 1 &&
      a.strides[0] == a.shape[1] * a.strides[1] &&
      c.strides[0] == c.shape[1] * c.strides[1]) {
    auto merge = [](Plain &p) {
      p.shape = {1, p.shape[0] * p.shape[1], p.shape[2]};
      p.strides = {p.shape[1] * p.strides[1], p.strides[1], p.strides[2]};
    };
    merge(a);
    merge(c);
  }
  // A batch of one is a plain GEMM: give oneDNN 2-D operands. With 3-D ones
  // it keeps a constant B in plain abc instead of packing it (oneDNN 2.6).
  if (a.shape.size() == 3 && a.shape[0] == 1 && b.shape[0] == 1) {
    for (Plain *p : {&a, &b, &c}) {
      p->shape.erase(p->shape.begin());
      p->strides.erase(p->strides.begin());
    }
  }
  CacheKey key{static_cast<int64_t>(KernelId::Matmul), accumulate, constantB};
  a.appendTo(key);
  b.appendTo(key);
  c.appendTo(key);
  try {
    auto plan = getCached<MatmulPlan>(key, [&] {
      auto makePd = [&](const dnnl::memory::desc &weights) {
        dnnl::matmul::desc desc(a.desc(), weights, c.desc());
        return dnnl::matmul::primitive_desc(desc, accumulateAttr(accumulate),
                                            getEngine());
      };
      auto p = std::make_shared<MatmulPlan>();
      // On plain (and especially transposed) B, oneDNN's fast kernels pack B
      // into their blocked layout on every call, which dominates the large
      // GEMMs of a transformer. A constant B is packed once (format any,
      // cached by getConstantWeights). Should only the reference
      // implementation take the chosen layout, read B as given instead.
      std::optional<dnnl::matmul::primitive_desc> pd;
      if (constantB) {
        pd = makePd(anyLayout(b.shape, b.type));
        if (std::string(pd->impl_info_str()).rfind("ref", 0) == 0)
          pd.reset();
      }
      if (!pd)
        pd = makePd(b.desc());
      p->matmul = dnnl::matmul(*pd);
      p->weights = pd->weights_desc();
      p->weightsIn = makeReorder(b.desc(), p->weights);
      return std::shared_ptr<const MatmulPlan>(std::move(p));
    });
    dnnl::memory weights = plan->weightsIn
                               ? getConstantWeights(b, plan->weightsIn,
                                                    plan->weights)
                               : b.memory();
    plan->matmul.execute(getStream(), {{DNNL_ARG_SRC, a.memory()},
                                       {DNNL_ARG_WEIGHTS, weights},
                                       {DNNL_ARG_DST, c.memory()}});
    getStream().wait();
  } catch (const dnnl::error &e) {
    fail(name, e);
  }
}

} // namespace cpu
} // namespace vitc::kernels
