//===- GpuSections.h - GPU schedules and kernels into the manifest -*- C++ -*-===//
//
// For the GPU targets the backend packs what vitc-gpu-build-schedule left:
// each function's schedule (the module attribute vitc.gpu_schedules) as the
// Function message's GpuSchedule, the kernels it launches as the manifest's
// kernel table, and, for "cuda", each gpu.binary object as a section of its
// own ("gpu-module", named after the module, per architecture).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_BACKEND_GPUSECTIONS_H
#define VITC_BACKEND_GPUSECTIONS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace vitc::artifact {
class Manifest;
} // namespace vitc::artifact

namespace vitc::backend {

/// A section the writer places before the weights.
struct CodeSection {
  std::string kind, name, arch;
  std::vector<char> bytes;
};

/// Fills each function's schedule and the kernel table of `manifest` (whose
/// functions are already named) from the module's vitc.gpu_schedules.
llvm::Error fillGpuSchedules(mlir::ModuleOp module,
                             artifact::Manifest &manifest);

/// The kernels of the filled table as {module, kernel} pairs, in order.
std::vector<std::pair<std::string, std::string>>
gpuKernels(const artifact::Manifest &manifest);

/// The code of every gpu.binary (cuda): one "gpu-module" section per object.
llvm::Expected<std::vector<CodeSection>> collectGpuModules(mlir::ModuleOp module);

} // namespace vitc::backend

#endif // VITC_BACKEND_GPUSECTIONS_H
