//===- vitc.cpp - the vitc compiler driver ----------------------------------===//
//
//   vitc model.onnx -o model.vtc [--target cpu] [--precision fp32] ...
//
// Imports an ONNX model (or ONNX text, or a vt-dialect .mlir module), runs
// the pipeline (graph -> lowering -> codegen) and writes an artifact. Every
// diagnostic is one line `vitc: error: <file>: node '<name>': <message>`;
// on failure nothing is written.
//
//===----------------------------------------------------------------------===//
#include "compiler/Backend/Artifact.h"
#include "compiler/Pipelines.h"
#include "compiler/Training/TrainingModule.h"
#include "vitc/Dialect/Vt/VtOps.h"
#include "vitc/Frontend/Onnx/Importer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory vitcCat("vitc options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | model.onnxtext | module.mlir>"),
                                      cl::cat(vitcCat));
static cl::opt<std::string> outputPath("o", cl::desc("Output file (artifact, or IR with --emit)"),
                                       cl::value_desc("path"), cl::init("-"), cl::cat(vitcCat));
static cl::opt<std::string> target(
    "target",
    cl::desc("Code target: cpu (default), cuda (NVIDIA GPUs), or cuda-emulator (the CUDA "
             "target's kernels compiled for this CPU and run by an emulated GPU: a test "
             "device, slow, never a GPU result)"),
    cl::init("cpu"), cl::cat(vitcCat));
static cl::opt<std::string> gpuArch("gpu-arch",
                                    cl::desc("cuda: the GPU architectures to compile kernels "
                                             "for, comma-separated (default sm_80,sm_90)"),
                                    cl::init("sm_80,sm_90"), cl::cat(vitcCat));
static cl::opt<std::string> gpuFormat(
    "gpu-format",
    cl::desc("cuda: kernel code as ptx (default: the driver compiles it for the GPU it runs "
             "on, at load) or cubin (machine code for exactly the --gpu-arch GPUs, compiled "
             "here by the CUDA toolkit's ptxas)"),
    cl::init("ptx"), cl::cat(vitcCat));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Write the weights to this file instead of into the artifact (one weights file "
             "serves every artifact of the same weights layout; the artifact records where it "
             "is, relative to its own directory)"),
    cl::value_desc("path.vtw"), cl::cat(vitcCat));
static cl::opt<std::string> cpuName("cpu", cl::desc("CPU to generate code for: native (default: this "
                                                    "machine), or an LLVM CPU name such as x86-64-v3"),
                                    cl::init("native"), cl::cat(vitcCat));
static cl::opt<std::string> precision("precision", cl::desc("fp32 (default) or bf16"),
                                      cl::init("fp32"), cl::cat(vitcCat));
static cl::opt<std::string> mode("mode", cl::desc("inference (default) or train (compile a "
                                                  "training step: see training options)"),
                                 cl::init("inference"), cl::cat(vitcCat));
static cl::list<std::string> inputShapes(
    "input-shape", cl::desc("Pin an input's shape, e.g. input=8x3x224x224 (? or -1 keeps a dim "
                            "dynamic); repeatable"),
    cl::value_desc("name=DxDx..."), cl::cat(vitcCat));

static cl::list<std::string> constantInputs(
    "const-input",
    cl::desc("Bake a graph input in as a constant, read from a serialized ONNX "
             "TensorProto (for shape-defining inputs: axes, pads, starts); repeatable"),
    cl::value_desc("name=tensor.pb"), cl::cat(vitcCat));

// Testing: the ONNX import alone in training mode (`--emit=vt`), which
// `--mode train` otherwise runs as part of building the training step.
enum class ImportMode { Inference, Training };
static cl::opt<ImportMode> importMode(
    "import-mode", cl::desc("How Dropout and BatchNormalization import (testing)"),
    cl::values(clEnumValN(ImportMode::Inference, "inference", "as inference ops (default)"),
               clEnumValN(ImportMode::Training, "training",
                          "in training mode (dropout with a seed, batch statistics)")),
    cl::init(ImportMode::Inference), cl::Hidden, cl::cat(vitcCat));

