//===- CompiledCodeTest.cpp - compiled steps' collectives on a communicator ===//
//
//   vitc-compiled-collectives-test [--single]
//
// Calls the runtime's entry points that sharded steps call
// (`_mlir_ciface_vitc_coll_all_reduce_*`, vitc/runtime/CompiledCollectives.h)
// as compiled code does, with rank-dependent data: first with no
// communicator (a world of one: values unchanged), then on the MPI job's
// communicator (or, with --single, the world of one), against references
// computed here. Prints PASS/FAIL lines and "ALL PASS"; exit 1 on a failure.
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
  coll::useForCompiledCode(*communicator);
  runChecks(communicator->rank(), communicator->size(),
            communicator->backend());
  coll::stopUsingForCompiledCode();

  std::printf("compiled collectives: %d ranks (%s), %d failures\n",
              communicator->size(), communicator->backend(), failures);
  if (failures == 0)
    std::printf("ALL PASS\n");
  return failures ? 1 : 0;
}
