//===- TrainState.cpp - a training artifact's functions and carried tensors ===//
#include "TrainState.h"

#include "vitc/collectives/Communicator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

namespace vitc::train {

using rt::Status;
using rt::StatusOr;

namespace {

const std::set<std::string> kCarriedRoles = {"param", "buffer", "opt_state"};

std::string shapeText(const int64_t *shape, int32_t rank) {
  std::string text = "[";
  for (int32_t d = 0; d < rank; ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

int64_t numelOf(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

size_t byteSize(const vitc_tensor &t) {
  size_t count = 1;
  for (int32_t d = 0; d < t.rank; ++d)
    count *= static_cast<size_t>(t.shape[d]);
  return count * vitc_dtype_size(t.dtype);
}

StatusOr<StepFunction> findFunction(vitc_model *model, const char *name,
                                    const std::string &path) {
  StepFunction f;
  f.name = name;
  f.index = vitc_model_find_function(model, name);
  if (f.index < 0)
    return Status::error("'" + path + "' has no function '" + name +
                         "' (a training artifact has train_step and "
                         "eval_step)");
  f.inputs.resize(vitc_model_function_num_inputs(model, f.index));
  for (int32_t i = 0; i < static_cast<int32_t>(f.inputs.size()); ++i)
    vitc_model_function_input_info(model, f.index, i, &f.inputs[i]);
  f.outputs.resize(vitc_model_function_num_outputs(model, f.index));
  for (int32_t i = 0; i < static_cast<int32_t>(f.outputs.size()); ++i)
    vitc_model_function_output_info(model, f.index, i, &f.outputs[i]);
  return f;
}

/// Heap memory for a carried tensor, 64-byte aligned like the runtime's own
/// buffers (a checkpoint's bytes have no useful alignment); free() frees it.
/// nullptr when out of memory.
void *allocateAligned(size_t bytes) {
  return std::aligned_alloc(64, (std::max<size_t>(bytes, 1) + 63) / 64 * 64);
}

Status outOfMemory(const std::string &what) {
  return Status::error("out of memory for " + what);
}

/// A scalar input (rank 0) holding one value of `dtype`.
vitc_tensor scalar(vitc_dtype dtype, void *data) {
  vitc_tensor t{};
  t.dtype = dtype;
  t.rank = 0;
  t.data = data;
  return t;
}

} // namespace

int32_t StepFunction::inputWithRole(const std::string &role) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (role == inputs[i].role)
      return static_cast<int32_t>(i);
  return -1;
}

int32_t StepFunction::outputWithRole(const std::string &role) const {
  for (size_t i = 0; i < outputs.size(); ++i)
    if (role == outputs[i].role)
      return static_cast<int32_t>(i);
  return -1;
}

StatusOr<std::unique_ptr<TrainState>>
TrainState::create(vitc_model *model, const std::string &path,
                   data::RankSlice ranks) {
  std::unique_ptr<TrainState> state(new TrainState(model, path, ranks));
  Status status = state->init();
  if (!status.isOk())
    return status;
  return state;
}

Status TrainState::init() {
  const std::string &path = path_;
  auto fail = [&](const std::string &problem) {
    return Status::error("'" + path + "': " + problem);
  };
  if (vitc_model_training_info(model_, &info_) != 0)
    return fail(vitc_last_error());
  for (auto [function, name] : {std::pair{&trainStep_, "train_step"},
                                std::pair{&evalStep_, "eval_step"}}) {
    StatusOr<StepFunction> found = findFunction(model_, name, path);
    if (!found.isOk())
      return found.status();
    *function = std::move(*found);
  }

  const std::set<std::string> known = {
      "param", "buffer", "opt_state", "data",         "label",
      "lr",    "step",   "seed",      "sample_offset"};
  for (const StepFunction *f : {&trainStep_, &evalStep_}) {
    for (const vitc_tensor_info &in : f->inputs)
      if (!known.count(in.role))
        return fail(f->name + " input '" + in.name + "' has role '" + in.role +
                    "', which vitc-run does not feed");
    for (const char *role : {"data", "label"})
      if (f->inputWithRole(role) < 0)
        return fail(f->name + " has no '" + role + "' input");
    for (const char *role : {"loss", "correct"})
      if (f->outputWithRole(role) < 0)
        return fail(f->name + " has no '" + role + "' output");
  }

  const vitc_tensor_info &data = trainStep_.inputs[trainStep_.inputWithRole("data")];
  if (data.dtype != VITC_DTYPE_F32 || data.rank != 4 || data.shape[1] <= 0 ||
      data.shape[2] <= 0 || data.shape[3] <= 0)
    return fail("the data input '" + std::string(data.name) + "' is " +
                vitc_dtype_name(data.dtype) + " " +
                shapeText(data.shape, data.rank) +
                "; training needs f32 images [N, C, H, W] with static C, H, W");
  std::copy(data.shape + 1, data.shape + 4, chw_);
  const vitc_tensor_info &label =
      trainStep_.inputs[trainStep_.inputWithRole("label")];
  if (label.dtype != VITC_DTYPE_I64)
    return fail("the label input '" + std::string(label.name) + "' is " +
                vitc_dtype_name(label.dtype) +
                "; vitc-run trains on class labels (i64) only");

  for (const vitc_tensor_info &in : trainStep_.inputs) {
    if (!kCarriedRoles.count(in.role))
      continue;
    Slot &slot = slots_[in.name];
    slot.role = in.role;
    order_.push_back(in.name);
    if (in.full_rank >= 0) { // FSDP: this rank's block
      sharded_ = true;
      slot.fullShape.assign(in.full_shape, in.full_shape + in.full_rank);
      int64_t numel = numelOf(slot.fullShape);
      const void *whole = nullptr;
      vitc_tensor view{};
      if (slot.role != "opt_state") {
        if (vitc_model_initial_value(model_, in.name, &view) != 0)
          return fail(vitc_last_error());
        whole = view.data;
      }
      vitc_tensor block{};
      block.dtype = in.dtype;
      block.rank = 1;
      block.data = takeBlock(whole, numel, in.dtype, block.shape[0]);
      if (!block.data)
        return outOfMemory("the shard of '" + std::string(in.name) + "'");
      replace(slot, block, Slot::Owner::Heap);
    } else if (slot.role == "opt_state") {
      vitc_tensor zeros{};
      zeros.dtype = in.dtype;
      zeros.rank = in.rank;
      for (int32_t d = 0; d < in.rank; ++d) {
        if (in.shape[d] < 0)
          return fail("optimizer state '" + std::string(in.name) +
                      "' has a dynamic shape");
        zeros.shape[d] = in.shape[d];
      }
      zeros.data = allocateAligned(byteSize(zeros));
      if (!zeros.data)
        return outOfMemory("optimizer state '" + std::string(in.name) + "'");
      std::memset(zeros.data, 0, byteSize(zeros));
      replace(slot, zeros, Slot::Owner::Heap);
    } else {
      vitc_tensor view{};
      if (vitc_model_initial_value(model_, in.name, &view) != 0)
        return fail(vitc_last_error());
      replace(slot, view, Slot::Owner::Borrowed);
    }
  }
  for (const std::string &name : order_) {
    auto it = slots_.find(name);
    if (it->second.role != "opt_state")
      weights_.push_back(&*it);
  }
  for (const StepFunction *f : {&trainStep_, &evalStep_})
    for (const vitc_tensor_info &in : f->inputs)
      if (kCarriedRoles.count(in.role) && !slots_.count(in.name))
        return fail(f->name + " input '" + in.name +
                    "' is not an input of train_step");
  for (const vitc_tensor_info &out : trainStep_.outputs)
    if (*out.updates && !slots_.count(out.updates))
      return fail("train_step output '" + std::string(out.name) +
                  "' updates '" + out.updates +
                  "', which is not a carried input");
  return prepareSteps();
}

Status TrainState::prepareSteps() {
  // Resolved once: a step looks nothing up by name (a name past the
  // small-string size would allocate).
  auto feedsOf = [&](const StepFunction &f) {
    Feeds feeds;
    for (const vitc_tensor_info &in : f.inputs)
      feeds.push_back(kCarriedRoles.count(in.role) ? &slots_.at(in.name)
                                                   : nullptr);
    return feeds;
  };
  trainFeeds_ = feedsOf(trainStep_);
  evalFeeds_ = feedsOf(evalStep_);
  for (const vitc_tensor_info &out : trainStep_.outputs)
    trainUpdates_.push_back(*out.updates ? &slots_.at(out.updates) : nullptr);
  trainInputs_.resize(trainStep_.inputs.size());
  evalInputs_.resize(evalStep_.inputs.size());
  trainOutputs_.resize(trainStep_.outputs.size());
  evalOutputs_.resize(evalStep_.outputs.size()); // all in the session's memory
  trainResults_.resize(trainStep_.outputs.size());
  evalResults_.resize(evalStep_.outputs.size());

  // Both steps in sessions or neither: whatever refuses one (the artifact's
  // target, code whose allocations cannot be redirected) refuses the other,
  // and one path keeps the slots' ownership simple. Sharded artifacts run
  // in sessions too: their collectives are the process's (installed by
  // DataParallel for any call of the compiled code), not a call's.
  trainSession_ = StepSession::create(model_, trainStep_);
  if (trainSession_)
    evalSession_ = StepSession::create(model_, evalStep_);
  if (!evalSession_) {
    trainSession_.reset();
    return Status::ok();
  }
  // The buffers are virtual memory until a step writes them: the state's
  // memory grows to two copies of what train_step updates, as it did when
  // each step's outputs were new allocations beside its inputs.
  for (Slot *slot : trainUpdates_) {
    if (!slot || slot->stepBuffers[0])
      continue;
    for (void *&buffer : slot->stepBuffers) {
      buffer = allocateAligned(byteSize(slot->tensor));
      if (!buffer)
        return outOfMemory("the step buffers of " + slot->role + " tensors");
    }
  }
  return Status::ok();
}

TrainState::~TrainState() {
  for (auto &[name, slot] : slots_) {
    replace(slot, vitc_tensor{}, Slot::Owner::Borrowed);
    for (void *buffer : slot.stepBuffers)
      std::free(buffer);
  }
}

void TrainState::replace(Slot &slot, const vitc_tensor &tensor,
                         Slot::Owner owner) {
  if (slot.owner == Slot::Owner::Runtime)
    vitc_tensor_free(&slot.tensor);
  else if (slot.owner == Slot::Owner::Heap)
    std::free(slot.tensor.data);
  // Step buffers stay with the slot: the next step writes the other one.
  slot.tensor = tensor;
  slot.owner = owner;
}

void TrainState::bindInputs(const StepFunction &f, const Feeds &feeds,
                            const BatchView &batch,
                            std::vector<vitc_tensor> &inputs) const {
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    const vitc_tensor_info &in = f.inputs[i];
    vitc_tensor &t = inputs[i];
    t = vitc_tensor{};
    if (feeds[i]) {
      t = feeds[i]->tensor;
    } else if (!std::strcmp(in.role, "data")) {
      t.dtype = VITC_DTYPE_F32;
      t.rank = 4;
      t.shape[0] = batch.size;
      std::copy(chw_, chw_ + 3, t.shape + 1);
      t.data = const_cast<float *>(batch.images);
    } else if (!std::strcmp(in.role, "label")) {
      t.dtype = VITC_DTYPE_I64;
      t.rank = 1;
      t.shape[0] = batch.size;
      t.data = const_cast<int64_t *>(batch.labels);
    } else if (!std::strcmp(in.role, "sample_offset")) {
      t.dtype = VITC_DTYPE_I64;
      t.rank = 0;
      t.data = const_cast<int64_t *>(&batch.offset);
    }
    // lr, step and seed: set by train().
  }
}

Status TrainState::run(const StepFunction &f,
                       const std::vector<vitc_tensor> &inputs,
                       std::vector<vitc_tensor> &outputs) {
  outputs.assign(f.outputs.size(), vitc_tensor{});
  if (vitc_model_run_function(model_, f.index, inputs.data(),
                              static_cast<int32_t>(inputs.size()),
                              outputs.data(),
                              static_cast<int32_t>(outputs.size())) != 0)
    return Status::error(f.name + ": " + vitc_last_error());
  return Status::ok();
}

StepResult TrainState::readResult(const StepFunction &f,
                                  const std::vector<vitc_tensor> &outputs) {
  StepResult result;
  const vitc_tensor &loss = outputs[f.outputWithRole("loss")];
  const vitc_tensor &correct = outputs[f.outputWithRole("correct")];
  result.loss = *static_cast<const float *>(loss.data);
  result.correct = *static_cast<const int64_t *>(correct.data);
  return result;
}

StatusOr<StepResult> TrainState::train(const BatchView &batch, float lr,
                                       int64_t step, int64_t seed) {
  std::vector<vitc_tensor> &inputs = trainInputs_;
  bindInputs(trainStep_, trainFeeds_, batch, inputs);
  float stepValue = static_cast<float>(step);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const char *role = trainStep_.inputs[i].role;
    if (!std::strcmp(role, "lr"))
      inputs[i] = scalar(VITC_DTYPE_F32, &lr);
    else if (!std::strcmp(role, "step"))
      inputs[i] = scalar(VITC_DTYPE_F32, &stepValue);
    else if (!std::strcmp(role, "seed"))
      inputs[i] = scalar(VITC_DTYPE_I64, &seed);
  }
  if (trainSession_)
    return trainInSession();
  std::vector<vitc_tensor> outputs;
  if (Status status = run(trainStep_, inputs, outputs); !status.isOk())
    return status;
  StepResult result = readResult(trainStep_, outputs);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const char *updates = trainStep_.outputs[i].updates;
    if (*updates)
      replace(slots_.at(updates), outputs[i], Slot::Owner::Runtime);
    else
      vitc_tensor_free(&outputs[i]);
  }
  return result;
}

