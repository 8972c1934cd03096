//===- CodeGen.cpp - LLVM dialect -> optimised native shared object -------===//
//
// The code section of a cpu artifact is an ELF shared object that exports,
// for each function <name> of the artifact, one symbol, the packed entry
//
//   void vitc_entry_<name>(void **args);
//   args[0]     -> storage for the result descriptors (the struct that
//                  _mlir_ciface_<name> fills; unused without results)
//   args[1]     -> memref descriptor of the weights section (memref<?xi8>)
//   args[2 ...] -> memref descriptors of the inputs, in signature order
//
// so the runtime calls every function the same way, whatever its signature.
// Everything else is internalised, which lets O3 inline each function into
// its entry.
//
//===----------------------------------------------------------------------===//
#include "compiler/Backend/CodeGen.h"
#include "compiler/Backend/GlueForFastISel.h"
#include "vitc/runtime/ArtifactFormat.h"
#include "vitc/runtime/CpuFeatures.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

namespace vitc::backend {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The target machine for `cpuOption` on the host architecture.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(
    llvm::StringRef cpuOption, const llvm::Triple &triple,
    llvm::CodeGenOptLevel level = llvm::CodeGenOptLevel::Aggressive) {
  static std::once_flag initOnce;
  std::call_once(initOnce, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("no LLVM target for '" + triple.str() + "': " + error);

  std::string cpu, features;
  if (cpuOption == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  } else {
    cpu = cpuOption.str();
    // Check first: the target machine only warns about unknown CPUs.
    std::unique_ptr<llvm::MCSubtargetInfo> probe(
        target->createMCSubtargetInfo(triple, "", ""));
    if (!probe || !probe->isCPUStringValid(cpu))
      return makeError("unknown CPU '" + cpu + "' for --cpu (use 'native' or "
                       "an LLVM CPU name such as x86-64-v3 or znver4)");
  }
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
      level));
  if (!machine)
    return makeError("cannot create a target machine for CPU '" + cpu + "'");
  return machine;
}

/// Adds the packed entry of `function` around its C interface (see the file
/// comment) and returns it.
llvm::Expected<llvm::Function *> addPackedEntry(llvm::Module &module,
                                                const EntryFunction &function) {
  const std::string &name = function.name;
  llvm::Function *ciface = module.getFunction("_mlir_ciface_" + name);
  llvm::Function *func = module.getFunction(name);
  if (!ciface || !func)
    return makeError("the lowered module has no _mlir_ciface_" + name +
                     " (is @" + name + " a public function, marked "
                     "llvm.emit_c_interface by vitc-externalize-weights?)");
  // The C interface returns results through a leading pointer argument.
  bool resultsByPointer = !func->getReturnType()->isVoidTy();
  unsigned numParams = ciface->arg_size();
  unsigned numArgs = numParams - (resultsByPointer ? 1 : 0);
  if (numArgs != function.numInputs + 1)
    return makeError("@" + name + " takes " + llvm::Twine(numArgs) +
                     " arguments, expected the weights and " +
                     llvm::Twine(function.numInputs) + " inputs");
  unsigned numResults = 0;
  if (resultsByPointer) {
    // One result is a descriptor struct; several are a struct of them.
    auto *ret = llvm::cast<llvm::StructType>(func->getReturnType());
    numResults = llvm::isa<llvm::StructType>(ret->getElementType(0))
                     ? ret->getNumElements()
                     : 1;
  }
  if (numResults != function.numOutputs)
    return makeError("@" + name + " returns " + llvm::Twine(numResults) +
                     " results, expected " +
                     llvm::Twine(function.numOutputs));
  for (llvm::Argument &arg : ciface->args())
    if (!arg.getType()->isPointerTy())
      return makeError("@" + name + " must take and return only memrefs");

  std::string entryName = artifact::kEntryPrefix + name;
  if (module.getNamedValue(entryName))
    return makeError("the lowered module already defines '" + entryName + "'");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::getUnqual(ctx);
  auto *entryType =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrType}, false);
  llvm::Function *entry = llvm::Function::Create(
      entryType, llvm::GlobalValue::ExternalLinkage, entryName, module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> callArgs;
  for (unsigned i = 0; i < numParams; ++i) {
    unsigned slot = resultsByPointer ? i : i + 1;
    llvm::Value *slotAddress =
        builder.CreateConstInBoundsGEP1_64(ptrType, entry->getArg(0), slot);
    callArgs.push_back(builder.CreateLoad(ptrType, slotAddress));
  }
  builder.CreateCall(ciface, callArgs);
  builder.CreateRetVoid();
  return entry;
}

