//===- AtomicFile.cpp - write a file so it is either complete or untouched ===//
#include "vitc/train/AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace vitc::train {

AtomicFile::~AtomicFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!tempPath_.empty())
    ::unlink(tempPath_.c_str());
}

bool AtomicFile::fail(const char *what) {
  if (error_.empty())
    error_ = std::string("cannot ") + what + " '" + path_ +
             "': " + std::strerror(errno);
  return false;
}

bool AtomicFile::open(const std::string &path, std::string &error) {
  path_ = path;
  // Not mkstemp: its 0600 mode would stick to the file; this one gets the
  // mode a plain create would (0666 less the umask).
  static std::atomic<unsigned> counter{0};
  std::string temp = path + ".tmp" + std::to_string(::getpid()) + "." +
                     std::to_string(counter++);
  fd_ = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    fail("write");
    error = error_;
    return false;
  }
  tempPath_ = temp;
  return true;
}

bool AtomicFile::write(const void *data, size_t size) {
  if (!error_.empty() || fd_ < 0)
    return false;
  const char *bytes = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, bytes, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("write");
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool AtomicFile::writeAt(const void *data, size_t size, size_t offset) {
  if (!error_.empty() || fd_ < 0)
    return false;
  if (::pwrite(fd_, data, size, static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(size))
    return fail("write");
  return true;
}

bool AtomicFile::commit(std::string &error) {
  bool ok = error_.empty() && fd_ >= 0;
  if (ok && ::fsync(fd_) != 0)
    ok = fail("write");
  if (fd_ >= 0 && ::close(fd_) != 0 && ok)
    ok = fail("write");
  fd_ = -1;
  if (ok && ::rename(tempPath_.c_str(), path_.c_str()) != 0)
    ok = fail("write");
  if (!ok) {
    error = error_;
    return false;
  }
  tempPath_.clear();
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  int dirFd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return true;
}

} // namespace vitc::train
