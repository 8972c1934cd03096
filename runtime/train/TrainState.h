//===- TrainState.h - a training artifact's functions and carried tensors -===//
//
// Binds train_step and eval_step by their inputs' roles and owns the
// tensors a run carries from step to step (params, buffers, optimizer
// state, by name). A step's outputs that `update` an input replace it.
//
// On the CPU each step function runs in a session of its own
// (StepSession.h), so that a step allocates nothing once its batch shape
// has been seen: a carried tensor that train_step updates has two buffers,
// the step reads one and writes its new value into the other, and they
// swap after the step (ping-pong). Artifacts no session serves (cuda,
// cuda-emulator) run their steps by vitc_model_run_function, whose outputs
// the state then takes over.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_TRAINSTATE_H
#define VITC_TRAIN_TRAINSTATE_H

#include "Checkpoint.h"
#include "Data.h"
#include "StepSession.h"

#include "vitc/runtime/Status.h"
#include "vitc_runtime.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vitc::train {

/// One function of the artifact with its signature.
struct StepFunction {
  int32_t index = -1;
  std::string name;
  std::vector<vitc_tensor_info> inputs, outputs;
  /// Index of the first input / output with `role`, or -1.
  int32_t inputWithRole(const std::string &role) const;
  int32_t outputWithRole(const std::string &role) const;
};

/// A batch as the step functions take it: images [N,C,H,W], labels [N];
/// of several ranks, the position of the first image in the global batch
/// (input role "sample_offset": dropout masks keyed by the global sample).
struct BatchView {
  int64_t size = 0;
  const float *images = nullptr;
  const int64_t *labels = nullptr;
  int64_t offset = 0;
};

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
};

/// A param or buffer: a view of the state, valid until the next step or
/// restore (the names while the state lives).
struct Weight {
  const char *name = nullptr, *role = nullptr;
  vitc_tensor tensor{};
  size_t bytes = 0;
};

/// What a rank keeps from step to step (vitc_rank_info), in bytes.
struct ModelStateBytes {
  int64_t params = 0;    // params and buffers
  int64_t grads = 0;     // the step's gradients: one per trainable param
  int64_t optimizer = 0; // optimizer state
  /// Sharded params (FSDP): the largest unit (the params of one layer,
  /// named <layer>.<param>) gathered whole at once.
  int64_t gathered = 0;
};

class TrainState {
public:
  /// Validates the artifact's training functions and sets params and
  /// buffers to their initial values, optimizer state to zeros. An error
  /// naming `path` if the artifact is not a usable training one. Of a
  /// sharded tensor (FSDP) the state holds block `ranks.rank` of
  /// `ranks.size` (vitc_tensor_info.full_shape).
  static rt::StatusOr<std::unique_ptr<TrainState>>
  create(vitc_model *model, const std::string &path,
         data::RankSlice ranks = {});
  ~TrainState();
  TrainState(const TrainState &) = delete;
  TrainState &operator=(const TrainState &) = delete;

  const vitc_training_info &info() const { return info_; }
  /// The model's image input [C,H,W].
  int64_t channels() const { return chw_[0]; }
  int64_t height() const { return chw_[1]; }
  int64_t width() const { return chw_[2]; }

  /// One optimizer step; updates the carried tensors.
  rt::StatusOr<StepResult> train(const BatchView &batch, float lr,
                                 int64_t step, int64_t seed);
  /// Loss and hits on a batch with the current weights (eval mode).
  rt::StatusOr<StepResult> eval(const BatchView &batch);