/// Adds the launch entry of an emulated-GPU kernel (CodeGen.h): it loads
/// each argument from params[i], as cuLaunchKernel passes them, and calls
/// the kernel with the launch context first.
llvm::Expected<llvm::Function *>
addLaunchEntry(llvm::Module &module, llvm::StringRef gpuModule,
               llvm::StringRef kernelName) {
  std::string suffix = (gpuModule + "." + kernelName).str();
  std::string kernelSymbol = artifact::kEmulatedKernelPrefix + suffix;
  llvm::Function *kernel = module.getFunction(kernelSymbol);
  if (!kernel || kernel->arg_size() == 0)
    return makeError("the lowered module has no emulated kernel '" +
                     kernelSymbol + "' (run vitc-gpu-kernels-to-host)");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::getUnqual(ctx);
  auto *entryType = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                            {ptrType, ptrType}, false);
  llvm::Function *entry = llvm::Function::Create(
      entryType, llvm::GlobalValue::ExternalLinkage,
      artifact::kEmulatedLaunchPrefix + suffix, module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> callArgs{entry->getArg(0)};
  for (unsigned i = 1; i < kernel->arg_size(); ++i) {
    llvm::Value *slotAddress =
        builder.CreateConstInBoundsGEP1_64(ptrType, entry->getArg(1), i - 1);
    llvm::Value *param = builder.CreateLoad(ptrType, slotAddress);
    callArgs.push_back(
        builder.CreateLoad(kernel->getArg(i)->getType(), param));
  }
  builder.CreateCall(kernel, callArgs);
  builder.CreateRetVoid();
  return entry;
}

/// Adds every packed entry, then internalises all other definitions, which
/// lets O3 inline each function into its entry and drop what is unused.
llvm::Error addPackedEntries(llvm::Module &module,
                             const CpuCodeOptions &options) {
  if (options.entries.empty() && options.kernels.empty())
    return makeError("no function to export");
  llvm::SmallPtrSet<llvm::Function *, 4> entries;
  for (const EntryFunction &function : options.entries) {
    llvm::Expected<llvm::Function *> entry = addPackedEntry(module, function);
    if (!entry)
      return entry.takeError();
    entries.insert(*entry);
  }
  for (const auto &[gpuModule, kernel] : options.kernels) {
    llvm::Expected<llvm::Function *> entry =
        addLaunchEntry(module, gpuModule, kernel);
    if (!entry)
      return entry.takeError();
    entries.insert(*entry);
  }
  // Runtime kernels stay external declarations, and the emulator's fiber
  // markers (kEmulatedFibersPrefix) exported.
  for (llvm::Function &function : module)
    if (!function.isDeclaration() && !entries.contains(&function) &&
        !function.getName().starts_with(artifact::kEmulatedFibersPrefix))
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &global : module.globals())
    if (!global.isDeclaration())
      global.setLinkage(llvm::GlobalValue::InternalLinkage);
  return llvm::Error::success();
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // Fully unrolled loops of the many small static extents of a training
  // step (17 tokens, 64 channels...) made basic blocks so large that the
  // backend's schedulers, superlinear in block size, took two minutes for
  // a tiny ViT. Without unrolling, loops stay loops, which the vectorizer
  // still widens and interleaves.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, mam);
}

std::string findLinker() {
  if (const char *env = std::getenv("VITC_LLD"))
    return env;
  if (llvm::sys::fs::can_execute(VITC_LLD_PATH))
    return VITC_LLD_PATH;
  for (const char *name : {"ld.lld-22", "ld.lld"})
    if (llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(name))
      return *path;
  return "";
}

