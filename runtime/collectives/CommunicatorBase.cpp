//===- CommunicatorBase.cpp - checks, descriptions, Work ------------------===//
#include "CommunicatorBase.h"

#include <climits>
#include <cmath>
#include <cstring>
#include <sstream>

namespace vitc::coll {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 4;
  case DType::BF16:
    return 2;
  case DType::I64:
    return 8;
  }
  return 0;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::BF16:
    return "bf16";
  case DType::I64:
    return "i64";
  }
  return "?";
}

const char *reduceOpName(ReduceOp op) {
  switch (op) {
  case ReduceOp::Sum:
    return "sum";
  case ReduceOp::Mean:
    return "mean";
  case ReduceOp::Max:
    return "max";
  }
  return "?";
}

const char *collectiveName(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::AllReduce:
    return "all_reduce";
  case CollectiveKind::AllGather:
    return "all_gather";
  case CollectiveKind::ReduceScatter:
    return "reduce_scatter";
  case CollectiveKind::Broadcast:
    return "broadcast";
  case CollectiveKind::Barrier:
    return "barrier";
  }
  return "?";
}

uint16_t bf16FromFloat(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if (std::isnan(value))
    return static_cast<uint16_t>((bits >> 16) | 0x40); // quiet NaN
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float floatFromBf16(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

int64_t paddedShardCount(int64_t total, int worldSize) {
  if (worldSize <= 0 || total <= 0)
    return 0;
  return (total + worldSize - 1) / worldSize;
}

ShardRange shardRange(int64_t total, int worldSize, int rank) {
  int64_t shard = paddedShardCount(total, worldSize);
  ShardRange range;
  range.begin = std::min(total, shard * rank);
  range.end = std::min(total, shard * (rank + 1));
  return range;
}

//===----------------------------------------------------------------------===//
// Work
//===----------------------------------------------------------------------===//

void Work::State::complete(Status result) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    status = std::move(result);
    done = true;
  }
  done_cv.notify_all();
}

Status Work::wait() {
  if (!state_)
    return Status::ok();
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->done_cv.wait(lock, [&] { return state_->done; });
  return state_->status;
}

bool Work::ready() const {
  if (!state_)
    return true;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->done;
}

uint64_t Work::seq() const { return state_ ? state_->seq : 0; }

//===----------------------------------------------------------------------===//
// Descriptions
//===----------------------------------------------------------------------===//

int64_t OpDesc::bytes(int worldSize) const {
  int64_t elements = count;
  if (kind == CollectiveKind::AllGather ||
      kind == CollectiveKind::ReduceScatter)
    elements = counts.empty() ? count * worldSize : count;
  return elements * static_cast<int64_t>(dtypeSize(dtype));
}

int64_t OpDesc::countsHash() const {
  uint64_t hash = 1469598103934665603ull; // FNV-1a over the counts
  for (int64_t c : counts) {
    hash ^= static_cast<uint64_t>(c);
    hash *= 1099511628211ull;
  }
  return counts.empty() ? 0 : static_cast<int64_t>(hash >> 1);
}

std::string describeOp(CollectiveKind kind, ReduceOp op, DType dtype,
                       int64_t count, int root, int worldSize, bool vform) {
  std::ostringstream out;
  out << collectiveName(kind);
  if (vform)
    out << "_v";
  if (kind == CollectiveKind::Barrier)
    return out.str();
  out << "(";
  if (kind == CollectiveKind::AllReduce ||
      kind == CollectiveKind::ReduceScatter)
    out << reduceOpName(op) << ", ";
  out << dtypeName(dtype) << ", " << count << " elements";
  bool perRank = !vform && (kind == CollectiveKind::AllGather ||
                            kind == CollectiveKind::ReduceScatter);
  if (perRank)
    out << " per rank";
  if (kind == CollectiveKind::Broadcast)
    out << ", root " << root;
  int64_t elements = perRank ? count * worldSize : count;
  out << ", " << elements * static_cast<int64_t>(dtypeSize(dtype)) << " bytes)";
  return out.str();
}

std::string describe(const OpDesc &desc, int worldSize) {
  return describeOp(desc.kind, desc.op, desc.dtype, desc.count, desc.root,
                    worldSize, !desc.counts.empty());
}

std::string CommunicatorBase::where(const OpDesc &desc) const {
  std::ostringstream out;
  out << "rank " << rank() << "/" << size() << ": collective ";
  if (desc.seq)
    out << "#" << desc.seq << " ";
  else
    out << "(not issued) ";
  out << describe(desc, size());
  return out.str();
}

Status CommunicatorBase::callFailed(const OpDesc &desc, const char *call,
                                    const std::string &error) const {
  return Status::error(where(desc) + ": " + call + " failed: " + error);
}

//===----------------------------------------------------------------------===//
// The agreement check
//===----------------------------------------------------------------------===//

