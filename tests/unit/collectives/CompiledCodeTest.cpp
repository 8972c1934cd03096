//===- CompiledCodeTest.cpp - compiled steps' collectives on a communicator ===//
//
//   vitc-compiled-collectives-test [--single]
//
// Calls the runtime's entry points that sharded steps call
// (`_mlir_ciface_vitc_coll_all_reduce_*`, vitc/runtime/CompiledCollectives.h)
// as compiled code does, with rank-dependent data: first with no
// communicator (a world of one: values unchanged), then on the MPI job's
// communicator (or, with --single, the world of one), against references
// computed here: with equal slices of the batch, then with uneven ones and
// a rank that holds only a stand-in sample (CompiledCode.h). Prints PASS/FAIL lines and "ALL PASS"; exit 1 on a failure.
//
//===----------------------------------------------------------------------===//
#include "vitc/collectives/CompiledCode.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

/// The memref<?xT> descriptor compiled code passes.
template <typename T> struct FlatMemRef {
  T *allocated, *aligned;
  int64_t offset, size, stride;
};

extern "C" {
void _mlir_ciface_vitc_coll_all_reduce_f32(FlatMemRef<float> *, int64_t);
void _mlir_ciface_vitc_coll_all_reduce_bf16(FlatMemRef<uint16_t> *, int64_t);
void _mlir_ciface_vitc_coll_all_reduce_i64(FlatMemRef<int64_t> *, int64_t);
void _mlir_ciface_vitc_coll_all_gather_f32(FlatMemRef<float> *,
                                           FlatMemRef<float> *);
void _mlir_ciface_vitc_coll_reduce_scatter_f32(FlatMemRef<float> *,
                                               FlatMemRef<float> *, int64_t);
int64_t vitc_coll_world_size(void);
}

namespace coll = vitc::coll;