  /// A hash of train_step's signature and the training setup: checkpoints
  /// only resume an artifact with the same identity.
  std::string identity() const;
  /// The carried tensors (views of this state) for a checkpoint; a sharded
  /// one is this rank's block (see fullShape).
  std::vector<CheckpointTensor> checkpointTensors() const;
  /// Of a sharded carried tensor: its whole shape; empty otherwise.
  const std::vector<int64_t> &fullShape(const std::string &name) const;
  bool isSharded() const { return sharded_; }
  /// Copies every carried tensor from `checkpoint` (read from `path`),
  /// whole tensors (a sharded one's block is taken from it); an error naming
  /// the file and the tensor on any missing or mismatched one (then nothing
  /// is copied).
  rt::Status restore(const Checkpoint &checkpoint, const std::string &path);
  /// The params and buffers, in train_step's input order.
  int32_t numWeights() const { return static_cast<int32_t>(weights_.size()); }
  Weight weight(int32_t index) const;
  ModelStateBytes modelStateBytes() const;
  /// Whether the steps run in sessions (else by vitc_model_run_function).
  bool runsInSessions() const { return trainSession_ != nullptr; }

private:
  TrainState(vitc_model *model, const std::string &path,
             data::RankSlice ranks)
      : model_(model), path_(path), ranks_(ranks) {}
  rt::Status init();
  /// A carried tensor. Its data is the runtime's (an output: freed with
  /// vitc_tensor_free), ours (aligned_alloc'ed: free), borrowed (the
  /// artifact's initial values: not freed) or one of the slot's step
  /// buffers (freed with the state).
  struct Slot {
    vitc_tensor tensor{};
    std::string role;
    std::vector<int64_t> fullShape; // sharded: the whole shape
    enum class Owner { Borrowed, Runtime, Heap, Step } owner = Owner::Borrowed;
    /// In sessions, of a tensor train_step updates: the two 64-byte aligned
    /// buffers its steps write in turn (aligned, so the code writes them in
    /// place). The step writes the one `tensor` is not.
    void *stepBuffers[2] = {nullptr, nullptr};
    void *nextStepBuffer() const {
      return tensor.data == stepBuffers[0] ? stepBuffers[1] : stepBuffers[0];
    }
  };
  /// Each input of a function: its carried slot, or null (fed per step).
  using Feeds = std::vector<Slot *>;
  void replace(Slot &slot, const vitc_tensor &tensor, Slot::Owner owner);
  /// Resolves what each step binds and starts the sessions where the
  /// runtime serves them.
  rt::Status prepareSteps();
  rt::Status run(const StepFunction &function,
                 const std::vector<vitc_tensor> &inputs,
                 std::vector<vitc_tensor> &outputs);
  /// Sets `inputs` (one per input of `function`) to the carried tensors and
  /// the batch; lr, step and seed are left to train().
  void bindInputs(const StepFunction &function, const Feeds &feeds,
                  const BatchView &batch,
                  std::vector<vitc_tensor> &inputs) const;
  static StepResult readResult(const StepFunction &function,
                               const std::vector<vitc_tensor> &outputs);
  rt::StatusOr<StepResult> trainInSession();

  /// Sharded: a buffer of this rank's block of `whole` (numel elements of
  /// `dtype`), zero-padded; null when out of memory.
  void *takeBlock(const void *whole, int64_t numel, vitc_dtype dtype,
                  int64_t &blockCount) const;

  vitc_model *model_;
  std::string path_;
  data::RankSlice ranks_;
  bool sharded_ = false;
  vitc_training_info info_{};
  StepFunction trainStep_, evalStep_;
  int64_t chw_[3] = {0, 0, 0};
  /// Carried tensors in train_step's input order.
  std::map<std::string, Slot> slots_;
  std::vector<std::string> order_;
  /// The entries of slots_ that are params or buffers, in order.
  std::vector<const std::pair<const std::string, Slot> *> weights_;

  /// What a step binds, sized at creation so that a step in a session
  /// allocates nothing: the slot of each input, the slot each train_step
  /// output updates (or null), and the tensors passed in and out.
  Feeds trainFeeds_, evalFeeds_, trainUpdates_;
  std::vector<vitc_tensor> trainInputs_, evalInputs_;
  std::vector<vitc_tensor> trainOutputs_, evalOutputs_;
  std::vector<vitc_tensor> trainResults_, evalResults_;
  /// Null: the steps run by vitc_model_run_function.
  std::unique_ptr<StepSession> trainSession_, evalSession_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_TRAINSTATE_H
