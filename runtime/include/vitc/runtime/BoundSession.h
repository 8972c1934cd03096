//===- BoundSession.h - a function run on caller-bound tensors --*- C++ -*-===//
//
// What vitc_session is (vitc_runtime.h): one function of a loaded model on a
// device with a thread count, its inputs and outputs bound to caller memory,
// and an arena that serves the compiled code's allocations. The first call
// at a set of input shapes records them (AllocationPlan.h); every later call
// at those shapes allocates nothing. An output bound to caller memory
// receives the result there: the code writes it in place where the
// allocation that holds the result can be that memory (64-byte aligned
// memory, a result that is its own buffer), else it is copied in at the end.
//
// Not thread safe: one call at a time per session; sessions of one model may
// run concurrently (each has its own arena; the code is shared).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_BOUNDSESSION_H
#define VITC_RUNTIME_BOUNDSESSION_H

#include "vitc/runtime/Session.h"

#include <memory>
#include <string>
#include <vector>

namespace vitc::rt {

struct AllocationPlan;
class CallAllocator;

class BoundSession {
public:
  /// A session running function #`function` of `model` on `device` ("cpu";
  /// "cuda:N" is recognised but not yet served) with `threads` threads (0:
  /// the process's default).
  static StatusOr<std::unique_ptr<BoundSession>>
  create(std::shared_ptr<Session> model, size_t function,
         const std::string &device, int threads);
  ~BoundSession();

  const FunctionSpec &function() const { return *function_; }
  /// The index of the input / output called `name`; an error lists them.
  StatusOr<size_t> findInput(const std::string &name) const;
  StatusOr<size_t> findOutput(const std::string &name) const;

  /// Binds input `index` to caller memory (read only, not copied; it must
  /// stay valid until the next run). The dtype and static dims must match.
  Status bindInput(size_t index, DType dtype, const std::vector<int64_t> &shape,
                   const void *data);
  /// Binds output `index` to caller memory of that dtype and shape, which
  /// each run then writes; `data` nullptr unbinds it (the session's memory).
  Status bindOutput(size_t index, DType dtype,
                    const std::vector<int64_t> &shape, void *data);

  /// Runs the function on the bound inputs.
  Status run();

  struct Output {
    DType dtype;
    std::vector<int64_t> shape;
    /// The bound memory, or the session's (valid until the next run).
    void *data = nullptr;
  };
  /// Output `index` of the last successful run.
  const Output &output(size_t index) const { return results_[index]; }
  bool hasRun() const { return hasRun_; }

  /// For tests and tools: the arena's size, the input shapes planned, and
  /// how the last run went.
  uint64_t arenaBytes() const { return arenaBytes_; }
  size_t numPlans() const { return plans_.size(); }
  bool lastRunReplayed() const { return lastReplayed_; }
  size_t lastRunOutputsInPlace() const { return lastInPlace_; }

private:
  BoundSession();
  struct Binding {
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    void *data = nullptr;
    bool bound = false;
  };
  /// Memory the session owns for outputs the code cannot leave in place.
  struct Buffer {
    void *data = nullptr;
    size_t capacity = 0;
  };

  Status checkBinding(const TensorSpec &spec, const char *what, DType dtype,
                      const std::vector<int64_t> &shape) const;
  AllocationPlan *findPlan();
  void fillDescriptors();
  /// Reads output `index`'s descriptor in the results; its event in the
  /// call's log when it holds a whole allocation the code made.
  struct Result;
  Result readResult(size_t index, const int64_t *&words) const;
  /// Records the plan of the call just made; nullptr if a bound output's
  /// shape differs from the result (the error).
  StatusOr<AllocationPlan *> recordPlan();
  Status deliverOutputs(const AllocationPlan *plan);
  void *copyBuffer(size_t index, size_t bytes);

  std::shared_ptr<Session> model_;
  std::unique_ptr<Stream> stream_;
  size_t functionIndex_ = 0;
  const FunctionSpec *function_ = nullptr;
  int threads_ = 0;
  std::vector<Binding> inputs_, outputs_;
  std::vector<Output> results_;
  std::vector<Buffer> copies_;
  /// The packed entry's arguments: result words, then the weights' and
  /// each input's descriptor (sized once: ranks are static).
  std::vector<int64_t> resultWords_;
  std::vector<std::vector<int64_t>> descriptors_;
  std::vector<void *> args_;
  std::vector<std::unique_ptr<AllocationPlan>> plans_;
  std::unique_ptr<CallAllocator> allocator_;
  std::vector<void *> callerMemory_;
  uint8_t *arena_ = nullptr;
  uint64_t arenaBytes_ = 0;
  bool hasRun_ = false, lastReplayed_ = false;
  size_t lastInPlace_ = 0;
};

} // namespace vitc::rt

#endif // VITC_RUNTIME_BOUNDSESSION_H
