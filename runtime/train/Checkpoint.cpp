//===- Checkpoint.cpp - the trainer's checkpoint file (.vtck) -------------===//
#include "Checkpoint.h"

#include "vitc/collectives/Communicator.h"
#include "vitc_runtime.h"

#include "vitc/train/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <zlib.h>

namespace vitc::train {

namespace {

constexpr char kMagic[8] = {'V', 'I', 'T', 'C', 'C', 'K', 'P', 'T'};
// magic, version, reserved, payload size.
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8;
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the checkpoint format is little-endian; add byte swaps");

uint32_t crc32Of(uint32_t crc, const void *data, uint64_t size) {
  // Nothing to add; and zlib would answer a null buffer (an empty
  // vector's data()) with its initial value, dropping `crc`.
  if (size == 0)
    return crc;
  return static_cast<uint32_t>(
      crc32_z(crc, static_cast<const Bytef *>(data), static_cast<z_size_t>(size)));
}

/// Appends to an AtomicFile, keeping the payload's CRC and size.
class PayloadWriter {
public:
  explicit PayloadWriter(AtomicFile &file) : file_(file) {}
  void bytes(const void *data, uint64_t size) {
    file_.write(data, size);
    crc_ = crc32Of(crc_, data, size);
    size_ += size;
  }
  template <typename T> void pod(T value) { bytes(&value, sizeof value); }
  void str(const std::string &s) {
    pod<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  uint32_t crc() const { return crc_; }
  uint64_t size() const { return size_; }

private:
  AtomicFile &file_;
  uint32_t crc_ = 0; // crc32's initial value
  uint64_t size_ = 0;
};

/// Bounds-checked reads of the payload; the first overrun sets `failed`.
class PayloadReader {
public:
  PayloadReader(const char *data, uint64_t size) : at_(data), end_(data + size) {}
  const char *bytes(uint64_t size) {
    if (failed || size > static_cast<uint64_t>(end_ - at_)) {
      failed = true;
      return nullptr;
    }
    const char *start = at_;
    at_ += size;
    return start;
  }
  template <typename T> T pod() {
    T value{};
    if (const char *p = bytes(sizeof value))
      std::memcpy(&value, p, sizeof value);
    return value;
  }
  std::string str() {
    uint32_t size = pod<uint32_t>();
    const char *p = bytes(size);
    return p ? std::string(p, size) : std::string();
  }
  bool atEnd() const { return at_ == end_; }
  bool failed = false;

private:
  const char *at_, *end_;
};

} // namespace

std::string Checkpoint::setting(const std::string &key) const {
  for (const auto &[k, v] : settings)
    if (k == key)
      return v;
  return "";
}

std::string shardFileName(int64_t step, int rank, int world) {
  return "checkpoint.step" + std::to_string(step) + ".rank" +
         std::to_string(rank) + "of" + std::to_string(world) + ".vtck";
}

bool writeCheckpoint(const std::string &dir, const Checkpoint &c,
                     std::string &error) {
  return writeCheckpointFile(
      (std::filesystem::path(dir) / kCheckpointFile).string(), c, error);
}

bool writeCheckpointFile(const std::string &path, const Checkpoint &c,
                         std::string &error) {
  AtomicFile file;
  if (!file.open(path, error))
    return false;
  uint64_t payloadSizePlaceholder = 0;
  uint32_t version = kCheckpointVersion, reserved = 0;
  file.write(kMagic, sizeof kMagic);
  file.write(&version, sizeof version);
  file.write(&reserved, sizeof reserved);
  file.write(&payloadSizePlaceholder, sizeof payloadSizePlaceholder);

  PayloadWriter out(file);
  out.str(c.identity);
  out.pod<int64_t>(c.step);
  out.pod<int64_t>(c.epoch);
  out.pod<int64_t>(c.batch);
  out.pod<uint32_t>(static_cast<uint32_t>(c.settings.size()));
  for (const auto &[key, value] : c.settings) {
    out.str(key);
    out.str(value);
  }
  out.pod<double>(c.progress.lossSum);
  out.pod<int64_t>(c.progress.correct);
  out.pod<int64_t>(c.progress.samples);
  out.pod<double>(c.progress.seconds);
  out.pod<double>(c.progress.runSeconds);
  out.pod<uint32_t>(static_cast<uint32_t>(c.history.size()));
  for (const EpochRecord &record : c.history)
    for (double value : record.toArray())
      out.pod<double>(value);
  out.pod<uint64_t>(c.stepLosses.size());
  out.bytes(c.stepLosses.data(), c.stepLosses.size() * sizeof(float));
  // A tensor's name, dtype and shape (its data follows, or not).
  auto header = [&](const CheckpointTensor &t) {
    out.str(t.name);
    out.pod<int32_t>(t.dtype);
    out.pod<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (int64_t dim : t.shape)
      out.pod<int64_t>(dim);
  };
  out.pod<uint32_t>(static_cast<uint32_t>(c.tensors.size()));
  for (const CheckpointTensor &t : c.tensors) {
    header(t);
    out.pod<uint64_t>(t.bytes);
    out.bytes(t.data, t.bytes);
  }
  out.pod<uint32_t>(static_cast<uint32_t>(c.shardWorld));
  out.pod<uint32_t>(static_cast<uint32_t>(c.sharded.size()));
  for (const CheckpointTensor &t : c.sharded)
    header(t);
  uint32_t crc = out.crc();
  uint64_t payloadSize = out.size();
  file.write(&crc, sizeof crc);
  file.writeAt(&payloadSize, sizeof payloadSize, kHeaderSize - 8);
  if (!file.commit(error)) {
    error = "checkpoint not saved: " + error;
    return false;
  }
  return true;
}

bool readCheckpoint(const std::string &path, Checkpoint &c,
                    std::string &error) {
  auto fail = [&](const std::string &problem) {
    error = "checkpoint '" + path + "': " + problem;
    return false;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::streamoff fileSize = in.tellg();
  in.seekg(0);
  if (fileSize < 0)
    return fail("cannot read the file");
  c.storage.resize(static_cast<size_t>(fileSize));
  if (!in.read(c.storage.data(), fileSize))
    return fail("cannot read the file");

  const char *file = c.storage.data();
  uint64_t size = static_cast<uint64_t>(fileSize);
  if (size < sizeof kMagic || std::memcmp(file, kMagic, sizeof kMagic) != 0)
    return fail("not a vitc checkpoint (bad magic)");
  if (size < kHeaderSize + 4)
    return fail("truncated (" + std::to_string(size) + " bytes)");
  uint32_t version;
  uint64_t payloadSize;
  std::memcpy(&version, file + 8, 4);
  std::memcpy(&payloadSize, file + 16, 8);
  if (version < 1 || version > kCheckpointVersion)
    return fail("format version " + std::to_string(version) +
                ", this vitc reads versions 1 to " +
                std::to_string(kCheckpointVersion));
  if (payloadSize != size - kHeaderSize - 4)
    return fail(payloadSize > size - kHeaderSize - 4
                    ? "truncated (" + std::to_string(size) + " bytes, expected " +
                          std::to_string(payloadSize + kHeaderSize + 4) + ")"
                    : "has " + std::to_string(size - kHeaderSize - 4 - payloadSize) +
                          " unexpected trailing bytes");
  const char *payload = file + kHeaderSize;
  uint32_t storedCrc;
  std::memcpy(&storedCrc, payload + payloadSize, 4);
  if (crc32Of(0, payload, payloadSize) != storedCrc)
    return fail("corrupt (CRC32 mismatch)");

  // The CRC matched, so a structural error below means a writer bug or a
  // crafted file; still never read out of bounds.
  PayloadReader reader(payload, payloadSize);
  c.identity = reader.str();
  c.step = reader.pod<int64_t>();
  c.epoch = reader.pod<int64_t>();
  c.batch = reader.pod<int64_t>();
  uint32_t numSettings = reader.pod<uint32_t>();
  c.settings.clear();
  for (uint32_t i = 0; i < numSettings && !reader.failed; ++i) {
    std::string key = reader.str();
    c.settings.emplace_back(key, reader.str());
  }
  c.progress.lossSum = reader.pod<double>();
  c.progress.correct = reader.pod<int64_t>();
  c.progress.samples = reader.pod<int64_t>();
  c.progress.seconds = reader.pod<double>();
  c.progress.runSeconds = reader.pod<double>();
  uint32_t numEpochs = reader.pod<uint32_t>();
  c.history.clear();
  for (uint32_t i = 0; i < numEpochs && !reader.failed; ++i) {
    std::array<double, EpochRecord::kFields> values;
    for (double &value : values)
      value = reader.pod<double>();
    c.history.push_back(EpochRecord::fromArray(values));
  }
  c.stepLosses.clear();
  if (version >= 2) {
    uint64_t numSteps = reader.pod<uint64_t>();
    if (numSteps > payloadSize / sizeof(float)) // would overflow the size
      reader.failed = true;
    else if (const char *p = reader.bytes(numSteps * sizeof(float))) {
      c.stepLosses.resize(numSteps);
      std::memcpy(c.stepLosses.data(), p, numSteps * sizeof(float));
    }
  }
  auto header = [&] {
    CheckpointTensor t;
    t.name = reader.str();
    t.dtype = reader.pod<int32_t>();
    uint32_t rank = reader.pod<uint32_t>();
    for (uint32_t d = 0; d < rank && !reader.failed; ++d)
      t.shape.push_back(reader.pod<int64_t>());
    return t;
  };
  uint32_t numTensors = reader.pod<uint32_t>();
  c.tensors.clear();
  for (uint32_t i = 0; i < numTensors && !reader.failed; ++i) {
    CheckpointTensor t = header();
    t.bytes = reader.pod<uint64_t>();
    t.data = reader.bytes(t.bytes);
    c.tensors.push_back(std::move(t));
  }
  c.shardWorld = 0;
  c.sharded.clear();
  if (version >= 3) {
    c.shardWorld = static_cast<int32_t>(reader.pod<uint32_t>());
    uint32_t numSharded = reader.pod<uint32_t>();
    for (uint32_t i = 0; i < numSharded && !reader.failed; ++i)
      c.sharded.push_back(header());
  }
  if (reader.failed || !reader.atEnd())
    return fail("malformed payload");
  return true;
}

bool readShards(const std::string &dir, Checkpoint &c, std::string &error) {
  if (c.sharded.empty())
    return true;
  int world = c.shardWorld;
  // Whole tensors, filled block by block (the padded convention).
  std::vector<int64_t> numels;
  for (const CheckpointTensor &t : c.sharded) {
    int64_t numel = 1;
    for (int64_t d : t.shape)
      numel *= d;
    size_t element = vitc_dtype_size(static_cast<vitc_dtype>(t.dtype));
    if (numel < 0 || element == 0) {
      error = "checkpoint index in '" + dir + "': sharded tensor '" + t.name +
              "' has an invalid dtype or shape";
      return false;
    }
    numels.push_back(numel);
    c.wholes.emplace_back(numel * element);
  }
  for (int r = 0; r < world; ++r) {
    std::string path =
        (std::filesystem::path(dir) / shardFileName(c.step, r, world)).string();
    Checkpoint shard;
    if (!readCheckpoint(path, shard, error))
      return false;
    if (shard.identity != c.identity || shard.step != c.step) {
      error = "checkpoint shard '" + path + "' belongs to another " +
              (shard.identity != c.identity ? "artifact" : "step") +
              " than its index";
      return false;
    }
    for (size_t i = 0; i < c.sharded.size(); ++i) {
      const CheckpointTensor &t = c.sharded[i];
      auto it = std::find_if(
          shard.tensors.begin(), shard.tensors.end(),
          [&](const CheckpointTensor &s) { return s.name == t.name; });
      int64_t block = coll::paddedShardCount(numels[i], world);
      size_t element = vitc_dtype_size(static_cast<vitc_dtype>(t.dtype));
      if (it == shard.tensors.end() || it->dtype != t.dtype ||
          it->shape != std::vector<int64_t>{block} ||
          it->bytes != block * element) {
        error = "checkpoint shard '" + path + "': no block of " +
                std::to_string(block) + " elements of '" + t.name + "'";
        return false;
      }
      coll::ShardRange range = coll::shardRange(numels[i], world, r);
      std::memcpy(c.wholes[i].data() + range.begin * element, it->data,
                  (range.end - range.begin) * element);
    }
  }
  for (size_t i = 0; i < c.sharded.size(); ++i) {
    CheckpointTensor t = c.sharded[i];
    t.data = c.wholes[i].data();
    t.bytes = c.wholes[i].size();
    c.tensors.push_back(std::move(t));
  }
  return true;
}

void removeStaleShards(const std::string &dir, int64_t keep) {
  std::error_code ec;
  std::string prefix = "checkpoint.step", kept =
                                              "checkpoint.step" +
                                              std::to_string(keep) + ".rank";
  for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.rfind(kept, 0) != 0 &&
        name.find(".rank") != std::string::npos &&
        name.size() > 5 && name.compare(name.size() - 5, 5, ".vtck") == 0)
      std::filesystem::remove(entry.path(), ec);
  }
}

} // namespace vitc::train
