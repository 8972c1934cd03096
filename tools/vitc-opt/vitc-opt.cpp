//===- vitc-opt.cpp - vitc's mlir-opt ---------------------------------------===//
//
// Our dialects and passes plus the upstream ones the pipelines use, for lit
// tests and for running any stage of the compiler by hand.
//
//===----------------------------------------------------------------------===//
#include "compiler/Pipelines.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  vitc::registerAllDialects(registry);
  vitc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vitc optimizer driver\n", registry));
}