StatusOr<StepResult> TrainState::trainInSession() {
  // Each new value of a carried tensor goes to its slot's other buffer;
  // the other outputs (loss, hits, ...) stay in the session's memory.
  for (size_t j = 0; j < trainOutputs_.size(); ++j) {
    vitc_tensor &out = trainOutputs_[j];
    out = vitc_tensor{};
    if (const Slot *slot = trainUpdates_[j]) {
      out = slot->tensor;
      out.data = slot->nextStepBuffer();
    }
  }
  if (Status status =
          trainSession_->run(trainInputs_, trainOutputs_, trainResults_);
      !status.isOk())
    return status; // the slots still hold the state before the step
  StepResult result = readResult(trainStep_, trainResults_);
  for (size_t j = 0; j < trainOutputs_.size(); ++j)
    if (Slot *slot = trainUpdates_[j])
      replace(*slot, trainOutputs_[j], Slot::Owner::Step);
  return result;
}

StatusOr<StepResult> TrainState::eval(const BatchView &batch) {
  bindInputs(evalStep_, evalFeeds_, batch, evalInputs_);
  if (evalSession_) {
    if (Status status =
            evalSession_->run(evalInputs_, evalOutputs_, evalResults_);
        !status.isOk())
      return status;
    return readResult(evalStep_, evalResults_);
  }
  std::vector<vitc_tensor> outputs;
  if (Status status = run(evalStep_, evalInputs_, outputs); !status.isOk())
    return status;
  StepResult result = readResult(evalStep_, outputs);
  for (vitc_tensor &t : outputs)
    vitc_tensor_free(&t);
  return result;
}

