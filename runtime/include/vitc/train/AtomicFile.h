//===- AtomicFile.h - a file that is complete or untouched ------*- C++ -*-===//
//
// Data goes to a temporary file next to the destination; commit() fsyncs it,
// renames it over the destination and fsyncs the directory. Until commit()
// succeeds the destination is unchanged, and a destroyed, uncommitted
// AtomicFile removes its temporary. Errors name the destination file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_ATOMICFILE_H
#define VITC_TRAIN_ATOMICFILE_H

#include <cstddef>
#include <string>

namespace vitc::train {

class AtomicFile {
public:
  AtomicFile() = default;
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;
  ~AtomicFile();

  /// Creates the temporary for `path`. False (and `error`) on failure.
  bool open(const std::string &path, std::string &error);
  /// Appends `size` bytes; after the first failure every call fails.
  bool write(const void *data, size_t size);
  /// Overwrites bytes at `offset` (inside what was written).
  bool writeAt(const void *data, size_t size, size_t offset);
  /// Makes the file visible at its path. False (and `error`) on failure,
  /// including a failure of any earlier write().
  bool commit(std::string &error);

private:
  bool fail(const char *what);

  std::string path_, tempPath_;
  int fd_ = -1;
  std::string error_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_ATOMICFILE_H
