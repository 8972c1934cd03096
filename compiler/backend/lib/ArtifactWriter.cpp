//===- ArtifactWriter.cpp - pack code, weights and manifest into a .vtc ---===//
//
// Layout (see runtime/artifact/artifact.proto): a 32-byte header, the code
// section and the weights section at 4096-aligned offsets, the manifest last.
// Every offset is known before the first byte is written, so the file is
// written in one pass, to a temporary file next to the destination that is
// renamed into place only when complete.
//
//===----------------------------------------------------------------------===//
#include "vitc/Backend/Artifact.h"
#include "vitc/Backend/CodeGen.h"
#include "vitc/Backend/WeightsTable.h"
#include "vitc/runtime/ArtifactFormat.h"

#include "vitc/artifact/artifact.pb.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/bit.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

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

void fillTensor(artifact::TensorInfo *info, const TensorSig &sig) {
  info->set_name(sig.name);
  info->set_dtype(sig.dtype);
  for (int64_t dim : sig.shape)
    info->add_shape(dim);
}

void padTo(llvm::raw_ostream &os, uint64_t &position, uint64_t offset) {
  static const char zeros[4096] = {};
  while (position < offset) {
    uint64_t n = std::min<uint64_t>(offset - position, sizeof(zeros));
    os.write(zeros, n);
    position += n;
  }
}

} // namespace

mlir::LogicalResult writeArtifact(mlir::ModuleOp module,
                                  const ArtifactOptions &options,
                                  llvm::StringRef outPath) {
  if (options.target != "cpu") {
    reportError("target '" + options.target + "' is not supported yet (cpu)");
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
  CpuCodeOptions codeOptions;
  codeOptions.cpu = options.cpu;
  codeOptions.numInputs = options.inputs.size();
  codeOptions.numOutputs = options.outputs.size();
  llvm::Expected<CpuCode> code = compileToSharedObject(module, codeOptions);
  if (!code) {
    reportError(llvm::toString(code.takeError()));
    return mlir::failure();
  }

  uint64_t codeOffset = artifact::kSectionAlignment;
  uint64_t weightsOffset = llvm::alignTo(
      codeOffset + code->sharedObject.size(), artifact::kSectionAlignment);
  uint64_t manifestOffset = weightsOffset + weights->size;

  artifact::Manifest manifest;
  manifest.set_format_version(artifact::kFormatVersion);
  manifest.set_producer(kProducer);
  manifest.set_target(options.target);
  manifest.set_cpu(code->cpu);
  for (const std::string &feature : code->features)
    manifest.add_cpu_features(feature);
  manifest.set_triple(code->triple);
  manifest.set_mode(options.mode);
  manifest.set_precision(options.precision);
  manifest.set_entry(artifact::kEntrySymbol);
  manifest.set_source(options.source);
  for (const TensorSig &sig : options.inputs)
    fillTensor(manifest.add_inputs(), sig);
  for (const TensorSig &sig : options.outputs)
    fillTensor(manifest.add_outputs(), sig);
  for (const WeightEntry &entry : weights->entries) {
    artifact::Weight *weight = manifest.add_weights();
    weight->set_name(entry.name);
    weight->set_offset(entry.offset);
    weight->set_bytes(entry.bytes);
    auto type = llvm::cast<mlir::ShapedType>(entry.value.getType());
    weight->set_dtype(dtypeName(type.getElementType()));
    for (int64_t dim : type.getShape())
      weight->add_shape(dim);
  }
  artifact::Section *codeSection = manifest.add_sections();
  codeSection->set_kind("code");
  codeSection->set_offset(codeOffset);
  codeSection->set_size(code->sharedObject.size());
  artifact::Section *weightsSection = manifest.add_sections();
  weightsSection->set_kind("weights");
  weightsSection->set_offset(weightsOffset);
  weightsSection->set_size(weights->size);
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
  padTo(os, position, codeOffset);
  os.write(code->sharedObject.data(), code->sharedObject.size());
  position += code->sharedObject.size();
  padTo(os, position, weightsOffset);
  for (const WeightEntry &entry : weights->entries) {
    padTo(os, position, weightsOffset + entry.offset);
    if (llvm::Error error = writeWeightBytes(entry, os)) {
      reportError(llvm::toString(std::move(error)));
      return mlir::failure();
    }
    position += entry.bytes;
  }
  padTo(os, position, manifestOffset);
  os << manifestBytes;

  os.close();
  if (os.has_error()) {
    reportError("cannot write '" + outPath + "': " + os.error().message());
    os.clear_error();
    return mlir::failure();
  }
  if (std::error_code ec = temp.commit(outPath)) {
    reportError("cannot write '" + outPath + "': " + ec.message());
    return mlir::failure();
  }
  return mlir::success();
}

} // namespace vitc::backend