void *TrainState::takeBlock(const void *whole, int64_t numel,
                            vitc_dtype dtype, int64_t &blockCount) const {
  // The padded convention of vitc/collectives/Communicator.h.
  blockCount = coll::paddedShardCount(numel, ranks_.size);
  coll::ShardRange range = coll::shardRange(numel, ranks_.size, ranks_.rank);
  size_t element = vitc_dtype_size(dtype);
  void *block = allocateAligned(blockCount * element);
  if (!block)
    return nullptr;
  std::memset(block, 0, blockCount * element);
  if (whole)
    std::memcpy(block, static_cast<const char *>(whole) + range.begin * element,
                (range.end - range.begin) * element);
  return block;
}

const std::vector<int64_t> &TrainState::fullShape(const std::string &name) const {
  return slots_.at(name).fullShape;
}

std::string TrainState::identity() const {
  // FNV-1a over a canonical description: what must match for a checkpoint's
  // tensors and optimizer state to mean the same thing.
  std::string text = std::string(info_.loss) + "|" + info_.optimizer + "|" +
                     std::to_string(info_.num_classes);
  // Whole shapes, and no input of the sharding's own (sample_offset): a
  // checkpoint moves between DDP, FSDP and one process.
  for (const StepFunction *f : {&trainStep_, &evalStep_})
    for (const auto *list : {&f->inputs, &f->outputs}) {
      text += "|" + f->name;
      for (const vitc_tensor_info &t : *list) {
        if (!std::strcmp(t.role, "sample_offset"))
          continue;
        bool whole = t.full_rank >= 0;
        text += ";" + std::string(t.name) + "," + t.role + "," + t.updates +
                "," + vitc_dtype_name(t.dtype) +
                (whole ? shapeText(t.full_shape, t.full_rank)
                       : shapeText(t.shape, t.rank));
      }
    }
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::vector<CheckpointTensor> TrainState::checkpointTensors() const {
  std::vector<CheckpointTensor> tensors;
  for (const std::string &name : order_) {
    const vitc_tensor &t = slots_.at(name).tensor;
    tensors.push_back({name, static_cast<int32_t>(t.dtype),
                       std::vector<int64_t>(t.shape, t.shape + t.rank),
                       static_cast<const char *>(t.data), byteSize(t)});
  }
  return tensors;
}

Status TrainState::restore(const Checkpoint &checkpoint,
                           const std::string &path) {
  auto fail = [&](const std::string &problem) {
    return Status::error("checkpoint '" + path + "': " + problem);
  };
  std::map<std::string, const CheckpointTensor *> stored;
  for (const CheckpointTensor &t : checkpoint.tensors)
    stored[t.name] = &t;
  for (const std::string &name : order_) {
    Slot &slot = slots_.at(name);
    auto it = stored.find(name);
    if (it == stored.end())
      return fail("has no tensor '" + name + "' (" + slot.role +
                  " of this artifact): it was written for another model");
    const CheckpointTensor &t = *it->second;
    const vitc_tensor &current = slot.tensor;
    std::vector<int64_t> shape =
        !slot.fullShape.empty()
            ? slot.fullShape
            : std::vector<int64_t>(current.shape, current.shape + current.rank);
    if (t.dtype != current.dtype || t.shape != shape) {
      const char *dtype = vitc_dtype_name(static_cast<vitc_dtype>(t.dtype));
      return fail(
          "tensor '" + name + "' is " + (dtype ? dtype : "?") + " " +
          shapeText(t.shape.data(), static_cast<int32_t>(t.shape.size())) +
          ", the artifact's is " + vitc_dtype_name(current.dtype) + " " +
          shapeText(shape.data(), static_cast<int32_t>(shape.size())));
    }
    size_t bytes = numelOf(shape) * vitc_dtype_size(current.dtype);
    if (t.bytes != bytes)
      return fail("tensor '" + name + "' holds " + std::to_string(t.bytes) +
                  " bytes, expected " + std::to_string(bytes));
    stored.erase(it);
  }
  if (!stored.empty())
    return fail("has tensor '" + stored.begin()->first +
                "', which this artifact does not have: it was written for "
                "another model");
  if (checkpoint.identity != identity())
    return fail("was written for another artifact (train_step's signature or "
                "the loss/optimizer differ)");
  // Copy everything before replacing anything: out of memory, the state
  // stays as it was.
  std::vector<void *> copies;
  for (const CheckpointTensor &t : checkpoint.tensors) {
    const Slot &slot = slots_.at(t.name);
    int64_t blockCount = 0;
    copies.push_back(
        slot.fullShape.empty()
            ? allocateAligned(t.bytes)
            : takeBlock(t.data, numelOf(slot.fullShape), slot.tensor.dtype,
                        blockCount));
    if (!copies.back()) {
      for (void *copy : copies)
        std::free(copy);
      return outOfMemory("tensor '" + t.name + "'");
    }
    if (slot.fullShape.empty())
      std::memcpy(copies.back(), t.data, t.bytes);
  }
  for (size_t i = 0; i < copies.size(); ++i) {
    Slot &slot = slots_.at(checkpoint.tensors[i].name);
    vitc_tensor copy = slot.tensor;
    copy.data = copies[i];
    replace(slot, copy, Slot::Owner::Heap);
  }
  return Status::ok();
}

Weight TrainState::weight(int32_t index) const {
  const auto &[name, slot] = *weights_[index];
  return {name.c_str(), slot.role.c_str(), slot.tensor, byteSize(slot.tensor)};
}

ModelStateBytes TrainState::modelStateBytes() const {
  ModelStateBytes m;
  std::map<std::string, int64_t> units; // <layer> of <layer>.<param>
  for (const auto &[name, slot] : slots_) {
    if (!slot.fullShape.empty() && slot.role == "param")
      units[name.substr(0, name.rfind('.'))] +=
          numelOf(slot.fullShape) * vitc_dtype_size(slot.tensor.dtype);
    auto bytes = static_cast<int64_t>(byteSize(slot.tensor));
    if (slot.role == "opt_state") {
      m.optimizer += bytes;
    } else {
      m.params += bytes;
      // Frozen params are buffers: no gradient. A gradient has its
      // param's element type.
      if (slot.role == "param")
        m.grads += bytes;
    }
  }
  for (const auto &[unit, bytes] : units)
    m.gathered = std::max(m.gathered, bytes);
  return m;
}

} // namespace vitc::train
