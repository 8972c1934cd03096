//===- ArtifactWriter.cpp - pack code, weights and manifest into a .vtc ---===//
//
// Layout (see runtime/artifact/artifact.proto): a 32-byte header, the code
// section and the weights section at 4096-aligned offsets, the manifest last.
// Every offset is known before the first byte is written, so the file is
// written in one pass, to a temporary file next to the destination that is
// renamed into place only when complete.
//
//===----------------------------------------------------------------------===//
#include "compiler/Backend/Artifact.h"
#include "compiler/Backend/CodeGen.h"
#include "compiler/Backend/GpuSections.h"
#include "compiler/Backend/WeightsTable.h"
#include "vitc/runtime/ArtifactFormat.h"
#include "vitc/runtime/WeightsFile.h"

#include "vitc/artifact/artifact.pb.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/bit.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <optional>
#include <set>

namespace vitc::backend {
namespace {

constexpr const char *kProducer = "vitc 0.1.0 (LLVM " LLVM_VERSION_STRING ")";

void reportError(const llvm::Twine &message) {
  llvm::errs() << "vitc: error: " << message << "\n";
}

/// A temporary file in the destination's directory, removed unless kept.
class TempFile {
public:
  ~TempFile() {
    if (!path.empty() && !kept)
      llvm::sys::fs::remove(path);
  }
  std::error_code create(llvm::StringRef destination, int &fd) {
    llvm::SmallString<256> model(destination);
    llvm::sys::path::remove_filename(model);
    llvm::sys::path::append(
        model, "." + llvm::sys::path::filename(destination) + ".tmp-%%%%%%");
    return llvm::sys::fs::createUniqueFile(model, fd, path);
  }
  std::error_code commit(llvm::StringRef destination) {
    std::error_code ec = llvm::sys::fs::rename(path, destination);
    kept = !ec;
    return ec;
  }
  llvm::SmallString<256> path;

private:
  bool kept = false;
};

/// Weights table entries named "init:<name>" hold the initial value of the
/// training input <name>.
constexpr llvm::StringLiteral kInitialValuePrefix = "init:";

void fillTensor(artifact::TensorInfo *info, const TensorSig &sig) {
  info->set_name(sig.name);
  info->set_dtype(sig.dtype);
  for (int64_t dim : sig.shape)
    info->add_shape(dim);
  info->set_role(sig.role);
  info->set_updates(sig.updates);
  for (int64_t dim : sig.fullShape)
    info->add_full_shape(dim);
}

void fillFunction(artifact::Function *function, const FunctionSig &sig) {
  function->set_name(sig.name);
  function->set_entry(artifact::kEntryPrefix + sig.name);
  for (const TensorSig &input : sig.inputs)
    fillTensor(function->add_inputs(), input);
  for (const TensorSig &output : sig.outputs)
    fillTensor(function->add_outputs(), output);
}

void fillWeight(artifact::Weight *weight, llvm::StringRef name,
                const WeightEntry &entry) {
  weight->set_name(name.str());
  weight->set_offset(entry.offset);
  weight->set_bytes(entry.bytes);
  auto type = llvm::cast<mlir::ShapedType>(entry.value.getType());
  weight->set_dtype(dtypeName(type.getElementType()));
  for (int64_t dim : type.getShape())
    weight->add_shape(dim);
}

/// The Training message; its initial values are the "init:" weights.
void fillTraining(artifact::Training *training, const TrainingInfo &info,
                  const WeightsTable &weights) {
  training->set_loss(info.loss);
  training->set_label_smoothing(info.labelSmoothing);
  training->set_optimizer(info.optimizer);
  training->set_weight_decay(info.weightDecay);
  training->set_momentum(info.momentum);
  training->set_nesterov(info.nesterov);
  training->set_beta1(info.beta1);
  training->set_beta2(info.beta2);
  training->set_epsilon(info.epsilon);
  training->set_clip_norm(info.clipNorm);
  training->set_sharding(info.sharding);
  training->set_lr(info.lr);
  training->set_num_classes(info.numClasses);
  for (const WeightEntry &entry : weights.entries) {
    llvm::StringRef name = entry.name;
    if (name.consume_front(kInitialValuePrefix))
      fillWeight(training->add_initial_values(), name, entry);
  }
}

/// The options' functions and mode are consistent; the message says why not.
std::optional<std::string> checkOptions(const ArtifactOptions &options) {
  if (options.target != "cpu" && options.target != "cuda" &&
      options.target != "cuda-emulator")
    return "target '" + options.target +
           "' is unknown (cpu, cuda, cuda-emulator)";
  if (options.functions.empty())
    return std::string("the artifact exports no function");
  std::set<std::string> names;
  for (const FunctionSig &function : options.functions)
    if (!names.insert(function.name).second)
      return "function '" + function.name + "' is exported twice";
  if (options.mode != "inference" && options.mode != "train")
    return "mode '" + options.mode + "' is not 'inference' or 'train'";
  if ((options.mode == "train") != options.training.has_value())
    return std::string(options.training ? "training information is only for "
                                          "mode 'train'"
                                        : "mode 'train' needs training "
                                          "information");
  return std::nullopt;
}

void padTo(llvm::raw_ostream &os, uint64_t &position, uint64_t offset) {
  static const char zeros[4096] = {};
  while (position < offset) {
    uint64_t n = std::min<uint64_t>(offset - position, sizeof(zeros));
    os.write(zeros, n);
    position += n;
  }
}

/// Writes the weights section's bytes, which start at file offset `base`.
llvm::Error writeWeights(llvm::raw_ostream &os, uint64_t &position,
                         uint64_t base, const WeightsTable &weights) {
  padTo(os, position, base);
  for (const WeightEntry &entry : weights.entries) {
    padTo(os, position, base + entry.offset);
    if (llvm::Error error = writeWeightBytes(entry, os))
      return error;
    position += entry.bytes;
  }
  return llvm::Error::success();
}

/// Writes the weights file (WeightsFile.h) into `os`.
llvm::Error writeWeightsFile(llvm::raw_ostream &os,
                             const artifact::Manifest &manifest,
                             const WeightsTable &weights) {
  artifact::WeightsFileHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, artifact::kWeightsMagic, sizeof(header.magic));
  header.formatVersion = artifact::kWeightsFormatVersion;
  header.headerSize = sizeof(header);
  header.dataOffset = artifact::kWeightsDataOffset;
  header.dataSize = weights.size;
  header.layoutDigest = artifact::weightsLayoutDigest(manifest);
  uint64_t position = sizeof(header);
  os.write(reinterpret_cast<const char *>(&header), sizeof(header));
  if (llvm::Error error =
          writeWeights(os, position, artifact::kWeightsDataOffset, weights))
    return error;
  // The data ends on a page boundary, so the file maps like an artifact.
  padTo(os, position,
        llvm::alignTo(position, artifact::kSectionAlignment));
  return llvm::Error::success();
}

} // namespace

