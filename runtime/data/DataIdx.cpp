//===- DataIdx.cpp - MNIST-style idx files, plain or gzipped -------------===//
//
// The idx format (LeCun's MNIST page): a big-endian magic 0x000008NN, where
// 08 is the element type "unsigned byte" and NN the number of dimensions,
// then NN big-endian 32-bit sizes, then the data in C order.
//
//===----------------------------------------------------------------------===//
#include "DataInternal.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace vitc::data::detail {
namespace {

using rt::Status;
using rt::StatusOr;

std::string inQuotes(const std::string &path) { return "'" + path + "'"; }

StatusOr<std::vector<uint8_t>> readFile(const std::string &path) {
  std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path.c_str(), "rb"),
                                              &std::fclose);
  if (!file)
    return Status::error("cannot open " + inQuotes(path) + ": " +
                         std::strerror(errno));
  std::vector<uint8_t> bytes;
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    long size = std::ftell(file.get());
    if (size > 0)
      bytes.reserve(static_cast<size_t>(size));
    std::rewind(file.get());
  }
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0)
    bytes.insert(bytes.end(), chunk, chunk + got);
  if (std::ferror(file.get()))
    return Status::error("cannot read " + inQuotes(path) + ": " +
                         std::strerror(errno));
  return bytes;
}

bool isGzip(const std::vector<uint8_t> &bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

/// Inflates gzip data (several concatenated members allowed, as gzip -d).
StatusOr<std::vector<uint8_t>> gunzip(const std::vector<uint8_t> &in,
                                      const std::string &path) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) // 15: max window, +16: gzip
    return Status::error("cannot inflate " + inQuotes(path) +
                         ": zlib init failed");
  std::unique_ptr<z_stream, int (*)(z_stream *)> guard(&stream, &inflateEnd);
  // The last 4 bytes hold the uncompressed size mod 2^32: the usual exact
  // guess, but garbage if the file is truncated, so bounded by a generous
  // ratio (the buffer doubles if that is too small).
  size_t n = in.size();
  size_t guess = n >= 4 ? (size_t(in[n - 4]) | size_t(in[n - 3]) << 8 |
                           size_t(in[n - 2]) << 16 | size_t(in[n - 1]) << 24)
                        : 0;
  std::vector<uint8_t> out(std::min(guess, 8 * n + (size_t(1) << 20)) + 1);
  const uint8_t *inPos = in.data();
  size_t inLeft = n, produced = 0;
  while (true) {
    if (produced == out.size())
      out.resize(out.size() * 2);
    uInt inChunk = static_cast<uInt>(std::min<size_t>(inLeft, UINT_MAX));
    uInt outChunk =
        static_cast<uInt>(std::min<size_t>(out.size() - produced, UINT_MAX));
    stream.next_in = const_cast<Bytef *>(inPos);
    stream.avail_in = inChunk;
    stream.next_out = out.data() + produced;
    stream.avail_out = outChunk;
    int ret = inflate(&stream, Z_NO_FLUSH);
    inPos += inChunk - stream.avail_in;
    inLeft -= inChunk - stream.avail_in;
    produced += outChunk - stream.avail_out;
    if (ret == Z_STREAM_END) {
      if (inLeft >= 2 && inPos[0] == 0x1f && inPos[1] == 0x8b) {
        inflateReset(&stream);
        continue;
      }
      break;
    }
    if (ret == Z_OK || (ret == Z_BUF_ERROR && inLeft > 0))
      continue;
    if (ret == Z_BUF_ERROR)
      return Status::error(inQuotes(path) +
                           " is truncated (the gzip stream ends early)");
    return Status::error(
        inQuotes(path) + " is not valid gzip data: " +
        (stream.msg ? stream.msg : "zlib error " + std::to_string(ret)));
  }
  out.resize(produced);
  return out;
}

/// The file's bytes, inflated if it is gzip data (whatever its name).
StatusOr<std::vector<uint8_t>> readMaybeGzip(const std::string &path) {
  StatusOr<std::vector<uint8_t>> bytes = readFile(path);
  if (!bytes.isOk() || !isGzip(*bytes))
    return bytes;
  return gunzip(*bytes, path);
}

uint32_t bigEndian32(const uint8_t *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
         p[3];
}

