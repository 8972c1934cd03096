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
//   u32 world, u32 n, n x (str name, i32 dtype, u32 rank, rank x i64 shape)
//                                              sharded tensors (version 3)
// with str = u32 length + bytes.
//
// Sharded checkpoints (FSDP on several ranks): each rank writes its blocks of
// the sharded tensors (params, optimizer state) to its own shard file,
// checkpoint.step<S>.rank<R>of<N>.vtck, a checkpoint of the same format
// whose tensors are that rank's blocks (vitc/collectives/Communicator.h's
// padded convention); once every rank has written its file, rank 0 writes
// checkpoint.vtck, the index: the position, settings, history, the
// unsharded tensors, and the whole shape of each sharded one with the
// world it was split over. The index appears last and atomically, so a job
// killed while writing leaves the previous index and the shard files it
// names; older shard files are removed after the new index is in place.
// Reading assembles whole tensors from the shard files, so a checkpoint
// resumes at any number of ranks and under any strategy.
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
/// Version 2 added the step losses, version 3 sharded tensors; older files
/// are still read.
constexpr uint32_t kCheckpointVersion = 3;

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
  /// Tensors whose data are in the shard files of a job of `shardWorld`
  /// ranks (0: none); `data` and `bytes` unused.
  int32_t shardWorld = 0;
  std::vector<CheckpointTensor> sharded;

  /// The value of setting `key`, or "" when absent.
  std::string setting(const std::string &key) const;

  /// Backing store of `tensors` after readCheckpoint (and the whole
  /// tensors readShards assembled).
  std::vector<char> storage;
  std::vector<std::vector<char>> wholes;
};

/// The shard file of `rank` of `world` for the checkpoint at `step`.
std::string shardFileName(int64_t step, int rank, int world);

/// Writes `checkpoint` to dir/checkpoint.vtck atomically. On failure returns
/// false with `error` naming the file and the cause; the old file is intact.
bool writeCheckpoint(const std::string &dir, const Checkpoint &checkpoint,
                     std::string &error);

/// Writes `checkpoint` to `path` atomically (a shard file).
bool writeCheckpointFile(const std::string &path, const Checkpoint &checkpoint,
                         std::string &error);

/// Reads and validates (magic, version, size, CRC, structure) `path`.
/// On failure returns false with `error` naming the file and the problem.
bool readCheckpoint(const std::string &path, Checkpoint &checkpoint,
                    std::string &error);

/// Of an index read from `dir`: reads its shard files and appends each
/// sharded tensor, whole, to checkpoint.tensors. False with `error` naming
/// the file and the tensor when a shard file is missing or does not match.
bool readShards(const std::string &dir, Checkpoint &checkpoint,
                std::string &error);

/// Removes the shard files in `dir` of checkpoints other than step `keep`.
void removeStaleShards(const std::string &dir, int64_t keep);

} // namespace vitc::train

#endif // VITC_TRAIN_CHECKPOINT_H
