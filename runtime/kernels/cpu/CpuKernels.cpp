//===- CpuKernels.cpp - oneDNN implementations of the CPU library kernels --===//
//
// Each kernel describes its operands to oneDNN as plain (strided) memory,
// builds the primitive once per (kernel, dims, strides, attributes) and keeps
// it in a process-wide cache: creating a oneDNN primitive costs far more
// than running a small one. One engine serves the process; each thread has
// its own stream (oneDNN streams are not meant to be shared across threads).
//
// Convolution and pooling follow oneDNN's recommended flow: the primitive is
// created with format_tag::any so that oneDNN picks its blocked layouts (on
// plain nchw with strides it otherwise falls back to its reference
// implementation), the activations are reordered into those layouts and the
// result back to the caller's, in per-thread scratch. Constant filters (views
// of the artifact's weights section, as the compiler tells us) are reordered
// once and cached; see getConstantWeights for the assumption this makes.
// Matmuls keep A and C plain; a constant B gets the same treatment as a
// constant filter.
//
// Matmul and convolution take bf16 inputs too (mixed precision, f32 output):
// the same code with bf16 memory descriptors where the CPU has bf16
// instructions (avx512_bf16, AMX). Elsewhere the bf16 entry points widen
// their inputs to f32 and run the f32 kernels (see hasNativeBf16).
//
//===----------------------------------------------------------------------===//
#include "CpuKernels.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

using vitc::kernels::StridedMemRef;
using dims = dnnl::memory::dims;

namespace {

//===----------------------------------------------------------------------===//
// Engine, stream, primitive cache
//===----------------------------------------------------------------------===//

[[noreturn]] void fail(const char *kernel, const dnnl::error &e) {
  std::fprintf(stderr, "vitc: oneDNN failed in kernel %s: %s (dnnl_status %d)\n",
               kernel, e.what(), static_cast<int>(e.status));
  std::abort();
}

dnnl::engine &getEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &getStream() {
  thread_local dnnl::stream stream(getEngine());
  return stream;
}

enum class KernelId : int64_t {
  Matmul = 1,
  Conv2d,
  MaxPool2d,
  SumPool2d,
};

using CacheKey = std::vector<int64_t>;

struct CacheKeyHash {
  size_t operator()(const CacheKey &key) const {
    size_t h = 1469598103934665603ull;
    for (int64_t v : key)
      h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
    return h;
  }
};

/// Returns the object cached for `key` (primitives and the layouts around
/// them), building it with `build` on a miss. Cached objects are immutable
/// once built: executing a primitive from several threads at once is safe.
template <typename T, typename Build>
std::shared_ptr<const T> getCached(const CacheKey &key, Build &&build) {
  static std::mutex mutex;
  static std::unordered_map<CacheKey, std::shared_ptr<const T>, CacheKeyHash>
      cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end())
      return it->second;
  }
  std::shared_ptr<const T> value = build();
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(key, value).first->second;
}

/// Per-thread scratch buffers for operands in oneDNN's chosen layouts; they
/// only grow, so steady-state inference allocates nothing.
class Scratch {
public:
  // Src/Weights/Dst: operands in oneDNN's layouts; WideA/WideB: bf16 inputs
  // widened to f32 (which may then be reordered into Src/Weights).
  // Flipped: a filter with its taps reversed and channels swapped.
  enum Slot { Src, Weights, Dst, WideA, WideB, Flipped, NumSlots };
  static void *get(Slot slot, size_t bytes) {
    thread_local Scratch scratch;
    Buffer &b = scratch.buffers[slot];
    if (b.bytes < bytes) {
      std::free(b.data);
      // 64-byte aligned: what oneDNN's vector kernels load best from.
      b.bytes = (bytes + 63) / 64 * 64;
      b.data = std::aligned_alloc(64, b.bytes);
      if (!b.data) {
        std::fprintf(stderr, "vitc: out of memory for kernel scratch\n");
        std::abort();
      }
    }
    return b.data;
  }
  ~Scratch() {
    for (Buffer &b : buffers)
      std::free(b.data);
  }

private:
  struct Buffer {
    void *data = nullptr;
    size_t bytes = 0;
  };
  Buffer buffers[NumSlots];
};

/// `desc`-shaped memory over per-thread scratch.
dnnl::memory scratchMemory(const dnnl::memory::desc &desc, Scratch::Slot slot) {
  return dnnl::memory(desc, getEngine(), Scratch::get(slot, desc.get_size()));
}

