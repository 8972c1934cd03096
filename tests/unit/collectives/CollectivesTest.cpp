//===- CollectivesTest.cpp - the collectives against references ----------===//
//
// Every rank knows every rank's (deterministic) inputs, so it computes each
// collective's expected result with plain loops and compares. Rank 0 prints
// a PASS line per check; any rank prints its FAIL lines; the last lines sum
// the failures over all ranks.
//
//   vitc-collectives-test [--single] [--check] [--timeout S]
//                         [--fault kill|stop|exit|mismatch] [--fault-rank R]
//   vitc-collectives-test --has-mpi   exits 0 when built with MPI
//
// --single tests the world of one only (no MPI). The fault modes run a few
// collectives, then rank R (default 1) kills itself (SIGKILL), stops itself
// (SIGSTOP), exits without finalising, or issues a different collective than
// the others; the lit driver (fault.py) times the job's end.
//
//===----------------------------------------------------------------------===//
#include "CollectivesTest.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace vitc::coll;
using namespace vitc::coll::test;

int vitc::coll::test::gChecks = 0, vitc::coll::test::gFailures = 0;

namespace {

int gRank = 0, gSize = 1;
int gWorldRank = 0; // the process's rank: only rank 0 prints PASS lines
const char *gBackend = "";

void report(bool ok, const std::string &name, const std::string &detail = "") {
  ++gChecks;
  if (ok) {
    if (gWorldRank == 0)
      std::printf("PASS %s %s\n", gBackend, name.c_str());
  } else {
    ++gFailures;
    std::printf("FAIL rank %d %s %s: %s\n", gWorldRank, gBackend, name.c_str(),
                detail.c_str());
  }
  std::fflush(stdout);
}

bool expectOk(const Status &status, const std::string &name) {
  if (status.isOk())
    return true;
  report(false, name, "error: " + status.message());
  return false;
}

// Independent of the library's conversions.
float widen(uint16_t bits) {
  uint32_t word = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}
uint16_t narrow(float value) { // round to nearest even (no NaNs here)
  uint32_t word;
  std::memcpy(&word, &value, 4);
  uint32_t lsb = (word >> 16) & 1;
  return uint16_t((word + 0x7fff + lsb) >> 16);
}

/// Rank r's input element i of the tensor `salt`, as a double; f32 inputs
/// are multiples of 1/256 (sums exact in any order), bf16 inputs any bf16.
double inputValue(int r, int64_t i, int salt, DType dtype) {
  switch (dtype) {
  case DType::F32:
    return double(((r * 7919 + i * 104729 + salt * 31) % 2001) - 1000) / 256;
  case DType::BF16:
    return widen(
        narrow(float(3 * std::sin(0.37 * double(i) + 1.3 * r + 0.11 * salt))));
  case DType::I64:
    return double(r * 1000003 + i * 7 - 5000 + salt);
  }
  return 0;
}

/// A typed buffer of doubles' images.
struct Buffer {
  DType dtype;
  std::vector<char> bytes;
  Buffer(DType dtype, int64_t count)
      : dtype(dtype),
        bytes(size_t(std::max<int64_t>(count, 1)) * dtypeSize(dtype)) {}
  void *data() { return bytes.data(); }
  void set(int64_t i, double v) {
    switch (dtype) {
    case DType::F32:
      reinterpret_cast<float *>(bytes.data())[i] = float(v);
      break;
    case DType::BF16:
      reinterpret_cast<uint16_t *>(bytes.data())[i] = narrow(float(v));
      break;
    case DType::I64:
      reinterpret_cast<int64_t *>(bytes.data())[i] = int64_t(v);
      break;
    }
  }
  double get(int64_t i) const {
    switch (dtype) {
    case DType::F32:
      return reinterpret_cast<const float *>(bytes.data())[i];
    case DType::BF16:
      return widen(reinterpret_cast<const uint16_t *>(bytes.data())[i]);
    case DType::I64:
      return double(reinterpret_cast<const int64_t *>(bytes.data())[i]);
    }
    return 0;
  }
};

/// The reduction of element i over all ranks' inputs, rounded as the
/// library's contract says (f32 math; bf16 rounded once at the end).
double reduced(int64_t i, int salt, DType dtype, ReduceOp op) {
  if (dtype == DType::I64) {
    int64_t acc = op == ReduceOp::Max ? INT64_MIN : 0;
    for (int r = 0; r < gSize; ++r) {
      auto v = int64_t(inputValue(r, i, salt, dtype));
      acc = op == ReduceOp::Max ? std::max(acc, v) : acc + v;
    }
    return double(acc);
  }
  float acc = op == ReduceOp::Max ? -INFINITY : 0.0f;
  for (int r = 0; r < gSize; ++r) {
    float v = float(inputValue(r, i, salt, dtype));
    acc = op == ReduceOp::Max ? std::max(acc, v) : acc + v;
  }
  if (op == ReduceOp::Mean)
    acc /= float(gSize);
  return dtype == DType::BF16 ? widen(narrow(acc)) : acc;
}

bool close(double got, double want, DType dtype) {
  switch (dtype) {
  case DType::I64:
    return got == want;
  case DType::F32: // f32 sums in another order: a few ulps
    return std::fabs(got - want) <= 1e-6 * std::max(1.0, std::fabs(want));
  case DType::BF16: // one bf16 ulp (the f32 sum may round either side)
    return std::fabs(got - want) <=
           std::ldexp(1.0, -7) * std::fabs(want) + 1e-6;
  }
  return false;
}

/// Compares n elements of got (from offset) with want(i).
template <typename Want>
void compare(const std::string &name, const Buffer &got, int64_t offset,
             int64_t n, Want want) {
  for (int64_t i = 0; i < n; ++i) {
    double g = got.get(offset + i), w = want(i);
    if (!close(g, w, got.dtype)) {
      char detail[160];
      std::snprintf(detail, sizeof detail, "element %lld: got %.9g, want %.9g",
                    (long long)i, g, w);
      report(false, name, detail);
      return;
    }
  }
  report(true, name);
}

std::string label(const char *what, DType dtype, int64_t count,
                  const char *extra = "") {
  return std::string(what) + " " + dtypeName(dtype) +
         " n=" + std::to_string(count) + extra;
}

int gSalt = 0;

void testAllReduce(Communicator &comm, DType dtype, ReduceOp op, int64_t count,
                   bool inPlace) {
  int salt = ++gSalt;
  Buffer send(dtype, count), recv(dtype, count);
  for (int64_t i = 0; i < count; ++i)
    send.set(i, inputValue(gRank, i, salt, dtype));
  std::string name =
      label("all_reduce", dtype, count, inPlace ? " in-place" : "");
  name += std::string(" ") + reduceOpName(op);
  Buffer &out = inPlace ? send : recv;
  if (!expectOk(comm.allReduce(send.data(), out.data(), count, dtype, op),
                name))
    return;
  compare(name, out, 0, count,
          [&](int64_t i) { return reduced(i, salt, dtype, op); });
}

void testAllGather(Communicator &comm, DType dtype, int64_t count,
                   bool inPlace) {
  int salt = ++gSalt;
  Buffer send(dtype, count), recv(dtype, count * gSize);
  Buffer &src = inPlace ? recv : send;
  int64_t base = inPlace ? count * gRank : 0;
  for (int64_t i = 0; i < count; ++i)
    src.set(base + i, inputValue(gRank, i, salt, dtype));
  std::string name =
      label("all_gather", dtype, count, inPlace ? " in-place" : "");
  const void *sendPtr =
      inPlace ? static_cast<void *>(recv.bytes.data() + base * dtypeSize(dtype))
              : send.data();
  if (!expectOk(comm.allGather(sendPtr, recv.data(), count, dtype), name))
    return;
  compare(name, recv, 0, count * gSize, [&](int64_t i) {
    return inputValue(int(i / count), i % count, salt, dtype);
  });
}

std::vector<int64_t> unevenCounts() {
  std::vector<int64_t> counts;
  for (int r = 0; r < gSize; ++r)
    counts.push_back((r * 3 + 1) % 5 * 37); // 37, 148, 74, 0 (rank 3: none)
  return counts;
}

void testAllGatherV(Communicator &comm, DType dtype) {
  int salt = ++gSalt;
  std::vector<int64_t> counts = unevenCounts();
  std::vector<int64_t> offsets;
  int64_t total = 0;
  for (int64_t c : counts)
    offsets.push_back(total), total += c;
  Buffer send(dtype, counts[gRank]), recv(dtype, total);
  for (int64_t i = 0; i < counts[gRank]; ++i)
    send.set(i, inputValue(gRank, i, salt, dtype));
  std::string name = label("all_gather_v", dtype, total, " uneven");
  if (!expectOk(comm.allGatherV(send.data(), recv.data(), counts, dtype), name))
    return;
  compare(name, recv, 0, total, [&](int64_t i) {
    int r = 0;
    while (i >= offsets[r] + counts[r])
      ++r;
    return inputValue(r, i - offsets[r], salt, dtype);
  });
}

void testReduceScatter(Communicator &comm, DType dtype, ReduceOp op,
                       int64_t recvCount) {
  int salt = ++gSalt;
  Buffer send(dtype, recvCount * gSize), recv(dtype, recvCount);
  for (int64_t i = 0; i < recvCount * gSize; ++i)
    send.set(i, inputValue(gRank, i, salt, dtype));
  std::string name =
      label("reduce_scatter", dtype, recvCount) + " " + reduceOpName(op);
  if (!expectOk(
          comm.reduceScatter(send.data(), recv.data(), recvCount, dtype, op),
          name))
    return;
  compare(name, recv, 0, recvCount, [&](int64_t i) {
    return reduced(recvCount * gRank + i, salt, dtype, op);
  });
}

void testReduceScatterV(Communicator &comm, DType dtype, ReduceOp op) {
  int salt = ++gSalt;
  std::vector<int64_t> counts = unevenCounts();
  int64_t total = 0, offset = 0;
  for (int r = 0; r < gSize; ++r) {
    if (r < gRank)
      offset += counts[r];
    total += counts[r];
  }
  Buffer send(dtype, total), recv(dtype, counts[gRank]);
  for (int64_t i = 0; i < total; ++i)
    send.set(i, inputValue(gRank, i, salt, dtype));
  std::string name = label("reduce_scatter_v", dtype, total, " uneven") + " " +
                     reduceOpName(op);
  if (!expectOk(
          comm.reduceScatterV(send.data(), recv.data(), counts, dtype, op),
          name))
    return;
  compare(name, recv, 0, counts[gRank],
          [&](int64_t i) { return reduced(offset + i, salt, dtype, op); });
}

/// The padded (FSDP) convention: a flat gradient of `total` elements padded
/// to size() blocks; reduce-scatter it, then all-gather the shards back.
void testPadded(Communicator &comm, DType dtype, int64_t total) {
  int salt = ++gSalt;
  int64_t shard = paddedShardCount(total, gSize);
  Buffer grad(dtype, shard * gSize), mine(dtype, shard),
      full(dtype, shard * gSize);
  for (int64_t i = 0; i < shard * gSize; ++i)
    grad.set(i, i < total ? inputValue(gRank, i, salt, dtype) : 0.0);
  std::string name = label("padded shards", dtype, total);
  if (!expectOk(comm.reduceScatter(grad.data(), mine.data(), shard, dtype,
                                   ReduceOp::Sum),
                name) ||
      !expectOk(comm.allGather(mine.data(), full.data(), shard, dtype), name))
    return;
  ShardRange range = shardRange(total, gSize, gRank);
  bool rangeOk = range.begin == std::min(total, shard * gRank) &&
                 range.end - range.begin <= shard;
  report(rangeOk, name + " shardRange");
  compare(name, full, 0, shard * gSize, [&](int64_t i) {
    return i < total ? reduced(i, salt, dtype, ReduceOp::Sum) : 0.0;
  });
}

void testBroadcast(Communicator &comm, DType dtype, int64_t count, int root) {
  int salt = ++gSalt;
  Buffer buffer(dtype, count);
  for (int64_t i = 0; i < count; ++i)
    buffer.set(i, inputValue(gRank, i, salt, dtype));
  std::string name =
      label("broadcast", dtype, count) + " root " + std::to_string(root);
  if (!expectOk(comm.broadcast(buffer.data(), count, dtype, root), name))
    return;
  compare(name, buffer, 0, count,
          [&](int64_t i) { return inputValue(root, i, salt, dtype); });
}

/// Four collectives in flight at once, waited for in reverse order.
void testAsync(Communicator &comm, DType dtype) {
  int64_t n = 2048;
  int s1 = ++gSalt, s2 = ++gSalt, s3 = ++gSalt, s4 = ++gSalt;
  Buffer a(dtype, n), b(dtype, n), bAll(dtype, n * gSize), c(dtype, n * gSize),
      cMine(dtype, n), d(dtype, n);
  for (int64_t i = 0; i < n; ++i) {
    a.set(i, inputValue(gRank, i, s1, dtype));
    b.set(i, inputValue(gRank, i, s2, dtype));
    d.set(i, inputValue(gRank, i, s4, dtype));
  }
  for (int64_t i = 0; i < n * gSize; ++i)
    c.set(i, inputValue(gRank, i, s3, dtype));
  std::string name = std::string("async in flight ") + dtypeName(dtype);
  Work w1 = comm.startAllReduce(a.data(), a.data(), n, dtype, ReduceOp::Mean);
  Work w2 = comm.startAllGather(b.data(), bAll.data(), n, dtype);
  Work w3 =
      comm.startReduceScatter(c.data(), cMine.data(), n, dtype, ReduceOp::Sum);
  Work w4 = comm.startBroadcast(d.data(), n, dtype, gSize - 1);
  report(w1.seq() < w2.seq() && w2.seq() < w3.seq() && w3.seq() < w4.seq(),
         name + " seq order");
  bool ok = expectOk(w4.wait(), name) && expectOk(w3.wait(), name) &&
            expectOk(w2.wait(), name) && expectOk(w1.wait(), name);
  if (!ok)
    return;
  report(w1.ready() && w2.ready() && w3.ready() && w4.ready(),
         name + " ready after wait");
  compare(name + " all_reduce", a, 0, n,
          [&](int64_t i) { return reduced(i, s1, dtype, ReduceOp::Mean); });
  compare(name + " all_gather", bAll, 0, n * gSize,
          [&](int64_t i) { return inputValue(int(i / n), i % n, s2, dtype); });
  compare(name + " reduce_scatter", cMine, 0, n, [&](int64_t i) {
    return reduced(n * gRank + i, s3, dtype, ReduceOp::Sum);
  });
  compare(name + " broadcast", d, 0, n,
          [&](int64_t i) { return inputValue(gSize - 1, i, s4, dtype); });
  report(comm.waitAll().isOk(), name + " waitAll");
}

/// Bad arguments are errors that name the collective; nothing runs, and the
/// communicator stays usable.
void testErrors(Communicator &comm) {
  int64_t x[4] = {1, 2, 3, 4};
  Status mean = comm.allReduce(x, x, 4, DType::I64, ReduceOp::Mean);
  report(!mean.isOk() &&
             mean.message().find("mean takes f32 or bf16") !=
                 std::string::npos &&
             mean.message().find("all_reduce(mean, i64") != std::string::npos,
         "error: i64 mean", mean.isOk() ? "no error" : mean.message());
  Status root = comm.broadcast(x, 4, DType::I64, gSize);
  report(!root.isOk() &&
             root.message().find("is not a rank") != std::string::npos,
         "error: broadcast root", root.isOk() ? "no error" : root.message());
  Status counts = comm.allGatherV(x, x, {1}, DType::I64);
  report(gSize == 1 || (!counts.isOk() && counts.message().find("counts for") !=
                                              std::string::npos),
         "error: counts per rank",
         counts.isOk() ? "no error" : counts.message());
  float f[8] = {};
  Status overlap = comm.allReduce(f, f + 1, 4, DType::F32, ReduceOp::Sum);
  report(!overlap.isOk() &&
             overlap.message().find("overlap") != std::string::npos,
         "error: overlapping buffers",
         overlap.isOk() ? "no error" : overlap.message());
  int64_t sum = 1;
  report(comm.allReduce(&sum, &sum, 1, DType::I64, ReduceOp::Sum).isOk() &&
             sum == gSize,
         "usable after argument errors");
}

} // namespace

