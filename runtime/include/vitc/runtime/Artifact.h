//===- Artifact.h - a loaded .vtc file ---------------------------*- C++ -*-===//
//
// Opens and validates an artifact (magic, format version, section bounds,
// manifest) and maps the file read-only: the weights section is used in
// place, never copied. Device compatibility (target, CPU features) is checked
// by the device that loads the code.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_ARTIFACT_H
#define VITC_RUNTIME_ARTIFACT_H

#include "vitc/runtime/DType.h"
#include "vitc/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vitc::rt {

struct TensorSpec {
  std::string name;
  DType dtype;
  /// -1 marks a dynamic dimension.
  std::vector<int64_t> shape;
};

struct Section {
  std::string kind, arch;
  const uint8_t *data = nullptr;
  uint64_t size = 0;
};

class Artifact {
public:
  static StatusOr<std::shared_ptr<Artifact>> open(const std::string &path);
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  const std::string &path() const { return path_; }
  const std::string &producer() const { return producer_; }
  const std::string &target() const { return target_; }
  const std::string &cpu() const { return cpu_; }
  const std::vector<std::string> &cpuFeatures() const { return cpuFeatures_; }
  const std::string &triple() const { return triple_; }
  const std::string &mode() const { return mode_; }
  const std::string &precision() const { return precision_; }
  const std::string &entry() const { return entry_; }
  const std::vector<TensorSpec> &inputs() const { return inputs_; }
  const std::vector<TensorSpec> &outputs() const { return outputs_; }
  /// The first section of `kind` ("code", "weights"), or nullptr.
  const Section *section(const std::string &kind) const;

private:
  Artifact() = default;
  Status parse(const std::string &path);

  std::string path_, producer_, target_, cpu_, triple_, mode_, precision_,
      entry_;
  std::vector<std::string> cpuFeatures_;
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<Section> sections_;
  void *mapping_ = nullptr;
  size_t mappingSize_ = 0;
};

} // namespace vitc::rt

#endif // VITC_RUNTIME_ARTIFACT_H
