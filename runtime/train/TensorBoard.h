//===- TensorBoard.h - scalar summaries in TensorBoard's event files ------===//
//
// Writes what TensorBoard (and tf.data's TFRecordDataset, tbparse, ...) read:
// a TFRecord file of serialized tensorflow.Event protos. Each record is
//   u64 length | u32 masked crc32c(length) | data | u32 masked crc32c(data)
// (little-endian; mask(c) = rotate-right(c, 15) + 0xa282ead8). The first
// event carries file_version "brain.Event:2"; each later one a Summary with
// one scalar. The protos are tiny, so they are encoded here by hand:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_TENSORBOARD_H
#define VITC_TRAIN_TENSORBOARD_H

#include "vitc/runtime/Status.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace vitc::train {

/// CRC-32C (Castagnoli) of `size` bytes, as TFRecord frames use it.
uint32_t crc32c(const void *data, size_t size);

/// One event file, events.out.tfevents.<seconds since 1970>.<host name>, in
/// a directory (TensorBoard's --logdir, or a run folder below it).
class EventFile {
public:
  EventFile() = default;
  EventFile(const EventFile &) = delete;
  EventFile &operator=(const EventFile &) = delete;
  ~EventFile();

  /// Creates `dir` if needed and a new event file in it (never one that
  /// exists: a second run in the same second gets a numbered name).
  /// Errors name `flag` and the path.
  rt::Status open(const std::string &dir, const std::string &flag);
  bool isOpen() const { return file_ != nullptr; }
  const std::string &path() const { return path_; }

  /// Appends the scalar `tag` = `value` at global step `step`. Buffered:
  /// the file is flushed every few seconds and by flush().
  rt::Status scalar(const std::string &tag, int64_t step, double value);
  rt::Status flush();

private:
  rt::Status writeEvent(const std::string &event);
  rt::Status failure();

  std::FILE *file_ = nullptr;
  std::string path_, flag_;
  std::chrono::steady_clock::time_point lastFlush_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_TENSORBOARD_H
