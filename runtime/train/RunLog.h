//===- RunLog.h - a run's metrics: JSON lines and TensorBoard events ------===//
//
// JSON lines (--metrics): one object per finished epoch and one per test
// evaluation; a resumed run's file holds the whole run (the checkpoint's
// finished epochs are written again first).
//
// TensorBoard (--tensorboard DIR), at global steps:
//   train/loss, train/lr                       every step
//   epoch/train_loss, epoch/train_accuracy,
//   epoch/val_loss, epoch/val_accuracy (with a validation split),
//   epoch/images_per_second, epoch/seconds,
//   epoch/peak_rss_mb                          at the step that ends an epoch
//   test/loss, test/accuracy                   after a test evaluation
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_RUNLOG_H
#define VITC_TRAIN_RUNLOG_H

#include "Metrics.h"
#include "TensorBoard.h"
#include "TrainerOptions.h"

#include "vitc/runtime/Status.h"

#include <vector>

namespace vitc::train {

class RunLog {
public:
  /// Opens the files `o` names and writes the finished epochs `history`
  /// (a resumed run's) to the JSON lines.
  rt::Status open(const TrainerOptions &o,
                  const std::vector<EpochRecord> &history);
  rt::Status step(int64_t step, double loss, double lr);
  rt::Status epoch(const EpochRecord &record);
  rt::Status test(double loss, double accuracy, int64_t step);

private:
  rt::Status appendJson(const std::string &json);

  MetricsFile metrics_;
  EventFile events_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_RUNLOG_H