static cl::opt<vitc::ShardStrategy> shardStrategy(
    "shard", cl::desc("Split the training step across ranks (implies --mode train)"),
    cl::init(vitc::ShardStrategy::None),
    cl::values(clEnumValN(vitc::ShardStrategy::None, "none", "one process (default)"),
               clEnumValN(vitc::ShardStrategy::Ddp, "ddp",
                          "data parallel: replicated weights, gradients averaged over ranks"),
               clEnumValN(vitc::ShardStrategy::Fsdp, "fsdp",
                          "fully sharded data parallel: weights, gradients and optimizer state "
                          "split over ranks, weights gathered where used")),
    cl::cat(vitcCat));

static cl::opt<std::string> reduceDtype(
    "reduce-dtype",
    cl::desc("With --shard: gradients reduced across ranks in f32 (default) or bf16 (half the "
             "traffic)"),
    cl::init("f32"), cl::cat(vitcCat));

static cl::OptionCategory trainCat("training options (--mode train)");
static cl::opt<std::string> lossKind("loss", cl::desc("cross_entropy (default; integer labels) or mse"),
                                     cl::init("cross_entropy"), cl::cat(trainCat));
static cl::opt<double> labelSmoothing("label-smoothing", cl::desc("Label smoothing of cross_entropy"),
                                      cl::init(0.0), cl::cat(trainCat));
static cl::opt<std::string> optimizerKind("optimizer", cl::desc("adamw (default) or sgd"),
                                          cl::init("adamw"), cl::cat(trainCat));
static cl::opt<double> learningRate("lr", cl::desc("Learning rate: vitc-run's default (default 1e-3)"),
                                    cl::init(1e-3), cl::cat(trainCat));
static cl::opt<double> weightDecay("weight-decay",
                                   cl::desc("Weight decay (default: 0.01 for adamw, 0 for sgd)"),
                                   cl::init(-1.0), cl::cat(trainCat));
static cl::opt<double> momentum("momentum", cl::desc("SGD momentum (default 0)"), cl::init(0.0),
                                cl::cat(trainCat));
static cl::opt<bool> nesterov("nesterov", cl::desc("SGD with Nesterov momentum"), cl::init(false),
                              cl::cat(trainCat));
static cl::opt<double> beta1("beta1", cl::desc("AdamW beta1 (default 0.9)"), cl::init(0.9),
                             cl::cat(trainCat));
static cl::opt<double> beta2("beta2", cl::desc("AdamW beta2 (default 0.999)"), cl::init(0.999),
                             cl::cat(trainCat));
static cl::opt<double> adamEpsilon("eps", cl::desc("AdamW epsilon (default 1e-8)"), cl::init(1e-8),
                                   cl::cat(trainCat));
static cl::opt<double> clipGradNorm("clip-grad-norm",
                                    cl::desc("Clip gradients to this global L2 norm (default: off)"),
                                    cl::init(0.0), cl::cat(trainCat));
static cl::list<std::string> freezePatterns(
    "freeze", cl::desc("Keep the weights whose ONNX initializer names match this regular "
                       "expression fixed (e.g. 'blocks\\..*' to fine-tune the head); repeatable"),
    cl::value_desc("regex"), cl::cat(trainCat));

enum class Emit { Vt, VtOpt, VtGraph, Memref, Llvm, Artifact };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to write (default: artifact)"), cl::init(Emit::Artifact),
    cl::values(clEnumValN(Emit::Vt, "vt", "the imported vt module"),
               clEnumValN(Emit::VtOpt, "vt-opt", "vt after shape inference and canonicalisation"),
               clEnumValN(Emit::VtGraph, "vt-fused", "vt after the whole graph stage (fused kernels)"),
               clEnumValN(Emit::Memref, "memref", "after lowering and bufferization"),
               clEnumValN(Emit::Llvm, "llvm", "the LLVM dialect module"),
               clEnumValN(Emit::Artifact, "artifact", "the compiled artifact (.vtc)")),
    cl::cat(vitcCat));

