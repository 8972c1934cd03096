//===- ReorderCache.h - layouts chosen by oneDNN, and copies kept in them -===//
//
// Convolution and pooling follow oneDNN's recommended flow: the primitive is
// created with format_tag::any so that oneDNN picks its blocked layouts (on
// plain nchw with strides it otherwise falls back to its reference
// implementation), the activations are reordered into those layouts and the
// result back to the caller's, in per-thread scratch. Two kinds of copies in
// those layouts outlive a call: constant filters (views of the artifact's
// weights section, as the compiler tells us), reordered once and cached (see
// getConstantWeights for the assumption this makes), and the operands the
// compiler's reorder hints say a later convolution reads again (ReorderCache).
// Matmuls keep A and C plain; a constant B gets the same treatment as a
// constant filter.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICES_CPU_REORDERCACHE_H
#define VITC_RUNTIME_DEVICES_CPU_REORDERCACHE_H

#include "OneDnnContext.h"

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu {

/// A memory desc that lets the primitive choose the layout.
inline dnnl::memory::desc anyLayout(const dims &shape,
                                    dnnl::memory::data_type type) {
  return dnnl::memory::desc(shape, type, dnnl::memory::format_tag::any);
}

/// The reorder from `from` to `to`, or an empty primitive when the layouts
/// are the same (the user's buffer is then used as is).
dnnl::primitive makeReorder(const dnnl::memory::desc &from,
                            const dnnl::memory::desc &to);

/// Runs `reorder` (non-empty) from `user` into a scratch memory of `desc`
/// and returns the latter.
inline dnnl::memory reorderToScratch(const dnnl::primitive &reorder,
                                     dnnl::memory user,
                                     const dnnl::memory::desc &desc,
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
  static void invalidate(const void *address);

  /// `user` in `desc`'s layout: a kept copy that is still valid (the caller
  /// invalidated its address unless the read may reuse), else reordered now
  /// into a kept copy with `keep`, else into scratch `slot`.
  static dnnl::memory get(const dnnl::primitive &reorder, dnnl::memory user,
                          const dnnl::memory::desc &desc, Scratch::Slot slot,
                          bool keep);

private:
  struct Entry {
    dnnl::memory::desc from, to;
    dnnl::memory copy; // Owns its buffer.
    bool valid;
  };
  static ReorderCache &instance();
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
                                const dnnl::memory::desc &desc);

} // namespace cpu
} // namespace vitc::kernels

#endif // VITC_RUNTIME_DEVICES_CPU_REORDERCACHE_H
