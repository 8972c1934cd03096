//===- DataNpy.cpp - Datasets stored as .npy shards ----------------------===//
//
// A split is `<prefix>_images*.npy` and `<prefix>_labels*.npy`, shards
// concatenated in sorted name order (so name them with zero-padded numbers).
// Images are uint8 or float32, [N,H,W], [N,C,H,W] or [N,H,W,C] (C in {1,3});
// labels are integers, [N] or [N,1].
//
//===----------------------------------------------------------------------===//
#include "DataInternal.h"
#include "Npy.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace vitc::data::detail {
namespace {

namespace fs = std::filesystem;
using rt::DType;
using rt::Status;
using rt::StatusOr;

std::string inQuotes(const std::string &text) { return "'" + text + "'"; }

/// The files `<dir>/<stem>*.npy`, sorted by name.
StatusOr<std::vector<std::string>> findShards(const std::string &dir,
                                              const std::string &stem) {
  auto unreadable = [&](const std::error_code &ec) {
    return Status::error("cannot read dataset directory " + inQuotes(dir) +
                         ": " + ec.message());
  };
  std::error_code ec;
  std::vector<std::string> shards;
  // On an error, the iterator becomes the end iterator and `ec` says why.
  for (fs::directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() >= stem.size() + 4 &&
        name.compare(0, stem.size(), stem) == 0 &&
        name.compare(name.size() - 4, 4, ".npy") == 0)
      shards.push_back(it->path().string());
  }
  if (ec)
    return unreadable(ec);
  if (shards.empty())
    return Status::error("missing dataset files " +
                         inQuotes((fs::path(dir) / (stem + "*.npy")).string()));
  std::sort(shards.begin(), shards.end());
  return shards;
}