void vitc::coll::test::runSuite(Communicator &comm) {
  gRank = comm.rank();
  gSize = comm.size();
  gBackend = comm.backend();
  for (DType dtype : {DType::F32, DType::BF16}) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max})
      for (int64_t count : {1, 13, 4099})
        testAllReduce(comm, dtype, op, count, false);
    testAllReduce(comm, dtype, ReduceOp::Sum, 1000, true);
    testAllReduce(comm, dtype, ReduceOp::Sum, 0, false);
    for (int64_t count : {1, 5, 1000})
      testAllGather(comm, dtype, count, false);
    testAllGather(comm, dtype, 77, true);
    testAllGatherV(comm, dtype);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max})
      for (int64_t count : {1, 333})
        testReduceScatter(comm, dtype, op, count);
    testReduceScatterV(comm, dtype, ReduceOp::Sum);
    testReduceScatterV(comm, dtype, ReduceOp::Mean);
    for (int64_t total : {1, 10, 1001})
      testPadded(comm, dtype, total);
    for (int root = 0; root < gSize; ++root)
      testBroadcast(comm, dtype, 129, root);
    testAsync(comm, dtype);
  }
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max})
    testAllReduce(comm, DType::I64, op, 100, false);
  testAllGather(comm, DType::I64, 3, false);
  testBroadcast(comm, DType::I64, 17, 0);
  report(comm.barrier().isOk(), "barrier");
  testErrors(comm);
}

