//===- Metrics.h - per-epoch training metrics and their JSON lines --------===//
#ifndef VITC_TOOLS_METRICS_H
#define VITC_TOOLS_METRICS_H

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace vitc::train {

/// What one finished epoch reports. Validation fields are NaN when there is
/// no validation split.
struct EpochRecord {
  int64_t epoch = 0; // 1-based
  int64_t step = 0;  // global step at the end of the epoch
  double trainLoss = 0, trainAcc = 0;
  double valLoss = 0, valAcc = 0;
  double lr = 0; // the rate of the epoch's last step
  double epochSeconds = 0, imagesPerSecond = 0, peakRssMb = 0;

  static constexpr size_t kFields = 10;
  std::array<double, kFields> toArray() const;
  static EpochRecord fromArray(const std::array<double, kFields> &values);
};

/// One JSON object, no newline: {"epoch":1,"step":..,"train_loss":..,...}.
std::string epochJson(const EpochRecord &record);
/// The final line: {"test_loss":..,"test_acc":..,"step":..}.
std::string testJson(double loss, double accuracy, int64_t step);

/// Peak resident memory of this process in MiB (getrusage's ru_maxrss).
double peakRssMb();

/// A .jsonl file written line by line (flushed after each, so a killed run
/// keeps what it reported).
class MetricsFile {
public:
  MetricsFile() = default;
  MetricsFile(const MetricsFile &) = delete;
  MetricsFile &operator=(const MetricsFile &) = delete;
  ~MetricsFile();
  /// Creates (truncates) `path`. False (and `error`) on failure.
  bool open(const std::string &path, std::string &error);
  bool isOpen() const { return file_ != nullptr; }
  /// Appends one line; false (and `error`) on failure.
  bool append(const std::string &json, std::string &error);

private:
  std::FILE *file_ = nullptr;
  std::string path_;
};

} // namespace vitc::train

#endif // VITC_TOOLS_METRICS_H