/// Links `object` into a shared object with ld.lld.
///
/// libm and libc are linked as needed libraries (DT_NEEDED), so the code
/// object names its own dependencies and the dynamic loader binds math
/// functions with their symbol versions, instead of relying on whatever
/// the host process happens to have loaded. Symbols left undefined are the
/// runtime's kernels (_mlir_ciface_vitc_cpu_*), which dlopen resolves from
/// libvitc_runtime.so.
llvm::Expected<std::vector<char>>
linkSharedObject(llvm::ArrayRef<llvm::SmallVector<char, 0>> objects,
                 const llvm::Triple &triple) {
  std::string lld = findLinker();
  if (lld.empty())
    return makeError("cannot find ld.lld (set VITC_LLD to its path)");

  std::vector<std::string> objectPaths;
  std::vector<llvm::FileRemover> objectRemovers;
  objectRemovers.reserve(objects.size());
  for (const llvm::SmallVector<char, 0> &object : objects) {
    llvm::SmallString<128> objectPath;
    int objectFd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "vitc-code", "o", objectFd, objectPath))
      return makeError("cannot create a temporary file: " + ec.message());
    objectRemovers.emplace_back(objectPath);
    objectPaths.push_back(objectPath.str().str());
    llvm::raw_fd_ostream os(objectFd, /*shouldClose=*/true);
    os.write(object.data(), object.size());
    os.close();
    if (os.has_error())
      return makeError("cannot write '" + objectPath + "': " +
                       os.error().message());
  }
  llvm::SmallString<128> sharedPath, logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("vitc-code", "so", sharedPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover sharedRemover(sharedPath);
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("vitc-lld", "log", logPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover logRemover(logPath);

  std::vector<std::string> args = {
      lld,        "-shared", "--as-needed", "-z",     "noexecstack", "-z",
      "relro",    "-z",      "now",         "-O1",    "--gc-sections",
      "-o",       sharedPath.str().str()};
  args.insert(args.end(), objectPaths.begin(), objectPaths.end());
  // Debian/Ubuntu multiarch and the usual lib64 layouts.
  std::string multiarch =
      (triple.getArchName() + "-" + triple.getOSName() + "-gnu").str();
  if (triple.isOSLinux())
    multiarch = (triple.getArchName() + "-linux-gnu").str();
  for (std::string dir : {"/usr/lib/" + multiarch, "/lib/" + multiarch,
                          std::string("/usr/lib64"), std::string("/usr/lib")})
    if (llvm::sys::fs::is_directory(dir))
      args.push_back("-L" + dir);
  args.push_back("-lm");
  args.push_back("-lc");

  llvm::SmallVector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""),
                                                logPath.str(), logPath.str()};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(lld, argRefs, std::nullopt, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &execError);
  if (rc != 0) {
    std::string log;
    if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
      log = (*buffer)->getBuffer().trim().str();
    return makeError("linking the code object with " + lld + " failed" +
                     (execError.empty() ? "" : ": " + execError) +
                     (log.empty() ? "" : "\n" + log));
  }
  auto buffer = llvm::MemoryBuffer::getFile(sharedPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read the linked code object: " +
                     buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  return std::vector<char>(bytes.begin(), bytes.end());
}

