//===- DataLoad.cpp - Datasets, splits and seeded permutations -----------===//
#include "DataInternal.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vitc::data {
namespace {

using rt::Status;
using rt::StatusOr;

constexpr const char *kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// The samples `indices` of `from`, in that order.
Split gather(const Split &from, const std::vector<int64_t> &indices) {
  Split to;
  to.count = static_cast<int64_t>(indices.size());
  to.channels = from.channels, to.height = from.height, to.width = from.width;
  size_t sample = static_cast<size_t>(detail::sampleSize(from));
  bool u8 = from.f32.empty();
  if (u8)
    to.u8.resize(indices.size() * sample);
  else
    to.f32.resize(indices.size() * sample);
  to.labels.reserve(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    size_t src = static_cast<size_t>(indices[i]) * sample;
    if (u8)
      std::copy_n(from.u8.begin() + src, sample, to.u8.begin() + i * sample);
    else
      std::copy_n(from.f32.begin() + src, sample, to.f32.begin() + i * sample);
    to.labels.push_back(from.labels[static_cast<size_t>(indices[i])]);
  }
  return to;
}

} // namespace

int64_t Split::numClasses() const {
  return labels.empty() ? 0
                        : *std::max_element(labels.begin(), labels.end()) + 1;
}

StatusOr<Dataset> loadDataset(const DatasetSpec &spec) {
  using LoadSplit =
      StatusOr<Split> (*)(const std::string &, const std::string &);
  LoadSplit load;
  std::string dir = spec.dir, trainPrefix = "train", testPrefix = "test";
  if (spec.kind == "fashion-mnist" || spec.kind == "mnist") {
    if (dir.empty() && spec.kind == "fashion-mnist")
      dir = kFashionMnistDir;
    if (dir.empty())
      return Status::error("dataset '" + spec.kind +
                           "' needs a directory of idx files");
    load = detail::loadIdxSplit;
    testPrefix = "t10k";
  } else if (spec.kind == "npy") {
    if (dir.empty())
      return Status::error("dataset 'npy' needs a directory of .npy shards");
    load = detail::loadNpySplit;
  } else {
    return Status::error("unknown dataset kind '" + spec.kind +
                         "' (expected fashion-mnist, mnist or npy)");
  }
  StatusOr<Split> train = load(dir, trainPrefix);
  if (!train.isOk())
    return train.status();
  StatusOr<Split> test = load(dir, testPrefix);
  if (!test.isOk())
    return test.status();
  const Split &a = *train, &b = *test;
  if (a.channels != b.channels || a.height != b.height || a.width != b.width)
    return Status::error(
        "dataset '" + spec.kind + "' in '" + spec.dir + "': test images are " +
        std::to_string(b.channels) + "x" + std::to_string(b.height) + "x" +
        std::to_string(b.width) + " but training images are " +
        std::to_string(a.channels) + "x" + std::to_string(a.height) + "x" +
        std::to_string(a.width) + " (CxHxW)");
  Dataset dataset;
  dataset.train = std::move(*train);
  dataset.test = std::move(*test);
  return dataset;
}

StatusOr<std::pair<Split, Split>>
splitValidation(const Split &train, double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    return Status::error("the validation fraction must be in [0, 1), got " +
                         std::to_string(fraction));
  int64_t validation =
      std::llround(fraction * static_cast<double>(train.count));
  if (train.count > 0 && validation >= train.count)
    return Status::error("a validation fraction of " +
                         std::to_string(fraction) + " leaves none of " +
                         std::to_string(train.count) + " samples for training");
  std::vector<int64_t> order;
  detail::SplitMix64 rng = detail::streamFor(seed, detail::Purpose::Validation);
  detail::seededPermutation(train.count, rng, order);
  auto cut = order.end() - validation;
  std::vector<int64_t> trainIndices(order.begin(), cut),
      validationIndices(cut, order.end());
  // Keep the stored order within each part: memory stays read in sequence.
  std::sort(trainIndices.begin(), trainIndices.end());
  std::sort(validationIndices.begin(), validationIndices.end());
  return std::pair{gather(train, trainIndices),
                   gather(train, validationIndices)};
}

namespace detail {

void seededPermutation(int64_t n, SplitMix64 &rng,
                       std::vector<int64_t> &order) {
  order.resize(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
}

} // namespace detail
} // namespace vitc::data
