//===- PackArtifact.cpp - write a .vtc from an already lowered module -----===//
//
// Test tool for the backend alone, independent of the vt pipeline:
//   vitc-pack-artifact SIGNATURE.mlir LOWERED.mlir -o OUT.vtc [--cpu NAME]
//                      [--mode train]
// SIGNATURE.mlir is the tensor-level module (its public functions, with
// their vt.name/vt.role/vt.updates attributes, are exported), LOWERED.mlir
// the same model in the LLVM dialect with the weights table of
// vitc-externalize-weights. --mode train records fixed, distinct
// hyperparameters (below) so that tests can check each field arrives.
//
//===----------------------------------------------------------------------===//
#include "compiler/Backend/Artifact.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

using namespace llvm;

static cl::opt<std::string> signaturePath(cl::Positional, cl::Required,
                                          cl::desc("<signature.mlir>"));
static cl::opt<std::string> loweredPath(cl::Positional, cl::Required,
                                        cl::desc("<lowered.mlir>"));
static cl::opt<std::string> outPath("o", cl::Required, cl::desc("output"));
static cl::opt<std::string> cpu("cpu", cl::init("native"), cl::desc("CPU"));
static cl::opt<std::string> mode("mode", cl::init("inference"),
                                 cl::desc("inference or train"));

/// Every field differs from its default and from the others.
static vitc::backend::TrainingInfo testTrainingInfo() {
  vitc::backend::TrainingInfo info;
  info.loss = "cross_entropy";
  info.labelSmoothing = 0.1f;
  info.optimizer = "adamw";
  info.weightDecay = 0.01f;
  info.momentum = 0.9f;
  info.nesterov = true;
  info.beta1 = 0.8f;
  info.beta2 = 0.95f;
  info.epsilon = 1e-7f;
  info.clipNorm = 2.5f;
  info.lr = 0.003f;
  info.numClasses = 10;
  return info;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "write a .vtc artifact\n");
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::MLIRContext context(registry);
  context.allowUnregisteredDialects();
  auto signatureModule =
      mlir::parseSourceFile<mlir::ModuleOp>(signaturePath, &context);
  auto lowered = mlir::parseSourceFile<mlir::ModuleOp>(loweredPath, &context);
  if (!signatureModule || !lowered)
    return 1;
  vitc::backend::ArtifactOptions options;
  options.cpu = cpu;
  options.mode = mode;
  options.source = signaturePath;
  if (mode == "train")
    options.training = testTrainingInfo();
  for (const std::string &name :
       vitc::backend::getPublicFunctionNames(*signatureModule)) {
    auto signature =
        vitc::backend::getFunctionSignature(*signatureModule, name);
    if (failed(signature))
      return 1;
    options.functions.push_back(std::move(*signature));
  }
  return failed(vitc::backend::writeArtifact(*lowered, options, outPath));
}
