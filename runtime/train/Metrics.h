//===- Metrics.h - per-epoch training metrics and their JSON lines --------===//
#ifndef VITC_TRAIN_METRICS_H
#define VITC_TRAIN_METRICS_H

#include "vitc/runtime/Status.h"
#include "vitc/train/EpochRecord.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace vitc::train {

/// One JSON object, no newline: {"epoch":1,"step":..,"train_loss":..,...}.
std::string epochJson(const EpochRecord &record);
/// The final line: {"test_loss":..,"test_acc":..,"step":..}.
std::string testJson(double loss, double accuracy, int64_t step);

/// Peak resident memory of this process in MiB (VmHWM).
double peakRssMb();

/// A .jsonl file written line by line (flushed after each, so a killed run
/// keeps what it reported).
class MetricsFile {
public:
  MetricsFile() = default;
  MetricsFile(const MetricsFile &) = delete;
  MetricsFile &operator=(const MetricsFile &) = delete;
  ~MetricsFile();
  /// Creates (truncates) `path`.
  rt::Status open(const std::string &path);
  bool isOpen() const { return file_ != nullptr; }
  /// Appends one line.
  rt::Status append(const std::string &json);

private:
  /// The error of a failed write, naming the flag and the file (errno).
  rt::Status writeError() const;

  std::FILE *file_ = nullptr;
  std::string path_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_METRICS_H
