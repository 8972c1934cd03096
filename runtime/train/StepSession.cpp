//===- StepSession.cpp - a training step function run in a session --------===//
#include "StepSession.h"

#include "TrainState.h"

namespace vitc::train {

using rt::Status;

std::unique_ptr<StepSession> StepSession::create(vitc_model *model,
                                                 const StepFunction &function) {
  // Thread count 0: the process's (vitc_set_num_threads), as
  // vitc_model_run_function runs with.
  vitc_session *session =
      vitc_session_create(model, function.index, "cpu", /*num_threads=*/0);
  if (!session)
    return nullptr;
  return std::unique_ptr<StepSession>(new StepSession(session, function.name));
}

StepSession::~StepSession() { vitc_session_free(session_); }

Status StepSession::fail() const {
  // The step's errors read as vitc_model_run_function's did: "<function>:
  // <problem>", without the C API call's name.
  std::string message = vitc_last_error();
  if (message.rfind("vitc_session_", 0) == 0) {
    size_t colon = message.find(": ");
    if (colon != std::string::npos)
      message.erase(0, colon + 2);
  }
  return Status::error(name_ + ": " + message);
}

Status StepSession::run(const std::vector<vitc_tensor> &inputs,
                        const std::vector<vitc_tensor> &outputs,
                        std::vector<vitc_tensor> &results) {
  // Bound by index at every step: the carried tensors move between their
  // two buffers, and the batch's memory and size change. Binding copies
  // pointers and shapes into the session's reserved storage only.
  for (size_t i = 0; i < inputs.size(); ++i)
    if (vitc_session_bind_input_at(session_, static_cast<int32_t>(i),
                                   &inputs[i]) != 0)
      return fail();
  for (size_t j = 0; j < outputs.size(); ++j)
    if (vitc_session_bind_output_at(session_, static_cast<int32_t>(j),
                                    outputs[j].data ? &outputs[j]
                                                    : nullptr) != 0)
      return fail();
  if (vitc_session_run(session_) != 0)
    return fail();
  for (size_t j = 0; j < results.size(); ++j)
    if (vitc_session_output(session_, static_cast<int32_t>(j), &results[j]) !=
        0)
      return fail();
  return Status::ok();
}

} // namespace vitc::train
