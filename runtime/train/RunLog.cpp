//===- RunLog.cpp - a run's metrics: JSON lines and TensorBoard events ----===//
#include "RunLog.h"

#include <cmath>
#include <utility>

namespace vitc::train {

using rt::Status;

Status RunLog::open(const TrainerOptions &o,
                    const std::vector<EpochRecord> &history) {
  if (!o.metrics.empty()) {
    if (Status status = metrics_.open(o.metrics); !status.isOk())
      return status;
    for (const EpochRecord &r : history)
      if (Status status = appendJson(epochJson(r)); !status.isOk())
        return status;
  }
  if (!o.tensorboard.empty())
    return events_.open(o.tensorboard, "--tensorboard");
  return Status::ok();
}

Status RunLog::appendJson(const std::string &json) {
  return metrics_.isOpen() ? metrics_.append(json) : Status::ok();
}

Status RunLog::step(int64_t step, double loss, double lr) {
  if (!events_.isOpen())
    return Status::ok();
  if (Status status = events_.scalar("train/loss", step, loss); !status.isOk())
    return status;
  return events_.scalar("train/lr", step, lr);
}

Status RunLog::epoch(const EpochRecord &r) {
  if (Status status = appendJson(epochJson(r)); !status.isOk())
    return status;
  if (!events_.isOpen())
    return Status::ok();
  std::pair<const char *, double> scalars[] = {
      {"epoch/train_loss", r.trainLoss},
      {"epoch/train_accuracy", r.trainAcc},
      {"epoch/val_loss", r.valLoss},
      {"epoch/val_accuracy", r.valAcc},
      {"epoch/images_per_second", r.imagesPerSecond},
      {"epoch/seconds", r.epochSeconds},
      {"epoch/peak_rss_mb", r.peakRssMb}};
  for (auto [tag, value] : scalars)
    if (std::isfinite(value)) // no validation split: no val curves
      if (Status status = events_.scalar(tag, r.step, value); !status.isOk())
        return status;
  return events_.flush();
}

Status RunLog::test(double loss, double accuracy, int64_t step) {
  if (Status status = appendJson(testJson(loss, accuracy, step));
      !status.isOk())
    return status;
  if (!events_.isOpen())
    return Status::ok();
  for (auto [tag, value] :
       {std::pair{"test/loss", loss}, std::pair{"test/accuracy", accuracy}})
    if (Status status = events_.scalar(tag, step, value); !status.isOk())
      return status;
  return events_.flush();
}

} // namespace vitc::train
