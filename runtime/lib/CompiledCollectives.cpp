//===- CompiledCollectives.cpp - collectives called by compiled steps -----===//
#include "vitc/runtime/CompiledCollectives.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

using namespace vitc::rt;

namespace {

/// The memref<?xT> descriptor the compiled code passes (its C interface).
template <typename T> struct FlatMemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t size;
  int64_t stride;

  T *data() const { return aligned + offset; }
};

std::optional<CollectivesHook> &hook() {
  static std::optional<CollectivesHook> installed;
  return installed;
}

int worldSize() {
  std::optional<CollectivesHook> &h = hook();
  return h ? h->size(h->context) : 1;
}

/// Compiled code cannot take an error back: a failed collective ends the
/// process with the message (under mpirun, the whole job then ends).
[[noreturn]] void fatal(const char *symbol, const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "vitc: %s: %s\n", symbol, message.c_str());
  std::exit(1);
}

template <typename T>
void checkContiguous(const FlatMemRef<T> *buffer, const char *symbol) {
  if (buffer->stride != 1 && buffer->size > 1)
    fatal(symbol, "the buffer is not contiguous");
}

/// The handle of a collective that ran at once (a world of one).
constexpr int64_t kDone = 0;

template <typename T>
int64_t startAllReduce(FlatMemRef<T> *buffer, int64_t reduction,
                       CollectiveDType dtype, const char *symbol) {
  std::optional<CollectivesHook> &h = hook();
  if (!h) // A world of one: the reduction of one value is the value.
    return kDone;
  checkContiguous(buffer, symbol);
  return h->startAllReduce(h->context, buffer->data(), buffer->size, dtype,
                           static_cast<CollectiveReduction>(reduction));
}

template <typename T>
int64_t startAllGather(FlatMemRef<T> *send, FlatMemRef<T> *recv,
                       CollectiveDType dtype, const char *symbol) {
  checkContiguous(send, symbol);
  checkContiguous(recv, symbol);
  int size = worldSize();
  if (recv->size != send->size * size)
    fatal(symbol, "gathering " + std::to_string(send->size) +
                      " elements from each of " + std::to_string(size) +
                      " ranks into " + std::to_string(recv->size));
  std::optional<CollectivesHook> &h = hook();
  if (!h) { // A world of one: a copy.
    std::memcpy(recv->data(), send->data(), send->size * sizeof(T));
    return kDone;
  }
  return h->startAllGather(h->context, send->data(), recv->data(), send->size,
                           dtype);
}

template <typename T>
int64_t startReduceScatter(FlatMemRef<T> *send, FlatMemRef<T> *recv,
                           int64_t reduction, CollectiveDType dtype,
                           const char *symbol) {
  checkContiguous(send, symbol);
  checkContiguous(recv, symbol);
  int size = worldSize();
  if (send->size != recv->size * size)
    fatal(symbol, "scattering " + std::to_string(send->size) +
                      " elements over " + std::to_string(size) +
                      " ranks into blocks of " + std::to_string(recv->size));
  std::optional<CollectivesHook> &h = hook();
  if (!h) { // A world of one: the reduction of one block is the block.
    std::memcpy(recv->data(), send->data(), recv->size * sizeof(T));
    return kDone;
  }
  return h->startReduceScatter(h->context, send->data(), recv->data(),
                               recv->size, dtype,
                               static_cast<CollectiveReduction>(reduction));
}

void wait(int64_t handle, const char *symbol) {
  std::optional<CollectivesHook> &h = hook();
  if (!h || handle == kDone)
    return;
  Status status = h->wait(h->context, handle);
  if (!status.isOk())
    fatal(symbol, status.message());
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
  const char *symbol = "vitc_coll_all_reduce_f32";
  wait(startAllReduce(buffer, reduction, CollectiveDType::F32, symbol), symbol);
}

void _mlir_ciface_vitc_coll_all_reduce_bf16(FlatMemRef<uint16_t> *buffer,
                                            int64_t reduction) {
  const char *symbol = "vitc_coll_all_reduce_bf16";
  wait(startAllReduce(buffer, reduction, CollectiveDType::BF16, symbol), symbol);
}

void _mlir_ciface_vitc_coll_all_reduce_i64(FlatMemRef<int64_t> *buffer,
                                           int64_t reduction) {
  const char *symbol = "vitc_coll_all_reduce_i64";
  wait(startAllReduce(buffer, reduction, CollectiveDType::I64, symbol), symbol);
}

