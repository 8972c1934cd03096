//===- SingleCommunicator.cpp - a world of one ----------------------------===//
//
// Rank 0 of 1: every collective is a copy (a reduction over one rank is its
// input; a mean divides by one, exact in f32 and bf16). Runs inline on the
// issuing thread, so every Work is ready when start*() returns.
//
//===----------------------------------------------------------------------===//
#include "CommunicatorBase.h"

#include <cstring>

namespace vitc::coll {
namespace {

class SingleCommunicator final : public CommunicatorBase {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char *backend() const override { return "single"; }

protected:
  void submit(OpDesc d, std::shared_ptr<Work::State> state) override {
    size_t bytes = static_cast<size_t>(d.count) * dtypeSize(d.dtype);
    if (d.kind != CollectiveKind::Barrier &&
        d.kind != CollectiveKind::Broadcast && bytes > 0 && d.send != d.recv)
      std::memmove(d.recv, d.send, bytes);
    state->complete(Status::ok());
  }
  std::optional<std::string> brokenBy() const override { return std::nullopt; }
};

} // namespace

std::unique_ptr<Communicator> createSingleCommunicator() {
  return std::make_unique<SingleCommunicator>();
}

} // namespace vitc::coll