std::string dimsString(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

/// dst[i][ch][p] = src[i][p][ch], p the pixel index within a plane.
template <typename T>
void nhwcToNchw(const char *srcBytes, char *dstBytes, int64_t n, int64_t c,
                size_t plane) {
  const T *src = reinterpret_cast<const T *>(srcBytes);
  T *dst = reinterpret_cast<T *>(dstBytes);
  for (int64_t i = 0; i < n; ++i, src += c * plane, dst += c * plane)
    for (int64_t ch = 0; ch < c; ++ch)
      for (size_t p = 0; p < plane; ++p)
        dst[ch * plane + p] = src[p * c + ch];
}

/// Appends one image shard to `split` as NCHW; `type` is the first shard's
/// dtype.
Status appendImages(const std::string &path, const npy::Array &array,
                    bool first, DType type, Split &split) {
  if (array.dtype != DType::U8 && array.dtype != DType::F32)
    return Status::error(inQuotes(path) + ": images of dtype " +
                         rt::dtypeName(array.dtype) +
                         " are not supported (save them as uint8 or float32)");
  const std::vector<int64_t> &s = array.shape;
  int64_t n, c, h, w;
  bool nhwc = false;
  if (s.size() == 3) {
    n = s[0], c = 1, h = s[1], w = s[2];
  } else if (s.size() == 4) {
    nhwc = (s[3] == 1 || s[3] == 3) && s[1] != 1 && s[1] != 3;
    n = s[0];
    c = nhwc ? s[3] : s[1];
    h = nhwc ? s[1] : s[2];
    w = nhwc ? s[2] : s[3];
  } else {
    return Status::error(inQuotes(path) + ": images have shape " +
                         rt::shapeString(s) +
                         "; expected [N,H,W], [N,C,H,W] or [N,H,W,C]");
  }
  bool u8 = array.dtype == DType::U8;
  if (first) {
    split.channels = c, split.height = h, split.width = w;
  } else if (c != split.channels || h != split.height || w != split.width ||
             array.dtype != type) {
    return Status::error(
        inQuotes(path) + " holds " + rt::dtypeName(array.dtype) +
        " images of " + dimsString(c, h, w) +
        " (CxHxW) but the shards before it hold " + rt::dtypeName(type) +
        " images of " + dimsString(split.channels, split.height, split.width));
  }
  size_t plane = size_t(h) * size_t(w), sample = size_t(c) * plane;
  size_t elementSize = u8 ? 1 : sizeof(float);
  size_t offset = size_t(split.count) * sample;
  size_t total = offset + size_t(n) * sample;
  char *dst =
      u8 ? (split.u8.resize(total), reinterpret_cast<char *>(split.u8.data()))
         : (split.f32.resize(total),
            reinterpret_cast<char *>(split.f32.data()));
  dst += offset * elementSize;
  const char *src = array.data.data();
  if (!nhwc)
    std::memcpy(dst, src, size_t(n) * sample * elementSize);
  else if (u8)
    nhwcToNchw<uint8_t>(src, dst, n, c, plane);
  else
    nhwcToNchw<float>(src, dst, n, c, plane);
  split.count += n;
  return Status::ok();
}

template <typename T>
Status appendLabelsAs(const std::string &path, const npy::Array &array,
                      Split &split) {
  size_t n = array.data.size() / sizeof(T);
  const char *data = array.data.data();
  for (size_t i = 0; i < n; ++i) {
    T value;
    std::memcpy(&value, data + i * sizeof(T), sizeof(T));
    int64_t label = static_cast<int64_t>(value);
    if (label < 0)
      return Status::error(inQuotes(path) + ": label " + std::to_string(label) +
                           " at index " + std::to_string(i) + " is negative");
    split.labels.push_back(label);
  }
  return Status::ok();
}

Status appendLabels(const std::string &path, const npy::Array &array,
                    Split &split) {
  const std::vector<int64_t> &s = array.shape;
  if (!(s.size() == 1 || (s.size() == 2 && s[1] == 1)))
    return Status::error(inQuotes(path) + ": labels have shape " +
                         rt::shapeString(s) + "; expected [N] or [N,1]");
  switch (array.dtype) {
  case DType::I64:
    return appendLabelsAs<int64_t>(path, array, split);
  case DType::I32:
    return appendLabelsAs<int32_t>(path, array, split);
  case DType::I8:
    return appendLabelsAs<int8_t>(path, array, split);
  case DType::U8:
    return appendLabelsAs<uint8_t>(path, array, split);
  default:
    return Status::error(
        inQuotes(path) + ": labels of dtype " + rt::dtypeName(array.dtype) +
        " are not supported (save them as an integer type: int64, int32, "
        "int8 or uint8)");
  }
}

} // namespace

StatusOr<Split> loadNpySplit(const std::string &dir,
                             const std::string &prefix) {
  StatusOr<std::vector<std::string>> imageShards =
      findShards(dir, prefix + "_images");
  if (!imageShards.isOk())
    return imageShards.status();
  StatusOr<std::vector<std::string>> labelShards =
      findShards(dir, prefix + "_labels");
  if (!labelShards.isOk())
    return labelShards.status();
  Split split;
  DType type = DType::U8;
  for (size_t i = 0; i < imageShards->size(); ++i) {
    const std::string &path = (*imageShards)[i];
    StatusOr<npy::Array> array = npy::readNpy(path);
    if (!array.isOk())
      return array.status();
    if (i == 0)
      type = array->dtype;
    if (Status status = appendImages(path, *array, i == 0, type, split);
        !status.isOk())
      return status;
  }
  for (const std::string &path : *labelShards) {
    StatusOr<npy::Array> array = npy::readNpy(path);
    if (!array.isOk())
      return array.status();
    if (Status status = appendLabels(path, *array, split); !status.isOk())
      return status;
  }
  if (int64_t(split.labels.size()) != split.count) {
    std::string dirImages =
        (fs::path(dir) / (prefix + "_images*.npy")).string();
    std::string dirLabels =
        (fs::path(dir) / (prefix + "_labels*.npy")).string();
    return Status::error(inQuotes(dirImages) + " hold " +
                         std::to_string(split.count) + " images but " +
                         inQuotes(dirLabels) + " hold " +
                         std::to_string(split.labels.size()) + " labels");
  }
  return split;
}

} // namespace vitc::data::detail