void _mlir_ciface_vitc_coll_all_gather_f32(FlatMemRef<float> *send,
                                           FlatMemRef<float> *recv) {
  const char *symbol = "vitc_coll_all_gather_f32";
  wait(startAllGather(send, recv, CollectiveDType::F32, symbol), symbol);
}

void _mlir_ciface_vitc_coll_all_gather_bf16(FlatMemRef<uint16_t> *send,
                                            FlatMemRef<uint16_t> *recv) {
  const char *symbol = "vitc_coll_all_gather_bf16";
  wait(startAllGather(send, recv, CollectiveDType::BF16, symbol), symbol);
}

void _mlir_ciface_vitc_coll_reduce_scatter_f32(FlatMemRef<float> *send,
                                               FlatMemRef<float> *recv,
                                               int64_t reduction) {
  const char *symbol = "vitc_coll_reduce_scatter_f32";
  wait(startReduceScatter(send, recv, reduction, CollectiveDType::F32, symbol), symbol);
}

void _mlir_ciface_vitc_coll_reduce_scatter_bf16(FlatMemRef<uint16_t> *send,
                                                FlatMemRef<uint16_t> *recv,
                                                int64_t reduction) {
  const char *symbol = "vitc_coll_reduce_scatter_bf16";
  wait(startReduceScatter(send, recv, reduction, CollectiveDType::BF16, symbol), symbol);
}

int64_t vitc_coll_world_size(void) { return worldSize(); }

// The start / wait forms.

int64_t _mlir_ciface_vitc_coll_start_all_reduce_f32(FlatMemRef<float> *buffer,
                                                    int64_t reduction) {
  return startAllReduce(buffer, reduction, CollectiveDType::F32,
                        "vitc_coll_start_all_reduce_f32");
}

int64_t _mlir_ciface_vitc_coll_start_all_reduce_bf16(
    FlatMemRef<uint16_t> *buffer, int64_t reduction) {
  return startAllReduce(buffer, reduction, CollectiveDType::BF16,
                        "vitc_coll_start_all_reduce_bf16");
}

int64_t _mlir_ciface_vitc_coll_start_all_reduce_i64(FlatMemRef<int64_t> *buffer,
                                                    int64_t reduction) {
  return startAllReduce(buffer, reduction, CollectiveDType::I64,
                        "vitc_coll_start_all_reduce_i64");
}

int64_t _mlir_ciface_vitc_coll_start_all_gather_f32(FlatMemRef<float> *send,
                                                    FlatMemRef<float> *recv) {
  return startAllGather(send, recv, CollectiveDType::F32,
                        "vitc_coll_start_all_gather_f32");
}

int64_t _mlir_ciface_vitc_coll_start_all_gather_bf16(FlatMemRef<uint16_t> *send,
                                                     FlatMemRef<uint16_t> *recv) {
  return startAllGather(send, recv, CollectiveDType::BF16,
                        "vitc_coll_start_all_gather_bf16");
}

int64_t _mlir_ciface_vitc_coll_start_reduce_scatter_f32(
    FlatMemRef<float> *send, FlatMemRef<float> *recv, int64_t reduction) {
  return startReduceScatter(send, recv, reduction, CollectiveDType::F32,
                            "vitc_coll_start_reduce_scatter_f32");
}

int64_t _mlir_ciface_vitc_coll_start_reduce_scatter_bf16(
    FlatMemRef<uint16_t> *send, FlatMemRef<uint16_t> *recv,
    int64_t reduction) {
  return startReduceScatter(send, recv, reduction, CollectiveDType::BF16,
                            "vitc_coll_start_reduce_scatter_bf16");
}

void _mlir_ciface_vitc_coll_wait_f32(int64_t handle, FlatMemRef<float> *,
                                     FlatMemRef<float> *) {
  wait(handle, "vitc_coll_wait_f32");
}

void _mlir_ciface_vitc_coll_wait_bf16(int64_t handle, FlatMemRef<uint16_t> *,
                                      FlatMemRef<uint16_t> *) {
  wait(handle, "vitc_coll_wait_bf16");
}

void _mlir_ciface_vitc_coll_wait_i64(int64_t handle, FlatMemRef<int64_t> *,
                                     FlatMemRef<int64_t> *) {
  wait(handle, "vitc_coll_wait_i64");
}

} // extern "C"