void appendToKey(CacheKey &key, const dims &values) {
  key.push_back(static_cast<int64_t>(values.size()));
  key.insert(key.end(), values.begin(), values.end());
}

/// A plain memory: logical dims with element strides, as oneDNN sees it.
struct Plain {
  dims shape;
  dims strides;
  void *data;
  dnnl::memory::data_type type;

  dnnl::memory::desc desc() const {
    return dnnl::memory::desc(shape, type, strides);
  }
  dnnl::memory memory() const {
    return dnnl::memory(desc(), getEngine(), data);
  }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  void appendTo(CacheKey &key) const {
    key.push_back(static_cast<int64_t>(type));
    appendToKey(key, shape);
    appendToKey(key, strides);
  }
};

/// oneDNN's name for the element type of a descriptor (bf16 as its bits).
template <typename T> constexpr dnnl::memory::data_type dataTypeOf();
template <> constexpr dnnl::memory::data_type dataTypeOf<float>() {
  return dnnl::memory::data_type::f32;
}
template <> constexpr dnnl::memory::data_type dataTypeOf<uint16_t>() {
  return dnnl::memory::data_type::bf16;
}

template <typename T, int N> Plain toPlain(const StridedMemRef<T, N> *m) {
  Plain p{dims(m->sizes, m->sizes + N), dims(m->strides, m->strides + N),
          m->data + m->offset, dataTypeOf<T>()};
  // Size-1 dims may carry any stride in MLIR; give them the dense one so
  // oneDNN recognises the layout (e.g. nchw with N = 1).
  for (int i = N - 1; i >= 0; --i)
    if (p.shape[i] == 1)
      p.strides[i] = i == N - 1 ? 1 : p.strides[i + 1] * p.shape[i + 1];
  return p;
}

/// Calls `fn(offset, length, stride)` for every row of `p` (its last dim),
/// in row-major order: the element offset of the row's first element, its
/// length and element stride. Rank 0 is one row of one element.
template <typename Fn> void forEachRow(const Plain &p, Fn &&fn) {
  if (p.numElements() == 0)
    return;
  size_t outer = p.shape.empty() ? 0 : p.shape.size() - 1;
  int64_t length = p.shape.empty() ? 1 : p.shape.back();
  int64_t stride = p.shape.empty() ? 1 : p.strides.back();
  std::vector<int64_t> index(outer, 0);
  for (;;) {
    int64_t offset = 0;
    for (size_t i = 0; i < outer; ++i)
      offset += index[i] * p.strides[i];
    fn(offset, length, stride);
    size_t d = outer;
    while (d > 0 && ++index[d - 1] == p.shape[d - 1])
      index[--d] = 0;
    if (d == 0)
      return;
  }
}

/// Sets every element of a plain f32 memory to zero (outputs of empty
/// reductions).
void zeroFill(const Plain &p) {
  float *data = static_cast<float *>(p.data);
  forEachRow(p, [&](int64_t offset, int64_t length, int64_t stride) {
    for (int64_t j = 0; j < length; ++j)
      data[offset + j * stride] = 0.f;
  });
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

//===----------------------------------------------------------------------===//
// Layouts chosen by oneDNN
//===----------------------------------------------------------------------===//

/// A memory desc that lets the primitive choose the layout.
dnnl::memory::desc anyLayout(const dims &shape, dnnl::memory::data_type type) {
  return dnnl::memory::desc(shape, type, dnnl::memory::format_tag::any);
}

/// The reorder from `from` to `to`, or an empty primitive when the layouts
/// are the same (the user's buffer is then used as is).
dnnl::primitive makeReorder(const dnnl::memory::desc &from,
                            const dnnl::memory::desc &to) {
  if (from == to)
    return dnnl::primitive();
  return dnnl::reorder(
      dnnl::reorder::primitive_desc(getEngine(), from, getEngine(), to));
}

/// Runs `reorder` (non-empty) from `user` into a scratch memory of `desc`
/// and returns the latter.
dnnl::memory reorderToScratch(const dnnl::primitive &reorder,
                              dnnl::memory user, const dnnl::memory::desc &desc,
                              Scratch::Slot slot) {
  dnnl::memory m = scratchMemory(desc, slot);
  reorder.execute(getStream(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, m}});
  return m;
}

