//===- TensorBoard.cpp - scalar summaries in TensorBoard's event files ----===//
#include "TensorBoard.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace vitc::train {

using rt::Status;

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "TFRecord framing is little-endian; add byte swaps");

/// Flush at most this often, so TensorBoard sees a running job's steps
/// without a write(2) per step.
constexpr std::chrono::seconds kFlushInterval(5);

/// The reflected CRC-32C table (polynomial 0x82f63b78).
std::array<uint32_t, 256> makeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78u : 0);
    table[i] = crc;
  }
  return table;
}

/// TFRecord stores CRCs masked, since CRCs of data that embeds CRCs are
/// weak.
uint32_t maskedCrc32c(const void *data, size_t size) {
  uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/// Protocol-buffer wire format, the few field kinds events use.
class ProtoWriter {
public:
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_ += static_cast<char>(value | 0x80);
      value >>= 7;
    }
    bytes_ += static_cast<char>(value);
  }
  /// Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
  void key(uint32_t field, uint32_t wireType) { varint(field << 3 | wireType); }
  void int64Field(uint32_t field, int64_t value) {
    key(field, 0);
    varint(static_cast<uint64_t>(value));
  }
  void doubleField(uint32_t field, double value) {
    key(field, 1);
    raw(&value, sizeof value);
  }
  void floatField(uint32_t field, float value) {
    key(field, 5);
    raw(&value, sizeof value);
  }
  /// A string, bytes or embedded message.
  void bytesField(uint32_t field, const std::string &value) {
    key(field, 2);
    varint(value.size());
    bytes_ += value;
  }
  std::string take() { return std::move(bytes_); }

private:
  void raw(const void *data, size_t size) {
    bytes_.append(static_cast<const char *>(data), size);
  }
  std::string bytes_;
};

double wallTime() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Event { wall_time = 1, step = 2, `field` = `payload` } (3: file_version,
/// 5: summary).
std::string event(int64_t step, uint32_t field, const std::string &payload) {
  ProtoWriter out;
  out.doubleField(1, wallTime());
  out.int64Field(2, step);
  out.bytesField(field, payload);
  return out.take();
}

std::string hostName() {
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0)
    std::strcpy(host, "localhost");
  host[sizeof host - 1] = '\0';
  return host;
}

} // namespace

uint32_t crc32c(const void *data, size_t size) {
  static const std::array<uint32_t, 256> table = makeCrc32cTable();
  const auto *bytes = static_cast<const uint8_t *>(data);
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

EventFile::~EventFile() {
  if (file_)
    std::fclose(file_);
}

Status EventFile::failure() {
  return Status::error(flag_ + ": cannot write '" + path_ +
                       "': " + std::strerror(errno));
}

Status EventFile::open(const std::string &dir, const std::string &flag) {
  flag_ = flag;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::error(flag + ": cannot create '" + dir +
                         "': " + ec.message());
  std::string base =
      (std::filesystem::path(dir) /
       ("events.out.tfevents." +
        std::to_string(static_cast<int64_t>(wallTime())) + "." + hostName()))
          .string();
  int fd = -1;
  for (int n = 0; fd < 0; ++n) {
    path_ = n ? base + "." + std::to_string(n) : base;
    fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      return failure();
  }
  file_ = fdopen(fd, "wb");
  if (!file_) {
    Status status = failure();
    ::close(fd);
    return status;
  }
  lastFlush_ = std::chrono::steady_clock::now();
  // The file_version event tells readers the format.
  if (Status status = writeEvent(event(0, 3, "brain.Event:2")); !status.isOk())
    return status;
  return flush();
}

Status EventFile::writeEvent(const std::string &data) {
  uint64_t length = data.size();
  uint32_t lengthCrc = maskedCrc32c(&length, sizeof length);
  uint32_t dataCrc = maskedCrc32c(data.data(), data.size());
  if (std::fwrite(&length, sizeof length, 1, file_) != 1 ||
      std::fwrite(&lengthCrc, sizeof lengthCrc, 1, file_) != 1 ||
      std::fwrite(data.data(), 1, data.size(), file_) != data.size() ||
      std::fwrite(&dataCrc, sizeof dataCrc, 1, file_) != 1)
    return failure();
  return Status::ok();
}

Status EventFile::scalar(const std::string &tag, int64_t step, double value) {
  ProtoWriter scalar;
  scalar.bytesField(1, tag);
  scalar.floatField(2, static_cast<float>(value));
  ProtoWriter summary;
  summary.bytesField(1, scalar.take());
  if (Status status = writeEvent(event(step, 5, summary.take()));
      !status.isOk())
    return status;
  if (std::chrono::steady_clock::now() - lastFlush_ >= kFlushInterval)
    return flush();
  return Status::ok();
}

Status EventFile::flush() {
  lastFlush_ = std::chrono::steady_clock::now();
  if (std::fflush(file_) != 0 || std::ferror(file_))
    return failure();
  return Status::ok();
}

} // namespace vitc::train
