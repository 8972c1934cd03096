//===- Watchdog.h - ends the process when an operation hangs ----*- C++ -*-===//
//
// Internal: the communicators' watchdog thread. begin() starts watching an
// operation, end() stops; one that outlives the timeout prints one line
// (naming the rank and the operation) and ends the process with
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
      std::fprintf(stderr,
                   "vitc collectives watchdog: %s: %s has not completed after "
                   "%.1f s (timeout %g s); ending the process (exit %d)\n",
                   rankName_.c_str(), what_.c_str(), elapsed, timeout_,
                   kWatchdogExitCode);
      std::fflush(stderr);
      std::fflush(stdout);
      _exit(kWatchdogExitCode);
    }
  }

  double timeout_;
  std::string rankName_;
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
