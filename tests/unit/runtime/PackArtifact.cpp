//===- PackArtifact.cpp - write a .vtc from an already lowered module -----===//
//
// Test tool for the backend alone, independent of the vt pipeline:
//   vitc-pack-artifact SIGNATURE.mlir LOWERED.mlir -o OUT.vtc [--cpu NAME]
// SIGNATURE.mlir is the tensor-level module (its @main gives the inputs and
// outputs), LOWERED.mlir the same model in the LLVM dialect with the weights
// table of vitc-externalize-weights.
//
//===----------------------------------------------------------------------===//
#include "vitc/Backend/Artifact.h"

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
  auto signature = vitc::backend::getEntrySignature(*signatureModule);
  if (failed(signature))
    return 1;
  vitc::backend::ArtifactOptions options;
  options.cpu = cpu;
  options.source = signaturePath;
  options.inputs = signature->first;
  options.outputs = signature->second;
  return failed(vitc::backend::writeArtifact(*lowered, options, outPath));
}
