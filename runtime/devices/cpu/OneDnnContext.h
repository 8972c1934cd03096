//===- OneDnnContext.h - what every CPU library kernel builds on ----------===//
//
// Each kernel describes its operands to oneDNN as plain (strided) memory,
// builds the primitive once per (kernel, dims, strides, attributes) and keeps
// it in a process-wide cache: creating a oneDNN primitive costs far more
// than running a small one. One engine serves the process; each thread has
// its own stream (oneDNN streams are not meant to be shared across threads).
//
// Internal to the kernels (OneDnnContext.cpp, ReorderCache.cpp, Matmul.cpp,
// Conv2d.cpp, Pool2d.cpp, Bf16.cpp, EntryPoints.cpp); the library exports
// only the C entry points of CpuKernels.h. The small helpers that every call
// runs are inline here, as they were in one file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICES_CPU_ONEDNNCONTEXT_H
#define VITC_RUNTIME_DEVICES_CPU_ONEDNNCONTEXT_H

#include "CpuKernels.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace vitc::kernels {
// Hidden: one engine, stream, cache and scratch per process (or thread) for
// all kernel files, called directly (not through the PLT), and not exported
// to the code the runtime loads. The .cpp files reopen the namespace with the
// same attribute: a definition in a plain `namespace vitc::kernels::cpu`
// block would be exported again.
namespace __attribute__((visibility("hidden"))) cpu {

using dims = dnnl::memory::dims;

/// Aborts with a message naming `kernel` and oneDNN's status: compiled code
/// has no way to handle a kernel failure.
[[noreturn]] void fail(const char *kernel, const dnnl::error &e);

inline dnnl::engine &getEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

inline dnnl::stream &getStream() {
  thread_local dnnl::stream stream(getEngine());
  return stream;
}

//===----------------------------------------------------------------------===//
// Primitive cache
//===----------------------------------------------------------------------===//

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

inline void appendToKey(CacheKey &key, const dims &values) {
  key.push_back(static_cast<int64_t>(values.size()));
  key.insert(key.end(), values.begin(), values.end());
}

//===----------------------------------------------------------------------===//
// Scratch
//===----------------------------------------------------------------------===//

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
inline dnnl::memory scratchMemory(const dnnl::memory::desc &desc,
                                  Scratch::Slot slot) {
  return dnnl::memory(desc, getEngine(), Scratch::get(slot, desc.get_size()));
}

//===----------------------------------------------------------------------===//
// Plain operands
//===----------------------------------------------------------------------===//

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

/// Attributes that add the primitive's result to its destination's old
/// content when `accumulate` (a sum post-op), else none.
dnnl::primitive_attr accumulateAttr(bool accumulate);

} // namespace cpu
} // namespace vitc::kernels

#endif // VITC_RUNTIME_DEVICES_CPU_ONEDNNCONTEXT_H
