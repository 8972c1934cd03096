//===- Progress.h - the trainer's per-batch log lines and progress bar ----===//
#ifndef VITC_RUN_PROGRESS_H
#define VITC_RUN_PROGRESS_H

#include <chrono>
#include <cstdint>

namespace vitc::train {

/// Prints `Epoch: 0001/0003 | Batch 0300/0843 | Loss: 0.4123` every
/// `logEvery` batches and at the last one. On a terminal it also keeps a
/// progress bar with the epoch's ETA on the last line.
class Progress {
public:
  Progress(int64_t epochs, int64_t logEvery);
  /// Starts epoch `epoch` (0-based) of `batches` batches at `firstBatch`.
  void startEpoch(int64_t epoch, int64_t batches, int64_t firstBatch);
  /// After batch `batch` (1-based) of the current epoch.
  void batchDone(int64_t batch, double loss);
  /// Removes the bar before other output.
  void clear();
  /// No bar: a launcher (mpirun) hands ranks a pseudo-terminal even when
  /// the job's output goes to a file.
  void noBar() { terminal_ = false; }

private:
  void drawBar(int64_t batch, double loss);

  int64_t epochs_, logEvery_;
  int64_t epoch_ = 0, batches_ = 0, firstBatch_ = 0;
  bool terminal_;
  bool barShown_ = false;
  std::chrono::steady_clock::time_point start_, lastDraw_;
};

} // namespace vitc::train

#endif // VITC_RUN_PROGRESS_H