mlir::LogicalResult writeArtifact(mlir::ModuleOp module,
                                  const ArtifactOptions &options,
                                  llvm::StringRef outPath) {
  if (std::optional<std::string> error = checkOptions(options)) {
    reportError(*error);
    return mlir::failure();
  }
  // Claim the destination first: an unwritable path fails before codegen.
  TempFile temp;
  int fd = -1;
  if (std::error_code ec = temp.create(outPath, fd)) {
    reportError("cannot write '" + outPath + "': " + ec.message());
    return mlir::failure();
  }
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);

  llvm::Expected<WeightsTable> weights = readWeightsTable(module);
  if (!weights) {
    reportError(llvm::toString(weights.takeError()));
    return mlir::failure();
  }
  artifact::Manifest manifest;
  manifest.set_format_version(artifact::kFormatVersion);
  manifest.set_producer(kProducer);
  manifest.set_target(options.target);
  manifest.set_mode(options.mode);
  manifest.set_precision(options.precision);
  manifest.set_source(options.source);
  for (const FunctionSig &function : options.functions)
    fillFunction(manifest.add_functions(), function);
  if (options.training)
    fillTraining(manifest.mutable_training(), *options.training, *weights);
  for (const WeightEntry &entry : weights->entries)
    fillWeight(manifest.add_weights(), entry.name, entry);

  // The code: a shared object of the functions (cpu) or of the kernels
  // (cuda-emulator), or the GPU modules (cuda), whose schedules go into the
  // functions.
  bool gpu = options.target != "cpu";
  if (gpu)
    if (llvm::Error error = fillGpuSchedules(module, manifest)) {
      reportError(llvm::toString(std::move(error)));
      return mlir::failure();
    }
  std::vector<CodeSection> sections;
  if (options.target == "cuda") {
    auto modules = collectGpuModules(module);
    if (!modules) {
      reportError(llvm::toString(modules.takeError()));
      return mlir::failure();
    }
    sections = std::move(*modules);
  } else {
    CpuCodeOptions codeOptions;
    codeOptions.cpu = options.cpu;
    if (gpu)
      codeOptions.kernels = gpuKernels(manifest);
    else
      for (const FunctionSig &function : options.functions)
        codeOptions.entries.push_back(
            {function.name, function.inputs.size(), function.outputs.size()});
    llvm::Expected<CpuCode> code = compileToSharedObject(module, codeOptions);
    if (!code) {
      reportError(llvm::toString(code.takeError()));
      return mlir::failure();
    }
    manifest.set_cpu(code->cpu);
    for (const std::string &feature : code->features)
      manifest.add_cpu_features(feature);
    manifest.set_triple(code->triple);
    sections.push_back({"code", "", "", std::move(code->sharedObject)});
  }

  uint64_t offset = artifact::kSectionAlignment;
  std::vector<uint64_t> offsets;
  for (const CodeSection &section : sections) {
    offsets.push_back(offset);
    artifact::Section *entry = manifest.add_sections();
    entry->set_kind(section.kind);
    entry->set_name(section.name);
    entry->set_arch(section.arch);
    entry->set_offset(offset);
    entry->set_size(section.bytes.size());
    offset = llvm::alignTo(offset + section.bytes.size(),
                           artifact::kSectionAlignment);
  }
  // The weights: a section, or (--weights-file) a file of their own,
  // written and renamed into place before the artifact that needs it.
  bool external = !options.weightsFile.empty();
  uint64_t weightsOffset = offset;
  uint64_t manifestOffset = weightsOffset + (external ? 0 : weights->size);
  TempFile weightsTemp;
  if (external) {
    manifest.set_weights_file(options.weightsFileName);
    manifest.set_weights_digest(artifact::weightsLayoutDigest(manifest));
    manifest.set_weights_bytes(weights->size);
    int weightsFd = -1;
    if (std::error_code ec = weightsTemp.create(options.weightsFile, weightsFd)) {
      reportError("cannot write '" + options.weightsFile + "': " + ec.message());
      return mlir::failure();
    }
    llvm::raw_fd_ostream weightsOs(weightsFd, /*shouldClose=*/true);
    if (llvm::Error error = writeWeightsFile(weightsOs, manifest, *weights)) {
      reportError(llvm::toString(std::move(error)));
      return mlir::failure();
    }
    weightsOs.close();
    if (weightsOs.has_error()) {
      reportError("cannot write '" + options.weightsFile +
                  "': " + weightsOs.error().message());
      weightsOs.clear_error();
      return mlir::failure();
    }
  } else {
    artifact::Section *weightsSection = manifest.add_sections();
    weightsSection->set_kind("weights");
    weightsSection->set_offset(weightsOffset);
    weightsSection->set_size(weights->size);
  }
  std::string manifestBytes;
  if (!manifest.SerializeToString(&manifestBytes)) {
    reportError("cannot serialize the artifact manifest");
    return mlir::failure();
  }

  artifact::FileHeader header;
  std::memcpy(header.magic, artifact::kMagic, sizeof(header.magic));
  header.formatVersion = artifact::kFormatVersion;
  header.headerSize = sizeof(artifact::FileHeader);
  header.manifestOffset = manifestOffset;
  header.manifestSize = manifestBytes.size();
  static_assert(llvm::endianness::native == llvm::endianness::little,
                "the artifact header is written in host byte order");

  uint64_t position = 0;
  os.write(reinterpret_cast<const char *>(&header), sizeof(header));
  position += sizeof(header);
  for (auto [section, sectionOffset] : llvm::zip(sections, offsets)) {
    padTo(os, position, sectionOffset);
    os.write(section.bytes.data(), section.bytes.size());
    position += section.bytes.size();
  }
  if (!external)
    if (llvm::Error error = writeWeights(os, position, weightsOffset, *weights)) {
      reportError(llvm::toString(std::move(error)));
      return mlir::failure();
    }
  padTo(os, position, manifestOffset);
  os << manifestBytes;

  os.close();
  if (os.has_error()) {
    reportError("cannot write '" + outPath + "': " + os.error().message());
    os.clear_error();
    return mlir::failure();
  }
  if (external)
    if (std::error_code ec = weightsTemp.commit(options.weightsFile)) {
      reportError("cannot write '" + options.weightsFile + "': " + ec.message());
      return mlir::failure();
    }
  if (std::error_code ec = temp.commit(outPath)) {
    reportError("cannot write '" + outPath + "': " + ec.message());
    return mlir::failure();
  }
  return mlir::success();
}

} // namespace vitc::backend