/// Renders a location as `<file>: node '<name>'` (ONNX import locations are
/// NameLoc(node, FileLineColLoc(file))), or `<file>:<line>:<col>` for .mlir.
static std::string describeLocation(Location loc) {
  std::string node, file;
  int line = 0, col = 0;
  loc->walk([&](Location l) {
    if (auto name = dyn_cast<NameLoc>(l)) {
      if (node.empty())
        node = name.getName().str();
    } else if (auto flc = dyn_cast<FileLineColLoc>(l)) {
      if (file.empty()) {
        file = flc.getFilename().str();
        line = flc.getLine();
        col = flc.getColumn();
      }
    }
    return WalkResult::advance();
  });
  std::string out = file;
  if (line > 0)
    out += ":" + std::to_string(line) + ":" + std::to_string(col);
  if (!node.empty())
    out += (out.empty() ? "" : ": ") + ("node '" + node + "'");
  return out;
}

/// Parses "name=8x3x224x224"; '?' or -1 keeps a dim dynamic.
static FailureOr<std::pair<std::string, std::vector<int64_t>>>
parseInputShape(StringRef spec) {
  auto [name, dims] = spec.split('=');
  if (name.empty() || dims.empty())
    return failure();
  std::vector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t d;
    if (p == "?" || p == "-1")
      shape.push_back(-1);
    else if (!p.getAsInteger(10, d) && d >= 0)
      shape.push_back(d);
    else
      return failure();
  }
  return std::make_pair(name.str(), shape);
}

static int fail(const Twine &msg) {
  llvm::errs() << "vitc: error: " << msg << "\n";
  return 1;
}

static bool isMlirInput() { return StringRef(inputPath).ends_with(".mlir"); }

static OwningOpRef<ModuleOp> loadInput(MLIRContext &ctx,
                                       const vitc::onnx::ImportOptions &opts) {
  StringRef path = inputPath;
  if (!isMlirInput())
    return vitc::onnx::importModelFile(ctx, path, opts);
  std::string err;
  auto file = openInputFile(path, &err);
  if (!file) {
    emitError(FileLineColLoc::get(&ctx, path, 0, 0)) << "cannot read: " << err;
    return nullptr;
  }
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(std::move(file), SMLoc());
  return parseSourceFile<ModuleOp>(sm, &ctx);
}

static LogicalResult writeIR(ModuleOp module) {
  std::string err;
  auto out = openOutputFile(outputPath, &err);
  if (!out) {
    llvm::errs() << "vitc: error: cannot write '" << outputPath << "': " << err << "\n";
    return failure();
  }
  module.print(out->os());
  out->keep();
  return success();
}

