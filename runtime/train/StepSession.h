//===- StepSession.h - a training step function run in a session ----------===//
//
// train_step and eval_step each run in a vitc_session of their own, so that
// a step at a batch shape the session has seen allocates nothing: the
// compiled code's activations come from the session's arena, and the
// caller binds its own memory for what must outlive the step (the carried
// tensors' new values). One session serves every batch shape a run feeds
// (full batches, the smaller last batch of an epoch, evaluation's); its
// arena is sized for the largest.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_STEPSESSION_H
#define VITC_TRAIN_STEPSESSION_H

#include "vitc/runtime/Status.h"
#include "vitc_runtime.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vitc::train {

struct StepFunction;

class StepSession {
public:
  /// A session for `function` on the CPU with the process's thread count,
  /// or nullptr when the runtime cannot serve it in one (a cuda or
  /// cuda-emulator artifact, code whose allocations cannot be redirected;
  /// vitc_last_error() says which): the caller then runs the step by
  /// vitc_model_run_function.
  static std::unique_ptr<StepSession> create(vitc_model *model,
                                             const StepFunction &function);
  ~StepSession();
  StepSession(const StepSession &) = delete;
  StepSession &operator=(const StepSession &) = delete;

  /// Binds `inputs` (the function's input order) and each output to
  /// `outputs[i]` (data NULL: the result stays in the session's memory),
  /// runs, and points `results` at every output: in the bound memory or the
  /// session's, valid until the next run. Allocates nothing once the
  /// session has run at these input shapes (errors aside). `results` must
  /// have one entry per output.
  rt::Status run(const std::vector<vitc_tensor> &inputs,
                 const std::vector<vitc_tensor> &outputs,
                 std::vector<vitc_tensor> &results);

  /// The bytes of the session's arena (see vitc_session_arena_bytes).
  int64_t arenaBytes() const { return vitc_session_arena_bytes(session_); }

private:
  StepSession(vitc_session *session, std::string name)
      : session_(session), name_(std::move(name)) {}
  /// The error vitc_last_error() describes, named after the function.
  rt::Status fail() const;

  vitc_session *session_;
  std::string name_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_STEPSESSION_H