/// $VITC_BACKEND_TIMING set: the backend's phases report their wall time on
/// stderr (what --mlir-timing calls "Rest": translation, O3 and code
/// generation per partition, linking).
class PhaseTimer {
public:
  explicit PhaseTimer(std::string name)
      : name(std::move(name)), start(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() {
    if (!std::getenv("VITC_BACKEND_TIMING"))
      return;
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    llvm::errs() << llvm::format("vitc backend: %-36s %8.3f s\n",
                                 name.c_str(), seconds);
  }

private:
  std::string name;
  std::chrono::steady_clock::time_point start;
};

/// Optimises `module` (unless `optimizeFirst` is false) and emits it as
/// one object file.
llvm::Expected<llvm::SmallVector<char, 0>>
emitObject(llvm::Module &module, llvm::TargetMachine &machine,
           bool optimizeFirst = true) {
  if (optimizeFirst) {
    PhaseTimer timer("O3 of " + module.getModuleIdentifier());
    optimize(module, machine);
  }
  PhaseTimer timer("codegen of " + module.getModuleIdentifier());
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, os, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return makeError("the target cannot emit object files");
  codegen.run(module);
  return object;
}

/// Partitions of a module with this many defined functions or more: each
/// is optimised and compiled on its own thread. A fixed count, so that the
/// artifact's bytes do not depend on the machine's cores.
constexpr unsigned kPartitions = 8;
constexpr unsigned kFunctionsPerPartition = 32;

/// Threads for compiling partitions: $VITC_COMPILE_THREADS, else every
/// core.
unsigned compileThreads() {
  if (const char *env = std::getenv("VITC_COMPILE_THREADS"))
    if (int n = std::atoi(env); n > 0)
      return static_cast<unsigned>(n);
  return std::max(1u, std::thread::hardware_concurrency());
}

/// O3 and code generation, split over kPartitions modules compiled in
/// parallel when the module is large (a training step: one function per
/// kernel after vitc-outline-loop-nests). Partitions travel as bitcode:
/// each thread has its own LLVMContext and TargetMachine.
llvm::Expected<std::vector<llvm::SmallVector<char, 0>>>
optimizeAndEmit(std::unique_ptr<llvm::Module> module, llvm::StringRef cpu,
                const llvm::Triple &triple) {
  size_t defined = 0;
  for (const llvm::Function &function : *module)
    defined += !function.isDeclaration();
  std::vector<llvm::SmallVector<char, 0>> objects;
  if (defined < kPartitions * kFunctionsPerPartition) {
    auto machine = createTargetMachine(cpu, triple);
    if (!machine)
      return machine.takeError();
    auto object = emitObject(*module, **machine);
    if (!object)
      return object.takeError();
    objects.push_back(std::move(*object));
    return objects;
  }

  std::optional<PhaseTimer> splitting("splitting into partitions");
  // The glue functions (optnone: what vitc-outline-loop-nests left of each
  // step, a straight line of thousands of calls) go to a module of their
  // own, compiled without optimisation: the greedy register allocator and
  // instruction selection spent most of a large step's compile time on
  // their one huge basic block. Everything becomes visible across modules
  // (hidden: the shared object still exports only the entries).
  for (llvm::GlobalValue &value : module->global_values())
    if (value.hasLocalLinkage()) {
      value.setLinkage(llvm::GlobalValue::ExternalLinkage);
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  auto isGlue = [](const llvm::GlobalValue *value) {
    auto *function = llvm::dyn_cast<llvm::Function>(value);
    return function && function->hasOptNone();
  };
  // Glue functions called once from other glue (a step, from its C
  // interface wrapper), by name: inlined below.
  llvm::StringSet<> inlineOnce;
  for (llvm::Function &function : *module)
    if (isGlue(&function) && function.hasOneUse())
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(function.user_back()))
        if (call->getCalledFunction() == &function &&
            isGlue(call->getFunction()))
          inlineOnce.insert(function.getName());
  llvm::ValueToValueMapTy map;
  std::unique_ptr<llvm::Module> glue = llvm::CloneModule(*module, map, isGlue);
  {
    PhaseTimer timer("shaping the glue for FastISel");
    shapeGlueForFastISel(*glue, inlineOnce);
  }
  for (llvm::Function &function : *module)
    if (isGlue(&function))
      function.deleteBody();

  std::vector<llvm::SmallVector<char, 0>> bitcode;
  {
    llvm::SmallVector<char, 0> buffer;
    llvm::raw_svector_ostream os(buffer);
    llvm::WriteBitcodeToFile(*glue, os);
    bitcode.push_back(std::move(buffer));
    glue.reset();
  }
  llvm::SplitModule(
      *module, kPartitions,
      [&](std::unique_ptr<llvm::Module> part) {
        llvm::SmallVector<char, 0> buffer;
        llvm::raw_svector_ostream os(buffer);
        llvm::WriteBitcodeToFile(*part, os);
        bitcode.push_back(std::move(buffer));
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/true);
  module.reset();
  splitting.reset();

  // $VITC_DUMP_PARTITIONS=DIR: the partitions as DIR/partition-N.bc, to
  // study one with llc (partition 0 is the glue, compiled at -O0).
  if (const char *dir = std::getenv("VITC_DUMP_PARTITIONS"))
    for (size_t i = 0; i < bitcode.size(); ++i) {
      std::error_code ec;
      llvm::raw_fd_ostream out(std::string(dir) + "/partition-" +
                                   std::to_string(i) + ".bc",
                               ec);
      if (!ec)
        out.write(bitcode[i].data(), bitcode[i].size());
    }
  objects.resize(bitcode.size());
  std::vector<std::string> errors(bitcode.size());
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next++; i < bitcode.size(); i = next++) {
      llvm::LLVMContext context;
      llvm::StringRef bytes(bitcode[i].data(), bitcode[i].size());
      auto part = llvm::parseBitcodeFile(
          llvm::MemoryBufferRef(bytes, "partition " + std::to_string(i)),
          context);
      if (!part) {
        errors[i] = llvm::toString(part.takeError());
        continue;
      }
      // Partition 0 is the glue.
      auto machine = createTargetMachine(
          cpu, triple,
          i == 0 ? llvm::CodeGenOptLevel::None
                 : llvm::CodeGenOptLevel::Aggressive);
      if (!machine) {
        errors[i] = llvm::toString(machine.takeError());
        continue;
      }
      auto object = emitObject(**part, **machine, /*optimizeFirst=*/i != 0);
      if (!object) {
        errors[i] = llvm::toString(object.takeError());
        continue;
      }
      objects[i] = std::move(*object);
    }
  };
  unsigned threads = std::min<unsigned>(compileThreads(), bitcode.size());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &thread : pool)
    thread.join();
  for (const std::string &error : errors)
    if (!error.empty())
      return makeError("compiling a partition of the code: " + error);
  return objects;
}

