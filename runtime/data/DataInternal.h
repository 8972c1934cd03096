//===- DataInternal.h - Shared internals of the data pipeline ---*- C++ -*-===//
//
// Not part of the Data.h interface: the seeded random streams, the dataset
// readers and the per-sample renderer shared by Data*.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DATA_DATAINTERNAL_H
#define VITC_DATA_DATAINTERNAL_H

#include "Data.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::data::detail {

/// The splitmix64 output function (Steele, Lea and Flood, 2014; constants of
/// Vigna's reference implementation): a bijection of 64-bit integers that
/// mixes every input bit into every output bit.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// splitmix64: a tiny, well-known generator whose output is the same on every
/// platform (we never use std::*_distribution: their output is
/// implementation-defined).
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t next() { return mix64(state_ += 0x9E3779B97F4A7C15ull); }
  /// Uniform in [0, bound) for bound > 0, without modulo bias: draws below
  /// 2^64 mod bound are rejected.
  uint64_t below(uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound;
    while (true) {
      uint64_t r = next();
      if (r >= threshold)
        return r % bound;
    }
  }

private:
  uint64_t state_;
};

/// What a random stream is used for; part of its key so that streams of
/// different purposes never coincide.
enum class Purpose : uint64_t { Shuffle = 1, Augment = 2, Validation = 3 };

/// The generator for (seed, purpose, a, b): its state is the chain
/// h = mix64(h ^ key) over the keys, so it depends on nothing else.
inline SplitMix64 streamFor(uint64_t seed, Purpose purpose, uint64_t a = 0,
                            uint64_t b = 0) {
  uint64_t h = mix64(seed + 0x9E3779B97F4A7C15ull);
  for (uint64_t key : {static_cast<uint64_t>(purpose), a, b})
    h = mix64(h ^ key);
  return SplitMix64(h);
}

/// `order` = a permutation of 0..n-1 (Fisher-Yates, drawing from `rng`).
void seededPermutation(int64_t n, SplitMix64 &rng, std::vector<int64_t> &order);

/// Values per sample: channels * height * width.
inline int64_t sampleSize(const Split &split) {
  return split.channels * split.height * split.width;
}

/// Reads the idx pair `<dir>/<prefix>-{images-idx3,labels-idx1}-ubyte[.gz]`.
rt::StatusOr<Split> loadIdxSplit(const std::string &dir,
                                 const std::string &prefix);

/// Reads and concatenates the shards `<dir>/<prefix>_{images,labels}*.npy`.
rt::StatusOr<Split> loadNpySplit(const std::string &dir,
                                 const std::string &prefix);

/// Converts stored samples to the model's input: channel replication,
/// bilinear resize, normalisation and the crop/flip of augmentation. Built
/// once per Loader, so rendering a sample allocates nothing.
class SampleRenderer {
public:
  /// `split` must feed the model under `t` (checkFits).
  SampleRenderer(const Split &split, const Transform &t);

  const Transform &transform() const { return t_; }
  /// Values per rendered sample: C*H*W of the model.
  int64_t outputSize() const { return t_.channels * t_.height * t_.width; }

  /// Writes sample `index` as [C,H,W] floats to `out`. The output pixel (y, x)
  /// shows the resized image's pixel (y + shiftY, x' + shiftX), x' = W-1-x
  /// when `flip` else x; pixels outside the image are black (0 before
  /// normalisation), as torchvision's RandomCrop(padding) pads.
  void render(int64_t index, int64_t shiftY, int64_t shiftX, bool flip,
              float *out) const;

private:
  template <typename T, bool Resize>
  void renderImpl(const T *source, int64_t shiftY, int64_t shiftX, bool flip,
                  float *out) const;

  const Split &split_;
  Transform t_;
  bool resize_;
  /// Per output channel: the source channel, and x -> x*scale + bias, which
  /// is (x/255 - mean)/std for uint8 sources and (x - mean)/std for float.
  std::vector<int64_t> sourceChannel_;
  std::vector<float> scale_, bias_;
  /// Bilinear taps per output row/column (half-pixel centres, clamped):
  /// v = (1-w) * src[i0] + w * src[i1].
  std::vector<int32_t> row0_, row1_, col0_, col1_;
  std::vector<float> rowWeight_, colWeight_;
};

} // namespace vitc::data::detail

#endif // VITC_DATA_DATAINTERNAL_H
