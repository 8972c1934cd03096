//===- EpochRecord.h - what one finished training epoch reports -*- C++ -*-===//
//
// Shared by libvitc_train (metrics, checkpoints) and vitc-run's plot.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_EPOCHRECORD_H
#define VITC_TRAIN_EPOCHRECORD_H

#include <array>
#include <cstddef>
#include <cstdint>

namespace vitc::train {

/// Validation fields are NaN when there is no validation split.
struct EpochRecord {
  int64_t epoch = 0; // 1-based
  int64_t step = 0;  // global step at the end of the epoch
  double trainLoss = 0, trainAcc = 0;
  double valLoss = 0, valAcc = 0;
  double lr = 0; // the rate of the epoch's last step
  double epochSeconds = 0, imagesPerSecond = 0, peakRssMb = 0;

  /// The fields in checkpoint order.
  static constexpr size_t kFields = 10;
  std::array<double, kFields> toArray() const {
    return {static_cast<double>(epoch), static_cast<double>(step), trainLoss,
            trainAcc, valLoss, valAcc, lr, epochSeconds, imagesPerSecond,
            peakRssMb};
  }
  static EpochRecord fromArray(const std::array<double, kFields> &v) {
    EpochRecord r;
    r.epoch = static_cast<int64_t>(v[0]);
    r.step = static_cast<int64_t>(v[1]);
    r.trainLoss = v[2];
    r.trainAcc = v[3];
    r.valLoss = v[4];
    r.valAcc = v[5];
    r.lr = v[6];
    r.epochSeconds = v[7];
    r.imagesPerSecond = v[8];
    r.peakRssMb = v[9];
    return r;
  }
};

} // namespace vitc::train

#endif // VITC_TRAIN_EPOCHRECORD_H