/// Drops the argument and result attributes LLVM IR has no place for
/// (vt.name, vt.role: the artifact's manifest already holds them).
/// Translation would warn once per such attribute, and each warning prints
/// the whole function: on a training step's entry, with hundreds of named
/// parameters, that was most of the compile time (EfficientNet-B0: ~20 s).
void dropForeignArgumentAttributes(mlir::ModuleOp module) {
  auto keep = [](mlir::DictionaryAttr attrs) -> mlir::DictionaryAttr {
    if (!attrs)
      return attrs;
    llvm::SmallVector<mlir::NamedAttribute> kept;
    for (mlir::NamedAttribute attr : attrs)
      if (attr.getName().strref().starts_with("llvm."))
        kept.push_back(attr);
    return mlir::DictionaryAttr::get(attrs.getContext(), kept);
  };
  module.walk([&](mlir::LLVM::LLVMFuncOp function) {
    for (unsigned i = 0, e = function.getNumArguments(); i < e; ++i)
      function.setArgAttrs(i, keep(function.getArgAttrDict(i)));
    for (unsigned i = 0, e = function.getNumResults(); i < e; ++i)
      function.setResultAttrs(i, keep(function.getResultAttrDict(i)));
  });
}

} // namespace

llvm::Expected<CpuCode> compileToSharedObject(mlir::ModuleOp module,
                                              const CpuCodeOptions &options) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  auto machine = createTargetMachine(options.cpu, triple);
  if (!machine)
    return machine.takeError();
  llvm::TargetMachine &tm = **machine;

  mlir::MLIRContext *context = module.getContext();
  mlir::registerBuiltinDialectTranslation(*context);
  mlir::registerLLVMDialectTranslation(*context);
  llvm::LLVMContext llvmContext;
  dropForeignArgumentAttributes(module);
  std::optional<PhaseTimer> translation("translation to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext, "vitc");
  if (!llvmModule)
    return makeError("cannot translate the lowered module to LLVM IR "
                     "(is it fully in the LLVM dialect?)");
  translation.reset();
  std::optional<PhaseTimer> checks("entries and verification");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm.createDataLayout());
  if (llvm::Error error = addPackedEntries(*llvmModule, options))
    return std::move(error);
  std::string verifierMessage;
  llvm::raw_string_ostream verifierStream(verifierMessage);
  if (llvm::verifyModule(*llvmModule, &verifierStream))
    return makeError("invalid LLVM IR: " + verifierMessage);

  checks.reset();
  std::optional<PhaseTimer> compile("optimisation and code generation");
  auto objects = optimizeAndEmit(std::move(llvmModule), options.cpu, triple);
  compile.reset();
  PhaseTimer linking("linking");
  if (!objects)
    return objects.takeError();
  auto shared = linkSharedObject(*objects, triple);
  if (!shared)
    return shared.takeError();

  CpuCode code;
  code.sharedObject = std::move(*shared);
  code.cpu = tm.getTargetCPU().str();
  code.triple = triple.str();
  const llvm::MCSubtargetInfo *subtarget = tm.getMCSubtargetInfo();
  for (const llvm::SubtargetFeatureKV &feature :
       subtarget->getAllProcessorFeatures())
    if (subtarget->getFeatureBits().test(feature.Value) &&
        cpu::findFeature(feature.Key))
      code.features.push_back(feature.Key);
  return code;
}

} // namespace vitc::backend
