//===- DataTransform.cpp - Converting samples to the model's input -------===//
//
// Bilinear resizing follows torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False) without antialiasing: output pixel o samples the source
// at max((o + 0.5) * in/out - 0.5, 0), blending its two neighbours.
//
//===----------------------------------------------------------------------===//
#include "DataInternal.h"

#include <algorithm>
#include <cmath>

namespace vitc::data {
namespace {

using rt::Status;

std::string chw(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

/// `values` (the normalisation's `what`) has 1 or `channels` finite values,
/// positive if `positive`.
Status checkNormalisation(const std::vector<float> &values,
                          const std::string &what, int64_t channels,
                          bool positive) {
  if (values.size() != 1 && int64_t(values.size()) != channels)
    return Status::error(
        "the normalisation " + what + " has " + std::to_string(values.size()) +
        " values but the model takes " + std::to_string(channels) +
        " channels (give 1 or " + std::to_string(channels) + ")");
  for (float v : values)
    if (!std::isfinite(v) || (positive && v <= 0.f))
      return Status::error(
          "the normalisation " + what + " holds " + std::to_string(v) +
          (positive ? "; it must be positive" : "; it must be finite"));
  return Status::ok();
}

} // namespace

Status checkFits(const Split &split, const Transform &t) {
  if (t.channels <= 0 || t.height <= 0 || t.width <= 0)
    return Status::error("the model's input size " +
                         chw(t.channels, t.height, t.width) +
                         " (CxHxW) is not a positive image size");
  if (split.count < 0 || split.channels <= 0 || split.height <= 0 ||
      split.width <= 0)
    return Status::error("the dataset's image size " +
                         chw(split.channels, split.height, split.width) +
                         " (CxHxW) is not a positive image size");
  int64_t expected = split.count * detail::sampleSize(split);
  bool u8 = split.f32.empty();
  int64_t held = int64_t(u8 ? split.u8.size() : split.f32.size());
  if ((!u8 && !split.u8.empty()) || held != expected ||
      int64_t(split.labels.size()) != split.count)
    return Status::error(
        "inconsistent dataset split: " + std::to_string(split.count) +
        " images of " + chw(split.channels, split.height, split.width) +
        " need " + std::to_string(expected) +
        " pixel values and as many labels, it holds " + std::to_string(held) +
        " values and " + std::to_string(split.labels.size()) + " labels");

  bool sizeDiffers = split.height != t.height || split.width != t.width;
  bool channelsDiffer = split.channels != t.channels;
  bool replicable = split.channels == 1 && t.channels == 3;
  if ((sizeDiffers && !t.resize) ||
      (channelsDiffer && !(replicable && t.replicateChannels))) {
    std::string message = "dataset images are " +
                          chw(split.channels, split.height, split.width) +
                          " but the model takes " +
                          chw(t.channels, t.height, t.width) + " (CxHxW)";
    if (channelsDiffer && !replicable)
      return Status::error(message + "; " + std::to_string(split.channels) +
                           "-channel images cannot be converted to " +
                           std::to_string(t.channels) + " channels");
    std::vector<std::string> fixes;
    if (sizeDiffers && !t.resize)
      fixes.push_back("--resize to resize them (bilinear)");
    if (channelsDiffer && !t.replicateChannels)
      fixes.push_back(
          "channel replication (Transform::replicateChannels) to repeat their "
          "grey channel");
    message += "; use " + fixes[0];
    if (fixes.size() > 1)
      message += " and " + fixes[1];
    return Status::error(message);
  }
  if (Status status =
          checkNormalisation(t.mean, "mean", t.channels, /*positive=*/false);
      !status.isOk())
    return status;
  if (Status status =
          checkNormalisation(t.std, "std", t.channels, /*positive=*/true);
      !status.isOk())
    return status;
  if (t.cropPadding < 0)
    return Status::error("the crop padding must not be negative, got " +
                         std::to_string(t.cropPadding));
  return Status::ok();
}

namespace detail {
namespace {

/// Bilinear taps of every output index along one axis (see the file comment).
void bilinearTaps(int64_t in, int64_t out, std::vector<int32_t> &i0,
                  std::vector<int32_t> &i1, std::vector<float> &weight) {
  float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    float source = std::max(scale * (static_cast<float>(o) + 0.5f) - 0.5f, 0.f);
    int32_t lower = static_cast<int32_t>(source);
    i0.push_back(lower);
    i1.push_back(lower < in - 1 ? lower + 1 : lower);
    weight.push_back(source - static_cast<float>(lower));
  }
}

} // namespace

SampleRenderer::SampleRenderer(const Split &split, const Transform &t)
    : split_(split), t_(t) {
  resize_ = split.height != t.height || split.width != t.width;
  bool u8 = split.f32.empty();
  for (int64_t c = 0; c < t.channels; ++c) {
    float mean = t.mean[t.mean.size() == 1 ? 0 : c];
    float std = t.std[t.std.size() == 1 ? 0 : c];
    sourceChannel_.push_back(split.channels == 1 ? 0 : c);
    scale_.push_back(1.f / ((u8 ? 255.f : 1.f) * std));
    bias_.push_back(-mean / std);
  }
  if (resize_) {
    bilinearTaps(split.height, t.height, row0_, row1_, rowWeight_);
    bilinearTaps(split.width, t.width, col0_, col1_, colWeight_);
  }
}

template <typename T, bool Resize>
void SampleRenderer::renderImpl(const T *source, int64_t shiftY, int64_t shiftX,
                                bool flip, float *out) const {
  const int64_t height = t_.height, width = t_.width;
  const int64_t sourceWidth = split_.width,
                sourcePlane = split_.height * split_.width;
  // The columns x whose image column (flip ? width-1-x : x) + shiftX is inside.
  int64_t xBegin = std::max<int64_t>(0, flip ? shiftX : -shiftX);
  int64_t xEnd =
      std::max(xBegin, std::min(width, flip ? width + shiftX : width - shiftX));
  for (int64_t c = 0; c < t_.channels; ++c) {
    const T *plane = source + sourceChannel_[c] * sourcePlane;
    const float scale = scale_[c], bias = bias_[c];
    for (int64_t y = 0; y < height; ++y) {
      float *row = out + (c * height + y) * width;
      int64_t sy = y + shiftY;
      if (sy < 0 || sy >= height) {
        std::fill(row, row + width, bias);
        continue;
      }
      std::fill(row, row + xBegin, bias);
      std::fill(row + xEnd, row + width, bias);
      if constexpr (!Resize) {
        const T *src = plane + sy * sourceWidth;
        if (flip)
          for (int64_t x = xBegin; x < xEnd; ++x)
            row[x] =
                static_cast<float>(src[width - 1 - x + shiftX]) * scale + bias;
        else
          for (int64_t x = xBegin; x < xEnd; ++x)
            row[x] = static_cast<float>(src[x + shiftX]) * scale + bias;
      } else {
        const T *top = plane + row0_[sy] * sourceWidth;
        const T *bottom = plane + row1_[sy] * sourceWidth;
        const float wy = rowWeight_[sy];
        for (int64_t x = xBegin; x < xEnd; ++x) {
          int64_t sx = (flip ? width - 1 - x : x) + shiftX;
          int32_t x0 = col0_[sx], x1 = col1_[sx];
          float wx = colWeight_[sx];
          float upper = (1.f - wx) * static_cast<float>(top[x0]) +
                        wx * static_cast<float>(top[x1]);
          float lower = (1.f - wx) * static_cast<float>(bottom[x0]) +
                        wx * static_cast<float>(bottom[x1]);
          row[x] = ((1.f - wy) * upper + wy * lower) * scale + bias;
        }
      }
    }
  }
}

void SampleRenderer::render(int64_t index, int64_t shiftY, int64_t shiftX,
                            bool flip, float *out) const {
  size_t offset = static_cast<size_t>(index * sampleSize(split_));
  if (split_.f32.empty()) {
    const uint8_t *source = split_.u8.data() + offset;
    resize_ ? renderImpl<uint8_t, true>(source, shiftY, shiftX, flip, out)
            : renderImpl<uint8_t, false>(source, shiftY, shiftX, flip, out);
  } else {
    const float *source = split_.f32.data() + offset;
    resize_ ? renderImpl<float, true>(source, shiftY, shiftX, flip, out)
            : renderImpl<float, false>(source, shiftY, shiftX, flip, out);
  }
}

} // namespace detail
} // namespace vitc::data
