//===- CompiledCollectives.cpp - collectives called by compiled steps -----===//
#include "vitc/runtime/CompiledCollectives.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

using namespace vitc::rt;

namespace {

/// The memref<?xT> descriptor the compiled code passes (its C interface).
template <typename T> struct FlatMemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t size;
  int64_t stride;
};

std::optional<CollectivesHook> &hook() {
  static std::optional<CollectivesHook> installed;
  return installed;
}

/// Compiled code cannot take an error back: a failed collective ends the
/// process with the message (under mpirun, the whole job then ends).
template <typename T>
void allReduce(FlatMemRef<T> *buffer, int64_t reduction, CollectiveDType dtype,
               const char *symbol) {
  std::optional<CollectivesHook> &h = hook();
  if (!h) // A world of one: the reduction of one value is the value.
    return;
  if (buffer->stride != 1 && buffer->size > 1) {
    std::fprintf(stderr, "vitc: %s: the buffer is not contiguous\n", symbol);
    std::exit(1);
  }
  Status status = h->allReduce(h->context, buffer->aligned + buffer->offset,
                               buffer->size, dtype,
                               static_cast<CollectiveReduction>(reduction));
  if (!status.isOk()) {
    std::fflush(stdout);
    std::fprintf(stderr, "vitc: %s: %s\n", symbol, status.message().c_str());
    std::exit(1);
  }
}

} // namespace

void vitc::rt::setCollectivesHook(const CollectivesHook *newHook) {
  if (newHook)
    hook() = *newHook;
  else
    hook().reset();
}

extern "C" {

void _mlir_ciface_vitc_coll_all_reduce_f32(FlatMemRef<float> *buffer,
                                           int64_t reduction) {
  allReduce(buffer, reduction, CollectiveDType::F32, "vitc_coll_all_reduce_f32");
}

void _mlir_ciface_vitc_coll_all_reduce_bf16(FlatMemRef<uint16_t> *buffer,
                                            int64_t reduction) {
  allReduce(buffer, reduction, CollectiveDType::BF16,
            "vitc_coll_all_reduce_bf16");
}

void _mlir_ciface_vitc_coll_all_reduce_i64(FlatMemRef<int64_t> *buffer,
                                           int64_t reduction) {
  allReduce(buffer, reduction, CollectiveDType::I64, "vitc_coll_all_reduce_i64");
}

} // extern "C"
