//===- WeightsFile.h - an artifact's weights in a file of their own -*- C++ -*-===//
//
// `vitc ... --weights-file W.vtw` keeps the weights out of the artifact: the
// .vtc holds code and manifest, W.vtw the bytes its weights section would
// hold, so one weights file serves several artifacts of the same model
// (targets, architectures), new weights of the same layout need no
// recompilation, and an artifact travels without its weights. The manifest
// names the file and pins its layout by a digest of the weights table
// (names, offsets, sizes, dtypes, shapes), which the file repeats.
//
// Layout (little-endian): a 4096-byte page holding WeightsFileHeader, then
// the weights section, 4096-aligned, as in an artifact.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_WEIGHTSFILE_H
#define VITC_RUNTIME_WEIGHTSFILE_H

#include "vitc/artifact/artifact.pb.h"

#include <cstdint>
#include <string>

namespace vitc::artifact {

constexpr char kWeightsMagic[8] = {'V', 'I', 'T', 'C', 'W', 'T', 'S', '\0'};
constexpr uint32_t kWeightsFormatVersion = 1;
constexpr uint64_t kWeightsDataOffset = 4096;

struct WeightsFileHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t headerSize;
  uint64_t dataOffset;
  uint64_t dataSize;
  uint64_t layoutDigest;
};
static_assert(sizeof(WeightsFileHeader) == 40, "no padding");

/// FNV-1a over the manifest's weights table: two artifacts whose weights
/// sections are laid out alike share a digest.
inline uint64_t weightsLayoutDigest(const Manifest &manifest) {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&](const void *data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      hash ^= static_cast<const unsigned char *>(data)[i];
      hash *= 1099511628211ull;
    }
  };
  auto mixString = [&](const std::string &s) {
    uint64_t n = s.size();
    mix(&n, sizeof(n));
    mix(s.data(), s.size());
  };
  for (const Weight &weight : manifest.weights()) {
    mixString(weight.name());
    mixString(weight.dtype());
    uint64_t fields[3] = {weight.offset(), weight.bytes(),
                          static_cast<uint64_t>(weight.shape_size())};
    mix(fields, sizeof(fields));
    for (int64_t dim : weight.shape())
      mix(&dim, sizeof(dim));
  }
  return hash;
}

} // namespace vitc::artifact

#endif // VITC_RUNTIME_WEIGHTSFILE_H