namespace {

void testSingle() {
  std::unique_ptr<Communicator> single = createSingleCommunicator();
  int rank = gRank, size = gSize;
  const char *backend = gBackend;
  gBackend = "single";
  report(single->rank() == 0 && single->size() == 1 &&
             std::string(single->backend()) == "single",
         "world of one: rank 0 of 1");
  runSuite(*single);
  gRank = rank, gSize = size, gBackend = backend;
}

/// Two MPI communicators with collectives in flight on both at once (their
/// threads call MPI concurrently: MPI_THREAD_MULTIPLE), or, where MPI gives
/// less, a clear refusal of the second one.
void testSecondCommunicator(Communicator &first,
                            const CommunicatorOptions &options) {
  StatusOr<std::unique_ptr<Communicator>> created =
      createMpiCommunicator(options);
  if (!created.isOk()) {
    bool refused = created.status().message().find("MPI_THREAD_MULTIPLE") !=
                   std::string::npos;
    report(refused, "second communicator refused without MPI_THREAD_MULTIPLE",
           created.status().message());
    return;
  }
  Communicator &second = **created;
  report(second.rank() == first.rank() && second.size() == first.size(),
         "second communicator: same ranks");
  int64_t n = 100000;
  int s1 = ++gSalt, s2 = ++gSalt;
  Buffer a(DType::F32, n), b(DType::F32, n);
  for (int64_t i = 0; i < n; ++i) {
    a.set(i, inputValue(gRank, i, s1, DType::F32));
    b.set(i, inputValue(gRank, i, s2, DType::F32));
  }
  std::vector<Work> works;
  for (int k = 0; k < 4; ++k) { // alternating, all in flight
    works.push_back(first.startAllReduce(a.data(), a.data(), n / 4, DType::F32,
                                         ReduceOp::Max));
    works.push_back(second.startAllReduce(b.data(), b.data(), n, DType::F32,
                                          ReduceOp::Max));
  }
  bool ok = true;
  for (Work &w : works)
    ok = expectOk(w.wait(), "two communicators at once") && ok;
  if (!ok)
    return;
  compare("two communicators at once: first", a, 0, n / 4,
          [&](int64_t i) { return reduced(i, s1, DType::F32, ReduceOp::Max); });
  compare("two communicators at once: second", b, 0, n,
          [&](int64_t i) { return reduced(i, s2, DType::F32, ReduceOp::Max); });
}


/// A few collectives, then rank faultRank misbehaves as asked.
int runFault(Communicator &comm, const Args &args) {
  float value = 1;
  for (int step = 0; step < 3; ++step) {
    Status s = comm.allReduce(&value, &value, 1, DType::F32, ReduceOp::Sum);
    if (!s.isOk()) {
      std::printf("rank %d: error: %s\n", gRank, s.message().c_str());
      return 1;
    }
  }
  std::printf("rank %d/%d: fault %s from rank %d\n", gRank, gSize,
              args.fault.c_str(), args.faultRank);
  std::fflush(stdout);
  if (gRank == args.faultRank) {
    if (args.fault == "kill")
      raise(SIGKILL);
    if (args.fault == "stop")
      raise(SIGSTOP);
    if (args.fault == "exit")
      std::exit(0); // without finalising MPI
  }
  std::vector<float> buffer(1024, 1.0f), gathered(1024 * gSize);
  Status status = Status::ok();
  if (args.fault == "mismatch" && gRank == args.faultRank)
    status = comm.allGather(buffer.data(), gathered.data(), 1024, DType::F32);
  else
    status = comm.allReduce(buffer.data(), buffer.data(), 1024, DType::F32,
                            ReduceOp::Sum);
  if (!status.isOk()) {
    std::printf("rank %d: error: %s\n", gRank, status.message().c_str());
    return 3;
  }
  // The other faults: the rest keep issuing collectives that cannot finish.
  for (int step = 0; step < 100000; ++step) {
    Status s = comm.allReduce(buffer.data(), buffer.data(), 1024, DType::F32,
                              ReduceOp::Sum);
    if (!s.isOk()) {
      std::printf("rank %d: error: %s\n", gRank, s.message().c_str());
      return 1;
    }
  }
  std::printf("rank %d: the fault went unnoticed\n", gRank);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // Whole lines: mpirun interleaves the ranks' output.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : ""; };
    if (arg == "--has-mpi") // for lit.cfg.py: exit 0 when built with MPI
      return mpiCommunicatorAvailable() ? 0 : 1;
    if (arg == "--has-nccl") // for lit.cfg.py: exit 0 when built with NCCL
      return ncclCommunicatorAvailable() ? 0 : 1;
    if (arg == "--nccl")
      args.nccl = true;
    else if (arg == "--expect-gpu")
      args.expectGpu = true;
    else if (arg == "--single")
      args.single = true;
    else if (arg == "--check")
      args.check = true;
    else if (arg == "--timeout")
      args.timeout = std::atof(next().c_str());
    else if (arg == "--fault")
      args.fault = next();
    else if (arg == "--fault-rank")
      args.faultRank = std::atoi(next().c_str());
    else if (arg == "--tag")
      next(); // lets the fault driver find this job's processes
    else {
      std::fprintf(stderr, "vitc-collectives-test: unknown argument %s\n",
                   arg.c_str());
      return 2;
    }
  }
  if (args.nccl)
    return runNccl(args);
  if (args.single || !mpiCommunicatorAvailable()) {
    if (!args.single)
      std::printf("MPI communicator not built: single communicator only\n");
    testSingle();
    std::printf("collectives: world of 1 (single), %d checks, %d failures\n",
                gChecks, gFailures);
    std::printf(gFailures ? "SOME FAILED\n" : "ALL PASS\n");
    return gFailures ? 1 : 0;
  }

