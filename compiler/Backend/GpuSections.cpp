//===- GpuSections.cpp - GPU schedules and kernels into the manifest ------===//
#include "compiler/Backend/GpuSections.h"

#include "compiler/Codegen/CUDA/GpuSchedule.h"

#include "vitc/artifact/artifact.pb.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/ADT/StringMap.h"

#include <map>

using namespace mlir;

namespace vitc::backend {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Reads `dict[key]` as an int64 (missing: 0).
int64_t intField(DictionaryAttr dict, StringRef key) {
  auto value = dict.getAs<IntegerAttr>(key);
  return value ? value.getInt() : 0;
}

template <typename Repeated>
void addInts(DictionaryAttr dict, StringRef key, Repeated *out) {
  if (auto array = dict.getAs<ArrayAttr>(key))
    for (Attribute item : array)
      out->Add(cast<IntegerAttr>(item).getInt());
}

std::string stringField(DictionaryAttr dict, StringRef key) {
  auto value = dict.getAs<StringAttr>(key);
  return value ? value.str() : std::string();
}

class ScheduleWriter {
public:
  explicit ScheduleWriter(artifact::Manifest &manifest) : manifest(manifest) {}

  llvm::Error write(DictionaryAttr schedule, artifact::GpuSchedule *out) {
    auto scalars = schedule.getAs<ArrayAttr>("scalars");
    auto memrefs = schedule.getAs<ArrayAttr>("memrefs");
    auto commands = schedule.getAs<ArrayAttr>("commands");
    if (!scalars || !memrefs || !commands)
      return makeError("malformed GPU schedule (scalars, memrefs, commands)");
    for (Attribute item : scalars) {
      auto parts = cast<ArrayAttr>(item).getValue();
      artifact::GpuScalar *scalar = out->add_scalars();
      scalar->set_op(cast<StringAttr>(parts[0]).str());
      for (Attribute operand : parts.drop_front())
        scalar->add_operands(cast<IntegerAttr>(operand).getInt());
    }
    for (Attribute item : memrefs) {
      auto dict = cast<DictionaryAttr>(item);
      artifact::GpuMemref *memref = out->add_memrefs();
      memref->set_base(stringField(dict, "base"));
      memref->set_index(intField(dict, "index"));
      memref->set_dtype(stringField(dict, "dtype"));
      memref->set_byte_offset(intField(dict, "byte_offset"));
      memref->set_offset(intField(dict, "offset"));
      addInts(dict, "sizes", memref->mutable_sizes());
      addInts(dict, "strides", memref->mutable_strides());
    }
    for (Attribute item : commands) {
      auto dict = cast<DictionaryAttr>(item);
      artifact::GpuCommand *command = out->add_commands();
      command->set_op(stringField(dict, "op"));
      command->set_node(stringField(dict, "node"));
      command->set_alloc(intField(dict, "alloc"));
      command->set_bytes(intField(dict, "bytes"));
      command->set_src(intField(dict, "src"));
      command->set_dst(intField(dict, "dst"));
      command->set_routine(stringField(dict, "routine"));
      command->set_shared(intField(dict, "shared"));
      addInts(dict, "grid", command->mutable_grid());
      addInts(dict, "block", command->mutable_block());
      if (auto kernel = dict.getAs<SymbolRefAttr>("kernel"))
        command->set_kernel(kernelIndex(kernel));
      if (auto args = dict.getAs<ArrayAttr>("args"))
        for (Attribute arg : args) {
          auto parts = cast<ArrayAttr>(arg).getValue();
          artifact::GpuArgument *argument = command->add_args();
          argument->set_kind(cast<StringAttr>(parts[0]).str());
          argument->set_value(cast<IntegerAttr>(parts[1]).getInt());
        }
    }
    addInts(schedule, "results", out->mutable_results());
    return llvm::Error::success();
  }

private:
  int32_t kernelIndex(SymbolRefAttr kernel) {
    std::string key = kernel.getRootReference().str() + "." +
                      kernel.getLeafReference().str();
    auto [it, inserted] = indices.try_emplace(key, manifest.kernels_size());
    if (inserted) {
      artifact::GpuKernel *entry = manifest.add_kernels();
      entry->set_module(kernel.getRootReference().str());
      entry->set_name(kernel.getLeafReference().str());
    }
    return it->second;
  }

  artifact::Manifest &manifest;
  llvm::StringMap<int32_t> indices;
};

} // namespace

llvm::Error fillGpuSchedules(ModuleOp module, artifact::Manifest &manifest) {
  auto schedules = module->getAttrOfType<DictionaryAttr>(kGpuSchedulesAttr);
  if (!schedules)
    return makeError("the module has no GPU schedules (run "
                     "vitc-gpu-build-schedule)");
  ScheduleWriter writer(manifest);
  for (artifact::Function &function : *manifest.mutable_functions()) {
    auto schedule = schedules.getAs<DictionaryAttr>(function.name());
    if (!schedule)
      return makeError("no GPU schedule for function '" + function.name() + "'");
    function.clear_entry();
    if (llvm::Error error = writer.write(schedule, function.mutable_schedule()))
      return error;
  }
  return llvm::Error::success();
}

std::vector<std::pair<std::string, std::string>>
gpuKernels(const artifact::Manifest &manifest) {
  std::vector<std::pair<std::string, std::string>> kernels;
  for (const artifact::GpuKernel &kernel : manifest.kernels())
    kernels.emplace_back(kernel.module(), kernel.name());
  return kernels;
}

llvm::Expected<std::vector<CodeSection>> collectGpuModules(ModuleOp module) {
  std::vector<CodeSection> sections;
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target)
        return makeError("gpu.binary @" + binary.getName() +
                         " has an object for a non-NVVM target");
      StringRef chip = target.getChip(); // "sm_90"
      CodeSection section;
      section.kind = "gpu-module";
      section.name = binary.getName().str();
      switch (object.getFormat()) {
      case gpu::CompilationTarget::Assembly:
        section.arch = ("compute_" + chip.drop_front(3)).str();
        break;
      case gpu::CompilationTarget::Binary:
      case gpu::CompilationTarget::Fatbin:
        section.arch = chip.str();
        break;
      default:
        return makeError("gpu.binary @" + binary.getName() +
                         ": keep kernels as PTX, cubin or fatbin "
                         "(--gpu-format isa|bin|fatbin)");
      }
      StringRef bytes = object.getObject().getValue();
      section.bytes.assign(bytes.begin(), bytes.end());
      // PTX is loaded as a C string.
      if (object.getFormat() == gpu::CompilationTarget::Assembly)
        section.bytes.push_back('\0');
      sections.push_back(std::move(section));
    }
  }
  return sections;
}

} // namespace vitc::backend