/// Runs the vitc-training pipeline on the @train_step/@eval_step module
/// and describes the result for the artifact's manifest.
static FailureOr<vitc::backend::TrainingInfo> buildTrainingStep(ModuleOp module) {
  vitc::TrainingOptions opts;
  opts.loss = lossKind;
  opts.labelSmoothing = labelSmoothing;
  opts.optimizer = optimizerKind;
  double decay = weightDecay >= 0 ? weightDecay : optimizerKind == "adamw" ? 0.01 : 0.0;
  opts.weightDecay = decay;
  opts.momentum = momentum;
  opts.nesterov = nesterov;
  opts.beta1 = beta1;
  opts.beta2 = beta2;
  opts.epsilon = adamEpsilon;
  opts.clipNorm = clipGradNorm;
  opts.freeze = ArrayRef<std::string>(
      std::vector<std::string>(freezePatterns.begin(), freezePatterns.end()));
  opts.precision = precision;
  opts.shard = shardStrategy;
  opts.reduceDtype = reduceDtype;

  // The class count, before the loss replaces the logits.
  auto step = module.lookupSymbol<func::FuncOp>(vitc::kTrainStep);
  int64_t classes = 0;
  if (step.getNumResults())
    if (auto logits = dyn_cast<RankedTensorType>(step.getResultTypes()[0]);
        logits && logits.getRank() == 2)
      classes = logits.getDimSize(1);

  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  vitc::buildTrainingPipeline(pm, opts);
  if (failed(pm.run(module)))
    return failure();

  vitc::backend::TrainingInfo info;
  info.loss = lossKind;
  info.labelSmoothing = labelSmoothing;
  info.optimizer = optimizerKind;
  info.weightDecay = decay;
  info.momentum = momentum;
  info.nesterov = nesterov;
  info.beta1 = beta1;
  info.beta2 = beta2;
  info.epsilon = adamEpsilon;
  info.clipNorm = clipGradNorm;
  info.lr = learningRate;
  info.numClasses = classes;
  info.sharding = shardStrategy == vitc::ShardStrategy::Ddp    ? "ddp"
                  : shardStrategy == vitc::ShardStrategy::Fsdp ? "fsdp"
                                                               : "none";
  return info;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  registerAsmPrinterCLOptions();
  // Show vitc's flags and the MLIR debugging flags; hide LLVM's hundreds of
  // backend options (they still work when given).
  static cl::OptionCategory debugCat("IR debugging options");
  for (StringRef name : {"mlir-print-ir-after-all", "mlir-print-ir-before-all",
                         "mlir-print-ir-after-failure", "mlir-timing", "mlir-pass-statistics",
                         "mlir-print-debuginfo", "mlir-elide-elementsattrs-if-larger",
                         "mlir-disable-threading", "mlir-print-ir-module-scope"}) {
    auto &opts = cl::getRegisteredOptions();
    if (auto it = opts.find(name); it != opts.end())
      it->second->addCategory(debugCat);
  }
  cl::HideUnrelatedOptions({&vitcCat, &trainCat, &debugCat});
  cl::ParseCommandLineOptions(argc, argv,
                              "vitc: compile ONNX vision models to a vitc artifact\n\n"
                              "  vitc model.onnx -o model.vtc\n"
                              "  vitc-run model.vtc --input input=x.npy --output-dir out/\n");

  if (target != "cpu" && target != "cuda" && target != "cuda-emulator")
    return fail("--target=" + target + ": expected cpu, cuda or cuda-emulator");
  if (gpuArch.getNumOccurrences() && target != "cuda")
    return fail("--gpu-arch needs --target cuda");
  if (gpuFormat.getNumOccurrences() && target != "cuda")
    return fail("--gpu-format needs --target cuda");
  if (gpuFormat != "ptx" && gpuFormat != "cubin")
    return fail("--gpu-format=" + gpuFormat + ": expected ptx or cubin");
  for (StringRef arch : llvm::split(StringRef(gpuArch), ','))
    if (!arch.starts_with("sm_") || arch.size() < 5 ||
        !llvm::all_of(arch.drop_front(3), llvm::isDigit))
      return fail("--gpu-arch=" + gpuArch + ": expected architectures such as sm_80,sm_90");
  if (precision != "fp32" && precision != "bf16")
    return fail("--precision=" + precision + ": expected 'fp32' or 'bf16'");
  if (mode != "inference" && mode != "train")
    return fail("--mode=" + mode + ": expected 'inference' or 'train'");
  // A sharded step is a training step: --shard implies --mode train.
  if (shardStrategy != vitc::ShardStrategy::None) {
    if (mode.getNumOccurrences() && mode == "inference")
      return fail("--shard needs --mode train (an inference model is not sharded)");
    mode = "train";
  }
  if (reduceDtype != "f32" && reduceDtype != "bf16")
    return fail("--reduce-dtype=" + reduceDtype + ": expected 'f32' or 'bf16'");
  if (reduceDtype.getNumOccurrences() && shardStrategy == vitc::ShardStrategy::None)
    return fail("--reduce-dtype needs --shard ddp or fsdp (one process reduces nothing)");
  bool training = mode == "train";
  // Every training option, not only some: a flag that silently does nothing
  // (--label-smoothing on an inference build) hides a mistake.
  if (!training)
    for (auto &entry : cl::getRegisteredOptions())
      if (cl::Option *opt = entry.second;
          llvm::is_contained(opt->Categories, &trainCat) && opt->getNumOccurrences())
        return fail("--" + opt->ArgStr + " needs --mode train");
  // Names are checked before the (long) import, and each optimizer's own
  // flags are refused for the other one rather than ignored.
  if (lossKind != "cross_entropy" && lossKind != "mse")
    return fail("--loss=" + lossKind + ": expected cross_entropy or mse");
  if (optimizerKind != "adamw" && optimizerKind != "sgd")
    return fail("--optimizer=" + optimizerKind + ": expected adamw or sgd");
  for (cl::Option *opt : {(cl::Option *)&momentum, (cl::Option *)&nesterov})
    if (optimizerKind == "adamw" && opt->getNumOccurrences())
      return fail("--" + opt->ArgStr + " is an SGD option; pass --optimizer sgd");
  for (cl::Option *opt : {(cl::Option *)&beta1, (cl::Option *)&beta2, (cl::Option *)&adamEpsilon})
    if (optimizerKind == "sgd" && opt->getNumOccurrences())
      return fail("--" + opt->ArgStr + " is an AdamW option; use it with --optimizer adamw");
  if (learningRate <= 0)
    return fail("--lr=" + std::to_string(learningRate) + ": expected a positive learning rate");
  if (emit == Emit::Artifact && outputPath == "-")
    return fail("no output file: pass -o <file.vtc>");

  vitc::onnx::ImportOptions importOpts;
  for (const std::string &spec : inputShapes) {
    auto parsed = parseInputShape(spec);
    if (failed(parsed))
      return fail("--input-shape='" + spec + "': expected NAME=DxDx... (e.g. input=8x3x224x224)");
    importOpts.inputShapes.push_back(*parsed);
  }

  for (const std::string &spec : constantInputs) {
    auto [name, path] = StringRef(spec).split('=');
    if (name.empty() || path.empty())
      return fail("--const-input='" + spec + "': expected NAME=tensor.pb");
    importOpts.constantInputs.emplace_back(name.str(), path.str());
  }

  DialectRegistry registry;
  vitc::registerAllDialects(registry);
  vitc::registerCodegenTargets();
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // One line per error; notes and remarks stay quiet unless asked for.
  ScopedDiagnosticHandler handler(&ctx, [](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return success();
    std::string where = describeLocation(diag.getLocation());
    llvm::errs() << "vitc: error: " << (where.empty() ? "" : where + ": ") << diag.str()
                 << "\n";
    return success();
  });

  // Training imports the graph twice: in training mode for the step, in
  // inference mode for evaluation (Dropout, BatchNormalization differ).
  importOpts.training = training || importMode == ImportMode::Training;
  OwningOpRef<ModuleOp> module;
  {
    // The importer's warnings (a node that imports, but not as its author
    // may expect) are shown, once each; the passes' are not.
    llvm::StringSet<> shown;
    ScopedDiagnosticHandler warnings(&ctx, [&](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Warning)
        return failure(); // to the handler above
      std::string where = describeLocation(diag.getLocation());
      std::string line = "vitc: warning: " + (where.empty() ? "" : where + ": ") +
                         diag.str();
      if (shown.insert(line).second)
        llvm::errs() << line << "\n";
      return success();
    });
    module = loadInput(ctx, importOpts);
  }
  if (!module)
    return 1;
  std::optional<vitc::backend::TrainingInfo> trainingInfo;
  if (training) {
    OwningOpRef<ModuleOp> evalModule;
    if (!isMlirInput()) {
      importOpts.training = false;
      evalModule = loadInput(ctx, importOpts);
      if (!evalModule)
        return 1;
    }
    if (failed(vitc::makeTrainingModule(*module, evalModule ? *evalModule : nullptr)))
      return 1;
  }
  if (emit == Emit::Vt)
    return failed(writeIR(*module)) ? 1 : 0;

  if (training) {
    auto info = buildTrainingStep(*module);
    if (failed(info))
      return 1;
    trainingInfo = *info;
    if (emit == Emit::VtOpt)
      return failed(writeIR(*module)) ? 1 : 0;
  }

  // The signatures are taken before lowering erases the ONNX names and
  // tensor types. A .mlir module exports every public function, an ONNX
  // model its @main (inference) or its training and evaluation steps.
  std::vector<std::string> names{"main"};
  if (training)
    names = {vitc::kTrainStep, vitc::kEvalStep};
  else if (isMlirInput())
    names = vitc::backend::getPublicFunctionNames(*module);
  std::vector<vitc::backend::FunctionSig> functions;
  for (const std::string &name : names) {
    auto signature = vitc::backend::getFunctionSignature(*module, name);
    if (failed(signature))
      return 1;
    functions.push_back(std::move(*signature));
  }

  vitc::PipelineOptions pipeOpts;
  // The emulated GPU compiles exactly what the cuda target does, up to the
  // kernels' code.
  pipeOpts.target = target == "cpu" ? "cpu" : "cuda";
  pipeOpts.gpuEmulator = target == "cuda-emulator";
  pipeOpts.gpuArch = gpuArch;
  pipeOpts.gpuFormat = gpuFormat == "cubin" ? "bin" : "isa";
  // Training autocasts in the training pipeline, before autodiff; doing it
  // again here would also cast the f32 products the gradient rules add.
  pipeOpts.precision = training ? std::string("fp32") : std::string(precision);
  PassManager pm(&ctx);
  if (failed(applyPassManagerCLOptions(pm)))
    return fail("bad pass manager options");
  applyDefaultTimingPassManagerCLOptions(pm);
  switch (emit) {
  case Emit::VtOpt:
    pm.addPass(vitc::createVtInferShapes());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    break;
  case Emit::VtGraph:
    vitc::buildGraphPipeline(pm, pipeOpts);
    break;
  case Emit::Memref:
    vitc::buildGraphPipeline(pm, pipeOpts);
    vitc::buildLoweringPipeline(pm, pipeOpts);
    break;
  default:
    vitc::buildFullPipeline(pm, pipeOpts);
  }
  if (failed(pm.run(*module)))
    return 1;
  if (emit != Emit::Artifact)
    return failed(writeIR(*module)) ? 1 : 0;

  vitc::backend::ArtifactOptions artOpts;
  artOpts.target = target;
  artOpts.cpu = cpuName;
  artOpts.mode = mode;
  artOpts.precision = precision;
  artOpts.source = inputPath;
  artOpts.functions = std::move(functions);
  artOpts.training = trainingInfo;
  if (!weightsFile.empty()) {
    // Beside the artifact: its file name; elsewhere: an absolute path.
    SmallString<256> outDir(outputPath), weightsDir(weightsFile);
    llvm::sys::path::remove_filename(outDir);
    llvm::sys::path::remove_filename(weightsDir);
    llvm::sys::fs::make_absolute(outDir);
    llvm::sys::fs::make_absolute(weightsDir);
    SmallString<256> name(weightsFile);
    if (outDir == weightsDir) {
      name = llvm::sys::path::filename(weightsFile);
    } else {
      llvm::sys::fs::make_absolute(name);
    }
    artOpts.weightsFile = weightsFile;
    artOpts.weightsFileName = std::string(name);
  }
  return failed(vitc::backend::writeArtifact(*module, artOpts, outputPath)) ? 1 : 0;
}