namespace {

// mlir::shard::ReductionKind's values, as the compiler passes them.
constexpr int64_t kSum = 1, kMax = 2, kAverage = 5;

int failures = 0;

void check(bool ok, const std::string &what) {
  std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
  failures += !ok;
}

/// Rank r's element i.
float valueOf(int r, int i) { return 0.25f * r + 0.5f * i - 3.0f; }

void runChecks(int rank, int size, const char *where) {
  const int n = 1000;
  std::string tag = std::string(where) + " ";
  std::vector<float> v(n);
  auto fill = [&] {
    for (int i = 0; i < n; ++i)
      v[i] = valueOf(rank, i);
  };
  auto expect = [&](auto combine) {
    bool ok = true;
    for (int i = 0; i < n; ++i) {
      double want = valueOf(0, i);
      for (int r = 1; r < size; ++r)
        want = combine(want, valueOf(r, i));
      ok &= std::fabs(v[i] - want) <= 1e-5 * (1 + std::fabs(want));
    }
    return ok;
  };
  FlatMemRef<float> m{v.data(), v.data(), 0, n, 1};

  fill();
  _mlir_ciface_vitc_coll_all_reduce_f32(&m, kSum);
  check(expect([](double a, double b) { return a + b; }), tag + "f32 sum");

  fill();
  _mlir_ciface_vitc_coll_all_reduce_f32(&m, kAverage);
  bool meanOk = true;
  for (int i = 0; i < n; ++i) {
    double sum = 0;
    for (int r = 0; r < size; ++r)
      sum += valueOf(r, i);
    meanOk &= std::fabs(v[i] - sum / size) <= 1e-5 * (1 + std::fabs(sum));
  }
  check(meanOk, tag + "f32 average");

  fill();
  _mlir_ciface_vitc_coll_all_reduce_f32(&m, kMax);
  check(expect([](double a, double b) { return std::max(a, b); }),
        tag + "f32 max");

  // A scalar (the loss: memref<1xf32> after the compiler's expand_shape)
  // inside a bigger allocation, at an offset.
  std::vector<float> scalar{-1, valueOf(rank, 7), -1};
  FlatMemRef<float> s{scalar.data(), scalar.data(), 1, 1, 1};
  _mlir_ciface_vitc_coll_all_reduce_f32(&s, kAverage);
  double mean = 0;
  for (int r = 0; r < size; ++r)
    mean += valueOf(r, 7) / size;
  check(std::fabs(scalar[1] - mean) < 1e-5 && scalar[0] == -1 &&
            scalar[2] == -1,
        tag + "f32 average of a scalar at an offset");

  // The hit count: i64 sum.
  std::vector<int64_t> hits{int64_t(rank + 1), 40};
  FlatMemRef<int64_t> h{hits.data(), hits.data(), 0, 2, 1};
  _mlir_ciface_vitc_coll_all_reduce_i64(&h, kSum);
  check(hits[0] == int64_t(size) * (size + 1) / 2 && hits[1] == 40 * size,
        tag + "i64 sum");

  // bf16 gradients: 1.5 + rank is exact in bf16, and so is the mean of
  // 1.5, 2.5, ... (a multiple of 0.5 below 256).
  std::vector<uint16_t> b(64, coll::bf16FromFloat(1.5f + rank));
  FlatMemRef<uint16_t> bm{b.data(), b.data(), 0, 64, 1};
  _mlir_ciface_vitc_coll_all_reduce_bf16(&bm, kAverage);
  float want = 1.5f + (size - 1) / 2.0f;
  bool ok = true;
  for (uint16_t x : b)
    ok &= coll::floatFromBf16(x) == want;
  check(ok, tag + "bf16 average");

  // FSDP: a parameter gathered from its shards (3 elements per rank), and
  // gradient shards reduce-scattered (averaged) from the full gradient.
  check(vitc_coll_world_size() == size, tag + "world size");
  std::vector<float> shard{valueOf(rank, 0), valueOf(rank, 1), valueOf(rank, 2)};
  std::vector<float> full(3 * size, -1);
  FlatMemRef<float> sm{shard.data(), shard.data(), 0, 3, 1};
  FlatMemRef<float> fm{full.data(), full.data(), 0, 3 * size, 1};
  _mlir_ciface_vitc_coll_all_gather_f32(&sm, &fm);
  ok = true;
  for (int r = 0; r < size; ++r)
    for (int i = 0; i < 3; ++i)
      ok &= full[r * 3 + i] == valueOf(r, i);
  check(ok, tag + "f32 all_gather");
  for (int i = 0; i < 3 * size; ++i)
    full[i] = valueOf(rank, i);
  _mlir_ciface_vitc_coll_reduce_scatter_f32(&fm, &sm, kAverage);
  ok = true;
  for (int i = 0; i < 3; ++i) {
    double mean = 0;
    for (int r = 0; r < size; ++r)
      mean += valueOf(r, rank * 3 + i) / size;
    ok &= std::fabs(shard[i] - mean) <= 1e-5 * (1 + std::fabs(mean));
  }
  check(ok, tag + "f32 reduce_scatter average");
}

/// Uneven slices: a global batch of 2 * size + 1 samples, split as
/// data::RankSlice splits it, so rank r's loss counts local_r / global;
/// then the last rank holds a stand-in (0 samples) and the others one each.
void runShareChecks(coll::CompiledCodeCollectives &compiled, int rank,
                    int size, const std::string &tag) {
  int64_t global = 2 * int64_t(size) + 1;
  auto local = [&](int r) {
    return global * (r + 1) / size - global * r / size;
  };
  compiled.setBatchShare(local(rank), global);
  std::vector<float> loss{float(rank + 1)};
  FlatMemRef<float> l{loss.data(), loss.data(), 0, 1, 1};
  _mlir_ciface_vitc_coll_all_reduce_f32(&l, kAverage);
  double want = 0;
  for (int r = 0; r < size; ++r)
    want += double(r + 1) * local(r) / global;
  check(std::fabs(loss[0] - want) <= 1e-5 * want,
        tag + "f32 average weighted by uneven slices");
  std::vector<uint16_t> b{coll::bf16FromFloat(float(rank + 1))};
  FlatMemRef<uint16_t> bm{b.data(), b.data(), 0, 1, 1};
  _mlir_ciface_vitc_coll_all_reduce_bf16(&bm, kAverage);
  check(std::fabs(coll::floatFromBf16(b[0]) - want) <= 1e-2 * want,
        tag + "bf16 average weighted by uneven slices");

  if (size < 2)
    return;
  bool standIn = rank == size - 1;
  compiled.setBatchShare(standIn ? 0 : 1, size - 1);
  // A stand-in's loss may be anything, NaN included: it must not count.
  loss[0] = standIn ? NAN : float(rank + 1);
  _mlir_ciface_vitc_coll_all_reduce_f32(&l, kAverage);
  check(std::fabs(loss[0] - size / 2.0) <= 1e-5 * size,
        tag + "f32 average without the stand-in");
  std::vector<int64_t> hits{standIn ? 100 : 1}, counter{standIn ? 99 : 7};
  FlatMemRef<int64_t> h{hits.data(), hits.data(), 0, 1, 1};
  FlatMemRef<int64_t> c{counter.data(), counter.data(), 0, 1, 1};
  _mlir_ciface_vitc_coll_all_reduce_i64(&h, kSum);
  _mlir_ciface_vitc_coll_all_reduce_i64(&c, kMax);
  check(hits[0] == size - 1 && counter[0] == 7,
        tag + "i64 sum and max without the stand-in");
  compiled.setBatchShare(1, size); // equal slices again
}

} // namespace

int main(int argc, char **argv) {
  bool single = argc > 1 && std::strcmp(argv[1], "--single") == 0;
  // No communicator installed: the process is a world of one.
  runChecks(0, 1, "none");

  std::unique_ptr<coll::Communicator> communicator;
  if (single || !coll::mpiCommunicatorAvailable()) {
    communicator = coll::createSingleCommunicator();
  } else {
    auto mpi = coll::createMpiCommunicator({});
    if (!mpi.isOk()) {
      std::printf("FAIL creating the MPI communicator: %s\n",
                  mpi.status().message().c_str());
      return 1;
    }
    communicator = std::move(*mpi);
  }
  {
    coll::CompiledCodeCollectives compiled(*communicator);
    runChecks(communicator->rank(), communicator->size(),
              communicator->backend());
    runShareChecks(compiled, communicator->rank(), communicator->size(),
                   std::string(communicator->backend()) + " ");
    runChecks(communicator->rank(), communicator->size(),
              communicator->backend());
  }
  // Destroyed: a world of one again.
  runChecks(0, 1, "after");

  std::printf("compiled collectives: %d ranks (%s), %d failures\n",
              communicator->size(), communicator->backend(), failures);
  if (failures == 0)
    std::printf("ALL PASS\n");
  return failures ? 1 : 0;
}
