//===- Pool2d.cpp - max and sum pooling on oneDNN -------------------------===//
#include "OneDnnKernels.h"
#include "ReorderCache.h"

#include <string>

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu { // See OneDnnContext.h.
namespace {

/// A pooling primitive and, when it runs on a blocked copy of the input,
/// the reorders around it.
struct PoolPlan {
  dnnl::primitive pool;
  dnnl::memory::desc src, dst;
  dnnl::primitive srcIn, dstOut;
};

} // namespace

void pool2d(const char *name, bool isMax, Plain input, Plain output,
            const WindowParams &w) {
  if (output.numElements() == 0)
    return;
  dims padL, padR;
  fitSpatialDims(name, input, output, w, padL, padR);
  dims kernel{w.kernel[0], w.kernel[1]};
  dims strides{w.stride[0], w.stride[1]};
  dims dilations{w.dilation[0] - 1, w.dilation[1] - 1};
  CacheKey key{static_cast<int64_t>(isMax ? KernelId::MaxPool2d
                                          : KernelId::SumPool2d)};
  input.appendTo(key);
  output.appendTo(key);
  appendToKey(key, kernel);
  appendToKey(key, strides);
  appendToKey(key, dilations);
  appendToKey(key, padL);
  appendToKey(key, padR);
  try {
    auto plan = getCached<PoolPlan>(key, [&] {
      // A sum is the average that counts padding, times the window size;
      // every window lies inside the padded input (see fitWindow), so the
      // divisor is always the full window.
      dnnl::primitive_attr attr;
      if (!isMax) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear,
                           static_cast<float>(kernel[0] * kernel[1]), 0.f);
        attr.set_post_ops(ops);
      }
      auto makePd = [&](const dnnl::memory::desc &src,
                        const dnnl::memory::desc &dst) {
        dnnl::pooling_v2_forward::desc desc(
            dnnl::prop_kind::forward_inference,
            isMax ? dnnl::algorithm::pooling_max
                  : dnnl::algorithm::pooling_avg_include_padding,
            src, dst, strides, kernel, dilations, padL, padR);
        return dnnl::pooling_v2_forward::primitive_desc(desc, attr,
                                                        getEngine());
      };
      // Pooling takes its source layout from the caller (no `any`). The
      // optimised implementations want a dense (blocked) layout: when the
      // plain one only gets the reference code, pool a channel-blocked copy.
      auto pd = makePd(input.desc(), output.desc());
      auto p = std::make_shared<PoolPlan>();
      if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0 &&
          input.shape.size() == 4) {
        dnnl::memory::desc blocked(input.shape, input.type,
                                   dnnl::memory::format_tag::nChw16c);
        pd = makePd(blocked, anyLayout(output.shape, output.type));
        p->srcIn = makeReorder(input.desc(), pd.src_desc());
        p->dstOut = makeReorder(pd.dst_desc(), output.desc());
      }
      p->pool = dnnl::pooling_v2_forward(pd);
      p->src = pd.src_desc();
      p->dst = pd.dst_desc();
      return std::shared_ptr<const PoolPlan>(std::move(p));
    });
    dnnl::stream &stream = getStream();
    dnnl::memory src = input.memory();
    if (plan->srcIn)
      src = reorderToScratch(plan->srcIn, src, plan->src, Scratch::Src);
    dnnl::memory userDst = output.memory();
    dnnl::memory dst =
        plan->dstOut ? scratchMemory(plan->dst, Scratch::Dst) : userDst;
    plan->pool.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    if (plan->dstOut)
      plan->dstOut.execute(stream,
                           {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, userDst}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fail(name, e);
  }
}

} // namespace cpu
} // namespace vitc::kernels
