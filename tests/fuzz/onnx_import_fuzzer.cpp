//===- onnx_import_fuzzer.cpp - libFuzzer target for the ONNX importer ----===//
//
// Model files are untrusted input (issue #13): whatever the bytes, the
// importer must end in a module or in diagnostics, never in a crash, a hang,
// undefined behaviour or an allocation sized by a number the model made up.
// Each input is parsed as a binary ModelProto and imported twice, for
// inference and for training (vitc --mode train does both), into a module
// in memory that is then printed to nowhere (vitc --emit=vt prints it).
//
// External data resolves under a private temporary directory holding one
// 4 KiB file, weights.bin (the seed corpus points initializers at it), so
// the offset/length checks and the refusal of locations that leave the
// directory are fuzzed without reading anything else.
//
//   onnx-import-fuzzer CORPUS_DIR SEED_DIR -max_total_time=60
//   onnx-import-fuzzer crash-<sha1>          # replays one input
//
// tests/fuzz/run_fuzzer.sh builds the seed corpus and runs it (ctest).
//
//===----------------------------------------------------------------------===//
#include "vitc/Frontend/Onnx/Importer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace fs = llvm::sys::fs;

/// The model directory: a fresh temporary folder, removed at exit.
static std::string modelDir;

static void removeModelDir() {
  llvm::SmallString<256> weights(modelDir);
  llvm::sys::path::append(weights, "weights.bin");
  (void)fs::remove(weights);
  (void)fs::remove(modelDir);
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  llvm::SmallString<256> dir;
  if (fs::createUniqueDirectory("vitc-onnx-fuzz", dir)) {
    llvm::errs() << "onnx-import-fuzzer: cannot create a temporary directory\n";
    std::abort();
  }
  modelDir = dir.str().str();
  llvm::SmallString<256> weights(dir);
  llvm::sys::path::append(weights, "weights.bin");
  std::error_code ec;
  llvm::raw_fd_ostream out(weights, ec);
  for (int i = 0; i < 1024 && !ec; ++i) { // 1024 floats 0, 1, 2, ...
    float v = (float)i;
    out.write(reinterpret_cast<const char *>(&v), sizeof(v));
  }
  out.close();
  if (ec || out.has_error()) {
    llvm::errs() << "onnx-import-fuzzer: cannot write " << weights << "\n";
    std::abort();
  }
  std::atexit(removeModelDir);
  return 0;
}

static void import(llvm::StringRef bytes, bool training) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  // Errors are the expected end of most inputs; only crashes count.
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  vitc::onnx::ImportOptions options;
  options.training = training;
  auto module = vitc::onnx::importModelBytes(context, bytes, "fuzz.onnx",
                                             modelDir, options);
  if (module)
    module->print(llvm::nulls());
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  import(bytes, /*training=*/false);
  import(bytes, /*training=*/true);
  return 0;
}