  CommunicatorOptions options;
  options.timeoutSeconds = args.timeout;
  options.checkCollectives = args.check;
  StatusOr<std::unique_ptr<Communicator>> created =
      createMpiCommunicator(options);
  if (!created.isOk()) {
    std::fprintf(stderr, "%s\n", created.status().message().c_str());
    return 1;
  }
  std::unique_ptr<Communicator> comm = std::move(*created);
  gRank = gWorldRank = comm->rank();
  gSize = comm->size();
  if (gRank == 0)
    std::printf("collectives: %d ranks (%s), check-collectives %s, timeout "
                "%g s\n",
                gSize, comm->backend(), args.check ? "on" : "off",
                args.timeout);
  if (!args.fault.empty())
    return runFault(*comm, args);

  runSuite(*comm);
  testSecondCommunicator(*comm, options);
  testSingle();
  gBackend = comm->backend();
  // Sum the results over ranks (a failure anywhere fails every rank).
  int64_t totals[2] = {gChecks, gFailures};
  Status summed = comm->allReduce(totals, totals, 2, DType::I64, ReduceOp::Sum);
  if (!summed.isOk()) {
    std::printf("FAIL rank %d: summing results: %s\n", gRank,
                summed.message().c_str());
    return 1;
  }
  if (gRank == 0) {
    std::printf("collectives: %d ranks, %lld checks, %lld failures\n", gSize,
                (long long)totals[0], (long long)totals[1]);
    std::printf(totals[1] ? "SOME FAILED\n" : "ALL PASS\n");
  }
  return totals[1] ? 1 : 0;
}
