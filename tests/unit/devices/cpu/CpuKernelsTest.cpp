//===- CpuKernelsTest.cpp - CPU library kernels vs naive references --------===//
//
// Calls each `_mlir_ciface_vitc_cpu_*` kernel the way compiled code does
// (memref descriptors, possibly strided views with offsets) on random data
// and compares with a direct loop-nest reference. Exits non-zero on any
// mismatch. Usage: vitc-kernels-test [seed]
//
// The bf16 (mixed precision) kernels get the same cases: their inputs are
// rounded to bf16 first, in place, so that the f32 reference computes on
// exactly the values the kernel reads; f32 accumulation then keeps them as
// close to it as the f32 kernels. Run with DNNL_MAX_CPU_ISA=AVX2 (or on a
// CPU without avx512_bf16), they take the path that widens to f32.
//
//===----------------------------------------------------------------------===//
#include "CpuKernels.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

std::mt19937 rng;
int failures = 0;

struct Arena;

/// A strided view over shared storage, convertible to a memref descriptor.
struct View {
  std::vector<float> *storage;
  Arena *owner; // Owns the storage.
  int64_t offset = 0;
  std::vector<int64_t> shape, strides;

  float &at(const std::vector<int64_t> &idx) const {
    int64_t o = offset;
    for (size_t i = 0; i < idx.size(); ++i)
      o += idx[i] * strides[i];
    return (*storage)[o];
  }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  template <int N> vitc::kernels::StridedMemRef<float, N> desc() const {
    vitc::kernels::StridedMemRef<float, N> d;
    // Compiled code passes an aligned pointer and an offset in elements.
    d.basePtr = d.data = storage->data();
    d.offset = offset;
    for (int i = 0; i < N; ++i) {
      d.sizes[i] = shape[i];
      d.strides[i] = strides[i];
    }
    return d;
  }
  /// The same view of a bf16 copy of the storage (defined below).
  template <int N> vitc::kernels::StridedMemRef<uint16_t, N> bf16Desc() const;
  View permuted(const std::vector<int> &perm) const {
    View v = *this;
    for (size_t i = 0; i < perm.size(); ++i) {
      v.shape[i] = shape[perm[i]];
      v.strides[i] = strides[perm[i]];
    }
    return v;
  }
  /// The sub-block [begin, begin + size) of each dim.
  View slice(const std::vector<int64_t> &begin,
             const std::vector<int64_t> &size) const {
    View v = *this;
    for (size_t i = 0; i < begin.size(); ++i)
      v.offset += begin[i] * strides[i];
    v.shape = size;
    return v;
  }
};

/// The bf16 nearest to `f` (ties to even) as bits; the test data has no NaN.
uint16_t roundToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// Owns buffers so views stay valid for a test case.
struct Arena {
  std::vector<std::vector<float> *> buffers;
  std::map<std::vector<float> *, std::vector<uint16_t> *> bf16Copies;
  ~Arena() {
    for (auto *b : buffers)
      delete b;
    for (auto &entry : bf16Copies)
      delete entry.second;
  }
  /// The bf16 copy of `storage`, one per storage buffer (so a constant
  /// operand keeps its address): every element is rounded to bf16 in place
  /// first, so that the f32 reference reads exactly the kernel's inputs.
  std::vector<uint16_t> *bf16Of(std::vector<float> *storage) {
    std::vector<uint16_t> *&bits = bf16Copies[storage];
    if (bits)
      return bits;
    bits = new std::vector<uint16_t>(storage->size());
    for (size_t i = 0; i < bits->size(); ++i) {
      (*bits)[i] = roundToBf16((*storage)[i]);
      uint32_t wide = static_cast<uint32_t>((*bits)[i]) << 16;
      std::memcpy(&(*storage)[i], &wide, sizeof(wide));
    }
    return bits;
  }
  View random(std::vector<int64_t> shape) {
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    return filled(shape, [&] { return dist(rng); });
  }
  View zeros(std::vector<int64_t> shape) {
    return filled(shape, [] { return 0.f; });
  }
  template <typename F> View filled(std::vector<int64_t> shape, F next) {
    View v;
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    v.storage = new std::vector<float>(n);
    v.owner = this;
    buffers.push_back(v.storage);
    for (float &x : *v.storage)
      x = next();
    v.shape = shape;
    v.strides.assign(shape.size(), 1);
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
      v.strides[i] = v.strides[i + 1] * shape[i + 1];
    return v;
  }
  View copy(const View &src) {
    View v = zeros(src.shape);
    forEach(src.shape, [&](const std::vector<int64_t> &i) { v.at(i) = src.at(i); });
    return v;
  }

