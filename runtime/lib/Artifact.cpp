//===- Artifact.cpp - open, validate and map a .vtc file ------------------===//
#include "vitc/runtime/Artifact.h"
#include "vitc/runtime/ArtifactFormat.h"
#include "vitc/runtime/WeightsFile.h"
#include "vitc_runtime.h"

#include "ManifestSpecs.h"

#include "vitc/artifact/artifact.pb.h"
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
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

/// An artifact in memory at a multiple of this is used in place.
constexpr uintptr_t kInPlaceAlignment = 64;
} // namespace

StatusOr<std::shared_ptr<Artifact>>
Artifact::open(const std::string &path, const std::string &weightsPath) {
  std::shared_ptr<Artifact> artifact(new Artifact());
  Status status = artifact->parse(path, weightsPath);
  if (!status.isOk())
    return status;
  return artifact;
}

Artifact::~Artifact() {
  if (mapping_)
    ::munmap(mapping_, mappingSize_);
  if (weightsMapping_)
    ::munmap(weightsMapping_, weightsMappingSize_);
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

StatusOr<std::shared_ptr<Artifact>>
Artifact::openMemory(const void *data, size_t size,
                     const std::string &weightsPath) {
  std::shared_ptr<Artifact> artifact(new Artifact());
  Status status = artifact->parseMemory(data, size, weightsPath);
  if (!status.isOk())
    return status;
  return artifact;
}

Status Artifact::parse(const std::string &path, const std::string &weightsPath) {
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

  // The header is checked before mapping: a file that is not an artifact
  // gets its message without being mapped whole.
  artifact::FileHeader header;
  std::memset(&header, 0, sizeof(header));
  ssize_t got = ::pread(file.fd, &header, sizeof(header), 0);
  if (got < 0)
    return Status::error("cannot read '" + path + "': " + std::strerror(errno));
  Status valid = checkHeader(&header, static_cast<size_t>(got), fileSize);
  if (!valid.isOk())
    return valid;

  mappingSize_ = fileSize;
  void *mapping =
      ::mmap(nullptr, mappingSize_, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (mapping == MAP_FAILED)
    return Status::error("cannot map '" + path + "': " + std::strerror(errno));
  mapping_ = mapping;
  return parseBytes(static_cast<const uint8_t *>(mapping_), fileSize,
                    weightsPath);
}

Status Artifact::parseMemory(const void *data, size_t size,
                             const std::string &weightsPath) {
  path_ = "<memory>";
  fromMemory_ = true;
  if (!data)
    return Status::error("the artifact's data is NULL");
  artifact::FileHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(&header, data, std::min(size, sizeof(header)));
  Status valid = checkHeader(&header, std::min(size, sizeof(header)), size);
  if (!valid.isOk())
    return valid;
  // Sections are used in place, as from a mapped file, when their alignment
  // survives (weights are read as f32 and wider); otherwise one aligned
  // copy, as an array embedded with `xxd -i` has no alignment to speak of.
  if (reinterpret_cast<uintptr_t>(data) % kInPlaceAlignment == 0)
    return parseBytes(static_cast<const uint8_t *>(data), size, weightsPath);
  void *copy = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (copy == MAP_FAILED)
    return Status::error("cannot copy the artifact (" + std::to_string(size) +
                         " bytes): " + std::strerror(errno));
  mapping_ = copy;
  mappingSize_ = size;
  std::memcpy(copy, data, size);
  ::mprotect(copy, size, PROT_READ); // as read-only as a mapped file
  return parseBytes(static_cast<const uint8_t *>(copy), size, weightsPath);
}

Status Artifact::checkHeader(const void *headerBytes, size_t got,
                             uint64_t fileSize) const {
  const std::string &path = path_;
  artifact::FileHeader header;
  std::memcpy(&header, headerBytes, sizeof(header));
  if (got < sizeof(header.magic) ||
      std::memcmp(header.magic, artifact::kMagic, sizeof(header.magic)) != 0)
    return Status::error("'" + path +
                         "' is not a vitc artifact (bad magic number)");
  if (got < sizeof(header))
    return Status::error("'" + path + "' is truncated (incomplete header)");
  if (header.formatVersion != artifact::kFormatVersion)
    return Status::error(
        "'" + path + "' has artifact format version " +
        std::to_string(header.formatVersion) + ", but this runtime reads " +
        "version " + std::to_string(artifact::kFormatVersion) +
        " (recompile the model with a matching vitc); this is vitc runtime "
        VITC_RUNTIME_VERSION_STRING);
  if (header.headerSize != sizeof(header))
    return Status::error("'" + path + "' has a corrupt header");
  if (!inBounds(header.manifestOffset, header.manifestSize, fileSize))
    return Status::error("'" + path + "' is truncated: the manifest ends at " +
                         std::to_string(header.manifestOffset +
                                        header.manifestSize) +
                         " bytes but the file has " + std::to_string(fileSize));
  return Status::ok();
}

Status Artifact::parseBytes(const uint8_t *base, uint64_t fileSize,
                            const std::string &weightsPath) {
  const std::string &path = path_;
  artifact::FileHeader header;
  std::memcpy(&header, base, sizeof(header));

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
  for (const artifact::Weight &weight : manifest.weights())
    weights_.push_back({weight.name(), weight.dtype(),
                        std::vector<int64_t>(weight.shape().begin(),
                                             weight.shape().end()),
                        weight.offset(), weight.bytes()});
  weightsDigest_ = artifact::weightsLayoutDigest(manifest);
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
  if (!manifest.weights_file().empty()) {
    status = mapWeightsFile(manifest, weightsPath);
    if (!status.isOk())
      return status;
  } else if (!weightsPath.empty()) {
    return Status::error("'" + path + "' holds its weights; a weights file "
                         "('" + weightsPath + "') is for artifacts compiled "
                         "with --weights-file");
  }
  const Section *weights = section("weights");
  if (!weights)
    return Status::error("'" + path + "' has no weights section");
  return readTraining(manifest, path, *weights, functions_, training_);
}

Status Artifact::mapWeightsFile(const artifact::Manifest &manifest,
                                const std::string &override) {
  // The recorded path is relative to the artifact's directory.
  std::string path = override;
  if (path.empty() && fromMemory_)
    return Status::error("the artifact loaded from memory keeps its weights in "
                         "'" + manifest.weights_file() + "': give that "
                         "file's path (it has no directory to look in)");
  if (path.empty()) {
    path = manifest.weights_file();
    size_t slash = path_.rfind('/');
    if (path[0] != '/' && slash != std::string::npos)
      path = path_.substr(0, slash + 1) + path;
  }
  weightsPath_ = path;
  std::string what = "the weights of '" + path_ + "' ('" + path + "')";
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    return Status::error("cannot open " + what + ": " + std::strerror(errno));
  struct stat info;
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode))
    return Status::error(what + " is not a regular file");
  uint64_t fileSize = static_cast<uint64_t>(info.st_size);
  artifact::WeightsFileHeader header;
  std::memset(&header, 0, sizeof(header));
  ssize_t got = ::pread(file.fd, &header, sizeof(header), 0);
  if (got != static_cast<ssize_t>(sizeof(header)) ||
      std::memcmp(header.magic, artifact::kWeightsMagic, sizeof(header.magic)) != 0)
    return Status::error(what + " is not a vitc weights file (bad magic number)");
  if (header.formatVersion != artifact::kWeightsFormatVersion ||
      header.headerSize != sizeof(header) ||
      header.dataOffset % artifact::kSectionAlignment != 0)
    return Status::error(what + " has an unknown weights format version " +
                         std::to_string(header.formatVersion));
  if (header.layoutDigest != manifest.weights_digest() ||
      header.dataSize != manifest.weights_bytes())
    return Status::error(what + " holds weights of another layout (" +
                         std::to_string(header.dataSize) + " bytes, digest " +
                         std::to_string(header.layoutDigest) +
                         "); the artifact needs " +
                         std::to_string(manifest.weights_bytes()) +
                         " bytes, digest " +
                         std::to_string(manifest.weights_digest()));
  if (!inBounds(header.dataOffset, header.dataSize, fileSize))
    return Status::error(what + " is truncated");
  weightsMappingSize_ = fileSize;
  void *mapping =
      ::mmap(nullptr, weightsMappingSize_, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (mapping == MAP_FAILED)
    return Status::error("cannot map " + what + ": " + std::strerror(errno));
  weightsMapping_ = mapping;
  sections_.push_back({"weights", "", "",
                       static_cast<const uint8_t *>(mapping) + header.dataOffset,
                       header.dataSize});
  return Status::ok();
}

} // namespace vitc::rt