/// Checks the idx header of an unsigned-byte array of `rank` dimensions,
/// returns its dimensions and drops the header from `bytes`.
StatusOr<std::vector<int64_t>> takeIdxHeader(std::vector<uint8_t> &bytes,
                                             unsigned rank,
                                             const std::string &path) {
  if (bytes.size() < 4)
    return Status::error(inQuotes(path) + " is truncated (no idx header)");
  uint32_t magic = bigEndian32(bytes.data());
  uint32_t expected = 0x800u | rank;
  if (magic != expected) {
    char message[160];
    std::snprintf(
        message, sizeof(message),
        "bad idx magic 0x%08X (expected 0x%08X: unsigned bytes, %u dimensions)",
        magic, expected, rank);
    return Status::error(inQuotes(path) + ": " + message);
  }
  size_t headerSize = 4 + 4 * size_t(rank);
  if (bytes.size() < headerSize)
    return Status::error(inQuotes(path) +
                         " is truncated (idx header cut short)");
  std::vector<int64_t> dims;
  uint64_t elements = 1;
  for (unsigned i = 0; i < rank; ++i) {
    dims.push_back(bigEndian32(bytes.data() + 4 + 4 * i));
    elements *= static_cast<uint64_t>(dims.back());
  }
  uint64_t have = bytes.size() - headerSize;
  std::string shape;
  for (int64_t dim : dims)
    shape += (shape.empty() ? "" : "x") + std::to_string(dim);
  if (have < elements)
    return Status::error(inQuotes(path) + " is truncated: a " + shape +
                         " array needs " + std::to_string(elements) +
                         " bytes of data, the file holds " +
                         std::to_string(have));
  if (have > elements)
    return Status::error(inQuotes(path) + ": " +
                         std::to_string(have - elements) +
                         " unexpected bytes after the " + shape + " array");
  bytes.erase(bytes.begin(), bytes.begin() + headerSize);
  return dims;
}

/// `<dir>/<name>`, or `<dir>/<name>.gz`; an error naming both if neither
/// exists.
StatusOr<std::string> findIdxFile(const std::string &dir,
                                  const std::string &name) {
  std::filesystem::path plain = std::filesystem::path(dir) / name;
  std::filesystem::path gz = plain.string() + ".gz";
  std::error_code ec;
  if (std::filesystem::exists(plain, ec))
    return plain.string();
  if (std::filesystem::exists(gz, ec))
    return gz.string();
  return Status::error("missing dataset file " + inQuotes(plain.string()) +
                       " (or " + inQuotes(gz.string()) + ")");
}

/// An idx array: its data in C order and its dimensions.
struct IdxArray {
  std::vector<uint8_t> data;
  std::vector<int64_t> dims;
};

/// Reads the idx file `path` (plain or gzip) of an unsigned-byte array of
/// `rank` dimensions.
StatusOr<IdxArray> readIdx(const std::string &path, unsigned rank) {
  StatusOr<std::vector<uint8_t>> bytes = readMaybeGzip(path);
  if (!bytes.isOk())
    return bytes.status();
  IdxArray array;
  array.data = std::move(*bytes);
  StatusOr<std::vector<int64_t>> dims = takeIdxHeader(array.data, rank, path);
  if (!dims.isOk())
    return dims.status();
  array.dims = std::move(*dims);
  return array;
}

} // namespace

StatusOr<Split> loadIdxSplit(const std::string &dir,
                             const std::string &prefix) {
  StatusOr<std::string> imagesPath =
      findIdxFile(dir, prefix + "-images-idx3-ubyte");
  if (!imagesPath.isOk())
    return imagesPath.status();
  StatusOr<std::string> labelsPath =
      findIdxFile(dir, prefix + "-labels-idx1-ubyte");
  if (!labelsPath.isOk())
    return labelsPath.status();
  StatusOr<IdxArray> images = readIdx(*imagesPath, 3);
  if (!images.isOk())
    return images.status();
  StatusOr<IdxArray> labels = readIdx(*labelsPath, 1);
  if (!labels.isOk())
    return labels.status();
  if (images->dims[0] != labels->dims[0])
    return Status::error(inQuotes(*imagesPath) + " holds " +
                         std::to_string(images->dims[0]) + " images but " +
                         inQuotes(*labelsPath) + " holds " +
                         std::to_string(labels->dims[0]) + " labels");
  Split split;
  split.count = images->dims[0];
  split.channels = 1;
  split.height = images->dims[1];
  split.width = images->dims[2];
  split.u8 = std::move(images->data);
  split.labels.assign(labels->data.begin(), labels->data.end());
  return split;
}

} // namespace vitc::data::detail