  template <typename F>
  static void forEach(const std::vector<int64_t> &shape, F f) {
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t d : shape)
      if (d == 0)
        return;
    for (;;) {
      f(idx);
      size_t d = shape.size();
      while (d > 0 && ++idx[d - 1] == shape[d - 1])
        idx[--d] = 0;
      if (d == 0)
        return;
    }
  }
};

template <int N>
vitc::kernels::StridedMemRef<uint16_t, N> View::bf16Desc() const {
  std::vector<uint16_t> *bits = owner->bf16Of(storage);
  auto f = desc<N>();
  vitc::kernels::StridedMemRef<uint16_t, N> d;
  d.basePtr = d.data = bits->data();
  d.offset = f.offset;
  for (int i = 0; i < N; ++i) {
    d.sizes[i] = f.sizes[i];
    d.strides[i] = f.strides[i];
  }
  return d;
}

void expectClose(const std::string &name, const View &got, const View &want) {
  double maxErr = 0;
  Arena::forEach(want.shape, [&](const std::vector<int64_t> &i) {
    double g = got.at(i), w = want.at(i);
    double err = std::isinf(w) && g == w ? 0 : std::abs(g - w) / (1 + std::abs(w));
    if (!(err <= maxErr))
      maxErr = std::isnan(err) ? INFINITY : std::max(maxErr, err);
  });
  bool ok = maxErr < 1e-4;
  std::printf("%s %-48s max rel err %.3g\n", ok ? "PASS" : "FAIL", name.c_str(),
              maxErr);
  if (!ok)
    ++failures;
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

/// c[b] (+)= a[b] x b[b] on logical (batch, rows, cols) views; a batch of 1
/// broadcasts.
void refMatmul(const View &a, const View &b, View &c, bool accumulate) {
  int64_t batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = accumulate ? c.at({p, i, j}) : 0;
        for (int64_t l = 0; l < k; ++l)
          sum += double(a.at({a.shape[0] == 1 ? 0 : p, i, l})) *
                 b.at({b.shape[0] == 1 ? 0 : p, l, j});
        c.at({p, i, j}) = static_cast<float>(sum);
      }
}

View as3d(View v) {
  v.shape.insert(v.shape.begin(), 1);
  v.strides.insert(v.strides.begin(), v.numElements());
  return v;
}

/// Which kernels a test calls: f32, or bf16 inputs with an f32 output.
enum class Precision { F32, BF16 };

std::string named(const std::string &name, Precision p) {
  return p == Precision::BF16 ? name + " [bf16]" : name;
}

/// `a`/`b` are the stored operands (transposed when the flag is set).
void testMatmul2d(Precision p, const std::string &name, Arena &arena, View a,
                  View b, bool transA, bool transB, bool accumulate,
                  bool constantB = false) {
  View la = transA ? a.permuted({1, 0}) : a;
  View lb = transB ? b.permuted({1, 0}) : b;
  // bf16 descriptors first: they round a and b for the reference.
  vitc::kernels::StridedMemRef<uint16_t, 2> ha{}, hb{};
  if (p == Precision::BF16)
    ha = a.bf16Desc<2>(), hb = b.bf16Desc<2>();
  View c = arena.random({la.shape[0], lb.shape[1]});
  View want = arena.copy(c);
  View want3 = as3d(want);
  refMatmul(as3d(la), as3d(lb), want3, accumulate);
  auto da = a.desc<2>(), db = b.desc<2>(), dc = c.desc<2>();
  if (p == Precision::BF16)
    _mlir_ciface_vitc_cpu_matmul_bf16(&ha, &hb, &dc, transA, transB,
                                      accumulate, constantB);
  else
    _mlir_ciface_vitc_cpu_matmul_f32(&da, &db, &dc, transA, transB, accumulate,
                                     constantB);
  expectClose(named(name, p), c, want);
}

