//===- Metrics.cpp - per-epoch training metrics and their JSON lines ------===//
#include "Metrics.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sys/resource.h>

namespace vitc::train {

namespace {
/// A JSON number with round-trip precision, or null for NaN/inf.
std::string number(double value) {
  if (!std::isfinite(value))
    return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}
} // namespace

std::string epochJson(const EpochRecord &r) {
  return "{\"epoch\":" + std::to_string(r.epoch) +
         ",\"step\":" + std::to_string(r.step) +
         ",\"train_loss\":" + number(r.trainLoss) +
         ",\"train_acc\":" + number(r.trainAcc) +
         ",\"val_loss\":" + number(r.valLoss) +
         ",\"val_acc\":" + number(r.valAcc) + ",\"lr\":" + number(r.lr) +
         ",\"epoch_s\":" + number(r.epochSeconds) +
         ",\"img_per_s\":" + number(r.imagesPerSecond) +
         ",\"peak_rss_mb\":" + number(r.peakRssMb) + "}";
}

std::string testJson(double loss, double accuracy, int64_t step) {
  return "{\"test_loss\":" + number(loss) + ",\"test_acc\":" +
         number(accuracy) + ",\"step\":" + std::to_string(step) + "}";
}

double peakRssMb() {
  // VmHWM, this process image's own peak: ru_maxrss survives fork + exec,
  // so under a large parent (a Python harness) it reported the parent's.
  if (std::FILE *status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof(line), status))
      if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1)
        break;
    std::fclose(status);
    if (kib >= 0)
      return kib / 1024.0;
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0; // Linux reports KiB
}

MetricsFile::~MetricsFile() {
  if (file_)
    std::fclose(file_);
}

rt::Status MetricsFile::writeError() const {
  return rt::Status::error("--metrics: cannot write '" + path_ +
                           "': " + std::strerror(errno));
}

rt::Status MetricsFile::open(const std::string &path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "w");
  return file_ ? rt::Status::ok() : writeError();
}

rt::Status MetricsFile::append(const std::string &json) {
  if (std::fputs((json + "\n").c_str(), file_) < 0 || std::fflush(file_) != 0)
    return writeError();
  return rt::Status::ok();
}

} // namespace vitc::train