void agreementRecord(const OpDesc &d, int64_t record[kAgreementFields]) {
  record[0] = static_cast<int64_t>(d.seq);
  record[1] = static_cast<int64_t>(d.kind);
  record[2] = d.hasOp() ? static_cast<int64_t>(d.op) : -1;
  record[3] = static_cast<int64_t>(d.dtype);
  record[4] = d.count;
  record[5] = d.kind == CollectiveKind::Broadcast ? d.root : -1;
  record[6] = d.countsHash();
  record[7] = d.counts.empty() ? 0 : 1;
}

Status
CommunicatorBase::compareAgreement(const OpDesc &d,
                                   const std::vector<int64_t> &all) const {
  int64_t mine[kAgreementFields];
  agreementRecord(d, mine);
  int n = size();
  bool same = true;
  for (int r = 0; r < n && same; ++r)
    for (int f = 0; f < kAgreementFields; ++f)
      same = same && all[r * kAgreementFields + f] == mine[f];
  if (same)
    return Status::ok();
  std::ostringstream out;
  out << where(d) << ": collective mismatch (check-collectives): ";
  for (int r = 0; r < n; ++r) {
    const int64_t *v = &all[r * kAgreementFields];
    auto kind = static_cast<CollectiveKind>(v[1]);
    out << (r ? "; " : "") << "rank " << r << " issued #" << v[0] << " "
        << describeOp(kind, v[2] < 0 ? ReduceOp::Sum : ReduceOp(v[2]),
                      static_cast<DType>(v[3]), v[4], static_cast<int>(v[5]), n,
                      v[7] != 0);
    if (v[7] && v[6] != mine[6])
      out << " with other per-rank counts";
  }
  return Status::error(out.str());
}

//===----------------------------------------------------------------------===//
// Checks and issue
//===----------------------------------------------------------------------===//

namespace {
bool overlaps(const void *a, int64_t aBytes, const void *b, int64_t bBytes) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return aBytes > 0 && bBytes > 0 && pa < pb + bBytes && pb < pa + aBytes;
}
} // namespace

Status CommunicatorBase::validate(const OpDesc &d) const {
  auto fail = [&](const std::string &why) {
    return Status::error(where(d) + ": " + why);
  };
  int n = size();
  int64_t esize = static_cast<int64_t>(dtypeSize(d.dtype));
  if (d.count < 0)
    return fail("negative element count");
  if (d.hasOp() && d.op == ReduceOp::Mean && d.dtype == DType::I64)
    return fail("mean takes f32 or bf16, not i64");
  if (d.count > INT_MAX)
    return fail("more than 2^31-1 elements in one collective");
  int64_t sendBytes = 0, recvBytes = 0;
  switch (d.kind) {
  case CollectiveKind::Barrier:
    return Status::ok();
  case CollectiveKind::Broadcast:
    if (d.root < 0 || d.root >= n)
      return fail("root " + std::to_string(d.root) + " is not a rank");
    recvBytes = d.count * esize;
    break;
  case CollectiveKind::AllReduce:
    sendBytes = recvBytes = d.count * esize;
    if (d.send != d.recv && overlaps(d.send, sendBytes, d.recv, recvBytes))
      return fail("send and recv overlap (in place is send == recv)");
    break;
  case CollectiveKind::AllGather:
  case CollectiveKind::ReduceScatter: {
    int64_t offset = 0, mine = d.count, total = d.count;
    if (!d.counts.empty()) {
      if (static_cast<int>(d.counts.size()) != n)
        return fail(std::to_string(d.counts.size()) + " counts for " +
                    std::to_string(n) + " ranks");
      for (int r = 0; r < n; ++r) {
        if (d.counts[r] < 0)
          return fail("negative count for rank " + std::to_string(r));
        if (r < rank())
          offset += d.counts[r];
      }
      mine = d.counts[rank()];
    } else {
      offset = d.count * rank();
      total = d.count * n;
      if (total > INT_MAX)
        return fail("more than 2^31-1 elements in one collective");
    }
    if (d.kind == CollectiveKind::AllGather) {
      sendBytes = mine * esize;
      recvBytes = total * esize;
      const char *inPlace = static_cast<const char *>(d.recv) + offset * esize;
      if (d.send != inPlace && overlaps(d.send, sendBytes, d.recv, recvBytes))
        return fail("send and recv overlap (in place is send at this "
                    "rank's block of recv)");
    } else {
      sendBytes = total * esize;
      recvBytes = mine * esize;
      if (overlaps(d.send, sendBytes, d.recv, recvBytes))
        return fail("send and recv overlap");
    }
    break;
  }
  }
  if ((sendBytes > 0 && !d.send) || (recvBytes > 0 && !d.recv))
    return fail("null buffer");
  return Status::ok();
}

Work CommunicatorBase::issue(OpDesc desc) {
  Status valid = validate(desc);
  if (!valid.isOk()) {
    // Not issued: nothing was sent, no sequence number is used.
    auto state = std::make_shared<Work::State>();
    state->complete(valid);
    return Work(state);
  }
  desc.seq = nextSeq_++;
  auto state = std::make_shared<Work::State>();
  state->seq = desc.seq;
  if (auto broken = brokenBy()) {
    state->complete(Status::error(
        where(desc) + ": not run: an earlier error broke the communicator (" +
        *broken + ")"));
  } else {
    submit(std::move(desc), state);
  }
  last_ = Work(state);
  return last_;
}

