//===- DataLoader.cpp - Seeded, prefetched batches -----------------------===//
//
// One worker thread prepares the batches of the current epoch in order into
// `ready_` (at most `prefetch_` waiting); next() hands them out and keeps the
// caller's previous buffers for reuse. startEpoch() bumps `generation_`, so a
// batch the worker was preparing for a cancelled epoch is recycled, not used.
// A batch the worker fails to prepare stops the epoch: its error waits in
// `error_` for next() to hand it to the caller.
//
//===----------------------------------------------------------------------===//
#include "DataInternal.h"

#include <algorithm>
#include <numeric>

namespace vitc::data {

using rt::Status;
using rt::StatusOr;

StatusOr<std::unique_ptr<Loader>>
Loader::create(const Split &split, Transform t, int64_t batchSize, bool shuffle,
               bool augment, bool dropLast, uint64_t seed, RankSlice slice,
               int prefetch) {
  if (batchSize <= 0)
    return Status::error("the batch size must be positive, got " +
                         std::to_string(batchSize));
  if (slice.size < 1 || slice.rank < 0 || slice.rank >= slice.size)
    return Status::error("rank " + std::to_string(slice.rank) + " of " +
                         std::to_string(slice.size) + " is not a rank");
  if (Status status = checkFits(split, t); !status.isOk())
    return status;
  return std::unique_ptr<Loader>(new Loader(split, std::move(t), batchSize,
                                            shuffle, augment, dropLast, seed,
                                            slice, prefetch));
}

Loader::Loader(const Split &split, Transform t, int64_t batchSize, bool shuffle,
               bool augment, bool dropLast, uint64_t seed, RankSlice slice,
               int prefetch)
    : split_(split), batchSize_(batchSize), shuffle_(shuffle),
      augment_(augment), seed_(seed), slice_(slice),
      prefetch_(static_cast<size_t>(std::max(prefetch, 1))) {
  renderer_ =
      std::make_unique<const detail::SampleRenderer>(split, std::move(t));
  numBatches_ = dropLast ? split.count / batchSize
                         : (split.count + batchSize - 1) / batchSize;
  worker_ = std::thread([this] { workerLoop(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

int64_t Loader::numBatches() const { return numBatches_; }

Status Loader::startEpoch(int64_t epoch, int64_t firstBatch) {
  if (firstBatch < 0 || firstBatch > numBatches_)
    return Status::error("cannot start epoch " + std::to_string(epoch) +
                         " at batch " + std::to_string(firstBatch) +
                         ": it has " + std::to_string(numBatches_) +
                         " batches");
  auto order = std::make_shared<std::vector<int64_t>>();
  if (shuffle_) {
    detail::SplitMix64 rng = detail::streamFor(seed_, detail::Purpose::Shuffle,
                                               static_cast<uint64_t>(epoch));
    detail::seededPermutation(split_.count, rng, *order);
  } else {
    order->resize(static_cast<size_t>(split_.count));
    std::iota(order->begin(), order->end(), int64_t(0));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    epochActive_ = true;
    epoch_ = epoch;
    nextToPrepare_ = nextToHand_ = firstBatch;
    order_ = std::move(order);
    error_ = Status::ok();
    for (Batch &batch : ready_)
      spare_.push_back(std::move(batch));
    ready_.clear();
  }
  cv_.notify_all();
  return Status::ok();
}

StatusOr<bool> Loader::next(Batch &batch) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!epochActive_)
    return false;
  if (error_.isOk() && nextToHand_ >= numBatches_)
    return false;
  cv_.wait(lock, [&] { return !error_.isOk() || !ready_.empty(); });
  if (!error_.isOk())
    return error_;
  std::swap(batch, ready_.front());
  // The caller's previous buffers (now at the front) become the next spare.
  if (spare_.size() < prefetch_ + 2)
    spare_.push_back(std::move(ready_.front()));
  ready_.pop_front();
  ++nextToHand_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

void Loader::workerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] {
      return stop_ ||
             (epochActive_ && error_.isOk() && nextToPrepare_ < numBatches_ &&
              ready_.size() < prefetch_);
    });
    if (stop_)
      return;
    uint64_t generation = generation_;
    int64_t epoch = epoch_, index = nextToPrepare_++;
    std::shared_ptr<const std::vector<int64_t>> order = order_;
    Batch batch;
    if (!spare_.empty()) {
      batch = std::move(spare_.back());
      spare_.pop_back();
    }
    lock.unlock();
    Status status = prepare(epoch, index, *order, batch);
    lock.lock();
    if (generation != generation_) { // startEpoch() cancelled this epoch
      spare_.push_back(std::move(batch));
      continue;
    }
    if (!status.isOk())
      error_ = std::move(status);
    else
      ready_.push_back(std::move(batch));
    cv_.notify_all();
  }
}

Status Loader::prepare(int64_t epoch, int64_t index,
                       const std::vector<int64_t> &order, Batch &batch) const {
  const Transform &t = renderer_->transform();
  const int64_t sampleValues = renderer_->outputSize();
  int64_t first = index * batchSize_;
  int64_t globalSize = std::min(batchSize_, split_.count - first);
  // This rank's part of the batch (RankSlice).
  int64_t lo = globalSize * slice_.rank / slice_.size,
          hi = globalSize * (slice_.rank + 1) / slice_.size;
  batch.globalSize = globalSize;
  batch.offset = lo;
  batch.standIn = lo == hi;
  if (batch.standIn) // the batch's first sample, counted for nothing
    lo = 0, hi = 1;
  int64_t begin = first + lo, size = hi - lo;
  batch.size = size;
  batch.images.resize(static_cast<size_t>(size * sampleValues));
  batch.labels.resize(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    int64_t position = begin + i, sample = order[static_cast<size_t>(position)];
    int64_t shiftY = 0, shiftX = 0;
    bool flip = false;
    if (augment_) {
      // Depends only on (seed, epoch, position): resuming reproduces it.
      detail::SplitMix64 rng = detail::streamFor(
          seed_, detail::Purpose::Augment, static_cast<uint64_t>(epoch),
          static_cast<uint64_t>(position));
      if (t.cropPadding > 0) {
        uint64_t choices = static_cast<uint64_t>(2 * t.cropPadding + 1);
        shiftY = static_cast<int64_t>(rng.below(choices)) - t.cropPadding;
        shiftX = static_cast<int64_t>(rng.below(choices)) - t.cropPadding;
      }
      if (t.flip)
        flip = (rng.next() >> 63) != 0;
    }
    renderer_->render(sample, shiftY, shiftX, flip,
                      batch.images.data() + i * sampleValues);
    batch.labels[static_cast<size_t>(i)] =
        split_.labels[static_cast<size_t>(sample)];
  }
  return Status::ok();
}

} // namespace vitc::data