/// Copies of convolution operands in oneDNN's layouts, kept between calls
/// when the compiler's reorder hints say a later convolution reads the same
/// memory unchanged (a forward convolution's x, read again by its filter
/// gradient; g, read by both gradients). Per thread, keyed by address; a read
/// without the `reuse` hint drops every copy of its address, so a copy only
/// serves the chain of unchanged reads that made it (see the compiler's
/// assignReorderHints). Buffers are kept for reuse: steady state allocates
/// nothing.
class ReorderCache {
public:
  /// Drops the copies of `address`: a convolution reads it without `reuse`
  /// (its content may have changed since they were made). Every convolution
  /// read does this, whatever its form, so a stale copy never survives into
  /// a later chain of unchanged reads at the same address.
  static void invalidate(const void *address) {
    auto it = instance().byAddress.find(address);
    if (it != instance().byAddress.end())
      for (Entry &e : it->second)
        e.valid = false;
  }

  /// `user` in `desc`'s layout: a kept copy that is still valid (the caller
  /// invalidated its address unless the read may reuse), else reordered now
  /// into a kept copy with `keep`, else into scratch `slot`.
  static dnnl::memory get(const dnnl::primitive &reorder, dnnl::memory user,
                          const dnnl::memory::desc &desc, Scratch::Slot slot,
                          bool keep) {
    std::vector<Entry> &entries = instance().byAddress[user.get_data_handle()];
    dnnl::memory::desc from = user.get_desc();
    for (Entry &e : entries)
      if (e.valid && e.from == from && e.to == desc)
        return e.copy;
    if (!keep)
      return reorderToScratch(reorder, user, desc, slot);
    Entry *entry = nullptr;
    for (Entry &e : entries)
      if (e.from == from && e.to == desc)
        entry = &e;
    if (!entry) {
      entries.push_back(Entry{from, desc, dnnl::memory(desc, getEngine()), false});
      entry = &entries.back();
    }
    reorder.execute(getStream(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, entry->copy}});
    entry->valid = true;
    return entry->copy;
  }

private:
  struct Entry {
    dnnl::memory::desc from, to;
    dnnl::memory copy; // Owns its buffer.
    bool valid;
  };
  static ReorderCache &instance() {
    thread_local ReorderCache cache;
    return cache;
  }
  std::unordered_map<const void *, std::vector<Entry>> byAddress;
};