Status CommunicatorBase::waitAll() {
  Status last = last_.wait();
  if (auto broken = brokenBy())
    return Status::error(*broken);
  return last;
}

Work CommunicatorBase::startAllReduce(const void *send, void *recv,
                                      int64_t count, DType dtype, ReduceOp op) {
  OpDesc d;
  d.kind = CollectiveKind::AllReduce;
  d.send = send, d.recv = recv, d.count = count, d.dtype = dtype, d.op = op;
  return issue(std::move(d));
}

Work CommunicatorBase::startAllGather(const void *send, void *recv,
                                      int64_t count, DType dtype) {
  OpDesc d;
  d.kind = CollectiveKind::AllGather;
  d.send = send, d.recv = recv, d.count = count, d.dtype = dtype;
  return issue(std::move(d));
}

Work CommunicatorBase::startAllGatherV(const void *send, void *recv,
                                       std::vector<int64_t> counts,
                                       DType dtype) {
  OpDesc d;
  d.kind = CollectiveKind::AllGather;
  d.send = send, d.recv = recv, d.dtype = dtype;
  for (int64_t c : counts)
    d.count += c;
  d.counts = std::move(counts);
  if (d.counts.empty()) // An empty list is never a valid V form.
    d.counts.push_back(-1);
  return issue(std::move(d));
}

Work CommunicatorBase::startReduceScatter(const void *send, void *recv,
                                          int64_t recvCount, DType dtype,
                                          ReduceOp op) {
  OpDesc d;
  d.kind = CollectiveKind::ReduceScatter;
  d.send = send, d.recv = recv, d.count = recvCount, d.dtype = dtype;
  d.op = op;
  return issue(std::move(d));
}

Work CommunicatorBase::startReduceScatterV(const void *send, void *recv,
                                           std::vector<int64_t> counts,
                                           DType dtype, ReduceOp op) {
  OpDesc d;
  d.kind = CollectiveKind::ReduceScatter;
  d.send = send, d.recv = recv, d.dtype = dtype, d.op = op;
  for (int64_t c : counts)
    d.count += c;
  d.counts = std::move(counts);
  if (d.counts.empty())
    d.counts.push_back(-1);
  return issue(std::move(d));
}

Work CommunicatorBase::startBroadcast(void *buffer, int64_t count, DType dtype,
                                      int root) {
  OpDesc d;
  d.kind = CollectiveKind::Broadcast;
  d.send = buffer, d.recv = buffer, d.count = count, d.dtype = dtype;
  d.root = root;
  return issue(std::move(d));
}

Work CommunicatorBase::startBarrier() {
  OpDesc d;
  d.kind = CollectiveKind::Barrier;
  return issue(std::move(d));
}

//===----------------------------------------------------------------------===//
// The communication thread
//===----------------------------------------------------------------------===//

ThreadedCommunicator::ThreadedCommunicator(int rank, int size,
                                           const CommunicatorOptions &options)
    : checkCollectives_(options.checkCollectives),
      watchdog_(options.timeoutSeconds,
                "rank " + std::to_string(rank) + "/" + std::to_string(size)) {}

ThreadedCommunicator::~ThreadedCommunicator() {
  // The derived destructor has stopped the thread already; this only
  // guards against one that did not.
  if (thread_.joinable())
    stopThread();
}

void ThreadedCommunicator::startThread() {
  thread_ = std::thread([this] { run(); });
}

void ThreadedCommunicator::stopThread() {
  (void)waitAll();
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    stop_ = true;
  }
  queueCv_.notify_all();
  thread_.join();
}

void ThreadedCommunicator::submit(OpDesc desc,
                                  std::shared_ptr<Work::State> state) {
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    queue_.push_back({std::move(desc), std::move(state)});
  }
  queueCv_.notify_one();
}

std::optional<std::string> ThreadedCommunicator::brokenBy() const {
  if (!broken_.load(std::memory_order_acquire))
    return std::nullopt;
  std::lock_guard<std::mutex> lock(brokenMutex_);
  return brokenBy_;
}

void ThreadedCommunicator::run() {
  onThreadStart();
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(queueMutex_);
      queueCv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    Status status = Status::ok();
    if (auto broken = brokenBy()) {
      status = Status::error(where(task.desc) +
                             ": not run: an earlier error broke the "
                             "communicator (" +
                             *broken + ")");
    } else {
      watchdog_.begin("collective #" + std::to_string(task.desc.seq) + " " +
                      describe(task.desc, size()));
      if (checkCollectives_)
        status = agree(task.desc);
      if (status.isOk())
        status = execute(task.desc);
      watchdog_.end();
      if (!status.isOk()) {
        std::lock_guard<std::mutex> lock(brokenMutex_);
        brokenBy_ = status.message();
        broken_.store(true, std::memory_order_release);
      }
    }
    task.state->complete(std::move(status));
  }
}

} // namespace vitc::coll
