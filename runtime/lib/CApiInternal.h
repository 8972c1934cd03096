//===- CApiInternal.h - what the C API's files share ----------------------===//
#ifndef VITC_RUNTIME_LIB_CAPIINTERNAL_H
#define VITC_RUNTIME_LIB_CAPIINTERNAL_H

#include "vitc_runtime.h"

#include "vitc/runtime/Session.h"

#include <memory>

struct vitc_model {
  std::shared_ptr<vitc::rt::Device> device;
  /// Shared with the model's vitc_sessions, which may outlive the model.
  std::shared_ptr<vitc::rt::Session> session;
};

#endif // VITC_RUNTIME_LIB_CAPIINTERNAL_H
