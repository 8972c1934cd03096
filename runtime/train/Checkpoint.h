//===- Checkpoint.h - the trainer's checkpoint file (.vtck) ---------------===//
//
// One file holds everything a run needs to continue exactly where it stopped:
// the artifact it belongs to, the position (global step, epoch, batch within
// the epoch), the settings that fix the data order (seed, batch size, ...),
// the partial sums of the interrupted epoch, the metrics of finished epochs
// and every param, buffer and opt_state tensor by name.
//
// Layout (little-endian):
//   "VITCCKPT" | u32 version | u32 0 | u64 payload size | payload | u32 CRC32
// where the CRC (zlib's crc32) covers the payload. Payload:
//   str identity | i64 step, epoch, batch
//   u32 n, n x (str key, str value)            settings
//   f64 loss sum, i64 correct, i64 samples, f64 epoch seconds, f64 run seconds
//   u32 n, n x 10 f64                          finished epochs (EpochRecord)
//   u64 n, n x f32                             loss of each step (version 2)
//   u32 n, n x (str name, i32 dtype, u32 rank, rank x i64 shape,
//               u64 bytes, bytes of data)      tensors
// with str = u32 length + bytes.
//
// Writes are atomic: a temporary file in the same directory is written,
// fsync'ed and renamed over the old file, then the directory is fsync'ed, so
// a crash or a failed write (disk full, unwritable directory) leaves the last
// good checkpoint in place.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_CHECKPOINT_H
#define VITC_TRAIN_CHECKPOINT_H

#include "vitc/train/EpochRecord.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vitc::train {

constexpr const char *kCheckpointFile = "checkpoint.vtck";
/// Version 2 added the step losses; version 1 files are still read.
constexpr uint32_t kCheckpointVersion = 2;

/// A named tensor. When writing, `data` points at the caller's memory; a
/// checkpoint read from disk owns the bytes it points into.
struct CheckpointTensor {
  std::string name;
  int32_t dtype = 0; // a vitc_dtype value
  std::vector<int64_t> shape;
  const char *data = nullptr;
  uint64_t bytes = 0;
};

/// Sums over the batches of the epoch in progress, so an epoch resumed
/// mid-way reports the same loss and accuracy as an uninterrupted one.
struct EpochProgress {
  double lossSum = 0; // sum of batch loss * batch size
  int64_t correct = 0;
  int64_t samples = 0;
  double seconds = 0;    // training time spent in this epoch so far
  double runSeconds = 0; // training time of the whole run so far
};

struct Checkpoint {
  /// Identifies the artifact (see Trainer: a hash of train_step's signature
  /// and the model's source). A checkpoint only resumes the same artifact.
  std::string identity;
  /// Optimizer steps done; the next batch is `batch` of 0-based `epoch`.
  int64_t step = 0, epoch = 0, batch = 0;
  /// Run settings ("seed", "batch_size", ...), checked on resume.
  std::vector<std::pair<std::string, std::string>> settings;
  EpochProgress progress;
  std::vector<EpochRecord> history;
  /// The loss of every step so far (step s at s - 1), for the plot.
  std::vector<float> stepLosses;
  std::vector<CheckpointTensor> tensors;

  /// The value of setting `key`, or "" when absent.
  std::string setting(const std::string &key) const;

  /// Backing store of `tensors` after readCheckpoint.
  std::vector<char> storage;
};

/// Writes `checkpoint` to dir/checkpoint.vtck atomically. On failure returns
/// false with `error` naming the file and the cause; the old file is intact.
bool writeCheckpoint(const std::string &dir, const Checkpoint &checkpoint,
                     std::string &error);

/// Reads and validates (magic, version, size, CRC, structure) `path`.
/// On failure returns false with `error` naming the file and the problem.
bool readCheckpoint(const std::string &path, Checkpoint &checkpoint,
                    std::string &error);

} // namespace vitc::train

#endif // VITC_TRAIN_CHECKPOINT_H
