//===- Artifact.cpp - open, validate and map a .vtc file ------------------===//
#include "vitc/runtime/Artifact.h"
#include "vitc/runtime/ArtifactFormat.h"

#include "ManifestSpecs.h"

#include "vitc/artifact/artifact.pb.h"
#include <google/protobuf/stubs/logging.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vitc::rt {

namespace {
/// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Whether [offset, offset + size) lies inside a file of `fileSize` bytes.
bool inBounds(uint64_t offset, uint64_t size, uint64_t fileSize) {
  return offset <= fileSize && size <= fileSize - offset;
}
} // namespace

StatusOr<std::shared_ptr<Artifact>> Artifact::open(const std::string &path) {
  std::shared_ptr<Artifact> artifact(new Artifact());
  Status status = artifact->parse(path);
  if (!status.isOk())
    return status;
  return artifact;
}

Artifact::~Artifact() {
  if (mapping_)
    ::munmap(mapping_, mappingSize_);
}

const Section *Artifact::section(const std::string &kind) const {
  for (const Section &section : sections_)
    if (section.kind == kind)
      return &section;
  return nullptr;
}

std::optional<size_t> Artifact::findFunction(const std::string &name) const {
  for (size_t i = 0; i < functions_.size(); ++i)
    if (functions_[i].name == name)
      return i;
  return std::nullopt;
}

Status Artifact::parse(const std::string &path) {
  path_ = path;
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    return Status::error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat info;
  if (::fstat(file.fd, &info) != 0)
    return Status::error("cannot stat '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return Status::error("'" + path + "' is not a regular file");
  uint64_t fileSize = static_cast<uint64_t>(info.st_size);

  artifact::FileHeader header;
  std::memset(&header, 0, sizeof(header));
  ssize_t got = ::pread(file.fd, &header, sizeof(header), 0);
  if (got < 0)
    return Status::error("cannot read '" + path + "': " + std::strerror(errno));
  if (static_cast<size_t>(got) < sizeof(header.magic) ||
      std::memcmp(header.magic, artifact::kMagic, sizeof(header.magic)) != 0)
    return Status::error("'" + path +
                         "' is not a vitc artifact (bad magic number)");
  if (static_cast<size_t>(got) < sizeof(header))
    return Status::error("'" + path + "' is truncated (incomplete header)");
  if (header.formatVersion != artifact::kFormatVersion)
    return Status::error(
        "'" + path + "' has artifact format version " +
        std::to_string(header.formatVersion) + ", but this runtime reads " +
        "version " + std::to_string(artifact::kFormatVersion) +
        " (recompile the model with a matching vitc)");
  if (header.headerSize != sizeof(header))
    return Status::error("'" + path + "' has a corrupt header");
  if (!inBounds(header.manifestOffset, header.manifestSize, fileSize))
    return Status::error("'" + path + "' is truncated: the manifest ends at " +
                         std::to_string(header.manifestOffset +
                                        header.manifestSize) +
                         " bytes but the file has " + std::to_string(fileSize));

  mappingSize_ = fileSize;
  void *mapping =
      ::mmap(nullptr, mappingSize_, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (mapping == MAP_FAILED)
    return Status::error("cannot map '" + path + "': " + std::strerror(errno));
  mapping_ = mapping;
  const uint8_t *base = static_cast<const uint8_t *>(mapping_);

  artifact::Manifest manifest;
  // A corrupt manifest is reported below, not logged by protobuf.
  google::protobuf::LogSilencer quiet;
  if (!manifest.ParseFromArray(base + header.manifestOffset,
                               static_cast<int>(header.manifestSize)) ||
      manifest.format_version() != header.formatVersion)
    return Status::error("'" + path + "' has a corrupt manifest");

  producer_ = manifest.producer();
  target_ = manifest.target();
  cpu_ = manifest.cpu();
  cpuFeatures_.assign(manifest.cpu_features().begin(),
                      manifest.cpu_features().end());
  triple_ = manifest.triple();
  mode_ = manifest.mode();
  source_ = manifest.source();
  precision_ = manifest.precision();
  Status status = readFunctions(manifest, path, functions_, kernels_);
  if (!status.isOk())
    return status;
  for (const artifact::Section &section : manifest.sections()) {
    if (!inBounds(section.offset(), section.size(), fileSize))
      return Status::error("'" + path + "' is truncated: the " +
                           section.kind() + " section ends at " +
                           std::to_string(section.offset() + section.size()) +
                           " bytes but the file has " +
                           std::to_string(fileSize));
    if (section.offset() % artifact::kSectionAlignment != 0)
      return Status::error("'" + path + "': the " + section.kind() +
                           " section is not aligned");
    sections_.push_back(
        {section.kind(), section.arch(), section.name(),
         base + section.offset(), section.size()});
  }
  const Section *weights = section("weights");
  if (!weights)
    return Status::error("'" + path + "' has no weights section");
  return readTraining(manifest, path, *weights, functions_, training_);
}

} // namespace vitc::rt
