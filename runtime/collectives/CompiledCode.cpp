//===- CompiledCode.cpp - a communicator for compiled steps ---------------===//
#include "vitc/collectives/CompiledCode.h"

#include "vitc/runtime/CompiledCollectives.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <vector>

namespace vitc::coll {

namespace {

StatusOr<DType> dtypeOf(rt::CollectiveDType dtype) {
  switch (dtype) {
  case rt::CollectiveDType::F32:
    return DType::F32;
  case rt::CollectiveDType::BF16:
    return DType::BF16;
  case rt::CollectiveDType::I64:
    return DType::I64;
  }
  return Status::error("unknown dtype of a compiled collective");
}

StatusOr<ReduceOp> opOf(rt::CollectiveReduction reduction) {
  switch (reduction) {
  case rt::CollectiveReduction::Sum:
    return ReduceOp::Sum;
  case rt::CollectiveReduction::Max:
    return ReduceOp::Max;
  case rt::CollectiveReduction::Average:
    return ReduceOp::Mean;
  }
  return Status::error("unsupported reduction #" +
                       std::to_string(static_cast<int64_t>(reduction)) +
                       " of a compiled collective (sum, max and average "
                       "run)");
}

/// Makes this rank's `count` values at `data` its contribution to a
/// reduction when its slice of the batch is not an equal one (see
/// CompiledCode.h); returns the op that then combines the contributions.
ReduceOp weightContribution(void *data, int64_t count, DType dtype,
                            ReduceOp op, double share) {
  if (op == ReduceOp::Max) { // only a stand-in (share 0) changes a max
    if (share == 0 && dtype == DType::I64)
      std::fill_n(static_cast<int64_t *>(data), count,
                  std::numeric_limits<int64_t>::min());
    else if (share == 0 && dtype == DType::F32)
      std::fill_n(static_cast<float *>(data), count,
                  -std::numeric_limits<float>::infinity());
    else if (share == 0)
      std::fill_n(static_cast<uint16_t *>(data), count,
                  bf16FromFloat(-std::numeric_limits<float>::infinity()));
    return op;
  }
  // A sum counts samples (hits): a stand-in adds nothing; an average is
  // the share-weighted sum.
  double weight = op == ReduceOp::Mean ? share : (share == 0 ? 0.0 : 1.0);
  if (weight == 1.0)
    return ReduceOp::Sum;
  if (dtype == DType::I64) {
    if (weight == 0)
      std::fill_n(static_cast<int64_t *>(data), count, int64_t(0));
  } else if (dtype == DType::F32) {
    auto *values = static_cast<float *>(data);
    for (int64_t i = 0; i < count; ++i) // zero, not 0 * NaN, for a stand-in
      values[i] = weight == 0 ? 0.f : static_cast<float>(values[i] * weight);
  } else {
    auto *values = static_cast<uint16_t *>(data);
    for (int64_t i = 0; i < count; ++i)
      values[i] = bf16FromFloat(
          weight == 0 ? 0.f
                      : static_cast<float>(floatFromBf16(values[i]) * weight));
  }
  return ReduceOp::Sum;
}

/// The dtype and op of a compiled collective in the library's terms.
Status convert(rt::CollectiveDType dtype, rt::CollectiveReduction reduction,
               DType &type, ReduceOp &op) {
  StatusOr<DType> t = dtypeOf(dtype);
  if (!t.isOk())
    return t.status();
  StatusOr<ReduceOp> o = opOf(reduction);
  if (!o.isOk())
    return o.status();
  type = *t;
  op = *o;
  return Status::ok();
}

/// Every rank must take the same branch: slices (data::RankSlice) are
/// equal exactly when the batch divides evenly.
bool equalSlices(const CompiledCodeCollectives::Context &c) {
  return c.global % c.communicator->size() == 0;
}

using Context = CompiledCodeCollectives::Context;
using Pending = CompiledCodeCollectives::Pending;

/// Records `pending` and returns its handle.
int64_t track(Context &c, Pending pending) {
  int64_t handle = c.nextHandle++;
  c.pending.emplace(handle, std::move(pending));
  return handle;
}

int64_t startAllReduce(void *context, void *data, int64_t count,
                       rt::CollectiveDType dtype,
                       rt::CollectiveReduction reduction) {
  auto &c = *static_cast<Context *>(context);
  Pending pending;
  DType type;
  ReduceOp op;
  pending.status = convert(dtype, reduction, type, op);
  if (pending.status.isOk()) {
    int64_t n = c.communicator->size();
    c.ringBytes += 2 * (n - 1) * count * int64_t(dtypeSize(type)) / n;
    // The collective's own buffer: weighted in place.
    if (!equalSlices(c))
      op = weightContribution(data, count, type, op,
                              static_cast<double>(c.local) / c.global);
    pending.work = c.communicator->startAllReduce(data, data, count, type, op);
  }
  return track(c, std::move(pending));
}

int64_t startAllGather(void *context, const void *send, void *recv,
                       int64_t count, rt::CollectiveDType dtype) {
  auto &c = *static_cast<Context *>(context);
  Pending pending;
  StatusOr<DType> type = dtypeOf(dtype);
  if (!type.isOk()) {
    pending.status = type.status();
  } else {
    c.ringBytes +=
        (c.communicator->size() - 1) * count * int64_t(dtypeSize(*type));
    pending.work = c.communicator->startAllGather(send, recv, count, *type);
  }
  return track(c, std::move(pending));
}

int64_t startReduceScatter(void *context, const void *send, void *recv,
                           int64_t recvCount, rt::CollectiveDType dtype,
                           rt::CollectiveReduction reduction) {
  auto &c = *static_cast<Context *>(context);
  Communicator &communicator = *c.communicator;
  Pending pending;
  DType type;
  ReduceOp op;
  pending.status = convert(dtype, reduction, type, op);
  if (pending.status.isOk()) {
    c.ringBytes +=
        (communicator.size() - 1) * recvCount * int64_t(dtypeSize(type));
    if (!equalSlices(c)) {
      // Weighted on a copy: the compiled code may read its buffer again.
      int64_t count = recvCount * communicator.size();
      pending.scratch.resize(count * dtypeSize(type));
      std::memcpy(pending.scratch.data(), send, pending.scratch.size());
      op = weightContribution(pending.scratch.data(), count, type, op,
                              static_cast<double>(c.local) / c.global);
      send = pending.scratch.data();
    }
    pending.work =
        communicator.startReduceScatter(send, recv, recvCount, type, op);
  }
  return track(c, std::move(pending));
}

Status wait(void *context, int64_t handle) {
  auto &c = *static_cast<Context *>(context);
  auto it = c.pending.find(handle);
  if (it == c.pending.end())
    return Status::error("no collective in flight with handle " +
                         std::to_string(handle));
  auto start = std::chrono::steady_clock::now();
  Status status = it->second.status.isOk() ? it->second.work.wait()
                                           : it->second.status;
  c.waitSeconds += std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  c.pending.erase(it);
  return status;
}

int size(void *context) {
  return static_cast<CompiledCodeCollectives::Context *>(context)
      ->communicator->size();
}

} // namespace

CompiledCodeCollectives::CompiledCodeCollectives(Communicator &communicator) {
  context_.communicator = &communicator;
  rt::CollectivesHook hook{size, startAllReduce, startAllGather,
                           startReduceScatter, wait, &context_};
  rt::setCollectivesHook(&hook);
}

CompiledCodeCollectives::~CompiledCodeCollectives() {
  rt::setCollectivesHook(nullptr);
  // Nothing started may outlive the buffers it was given.
  (void)context_.communicator->waitAll();
}

void CompiledCodeCollectives::setBatchShare(int64_t local, int64_t global) {
  context_.local = local;
  context_.global = global;
}

} // namespace vitc::coll
