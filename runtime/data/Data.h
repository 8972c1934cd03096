//===- Data.h - the training data pipeline ----------------------*- C++ -*-===//
//
// Loads image-classification datasets (idx / gzipped idx, numpy .npy shards),
// converts them to a model's input layout and yields shuffled, augmented,
// prefetched batches in an order that depends only on (seed, epoch), so a run
// resumed at (epoch, batch) sees exactly the batches of an uninterrupted run.
//
// Randomness: every random decision is drawn from splitmix64 (Steele et al.,
// "Fast splittable pseudorandom number generators", 2014) seeded with a hash
// of (seed, purpose, epoch[, sample position]); results are identical on all
// platforms (no std::*_distribution, whose output is implementation-defined).
//
// Errors are values (rt::Status, rt::StatusOr), never exceptions: their
// messages name the file, the flag or the sizes involved.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DATA_DATA_H
#define VITC_DATA_DATA_H

#include "vitc/runtime/Status.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vitc::data {

namespace detail {
class SampleRenderer;
} // namespace detail

/// Where the samples come from.
struct DatasetSpec {
  /// "fashion-mnist" | "mnist" (idx files in dir, default dir for
  /// fashion-mnist: /usr/share/datasets/fashion-mnist), or "npy" (dir of
  /// shards).
  std::string kind;
  std::string dir;
};

/// One split in memory: images as uint8 or float, NCHW after loading.
struct Split {
  int64_t count = 0, channels = 0, height = 0, width = 0;
  std::vector<uint8_t> u8; // used when the source is uint8 (idx, uint8 npy)
  std::vector<float> f32;  // used when the source is float npy
  std::vector<int64_t> labels;
  int64_t numClasses() const; // max label + 1
};

struct Dataset {
  Split train, test;
};

/// Loads train and test splits. idx:
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; npy:
/// train_images*.npy/train_labels*.npy/test_images*.npy/test_labels*.npy
/// (shards concatenated in sorted name order; images uint8 or float32, [N,H,W],
/// [N,C,H,W] or [N,H,W,C] (C in {1,3}, NHWC detected when last dim is 1 or 3
/// and dim1 is not); labels integer). Fails with a message naming the file
/// and what is wrong (bad magic, truncated, count mismatch between images and
/// labels, ...).
rt::StatusOr<Dataset> loadDataset(const DatasetSpec &spec);

/// Splits off the last `fraction` of a seeded permutation of `train` as
/// validation (deterministic in seed). Returns {train, validation}; fails if
/// `fraction` is not in [0, 1) or leaves no training sample.
rt::StatusOr<std::pair<Split, Split>>
splitValidation(const Split &train, double fraction, uint64_t seed);

struct Transform {
  /// The model's input [C,H,W]. Images are converted to this: channels 1->3 by
  /// replication when `replicateChannels`; a size mismatch is an error unless
  /// `resize` (bilinear).
  int64_t channels = 0, height = 0, width = 0;
  bool resize = false, replicateChannels = false;
  /// x = (pixel/255 - mean[c]) / std[c] for uint8; float sources are only
  /// normalised.
  std::vector<float> mean{0.f}, std{1.f};
  /// Training-only augmentation: random crop after zero padding by
  /// `cropPadding` pixels (0 = off), horizontal flip with probability 0.5 when
  /// `flip`.
  int64_t cropPadding = 0;
  bool flip = false;
};

/// Checks that `split` can be fed to a model taking [C,H,W] under `t`; fails
/// naming the dataset size and the model's expected size otherwise ("dataset
/// images are 1x28x28 but the model takes 3x224x224 (CxHxW); use --resize
/// ...").
rt::Status checkFits(const Split &split, const Transform &t);

/// Which part of each batch this process takes when ranks split it
/// (data-parallel training): rank r of `size` takes samples
/// [floor(r*g/size), floor((r+1)*g/size)) of a batch of g samples, so the
/// ranks together see exactly the batches one process sees.
struct RankSlice {
  int rank = 0, size = 1;
};