/// Batched `a` x `b` (stored transposed if `transB`) into a fresh random C.
void testBatchMatmul(Precision p, const std::string &name, Arena &arena,
                     View a, View b, bool transB, bool accumulate,
                     bool constantB) {
  View lb = transB ? b.permuted({0, 2, 1}) : b;
  vitc::kernels::StridedMemRef<uint16_t, 3> ha{}, hb{};
  if (p == Precision::BF16)
    ha = a.bf16Desc<3>(), hb = b.bf16Desc<3>();
  View c = arena.random({a.shape[0], a.shape[1], lb.shape[2]});
  View want = arena.copy(c);
  refMatmul(a, lb, want, accumulate);
  auto da = a.desc<3>(), db = b.desc<3>(), dc = c.desc<3>();
  if (p == Precision::BF16)
    _mlir_ciface_vitc_cpu_batch_matmul_bf16(&ha, &hb, &dc, 0, transB,
                                            accumulate, constantB);
  else
    _mlir_ciface_vitc_cpu_batch_matmul_f32(&da, &db, &dc, 0, transB,
                                           accumulate, constantB);
  expectClose(named(name, p), c, want);
}

/// Constant B (a weight), which the kernel packs into oneDNN's layout once
/// and caches by address. The constant promise requires that the values at
/// a cached address never change, so the weights live (unchanged) for the
/// whole process: the second round of testMatmuls then reads the packed
/// copies from the cache, against fresh A and C. Each precision has its own
/// weights: rounding to bf16 changes them in place.
void testConstantB(Precision p, Arena &arena) {
  struct Weights {
    View wT, w, wShared, wBatched;
  };
  static Arena weightsArena;
  auto make = [] {
    return Weights{weightsArena.random({96, 64}),     // Linear (N, K).
                   weightsArena.random({48, 80}),     // (K, N).
                   weightsArena.random({1, 40, 64}),  // (1, N, K).
                   weightsArena.random({2, 32, 24})};
  };
  static const Weights sets[2] = {make(), make()};
  const Weights &ws = sets[p == Precision::BF16];
  testMatmul2d(p, "matmul constant B transposed (x W^T)", arena,
               arena.random({17, 64}), ws.wT, false, true, false, true);
  // The same weight at M = 1 (a batch of one image): another primitive,
  // maybe another packed layout, of the same cached buffer.
  testMatmul2d(p, "matmul constant B transposed, M = 1", arena,
               arena.random({1, 64}), ws.wT, false, true, false, true);
  testMatmul2d(p, "matmul constant B, accumulate, strided A", arena,
               arena.random({9, 60}).slice({0, 5}, {9, 48}), ws.w, false,
               false, true, true);
  // (B, T, C) x W^T with W shared: the batch merges into M.
  testBatchMatmul(p, "batch_matmul constant shared B transposed", arena,
                  arena.random({3, 7, 64}), ws.wShared, true, false, true);
  testBatchMatmul(p, "batch_matmul constant batched B", arena,
                  arena.random({2, 5, 32}), ws.wBatched, false, true, true);
}

void testMatmuls(Precision p) {
  Arena arena;
  testMatmul2d(p, "matmul 17x33 * 33x9", arena, arena.random({17, 33}),
               arena.random({33, 9}), false, false, false);
  testMatmul2d(p, "matmul accumulate", arena, arena.random({8, 16}),
               arena.random({16, 24}), false, false, true);
  testMatmul2d(p, "matmul transposed B (x W^T)", arena, arena.random({5, 12}),
               arena.random({7, 12}), false, true, false);
  testMatmul2d(p, "matmul transposed A", arena, arena.random({12, 5}),
               arena.random({12, 7}), true, false, false);
  // Strided views with offsets: a column block of a wider matrix (the
  // q/k/v split of a fused projection), a row block of B.
  View wide = arena.random({6, 30});
  View tall = arena.random({40, 11});
  testMatmul2d(p, "matmul on strided subviews", arena,
               wide.slice({0, 10}, {6, 10}), tall.slice({3, 0}, {10, 11}),
               false, false, false);
  testMatmul2d(p, "matmul K = 0", arena, arena.random({3, 0}),
               arena.random({0, 4}), false, false, false);
  // A large K: f32 accumulation keeps bf16 products within tolerance.
  testMatmul2d(p, "matmul 8x1024 * 1024x16", arena, arena.random({8, 1024}),
               arena.random({1024, 16}), false, false, false);

  // Batched, transposed B (attention scores q k^T), broadcast B.
  testBatchMatmul(p, "batch_matmul transposed B", arena,
                  arena.random({3, 4, 8}), arena.random({3, 5, 8}), true,
                  false, false);
  testBatchMatmul(p, "batch_matmul broadcast B, accumulate", arena,
                  arena.random({4, 6, 10}), arena.random({1, 10, 3}), false,
                  true, false);
  testConstantB(p, arena);
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

struct Window {
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  int64_t outSize(int64_t in, bool h) const {
    int64_t k = h ? kh : kw, s = h ? sh : sw, d = h ? dh : dw;
    int64_t pad = h ? pt + pb : pl + pr;
    return (in + pad - (k - 1) * d - 1) / s + 1;
  }
};

/// Grouped NCHW convolution over zero padding; filter (G*F, C, KH, KW).
void refConv(const View &in, const View &filter, View &out, const Window &w,
             int64_t groups, bool accumulate) {
  int64_t n = out.shape[0], oc = out.shape[1], oh = out.shape[2],
          ow = out.shape[3], icg = filter.shape[1], h = in.shape[2],
          wd = in.shape[3], ocg = oc / groups;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          double sum = accumulate ? out.at({b, o, y, x}) : 0;
          int64_t g = o / ocg;
          for (int64_t c = 0; c < icg; ++c)
            for (int64_t ky = 0; ky < w.kh; ++ky)
              for (int64_t kx = 0; kx < w.kw; ++kx) {
                int64_t iy = y * w.sh + ky * w.dh - w.pt;
                int64_t ix = x * w.sw + kx * w.dw - w.pl;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                  continue;
                sum += double(in.at({b, g * icg + c, iy, ix})) *
                       filter.at({o, c, ky, kx});
              }
          out.at({b, o, y, x}) = static_cast<float>(sum);
        }
}

