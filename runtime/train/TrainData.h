//===- TrainData.h - the splits a run trains and evaluates on -------------===//
//
// Loads the dataset a run names (DatasetChoice), keeps the first
// --limit-train / --limit-test samples, holds out the validation split,
// checks that images fit the model and labels its classes, and evaluates
// the current weights on a split.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_TRAINDATA_H
#define VITC_TRAIN_TRAINDATA_H

#include "Data.h"
#include "DataParallel.h"
#include "TrainState.h"
#include "TrainerOptions.h"

#include "vitc/runtime/Status.h"

#include <cmath>
#include <cstdint>
#include <memory>

namespace vitc::train {

/// The data a run trains and evaluates on, and how images are converted.
struct RunData {
  data::Dataset dataset; // .test is the test split; .train is emptied
  data::Split train, val;
  data::Transform transform;
};

/// Reads the dataset; an error names the file, the flag or the sample at
/// fault.
rt::StatusOr<std::unique_ptr<RunData>> loadRunData(const TrainerOptions &o,
                                                   const DatasetChoice &dataset,
                                                   const TrainState &state);

struct Evaluation {
  double loss = NAN, accuracy = NAN;
  int64_t samples = 0;
};

/// Mean loss and accuracy of the current weights on `split` (eval_step),
/// in batches of `batchSize` per rank, each rank on its slice of each.
rt::StatusOr<Evaluation> evaluate(TrainState &state, const data::Split &split,
                                  const data::Transform &transform,
                                  int64_t batchSize, DataParallel &dp);

/// A batch as the step functions take it.
inline BatchView view(const data::Batch &batch) {
  return {batch.size, batch.images.data(), batch.labels.data(), batch.offset};
}

} // namespace vitc::train

#endif // VITC_TRAIN_TRAINDATA_H
