//===- CompiledCode.cpp - a communicator for compiled steps ---------------===//
#include "vitc/collectives/CompiledCode.h"

#include "vitc/runtime/CompiledCollectives.h"

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

Status allReduce(void *context, void *data, int64_t count,
                 rt::CollectiveDType dtype,
                 rt::CollectiveReduction reduction) {
  StatusOr<DType> type = dtypeOf(dtype);
  if (!type.isOk())
    return type.status();
  StatusOr<ReduceOp> op = opOf(reduction);
  if (!op.isOk())
    return op.status();
  auto *communicator = static_cast<Communicator *>(context);
  return communicator->allReduce(data, data, count, *type, *op);
}

} // namespace

void useForCompiledCode(Communicator &communicator) {
  rt::CollectivesHook hook{allReduce, &communicator};
  rt::setCollectivesHook(&hook);
}

void stopUsingForCompiledCode() { rt::setCollectivesHook(nullptr); }

} // namespace vitc::coll
