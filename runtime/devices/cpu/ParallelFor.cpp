//===- ParallelFor.cpp - generated kernels on the OpenMP thread pool ------===//
//
// Compiled code calls `vitc_parallel_for` for each large generated kernel
// (vitc-cpu-parallel-kernels, vitc-cpu-lower-parallel-calls):
//
//   void vitc_parallel_for(void (*task)(void *ctx, int64_t b, int64_t e),
//                          void *ctx, int64_t begin, int64_t end,
//                          int64_t grain);
//
// It runs task(ctx, b, e) over contiguous static chunks of [begin, end), one
// per thread, on the same OpenMP pool as oneDNN's kernels: libgomp, which
// Debian's oneDNN is built on, called through its ABI (GOMP_parallel), so
// there is no second pool to oversubscribe the cores (clang's -fopenmp would
// bring LLVM's libomp). The thread count is libgomp's, which
// vitc_set_num_threads / `vitc-run --threads` set for oneDNN too. It uses at
// most ceil((end - begin) / grain) threads, and runs the task once on the
// whole range with one thread or inside a parallel region.
//
// Chunks depend only on the range and the thread count, and compiled code
// splits only parallel dims: results are the same for every thread count.
//
// VITC_PARALLEL_STATS=1 prints, at exit, how many calls ran on several
// threads and which OpenMP threads ran chunks (the threading tests read it).
// VITC_PARALLEL_KERNELS=0 runs every generated kernel on the calling thread
// (oneDNN keeps its threads): the same artifact with and without, to measure.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
// libgomp's ABI (the code GCC emits for `#pragma omp parallel`).
void GOMP_parallel(void (*fn)(void *), void *data, unsigned numThreads,
                   unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
int omp_in_parallel(void);
}

namespace {

using Task = void (*)(void *, int64_t, int64_t);

struct Job {
  Task task;
  void *ctx;
  int64_t begin;
  int64_t end;
};

struct Stats {
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> parallelCalls{0};
  std::atomic<uint64_t> threadMask{0}; // OpenMP thread ids that ran chunks
  std::atomic<int> maxThreads{0};

  ~Stats() {
    if (!enabled())
      return;
    int threads = 0;
    for (uint64_t mask = threadMask.load(); mask; mask &= mask - 1)
      ++threads;
    std::fprintf(stderr,
                 "vitc: parallel kernels: %lld calls, %lld on several "
                 "threads, at most %d threads, %d distinct threads ran "
                 "chunks\n",
                 static_cast<long long>(calls.load()),
                 static_cast<long long>(parallelCalls.load()),
                 maxThreads.load(), threads);
  }

  static bool enabled() {
    static const bool on = [] {
      const char *env = std::getenv("VITC_PARALLEL_STATS");
      return env && *env && *env != '0';
    }();
    return on;
  }
};

Stats stats;

void runChunk(void *data) {
  const Job &job = *static_cast<const Job *>(data);
  int64_t thread = omp_get_thread_num();
  int64_t threads = omp_get_num_threads();
  int64_t n = job.end - job.begin;
  int64_t lo = job.begin + n * thread / threads;
  int64_t hi = job.begin + n * (thread + 1) / threads;
  if (Stats::enabled() && thread < 64)
    stats.threadMask.fetch_or(uint64_t(1) << thread);
  if (lo < hi)
    job.task(job.ctx, lo, hi);
}

} // namespace

extern "C" void vitc_parallel_for(Task task, void *ctx, int64_t begin,
                                  int64_t end, int64_t grain) {
  int64_t n = end - begin;
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  static const bool enabled = [] {
    const char *env = std::getenv("VITC_PARALLEL_KERNELS");
    return !env || std::strcmp(env, "0") != 0;
  }();
  int64_t threads = !enabled || omp_in_parallel() ? 1 : omp_get_max_threads();
  threads = std::min(threads, (n + grain - 1) / grain);
  if (Stats::enabled()) {
    stats.calls.fetch_add(1);
    if (threads > 1)
      stats.parallelCalls.fetch_add(1);
    int seen = stats.maxThreads.load();
    while (threads > seen &&
           !stats.maxThreads.compare_exchange_weak(seen, int(threads)))
      ;
  }
  if (threads <= 1) {
    task(ctx, begin, end);
    return;
  }
  Job job{task, ctx, begin, end};
  GOMP_parallel(runChunk, &job, static_cast<unsigned>(threads), 0);
}