/// A constant filter reordered into `desc`, computed on first use and kept
/// for the life of the process.
///
/// Assumption: while a filter address is in this cache, the buffer at that
/// address holds the same values. The compiler passes constant = 1 only for
/// views of the artifact's weights section, which is mapped for as long as
/// the artifact is loaded and never written. The key also holds the plain
/// dims and strides and the chosen layout, so a changed pointer, shape or
/// layout misses; a weights buffer that is unmapped and another mapped at the
/// same address with the same shapes would not (artifacts are not unloaded
/// while their kernels run in this process today).
dnnl::memory getConstantWeights(const Plain &user,
                                const dnnl::primitive &reorder,
                                const dnnl::memory::desc &desc) {
  struct Entry {
    dnnl::memory::desc desc;
    dnnl::memory memory;
  };
  static std::mutex mutex;
  static std::unordered_map<CacheKey, std::vector<Entry>, CacheKeyHash> cache;
  CacheKey key{static_cast<int64_t>(reinterpret_cast<intptr_t>(user.data))};
  user.appendTo(key);
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<Entry> &entries = cache[key];
  for (const Entry &e : entries)
    if (e.desc == desc)
      return e.memory;
  dnnl::memory m(desc, getEngine()); // Owns its (aligned) buffer.
  reorder.execute(getStream(),
                  {{DNNL_ARG_FROM, user.memory()}, {DNNL_ARG_TO, m}});
  getStream().wait();
  entries.push_back({desc, m});
  return m;
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

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

WindowDim fitWindow(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                    int64_t dilation, int64_t padL) {
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
void fitSpatialDims(const char *name, Plain &input, const Plain &output, const WindowParams &w,
                    dims &padL, dims &padR) {
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

/// Swaps the first two logical dims of a stored operand (a view, no copy).
Plain swapFirstTwo(Plain p) {
  std::swap(p.shape[0], p.shape[1]);
  std::swap(p.strides[0], p.strides[1]);
  return p;
}

/// Whether winograd convolutions are allowed: VITC_CPU_CONV=direct turns
/// them off (e.g. to compare results with another direct implementation).
bool winogradAllowed() {
  static const bool allowed = [] {
    const char *choice = std::getenv("VITC_CPU_CONV");
    return !choice || std::strcmp(choice, "direct") != 0;
  }();
  return allowed;
}

/// The algorithm for an f32 convolution whose oneDNN filter is `weights`
/// (O, I, KH, KW), dense, with the strides of the primitive: winograd
/// F(4x4, 3x3) where oneDNN has it (AVX-512) and it pays, else direct.
/// Winograd does about a quarter of the multiplications of a 3x3 stride-1
/// convolution; on one Zen 4 core it takes 0.42x-0.6x the direct kernel's
/// time on a 32->64-channel layer (forward, backward data and weights), but
/// is slower for a handful of channels, where the transforms dominate. Its
/// rounding differs from the direct kernel's by a few ulps of the operands'
/// magnitudes, as with cuDNN's winograd algorithms.
dnnl::algorithm convAlgorithm(const Plain &weights, const dims &strides,
                              const dims &dilations) {
  const dims &w = weights.shape;
  bool fits = weights.type == dnnl::memory::data_type::f32 && w.size() == 4 &&
              w[2] == 3 && w[3] == 3 && w[0] >= 16 && w[1] >= 16 &&
              strides == dims{1, 1} && dilations == dims{0, 0};
  return fits && winogradAllowed() ? dnnl::algorithm::convolution_winograd
                                   : dnnl::algorithm::convolution_direct;
}

/// `makePd(alg)`, or `makePd(direct)` where oneDNN has no winograd kernel
/// for these shapes, layouts or attributes.
template <typename MakePd>
auto withAlgorithm(dnnl::algorithm alg, MakePd &&makePd) {
  if (alg == dnnl::algorithm::convolution_winograd) {
    try {
      return makePd(alg);
    } catch (const dnnl::error &e) {
      if (e.status != dnnl_unimplemented)
        throw;
    }
  }
  return makePd(dnnl::algorithm::convolution_direct);
}

/// One operand of a convolution primitive: its argument id, the layout the
/// primitive reads or writes, and the reorder from (inputs) or to (output)
/// the caller's plain layout, empty where they match.
struct ConvOperand {
  int arg = 0;
  dnnl::memory::desc desc;
  dnnl::primitive reorder;
};

/// How planConv2d computes a convolution (see there).
enum class ConvForm { Forward, FilterGradient, InputGradient };

/// A convolution in the layouts oneDNN chose. `inputs[1]` is the filter in
/// the forward form; `accumulateIn` reads the old output for the sum
/// post-op.
struct ConvPlan {
  ConvForm form = ConvForm::Forward;
  dnnl::primitive conv;
  ConvOperand inputs[2], output;
  dnnl::primitive accumulateIn;
};

/// The (I, O, KH, KW) filter with O and I swapped and the taps reversed,
/// dense, in per-thread scratch: f'[i, o, kh, kw] = f[o, i, KH-1-kh, KW-1-kw].
Plain flipFilter(const Plain &f) {
  const dims &k = f.shape, &st = f.strides;
  dims shape{k[1], k[0], k[2], k[3]};
  size_t bytes = static_cast<size_t>(k[0] * k[1] * k[2] * k[3]) *
                 (f.type == dnnl::memory::data_type::f32 ? 4 : 2);
  void *out = Scratch::get(Scratch::Flipped, std::max<size_t>(bytes, 4));
  auto copy = [&](auto *dst, const auto *src) {
    for (int64_t i = 0; i < k[1]; ++i)
      for (int64_t o = 0; o < k[0]; ++o)
        for (int64_t h = 0; h < k[2]; ++h)
          for (int64_t w = 0; w < k[3]; ++w)
            *dst++ = src[o * st[0] + i * st[1] + (k[2] - 1 - h) * st[2] +
                         (k[3] - 1 - w) * st[3]];
  };
  if (f.type == dnnl::memory::data_type::f32)
    copy(static_cast<float *>(out), static_cast<const float *>(f.data));
  else
    copy(static_cast<uint16_t *>(out), static_cast<const uint16_t *>(f.data));
  Plain p{shape, dims(4), out, f.type};
  p.strides = {k[0] * k[2] * k[3], k[2] * k[3], k[3], 1};
  return p;
}

/// Builds the plan of `conv2d` (below), in one of three forms: the
/// autodiff writes a convolution's gradients as convolutions too (vt.conv2d's
/// VJP), which oneDNN's backward kernels compute faster.
///  - FilterGradient: a window larger than the output is a filter gradient:
///    x^T (C, N, H, W) convolved with g^T (F, N, OH, OW) into dw^T
///    (C, F, KH, KW). oneDNN's backward-weights kernels compute that sum
///    from x, g and dw, about 2.5x faster than a forward convolution with a
///    24x24 "filter": swap the first two dims of each view back and run it,
///    with the forward dilation as stride and the forward stride as dilation.
///  - InputGradient: a stride-1 convolution padded by more than half its
///    window (a "full" convolution: g padded by k - 1) is a transposed one:
///    backward data of g with the filter's taps reversed and channels
///    swapped back (flipFilter), padded by extent - 1 - pad. oneDNN's
///    backward-data kernels (winograd among them) do not handle the forward
///    kernels' large padding.
///  - Forward: everything else.
std::shared_ptr<const ConvPlan> planConv2d(const Plain &input,
                                           const Plain &filter,
                                           const Plain &output,
                                           const dims &strides,
                                           const dims &dilations,
                                           const dims &padL, const dims &padR,
                                           bool accumulate) {
  auto p = std::make_shared<ConvPlan>();
  auto finish = [&](const Plain &a, const dnnl::memory::desc &aDesc, int aArg,
                    const Plain &b, const dnnl::memory::desc &bDesc, int bArg,
                    const Plain &out, const dnnl::memory::desc &outDesc,
                    int outArg) {
    p->inputs[0] = {aArg, aDesc, makeReorder(a.desc(), aDesc)};
    p->inputs[1] = {bArg, bDesc, makeReorder(b.desc(), bDesc)};
    p->output = {outArg, outDesc, makeReorder(outDesc, out.desc())};
    if (accumulate && p->output.reorder)
      p->accumulateIn = makeReorder(out.desc(), outDesc);
  };
  const dims &k = filter.shape, &o = output.shape;
  bool filterGradient = !accumulate && k.size() == 4 &&
                        k[2] * k[3] > o[2] * o[3];
  if (filterGradient) {
    Plain x = swapFirstTwo(input), g = swapFirstTwo(filter),
          dw = swapFirstTwo(output);
    dims bwdStrides{dilations[0] + 1, dilations[1] + 1};
    dims bwdDilations{strides[0] - 1, strides[1] - 1};
    auto anyX = anyLayout(x.shape, x.type), anyG = anyLayout(g.shape, g.type);
    auto pd = withAlgorithm(
        convAlgorithm(dw, bwdStrides, bwdDilations), [&](dnnl::algorithm alg) {
          dnnl::convolution_forward::primitive_desc hint(
              dnnl::convolution_forward::desc(
                  dnnl::prop_kind::forward_training, alg, anyX,
                  anyLayout(dw.shape, x.type), anyG, bwdStrides, bwdDilations,
                  padL, padR),
              getEngine());
          return dnnl::convolution_backward_weights::primitive_desc(
              dnnl::convolution_backward_weights::desc(
                  alg, anyX, anyLayout(dw.shape, dw.type), anyG, bwdStrides,
                  bwdDilations, padL, padR),
              getEngine(), hint);
        });
    p->form = ConvForm::FilterGradient;
    p->conv = dnnl::convolution_backward_weights(pd);
    finish(x, pd.src_desc(), DNNL_ARG_SRC, g, pd.diff_dst_desc(),
           DNNL_ARG_DIFF_DST, dw, pd.diff_weights_desc(),
           DNNL_ARG_DIFF_WEIGHTS);
    return p;
  }
  dims flippedPadL(2), flippedPadR(2);
  bool inputGradient = !accumulate && k.size() == 4 && strides == dims{1, 1};
  for (int i = 0; i < 2 && inputGradient; ++i) {
    int64_t extent = (k[2 + i] - 1) * (dilations[i] + 1) + 1;
    flippedPadL[i] = extent - 1 - padL[i];
    flippedPadR[i] = extent - 1 - padR[i];
    inputGradient = flippedPadL[i] >= 0 && flippedPadR[i] >= 0 &&
                    flippedPadL[i] + flippedPadR[i] < padL[i] + padR[i];
  }
  if (inputGradient) {
    // The roles of the caller's operands: output = dx, input = g.
    Plain w{{k[1], k[0], k[2], k[3]}, {k[0] * k[2] * k[3], k[2] * k[3], k[3], 1},
            nullptr, filter.type};
    auto anyDx = anyLayout(output.shape, output.type),
         anyG = anyLayout(input.shape, input.type),
         anyW = anyLayout(w.shape, w.type);
    auto pd = withAlgorithm(
        convAlgorithm(w, strides, dilations), [&](dnnl::algorithm alg) {
          dnnl::convolution_forward::primitive_desc hint(
              dnnl::convolution_forward::desc(
                  dnnl::prop_kind::forward_training, alg,
                  anyLayout(output.shape, input.type), anyW, anyG, strides,
                  dilations, flippedPadL, flippedPadR),
              getEngine());
          return dnnl::convolution_backward_data::primitive_desc(
              dnnl::convolution_backward_data::desc(alg, anyDx, anyW, anyG,
                                                    strides, dilations,
                                                    flippedPadL, flippedPadR),
              getEngine(), hint);
        });
    p->form = ConvForm::InputGradient;
    p->conv = dnnl::convolution_backward_data(pd);
    finish(input, pd.diff_dst_desc(), DNNL_ARG_DIFF_DST, w, pd.weights_desc(),
           DNNL_ARG_WEIGHTS, output, pd.diff_src_desc(), DNNL_ARG_DIFF_SRC);
    return p;
  }
  auto pd = withAlgorithm(
      convAlgorithm(filter, strides, dilations), [&](dnnl::algorithm alg) {
        return dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(
                dnnl::prop_kind::forward_inference, alg,
                anyLayout(input.shape, input.type),
                anyLayout(filter.shape, filter.type),
                anyLayout(output.shape, output.type), strides, dilations, padL,
                padR),
            accumulateAttr(accumulate), getEngine());
      });
  p->conv = dnnl::convolution_forward(pd);
  finish(input, pd.src_desc(), DNNL_ARG_SRC, filter, pd.weights_desc(),
         DNNL_ARG_WEIGHTS, output, pd.dst_desc(), DNNL_ARG_DST);
  return p;
}

/// `hints`: the compiler's reorder hints (ReorderCache), two bits per read
/// operand, input then filter: reuse, keep. Only for operands read where the
/// caller's buffer is (not a widened or flipped copy).
void conv2d(const char *name, Plain input, Plain filter, Plain output,
            const WindowParams &w, bool accumulate, bool constantFilter,
            int64_t hints) {
  if (output.numElements() == 0)
    return;
  dims padL, padR;
  fitSpatialDims(name, input, output, w, padL, padR);
  dims strides{w.stride[0], w.stride[1]};
  // oneDNN counts dilation from 0 (0 = dense).
  dims dilations{w.dilation[0] - 1, w.dilation[1] - 1};
  CacheKey key{static_cast<int64_t>(KernelId::Conv2d), accumulate};
  input.appendTo(key);
  filter.appendTo(key);
  output.appendTo(key);
  appendToKey(key, strides);
  appendToKey(key, dilations);
  appendToKey(key, padL);
  appendToKey(key, padR);
  try {
    auto plan = getCached<ConvPlan>(key, [&] {
      return planConv2d(input, filter, output, strides, dilations, padL, padR,
                        accumulate);
    });
    for (int i = 0; i < 2; ++i)
      if (!(hints >> (2 * i) & 1))
        ReorderCache::invalidate(i == 0 ? input.data : filter.data);
    if (plan->form == ConvForm::FilterGradient) {
      input = swapFirstTwo(input);
      filter = swapFirstTwo(filter);
      output = swapFirstTwo(output);
    } else if (plan->form == ConvForm::InputGradient) {
      filter = flipFilter(filter);
    }
    dnnl::stream &stream = getStream();
    std::unordered_map<int, dnnl::memory> args;
    const Plain *users[2] = {&input, &filter};
    const Scratch::Slot slots[2] = {Scratch::Src, Scratch::Weights};
    for (int i = 0; i < 2; ++i) {
      const ConvOperand &op = plan->inputs[i];
      dnnl::memory m = users[i]->memory();
      // A flipped filter is a copy in scratch; a constant one is cached by
      // getConstantWeights: neither goes through the ReorderCache.
      bool flipped = i == 1 && plan->form == ConvForm::InputGradient;
      bool constant = i == 1 && constantFilter;
      bool hinted = !flipped && !constant && (hints >> (2 * i) & 3);
      if (op.reorder)
        m = constant && plan->form == ConvForm::Forward
                ? getConstantWeights(filter, op.reorder, op.desc)
            : hinted ? ReorderCache::get(op.reorder, m, op.desc, slots[i],
                                         hints >> (2 * i + 1) & 1)
                     : reorderToScratch(op.reorder, m, op.desc, slots[i]);
      args[op.arg] = m;
    }
    dnnl::memory userDst = output.memory();
    dnnl::memory dst = userDst;
    if (plan->output.reorder) {
      dst = scratchMemory(plan->output.desc, Scratch::Dst);
      if (plan->accumulateIn)
        plan->accumulateIn.execute(
            stream, {{DNNL_ARG_FROM, userDst}, {DNNL_ARG_TO, dst}});
    }
    args[plan->output.arg] = dst;
    plan->conv.execute(stream, args);
    if (plan->output.reorder)
      plan->output.reorder.execute(
          stream, {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, userDst}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fail(name, e);
  }
}

/// A pooling primitive and, when it runs on a blocked copy of the input,
/// the reorders around it.
struct PoolPlan {
  dnnl::primitive pool;
  dnnl::memory::desc src, dst;
  dnnl::primitive srcIn, dstOut;
};

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

//===----------------------------------------------------------------------===//
// bf16 inputs without oneDNN bf16 kernels
//===----------------------------------------------------------------------===//

/// Whether oneDNN computes in bf16 natively on this CPU (avx512_bf16, AMX).
/// Elsewhere oneDNN 2.6 either has no bf16 kernels (AVX2: "unimplemented")
/// or emulates them (AVX-512 without bf16) at up to twice the f32 kernels'
/// time on convolutions; widening the inputs to f32, which is exact, and
/// running the f32 kernels gives the same results faster.
bool hasNativeBf16() {
  static const bool native = [] {
    auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16; // The ISA values nest as bit sets.
  }();
  return native;
}

/// A dense row-major f32 memory of `shape` at `data`.
Plain denseF32(const dims &shape, float *data) {
  Plain p{shape, dims(shape.size()), data, dnnl::memory::data_type::f32};
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    p.strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return p;
}

/// Widens `p` (bf16) into `out` (dense, as denseF32): exact, a bf16 is the
/// upper half of an f32.
void widenInto(const Plain &p, float *out) {
  const uint16_t *in = static_cast<const uint16_t *>(p.data);
  auto *bits = reinterpret_cast<uint32_t *>(out);
  forEachRow(p, [&](int64_t offset, int64_t length, int64_t stride) {
    const uint16_t *row = in + offset;
    if (stride == 1) // Dense rows (the usual case): a loop that vectorises.
      for (int64_t j = 0; j < length; ++j)
        bits[j] = static_cast<uint32_t>(row[j]) << 16;
    else
      for (int64_t j = 0; j < length; ++j)
        bits[j] = static_cast<uint32_t>(row[j * stride]) << 16;
    bits += length;
  });
}

/// A bf16 input as the kernels take it on this CPU: as is where oneDNN
/// computes in bf16 natively, else widened to f32, in per-thread scratch or, for a
/// `constant` operand (same promise as getConstantWeights), in a copy kept
/// for the process so the f32 kernel may cache its layout in turn.
Plain widenBf16(const Plain &p, Scratch::Slot slot, bool constant) {
  if (hasNativeBf16())
    return p;
  size_t elements = static_cast<size_t>(std::max<int64_t>(p.numElements(), 1));
  if (!constant) {
    auto *out = static_cast<float *>(Scratch::get(slot, elements * 4));
    widenInto(p, out);
    return denseF32(p.shape, out);
  }
  static std::mutex mutex;
  static std::unordered_map<CacheKey, std::unique_ptr<float[]>, CacheKeyHash>
      cache;
  CacheKey key{static_cast<int64_t>(reinterpret_cast<intptr_t>(p.data))};
  p.appendTo(key);
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<float[]> &copy = cache[key];
  if (!copy) {
    copy.reset(new float[elements]);
    widenInto(p, copy.get());
  }
  return denseF32(p.shape, copy.get());
}

} // namespace

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

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
