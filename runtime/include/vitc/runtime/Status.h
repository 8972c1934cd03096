//===- Status.h - error values of the runtime (no exceptions) ---*- C++ -*-===//
#ifndef VITC_RUNTIME_STATUS_H
#define VITC_RUNTIME_STATUS_H

#include <optional>
#include <string>
#include <utility>

namespace vitc::rt {

/// Success, or an error with a message meant for the user.
class [[nodiscard]] Status {
public:
  static Status ok() { return Status(); }
  static Status error(std::string message) {
    Status status;
    status.message_ = std::move(message);
    return status;
  }
  bool isOk() const { return !message_.has_value(); }
  const std::string &message() const { return *message_; }

private:
  std::optional<std::string> message_;
};

/// A value or the error that prevented it.
template <typename T> class [[nodiscard]] StatusOr {
public:
  StatusOr(T value) : value_(std::move(value)) {}
  StatusOr(Status status) : status_(std::move(status)) {}
  bool isOk() const { return value_.has_value(); }
  const Status &status() const { return status_; }
  T &operator*() { return *value_; }
  T *operator->() { return &*value_; }

private:
  std::optional<T> value_;
  Status status_;
};

/// Makes `message` this thread's vitc_last_error(): libraries layered on the
/// C API (libvitc_train) report their errors the same way.
void setLastError(std::string message);

} // namespace vitc::rt

#endif // VITC_RUNTIME_STATUS_H
