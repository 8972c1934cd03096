//===- Artifact.h - a loaded .vtc file ---------------------------*- C++ -*-===//
//
// Opens and validates an artifact (magic, format version, section bounds,
// manifest: functions, roles, training information) and maps the file read-only: the weights section is used in
// place, never copied. Device compatibility (target, CPU features) is checked
// by the device that loads the code.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_ARTIFACT_H
#define VITC_RUNTIME_ARTIFACT_H

#include "vitc/runtime/DType.h"
#include "vitc/runtime/GpuSchedule.h"
#include "vitc/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vitc::artifact {
class Manifest;
} // namespace vitc::artifact

namespace vitc::rt {

struct TensorSpec {
  std::string name;
  DType dtype;
  /// -1 marks a dynamic dimension.
  std::vector<int64_t> shape;
  /// What the tensor is to a trainer ("param", "data", "loss", ...; see
  /// TensorInfo in artifact.proto); empty for plain inference tensors.
  std::string role;
  /// For an output: the name of the input it replaces after a call.
  std::string updates;
  /// Of a sharded tensor: the whole tensor's shape (artifact.proto); empty
  /// otherwise.
  std::vector<int64_t> fullShape;
};

/// One callable function: "main" of an inference artifact, "train_step" and
/// "eval_step" of a training one.
struct FunctionSpec {
  std::string name;
  /// Symbol of its packed entry in the code section (cpu target).
  std::string entry;
  std::vector<TensorSpec> inputs, outputs;
  /// What it runs on a GPU target (cuda, cuda-emulator).
  GpuScheduleSpec schedule;
};

/// The initial value of a "param" or "buffer" input, in the mapped weights
/// section (read-only memory, valid while the artifact lives).
struct InitialValue {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  uint64_t bytes = 0;
};

/// How a training artifact (mode "train") was built; see the Training
/// message in artifact.proto.
struct TrainingSpec {
  std::string loss, optimizer;
  float labelSmoothing = 0, weightDecay = 0, momentum = 0;
  bool nesterov = false;
  float beta1 = 0, beta2 = 0, epsilon = 0, clipNorm = 0, lr = 0;
  int64_t numClasses = 0;
  /// "none", "ddp" or "fsdp" (artifacts from before the field: "none").
  std::string sharding = "none";
  std::vector<InitialValue> initialValues;
  /// The initial value of input `name`, or nullptr.
  const InitialValue *findInitialValue(const std::string &name) const;
};

/// An entry of the weights table: where a constant lives in the weights
/// section.
struct WeightSpec {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t offset = 0, bytes = 0;
};

struct Section {
  /// "code", "weights", "gpu-module" (with the module's `name`).
  std::string kind, arch, name;
  const uint8_t *data = nullptr;
  uint64_t size = 0;
};

class Artifact {
public:
  /// Opens `path`; an artifact compiled with --weights-file maps its weights
  /// file from `weightsPath`, or by default from the path it recorded
  /// (relative to the artifact's directory).
  static StatusOr<std::shared_ptr<Artifact>>
  open(const std::string &path, const std::string &weightsPath = "");
  /// The same for an artifact in memory (path() is "<memory>"). `data` is
  /// used in place when 64-byte aligned, and must then outlive the
  /// artifact; otherwise it is copied once. An artifact compiled with
  /// --weights-file needs `weightsPath` (there is no directory to find its
  /// file in).
  static StatusOr<std::shared_ptr<Artifact>>
  openMemory(const void *data, size_t size, const std::string &weightsPath);
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  const std::string &path() const { return path_; }
  /// The weights file mapped for an artifact compiled with --weights-file;
  /// empty when the weights are inside the artifact.
  const std::string &weightsPath() const { return weightsPath_; }
  const std::string &producer() const { return producer_; }
  const std::string &target() const { return target_; }
  const std::string &cpu() const { return cpu_; }
  const std::vector<std::string> &cpuFeatures() const { return cpuFeatures_; }
  const std::string &triple() const { return triple_; }
  const std::string &mode() const { return mode_; }
  const std::string &source() const { return source_; }
  const std::string &precision() const { return precision_; }
  /// The callable functions, in manifest order (at least one).
  const std::vector<FunctionSpec> &functions() const { return functions_; }
  /// The index of the function called `name`, if any.
  std::optional<size_t> findFunction(const std::string &name) const;
  /// Set for mode "train" only.
  const std::optional<TrainingSpec> &training() const { return training_; }
  /// The first section of `kind` ("code", "weights"), or nullptr.
  const Section *section(const std::string &kind) const;
  const std::vector<Section> &sections() const { return sections_; }
  /// The weights table (every constant of the weights section) and the
  /// digest of its layout (WeightsFile.h).
  const std::vector<WeightSpec> &weights() const { return weights_; }
  uint64_t weightsDigest() const { return weightsDigest_; }
  /// GPU targets: the kernels the schedules launch.
  const std::vector<GpuKernelSpec> &kernels() const { return kernels_; }
  /// Whether the functions run by schedules on a (maybe emulated) GPU.
  bool isGpu() const { return target_ == "cuda" || target_ == "cuda-emulator"; }

private:
  Artifact() = default;
  Status parse(const std::string &path, const std::string &weightsPath);
  Status parseMemory(const void *data, size_t size,
                     const std::string &weightsPath);
  /// Magic, format version and manifest bounds of the first `got` bytes of
  /// an artifact of `fileSize` bytes.
  Status checkHeader(const void *header, size_t got, uint64_t fileSize) const;
  /// Everything after the header check, over the whole artifact at `base`.
  Status parseBytes(const uint8_t *base, uint64_t fileSize,
                    const std::string &weightsPath);
  Status mapWeightsFile(const artifact::Manifest &manifest,
                        const std::string &override);

  std::string path_, producer_, target_, cpu_, triple_, mode_, precision_,
      source_;
  std::vector<std::string> cpuFeatures_;
  std::vector<FunctionSpec> functions_;
  std::vector<GpuKernelSpec> kernels_;
  std::vector<WeightSpec> weights_;
  uint64_t weightsDigest_ = 0;
  std::optional<TrainingSpec> training_;
  std::vector<Section> sections_;
  bool fromMemory_ = false;
  /// The mapped file, or the aligned copy of an artifact in memory.
  void *mapping_ = nullptr;
  size_t mappingSize_ = 0;
  std::string weightsPath_;
  void *weightsMapping_ = nullptr;
  size_t weightsMappingSize_ = 0;
};

/// Function #`function`'s GPU schedule as text (vitc-run --show-schedule).
std::string describeGpuSchedule(const Artifact &artifact, size_t function);

} // namespace vitc::rt

#endif // VITC_RUNTIME_ARTIFACT_H
