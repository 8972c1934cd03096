//===- Session.cpp - validate inputs, call the packed entry, wrap outputs -===//
//
// Memref descriptors, as MLIR lowers a ranked memref of rank R:
//   { T *allocated; T *aligned; int64 offset; int64 sizes[R]; int64 strides[R] }
// all 8-byte fields, so one descriptor is 3 + 2R words and the result
// struct of several outputs is their concatenation.
//
//===----------------------------------------------------------------------===//
#include "vitc/runtime/Session.h"

#include "MemRefs.h"

#include <cstdlib>
#include <cstring>
#include <set>

namespace vitc::rt {
namespace {

using Descriptor = std::vector<int64_t>;

Descriptor makeDescriptor(const void *data, const std::vector<int64_t> &shape) {
  Descriptor words(3 + 2 * shape.size());
  fillDescriptor(words.data(), data, shape.data(), shape.size());
  return words;
}

} // namespace

OwnedTensor::~OwnedTensor() { std::free(data_); }

size_t OwnedTensor::numElements() const {
  return static_cast<size_t>(product(shape));
}

StatusOr<std::unique_ptr<Session>>
Session::create(std::shared_ptr<Artifact> artifact,
                std::shared_ptr<Device> device) {
  Status compatible = device->checkCompatible(*artifact);
  if (!compatible.isOk())
    return compatible;
  auto executable = device->loadExecutable(*artifact);
  if (!executable.isOk())
    return executable.status();
  std::unique_ptr<Session> session(new Session());
  session->artifact_ = std::move(artifact);
  session->device_ = std::move(device);
  session->executable_ = std::move(*executable);
  session->stream_ = session->device_->createStream();
  return session;
}

Status Session::checkInputs(const FunctionSpec &function,
                            const std::vector<TensorView> &inputs) const {
  // Name the function only where there is a choice.
  std::string where = artifact_->functions().size() > 1
                          ? "function '" + function.name + "': "
                          : "";
  const std::vector<TensorSpec> &specs = function.inputs;
  if (inputs.size() != specs.size())
    return Status::error(where + (where.empty() ? "the model" : "it") +
                         " takes " + std::to_string(specs.size()) +
                         " input(s), got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec &spec = specs[i];
    const TensorView &input = inputs[i];
    if (input.dtype != spec.dtype)
      return Status::error(where + "input '" + spec.name +
                           "': expected dtype " + dtypeName(spec.dtype) +
                           ", got " + dtypeName(input.dtype));
    bool matches = input.shape.size() == spec.shape.size();
    for (size_t d = 0; matches && d < spec.shape.size(); ++d)
      matches = input.shape[d] >= 0 &&
                (spec.shape[d] == -1 || spec.shape[d] == input.shape[d]);
    if (!matches) {
      bool dynamic = false;
      for (int64_t dim : spec.shape)
        dynamic |= dim == -1;
      return Status::error(where + "input '" + spec.name +
                           "': expected shape " + shapeString(spec.shape) +
                           (dynamic ? " (-1 = any size)" : "") + ", got " +
                           shapeString(input.shape));
    }
    if (!input.data && product(input.shape) != 0)
      return Status::error(where + "input '" + spec.name + "' has no data");
  }
  return Status::ok();
}

Status Session::run(size_t functionIndex, const std::vector<TensorView> &inputs,
                    std::vector<OwnedTensor> &outputs) {
  const std::vector<FunctionSpec> &functions = artifact_->functions();
  if (functionIndex >= functions.size())
    return Status::error("no function #" + std::to_string(functionIndex) +
                         " (the model has " +
                         std::to_string(functions.size()) + ")");
  const FunctionSpec &function = functions[functionIndex];
  Status valid = checkInputs(function, inputs);
  if (!valid.isOk())
    return valid;

  const Section *weights = artifact_->section("weights");
  std::vector<Descriptor> descriptors;
  descriptors.reserve(inputs.size() + 1);
  descriptors.push_back(makeDescriptor(
      weights->data, {static_cast<int64_t>(weights->size)}));
  for (const TensorView &input : inputs)
    descriptors.push_back(makeDescriptor(input.data, input.shape));

  const std::vector<TensorSpec> &specs = function.outputs;
  size_t resultWords = 0;
  for (const TensorSpec &spec : specs)
    resultWords += 3 + 2 * spec.shape.size();
  Descriptor results(resultWords);

  std::vector<void *> args;
  args.push_back(results.data());
  for (Descriptor &descriptor : descriptors)
    args.push_back(descriptor.data());
  Status status = executable_->invoke(functionIndex, args.data(), *stream_);
  if (status.isOk())
    status = stream_->synchronize();
  if (!status.isOk())
    return status;

  // Output memory normally comes from malloc in the compiled code and passes
  // to the caller. Memory the model does not own (a view of the weights or
  // of an input), non-contiguous results and a second result in the same
  // allocation are copied instead; allocations handed to no output are freed
  // once all results are read.
  auto ownedByCaller = [&](const char *pointer) {
    auto inside = [&](const void *base, size_t bytes) {
      const char *begin = static_cast<const char *>(base);
      return pointer >= begin && pointer < begin + bytes;
    };
    if (inside(weights->data, weights->size))
      return false;
    for (const TensorView &input : inputs)
      if (inside(input.data, product(input.shape) * dtypeSize(input.dtype)))
        return false;
    return true;
  };
  std::set<char *> handedOut, toFree;
  outputs.clear();
  const int64_t *words = results.data();
  for (const TensorSpec &spec : specs) {
    size_t rank = spec.shape.size();
    auto *allocated = reinterpret_cast<char *>(words[0]);
    auto *aligned = reinterpret_cast<char *>(words[1]);
    size_t elemSize = dtypeSize(spec.dtype);
    char *data = aligned + words[2] * static_cast<int64_t>(elemSize);
    std::vector<int64_t> shape(words + 3, words + 3 + rank);
    const int64_t *strides = words + 3 + rank;
    words += 3 + 2 * rank;

    bool contiguous = true;
    int64_t expected = 1;
    for (size_t d = rank; d-- > 0;) {
      if (shape[d] != 1 && strides[d] != expected)
        contiguous = false;
      expected *= shape[d];
    }
    bool owned = allocated && ownedByCaller(allocated);
    if (contiguous && data == allocated && owned &&
        handedOut.insert(allocated).second) {
      toFree.erase(allocated);
      outputs.emplace_back(spec.dtype, std::move(shape), allocated);
      continue;
    }
    size_t bytes = static_cast<size_t>(product(shape)) * elemSize;
    char *copy = static_cast<char *>(std::malloc(bytes ? bytes : 1));
    size_t written = 0;
    if (contiguous)
      std::memcpy(copy, data, bytes);
    else
      copyStrided(data, copy, shape.data(), strides, rank, elemSize, written);
    if (owned && !handedOut.count(allocated))
      toFree.insert(allocated);
    outputs.emplace_back(spec.dtype, std::move(shape), copy);
  }
  for (char *allocated : toFree)
    std::free(allocated);
  return Status::ok();
}

} // namespace vitc::rt
