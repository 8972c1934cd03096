//===- Watchdog.h - ends the process when an operation hangs ----*- C++ -*-===//
//
// Internal: the communicators' watchdog thread. begin() starts watching an
// operation, end() stops; one that outlives the timeout prints one line
// (naming the rank, the operation and, when a diagnosis is set, what it
// found of the peers within two seconds) and ends the process with
// _exit(kWatchdogExitCode), which makes mpirun end the job.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COLLECTIVES_WATCHDOG_H
#define VITC_COLLECTIVES_WATCHDOG_H

#include "vitc/collectives/Communicator.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

namespace vitc::coll {

/// Ends the process when the watched operation outlives the timeout.
class Watchdog {
  using Clock = std::chrono::steady_clock;

public:
  Watchdog(double timeoutSeconds, std::string rankName)
      : timeout_(timeoutSeconds), rankName_(std::move(rankName)) {
    if (timeout_ <= 0)
      return;
    double period = std::min(1.0, std::max(0.01, timeout_ / 20));
    thread_ = std::thread([this, period] { run(period); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }
  void begin(std::string what) {
    std::lock_guard<std::mutex> lock(mutex_);
    what_ = std::move(what);
    start_ = Clock::now();
    active_ = true;
  }
  void end() {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ = false;
  }
  /// What to add to the message when an operation times out (e.g. which
  /// peer it waits for). Runs on its own thread, given two seconds.
  void setDiagnosis(std::function<std::string()> diagnose) {
    std::lock_guard<std::mutex> lock(mutex_);
    diagnose_ = std::move(diagnose);
  }

private:
  void run(double period) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::duration<double>(period));
      if (stop_ || !active_)
        continue;
      double elapsed =
          std::chrono::duration<double>(Clock::now() - start_).count();
      if (elapsed <= timeout_)
        continue;
      std::string found = diagnosis();
      std::fprintf(stderr,
                   "vitc collectives watchdog: %s: %s has not completed after "
                   "%.1f s (timeout %g s)%s; ending the process (exit %d)\n",
                   rankName_.c_str(), what_.c_str(), elapsed, timeout_,
                   found.c_str(), kWatchdogExitCode);
      std::fflush(stderr);
      std::fflush(stdout);
      _exit(kWatchdogExitCode);
    }
  }

  /// "; <diagnosis>", or "" without one or when it takes over two seconds
  /// (a detached thread: the process ends right after).
  std::string diagnosis() {
    if (!diagnose_)
      return "";
    struct Result {
      std::mutex mutex;
      std::condition_variable cv;
      bool done = false;
      std::string text;
    };
    auto result = std::make_shared<Result>();
    std::thread([result, fn = diagnose_] {
      std::string text = fn();
      std::lock_guard<std::mutex> lock(result->mutex);
      result->text = std::move(text);
      result->done = true;
      result->cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(result->mutex);
    if (!result->cv.wait_for(lock, std::chrono::seconds(2),
                             [&] { return result->done; }))
      return "; the peers did not answer within 2 s";
    return result->text.empty() ? "" : "; " + result->text;
  }

  double timeout_;
  std::string rankName_;
  std::function<std::string()> diagnose_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  bool active_ = false;
  std::string what_;
  Clock::time_point start_;
};

} // namespace vitc::coll

#endif // VITC_COLLECTIVES_WATCHDOG_H
