//===- ReorderCache.cpp - copies of operands in oneDNN's layouts ----------===//
#include "ReorderCache.h"

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu { // See OneDnnContext.h.

dnnl::primitive makeReorder(const dnnl::memory::desc &from,
                            const dnnl::memory::desc &to) {
  if (from == to)
    return dnnl::primitive();
  return dnnl::reorder(
      dnnl::reorder::primitive_desc(getEngine(), from, getEngine(), to));
}

void ReorderCache::invalidate(const void *address) {
  auto it = instance().byAddress.find(address);
  if (it != instance().byAddress.end())
    for (Entry &e : it->second)
      e.valid = false;
}

dnnl::memory ReorderCache::get(const dnnl::primitive &reorder,
                               dnnl::memory user,
                               const dnnl::memory::desc &desc,
                               Scratch::Slot slot, bool keep) {
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

ReorderCache &ReorderCache::instance() {
  thread_local ReorderCache cache;
  return cache;
}

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

} // namespace cpu
} // namespace vitc::kernels
