//===- ManifestSpecs.h - manifest messages -> checked runtime specs -*- C++ -*-===//
//
// Internal to the runtime: Artifact::parse converts the manifest's functions
// and training information with these, so every inconsistency is refused
// when the artifact is opened, not when a trainer first trips over it.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_LIB_MANIFESTSPECS_H
#define VITC_RUNTIME_LIB_MANIFESTSPECS_H

#include "vitc/runtime/Artifact.h"

#include "vitc/artifact/artifact.pb.h"

namespace vitc::rt {

/// The functions of `manifest`: at least one, unique names, an entry symbol
/// each, known dtypes and roles, and `updates` only on outputs, naming an
/// input of the same function with the same dtype and shape, at most once.
/// Errors start with `'<path>': `.
/// Reads the functions (with their GPU schedules on a GPU target, whose
/// kernels go to `kernels`).
Status readFunctions(const artifact::Manifest &manifest,
                     const std::string &path,
                     std::vector<FunctionSpec> &functions,
                     std::vector<GpuKernelSpec> &kernels);

/// The training information of `manifest`: present exactly for mode
/// "train"; initial values inside `weights`, sized by their dtype and shape,
/// one for every "param" and "buffer" input of `functions`, matching it.
/// The manifest's name of a scalar op ("addi", "cmpi_sle", "sitofp_f32").
std::string gpuScalarOpName(GpuScalar::Op op);

/// Reads the GPU schedule of `message` into `function` (whose inputs and
/// outputs are read), checking every index; `where` prefixes errors.
Status readGpuSchedule(const artifact::Function &message, size_t numKernels,
                       const std::string &where, FunctionSpec &function);

Status readTraining(const artifact::Manifest &manifest, const std::string &path,
                    const Section &weights,
                    const std::vector<FunctionSpec> &functions,
                    std::optional<TrainingSpec> &training);

} // namespace vitc::rt

#endif // VITC_RUNTIME_LIB_MANIFESTSPECS_H