void testConv(Precision p, const std::string &name, int64_t n, int64_t c,
              int64_t h, int64_t wd, int64_t f, int64_t groups, Window w,
              bool accumulate, bool stridedInput = false,
              bool constantFilter = false, bool swappedViews = false) {
  Arena arena;
  View in = arena.random({n, c, h, wd});
  if (stridedInput) // A window into a bigger image: offset + row strides.
    in = arena.random({n, c, h + 3, wd + 5}).slice({0, 0, 2, 1}, {n, c, h, wd});
  // A constant filter's address must never hold other values while the
  // process runs (kernels cache it reordered): it lives as long.
  static Arena constants;
  View filter = (constantFilter ? constants : arena)
                    .random({f, c / groups, w.kh, w.kw});
  if (swappedViews) { // x^T and g^T as the autodiff's filter gradient reads them.
    in = arena.random({c, n, h, wd}).permuted({1, 0, 2, 3});
    filter = arena.random({c, f, w.kh, w.kw}).permuted({1, 0, 2, 3});
  }
  View out = arena.random({n, f, w.outSize(h, true), w.outSize(wd, false)});
  bool bf16 = p == Precision::BF16;
  vitc::kernels::StridedMemRef<uint16_t, 4> hi{}, hf{};
  if (bf16) // Rounds the inputs for the reference.
    hi = in.bf16Desc<4>(), hf = filter.bf16Desc<4>();
  View want = arena.copy(out);
  refConv(in, filter, want, w, groups, accumulate);
  if (groups == 1) {
    auto di = in.desc<4>(), df = filter.desc<4>(), dout = out.desc<4>();
    if (bf16)
      _mlir_ciface_vitc_cpu_conv2d_bf16(&hi, &hf, &dout, w.sh, w.sw, w.dh,
                                        w.dw, w.pt, w.pl, w.pb, w.pr,
                                        accumulate, constantFilter, 0);
    else
      _mlir_ciface_vitc_cpu_conv2d_f32(&di, &df, &dout, w.sh, w.sw, w.dh,
                                       w.dw, w.pt, w.pl, w.pb, w.pr,
                                       accumulate, constantFilter, 0);
  } else {
    // linalg's ngchw / gfchw / ngfhw views of the same buffers.
    auto split = [&](View v, int64_t g) {
      View r = v;
      r.shape = {v.shape[0], g, v.shape[1] / g, v.shape[2], v.shape[3]};
      r.strides = {v.strides[0], v.strides[1] * (v.shape[1] / g), v.strides[1],
                   v.strides[2], v.strides[3]};
      return r;
    };
    View gi = split(in, groups), go = split(out, groups);
    View gf = filter;
    gf.shape = {groups, f / groups, filter.shape[1], w.kh, w.kw};
    gf.strides = {filter.strides[0] * (f / groups), filter.strides[0],
                  filter.strides[1], filter.strides[2], filter.strides[3]};
    auto di = gi.desc<5>(), df = gf.desc<5>(), dout = go.desc<5>();
    if (bf16) {
      auto hgi = gi.bf16Desc<5>(), hgf = gf.bf16Desc<5>();
      _mlir_ciface_vitc_cpu_conv2d_grouped_bf16(
          &hgi, &hgf, &dout, w.sh, w.sw, w.dh, w.dw, w.pt, w.pl, w.pb, w.pr,
          accumulate, constantFilter, 0);
    } else {
      _mlir_ciface_vitc_cpu_conv2d_grouped_f32(
          &di, &df, &dout, w.sh, w.sw, w.dh, w.dw, w.pt, w.pl, w.pb, w.pr,
          accumulate, constantFilter, 0);
    }
  }
  expectClose(named(name, p), out, want);
}