struct Batch {
  int64_t size = 0; // may be < batchSize for the last batch unless dropLast
  std::vector<float> images;   // size * C*H*W, NCHW, after transform
  std::vector<int64_t> labels; // size
  /// The whole batch across ranks (a RankSlice): its samples, and the
  /// position of this rank's first sample in it. One rank: globalSize ==
  /// size and offset 0.
  int64_t globalSize = 0, offset = 0;
  /// This rank's slice is empty (a last batch of fewer samples than
  /// ranks): `size` is 1, the batch's first sample standing in so that the
  /// rank still runs the step with the others; it must count for nothing.
  bool standIn = false;
  /// The samples this rank contributes (0 for a stand-in).
  int64_t contributing() const { return standIn ? 0 : size; }
};

/// Yields batches of one epoch in a seeded order: the permutation of epoch e
/// depends only on (seed, e), and augmentation randomness only on (seed, e,
/// sample position), so a run resumed at (epoch, batch) sees exactly the
/// batches an uninterrupted run would. A background thread prepares batches
/// ahead into a bounded queue (`prefetch` batches) so the training step never
/// waits when loading is faster.
class Loader {
public:
  /// A loader of `split`, which is referenced, not copied: it must outlive
  /// the Loader. Fails if the batch size is not positive or `split` cannot
  /// feed the model under `t` (checkFits).
  static rt::StatusOr<std::unique_ptr<Loader>>
  create(const Split &split, Transform t, int64_t batchSize, bool shuffle,
         bool augment, bool dropLast, uint64_t seed, RankSlice slice = {},
         int prefetch = 4);
  ~Loader(); // stops and joins the thread
  Loader(const Loader &) = delete;
  Loader &operator=(const Loader &) = delete;

  int64_t numBatches() const;
  /// Starts epoch `epoch` at batch `firstBatch` (for resume). Cancels any epoch
  /// in flight. Fails if the epoch has no batch `firstBatch`.
  rt::Status startEpoch(int64_t epoch, int64_t firstBatch = 0);
  /// Next batch of the current epoch; false at its end. The error of the
  /// loader thread, if it failed to prepare a batch (until startEpoch).
  rt::StatusOr<bool> next(Batch &batch);

private:
  /// `split` and `t` have passed create()'s checks.
  Loader(const Split &split, Transform t, int64_t batchSize, bool shuffle,
         bool augment, bool dropLast, uint64_t seed, RankSlice slice,
         int prefetch);
  void workerLoop();
  /// Fills `batch` with batch `index` of `epoch`: depends only on the
  /// arguments. Runs on the worker thread; an error ends the epoch and is
  /// handed to the caller by next().
  rt::Status prepare(int64_t epoch, int64_t index,
                     const std::vector<int64_t> &order, Batch &batch) const;

  const Split &split_;
  std::unique_ptr<const detail::SampleRenderer> renderer_;
  int64_t batchSize_, numBatches_;
  bool shuffle_, augment_;
  uint64_t seed_;
  RankSlice slice_;
  size_t prefetch_;

  // Shared with the worker thread, under mu_.
  std::mutex mu_;
  std::condition_variable cv_; // any change of the state below
  bool stop_ = false;
  /// Bumped by startEpoch: the worker drops a batch of an older generation.
  uint64_t generation_ = 0;
  bool epochActive_ = false;
  int64_t epoch_ = 0, nextToPrepare_ = 0, nextToHand_ = 0;
  std::shared_ptr<const std::vector<int64_t>> order_; // sample of each position
  std::deque<Batch> ready_;
  std::vector<Batch>
      spare_; // recycled buffers: the steady state allocates nothing
  /// The worker's error: next() hands it out until startEpoch().
  rt::Status error_;
  std::thread worker_;
};

} // namespace vitc::data

#endif // VITC_DATA_DATA_H
