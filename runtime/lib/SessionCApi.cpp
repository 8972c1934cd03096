//===- SessionCApi.cpp - vitc_session_* over BoundSession -----------------===//
//
// Binding converts a vitc_tensor's shape into the binding's own vector
// (capacity reserved at creation), so rebinding allocates nothing either.
//
//===----------------------------------------------------------------------===//
#include "CApiInternal.h"

#include "vitc/runtime/BoundSession.h"

#include <cstring>
#include <string>

using namespace vitc::rt;

struct vitc_session {
  std::unique_ptr<BoundSession> session;
  /// Scratch for a bound tensor's shape, reused by every bind.
  std::vector<int64_t> shape;
};

namespace {

int fail(std::string message) {
  setLastError(std::move(message));
  return -1;
}

int fail(const char *caller, const Status &status) {
  return fail(std::string(caller) + ": " + status.message());
}

/// Checks `tensor` and puts its shape into the session's scratch.
int readTensor(vitc_session *session, const vitc_tensor *tensor,
               const char *caller) {
  if (tensor->rank < 0 || tensor->rank > VITC_MAX_RANK)
    return fail(std::string(caller) + ": invalid rank " +
                std::to_string(tensor->rank) + " (0 to " +
                std::to_string(VITC_MAX_RANK) + ")");
  // Read as an integer: the caller may have stored any value in the enum.
  int32_t dtype;
  std::memcpy(&dtype, &tensor->dtype, sizeof(dtype));
  if (!dtypeName(static_cast<DType>(dtype)))
    return fail(std::string(caller) + ": invalid dtype " +
                std::to_string(dtype));
  session->shape.assign(tensor->shape, tensor->shape + tensor->rank);
  return 0;
}

/// Index of the input (or output) `name`, or -1 after setting the error.
int64_t indexOf(vitc_session *session, const char *name, bool input,
                const char *caller) {
  if (!session || !name)
    return fail(std::string(caller) + ": session or name is NULL");
  StatusOr<size_t> index = input ? session->session->findInput(name)
                                 : session->session->findOutput(name);
  if (!index.isOk())
    return fail(caller, index.status());
  return static_cast<int64_t>(*index);
}

int bindInput(vitc_session *session, int64_t index, const vitc_tensor *tensor,
              const char *caller) {
  if (!session || !tensor)
    return fail(std::string(caller) + ": session or tensor is NULL");
  if (index < 0)
    return fail(std::string(caller) + ": no input #" + std::to_string(index));
  if (readTensor(session, tensor, caller) != 0)
    return -1;
  Status status = session->session->bindInput(
      static_cast<size_t>(index), static_cast<DType>(tensor->dtype),
      session->shape, tensor->data);
  return status.isOk() ? 0 : fail(caller, status);
}

int bindOutput(vitc_session *session, int64_t index, const vitc_tensor *tensor,
               const char *caller) {
  if (!session)
    return fail(std::string(caller) + ": session is NULL");
  if (index < 0)
    return fail(std::string(caller) + ": no output #" + std::to_string(index));
  Status status = Status::ok();
  if (!tensor || !tensor->data) {
    status = session->session->bindOutput(static_cast<size_t>(index),
                                          DType::F32, {}, nullptr);
  } else {
    if (readTensor(session, tensor, caller) != 0)
      return -1;
    status = session->session->bindOutput(
        static_cast<size_t>(index), static_cast<DType>(tensor->dtype),
        session->shape, tensor->data);
  }
  return status.isOk() ? 0 : fail(caller, status);
}

} // namespace

extern "C" {

vitc_session *vitc_session_create(const vitc_model *model, int32_t fn,
                                  const char *device, int32_t num_threads) {
  if (!model) {
    fail("vitc_session_create: model is NULL");
    return nullptr;
  }
  if (fn < 0) {
    fail("vitc_session_create: no function #" + std::to_string(fn));
    return nullptr;
  }
  auto session = BoundSession::create(model->session, static_cast<size_t>(fn),
                                      device ? device : "cpu", num_threads);
  if (!session.isOk()) {
    fail("vitc_session_create", session.status());
    return nullptr;
  }
  auto *result = new vitc_session{std::move(*session), {}};
  result->shape.reserve(VITC_MAX_RANK);
  return result;
}

void vitc_session_free(vitc_session *session) { delete session; }

int vitc_session_bind_input(vitc_session *session, const char *name,
                            const vitc_tensor *tensor) {
  const char *caller = "vitc_session_bind_input";
  int64_t index = indexOf(session, name, /*input=*/true, caller);
  return index < 0 ? -1 : bindInput(session, index, tensor, caller);
}

int vitc_session_bind_input_at(vitc_session *session, int32_t index,
                               const vitc_tensor *tensor) {
  return bindInput(session, index, tensor, "vitc_session_bind_input_at");
}

int vitc_session_bind_output(vitc_session *session, const char *name,
                             const vitc_tensor *tensor) {
  const char *caller = "vitc_session_bind_output";
  int64_t index = indexOf(session, name, /*input=*/false, caller);
  return index < 0 ? -1 : bindOutput(session, index, tensor, caller);
}

int vitc_session_bind_output_at(vitc_session *session, int32_t index,
                                const vitc_tensor *tensor) {
  return bindOutput(session, index, tensor, "vitc_session_bind_output_at");
}

int vitc_session_run(vitc_session *session) {
  if (!session)
    return fail("vitc_session_run: session is NULL");
  Status status = session->session->run();
  return status.isOk() ? 0 : fail("vitc_session_run", status);
}

int vitc_session_output(const vitc_session *session, int32_t index,
                        vitc_tensor *output) {
  if (!session || !output)
    return fail("vitc_session_output: session or output is NULL");
  const BoundSession &bound = *session->session;
  size_t count = bound.function().outputs.size();
  if (index < 0 || static_cast<size_t>(index) >= count)
    return fail("vitc_session_output: no output #" + std::to_string(index) +
                " (" + std::to_string(count) + " outputs)");
  if (!bound.hasRun())
    return fail("vitc_session_output: the session has no results (run it "
                "first)");
  const BoundSession::Output &result = bound.output(static_cast<size_t>(index));
  if (result.shape.size() > VITC_MAX_RANK)
    return fail("vitc_session_output: output '" +
                bound.function().outputs[index].name + "' has rank " +
                std::to_string(result.shape.size()) + ", more than " +
                std::to_string(VITC_MAX_RANK));
  output->dtype = static_cast<vitc_dtype>(result.dtype);
  output->rank = static_cast<int32_t>(result.shape.size());
  for (size_t d = 0; d < result.shape.size(); ++d)
    output->shape[d] = result.shape[d];
  output->data = result.data;
  return 0;
}

int64_t vitc_session_arena_bytes(const vitc_session *session) {
  if (!session) {
    fail("vitc_session_arena_bytes: session is NULL");
    return -1;
  }
  return static_cast<int64_t>(session->session->arenaBytes());
}

} // extern "C"