/// The compiler's reorder hints: a kept copy of x in oneDNN's layout serves
/// the next read that says `reuse`, and a read without it drops the copy
/// (here x changes in between: a stale copy would give the old result).
void testReorderHints() {
  Arena arena;
  Window w{3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  View x = arena.random({2, 32, 10, 10});
  View f1 = arena.random({32, 32, 3, 3}), f2 = arena.random({32, 32, 3, 3});
  auto run = [&](const std::string &name, const View &filter, int64_t hints) {
    View out = arena.zeros({2, 32, 10, 10});
    View want = arena.copy(out);
    refConv(x, filter, want, w, 1, false);
    auto dx = x.desc<4>(), df = filter.desc<4>(), dout = out.desc<4>();
    _mlir_ciface_vitc_cpu_conv2d_f32(&dx, &df, &dout, w.sh, w.sw, w.dh, w.dw,
                                     w.pt, w.pl, w.pb, w.pr, 0, 0, hints);
    expectClose(name, out, want);
  };
  run("conv hints: keep x", f1, 2);
  run("conv hints: reuse kept x", f2, 1 | 2);
  for (float &v : *x.storage) // x changes: the next read says no reuse.
    v = -v + 0.25f;
  run("conv hints: changed x, keep again", f1, 2);
  run("conv hints: reuse the new copy", f2, 1);
}

void testConvs(Precision p) {
  testConv(p, "conv 3x3 pad 1", 2, 3, 8, 8, 4, 1, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
           false);
  testConv(p, "conv 7x7 stride 2 pad 3 (resnet stem)", 1, 3, 15, 14, 8, 1,
           {7, 7, 2, 2, 1, 1, 3, 3, 3, 3}, false);
  testConv(p, "conv patchify 4x4 stride 4 (vit)", 2, 3, 16, 16, 6, 1,
           {4, 4, 4, 4, 1, 1, 0, 0, 0, 0}, false);
  testConv(p, "conv stride 2 drops last row", 1, 2, 8, 9, 3, 1,
           {3, 3, 2, 2, 1, 1, 0, 0, 0, 0}, false);
  testConv(p, "conv dilated 2, asymmetric pads", 1, 4, 10, 9, 5, 1,
           {3, 2, 1, 2, 2, 2, 2, 0, 1, 3}, false);
  testConv(p, "conv accumulate (bias in init)", 2, 4, 6, 6, 3, 1,
           {1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, true);
  testConv(p, "conv strided input view", 1, 3, 7, 6, 2, 1,
           {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, false, true);
  testConv(p, "conv grouped 2", 2, 4, 7, 7, 6, 2, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
           false);
  testConv(p, "conv depthwise (groups = C) stride 2", 1, 8, 9, 9, 8, 8,
           {3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, false);
  testConv(p, "conv grouped accumulate", 1, 6, 5, 5, 9, 3,
           {3, 3, 1, 1, 1, 1, 0, 0, 0, 0}, true);
  // Constant filters are cached reordered, keyed by address and shape.
  testConv(p, "conv constant filter, blocked channels, stride 2", 2, 32, 9, 9, 48,
           1, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, false, false, true);
  testConv(p, "conv constant filter, accumulate, strided input", 1, 16, 6, 7, 32,
           1, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, true, true, true);
  testConv(p, "conv constant filter, grouped", 1, 32, 6, 6, 32, 2,
           {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, false, false, true);
  // Pointwise (1x1, stride 1, unpadded) runs on the NCHW views as they are.
  testConv(p, "conv pointwise 64 -> 256 channels (resnet bottleneck)", 2, 64, 7,
           7, 256, 1, {1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, false, false, true);
  // Winograd where oneDNN has it (f32, 3x3, stride 1, >= 16 channels).
  testConv(p, "conv 3x3 32 -> 32 channels (winograd)", 2, 32, 10, 10, 32, 1,
           {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, false);
  // A window larger than the output: run as oneDNN's backward weights, on
  // transposed views like the autodiff's x^T and g^T.
  testConv(p, "conv filter-gradient form, transposed views", 16, 4, 12, 12, 32,
           1, {10, 10, 1, 1, 1, 1, 0, 0, 0, 0}, false, false, false, true);
  testConv(p, "conv filter-gradient form, dilation 2 (stride-2 forward)", 8, 3,
           11, 11, 6, 1, {5, 5, 1, 1, 2, 2, 0, 0, 0, 0}, false, false, false,
           true);
  testConv(p, "conv filter-gradient form, padded", 4, 2, 7, 7, 5, 1,
           {6, 6, 1, 1, 1, 1, 1, 1, 1, 1}, false);
  // Padded by more than half the window: run as backward data with the
  // filter flipped.
  testConv(p, "conv input-gradient form (full padding)", 2, 32, 6, 6, 16, 1,
           {3, 3, 1, 1, 1, 1, 2, 2, 2, 2}, false);
  testConv(p, "conv input-gradient form, dilated, asymmetric", 1, 3, 5, 6, 4, 1,
           {3, 2, 1, 1, 2, 1, 4, 1, 3, 1}, false);
  testConv(p, "conv input-gradient form, strided input view", 1, 5, 4, 4, 3, 1,
           {3, 3, 1, 1, 1, 1, 2, 2, 2, 2}, false, true);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

void refPool(const View &in, View &out, const Window &w, bool isMax) {
  int64_t h = in.shape[2], wd = in.shape[3];
  Arena::forEach(out.shape, [&](const std::vector<int64_t> &i) {
    double acc = isMax ? -INFINITY : 0;
    for (int64_t ky = 0; ky < w.kh; ++ky)
      for (int64_t kx = 0; kx < w.kw; ++kx) {
        int64_t iy = i[2] * w.sh + ky * w.dh - w.pt;
        int64_t ix = i[3] * w.sw + kx * w.dw - w.pl;
        if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
          continue; // Padding: -inf for max, 0 for sum.
        double v = in.at({i[0], i[1], iy, ix});
        acc = isMax ? std::max(acc, v) : acc + v;
      }
    out.at(i) = static_cast<float>(acc);
  });
}

void testPool(const std::string &name, bool isMax, int64_t n, int64_t c,
              int64_t h, int64_t wd, Window w) {
  Arena arena;
  View in = arena.random({n, c, h, wd});
  View out = arena.random({n, c, w.outSize(h, true), w.outSize(wd, false)});
  View want = arena.copy(out);
  refPool(in, want, w, isMax);
  auto di = in.desc<4>(), dout = out.desc<4>();
  (isMax ? _mlir_ciface_vitc_cpu_max_pool2d_f32
         : _mlir_ciface_vitc_cpu_sum_pool2d_f32)(&di, &dout, w.kh, w.kw, w.sh,
                                                 w.sw, w.dh, w.dw, w.pt, w.pl,
                                                 w.pb, w.pr);
  expectClose(name, out, want);
}

void testPools() {
  testPool("max pool 3x3 stride 2 pad 1 (resnet)", true, 2, 3, 11, 12,
           {3, 3, 2, 2, 1, 1, 1, 1, 1, 1});
  testPool("max pool 2x2 stride 2", true, 1, 4, 8, 8,
           {2, 2, 2, 2, 1, 1, 0, 0, 0, 0});
  testPool("max pool dilated 2, ceil-mode extra pad", true, 1, 2, 9, 10,
           {2, 3, 2, 2, 2, 2, 0, 0, 1, 2});
  testPool("sum pool 3x3 stride 1 pad 1", false, 2, 3, 6, 7,
           {3, 3, 1, 1, 1, 1, 1, 1, 1, 1});
  testPool("sum pool global 7x7", false, 2, 5, 7, 7,
           {7, 7, 1, 1, 1, 1, 0, 0, 0, 0});
  testPool("sum pool stride 2, asymmetric pads", false, 1, 3, 8, 9,
           {2, 3, 2, 2, 1, 1, 1, 0, 0, 2});
}

} // namespace

int main(int argc, char **argv) {
  rng.seed(argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1234);
  for (Precision p : {Precision::F32, Precision::BF16}) {
    testMatmuls(p);
    testConvs(p);
  }
  testReorderHints();
  testPools();
  // A second call of every shape hits the primitive cache: run it again.
  for (Precision p : {Precision::F32, Precision::BF16})
    testMatmuls(p);
  if (failures)
    std::printf("%d kernel test(s) FAILED\n", failures);
  else
    std::printf("all kernel tests passed\n");
  return failures ? 1 : 0;
}
