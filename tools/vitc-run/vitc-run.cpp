//===- vitc-run.cpp - run a compiled model on .npy inputs -----------------===//
//
// A thin client of the runtime's C API (vitc_runtime.h): what it does,
// deployment code can do the same way.
//
//===----------------------------------------------------------------------===//
#include "Devices.h"
#include "Diagnostics.h"
#include "Flags.h"
#include "Npy.h"
#include "TrainCommand.h"

#include "vitc/runtime/Artifact.h"
#include "vitc_runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace {

using vitc::run::fatal;

constexpr const char *kUsage = R"(usage: vitc-run MODEL.vtc [options]

Runs a function of a model compiled by vitc on inputs read from .npy files.
A training artifact (vitc --mode train) is trained instead: see
`vitc-run TRAIN.vtc --help`.

options:
  --function NAME        the function to run (default: the first one, "main"
                         of an inference model; see --info)
  --input NAME=FILE.npy  value of the input NAME; repeat for each input
  --input FILE.npy       value of the next input not given by name, in the
                         model's input order
  --output-dir DIR       write each output to DIR/<output name>.npy (DIR is
                         created; characters other than letters, digits,
                         '.', '-' and '_' in names become '_')
  --weights FILE.vtw     the weights of an artifact compiled with
                         `vitc --weights-file` (default: the file it names)
  --device cuda:N        the GPU a cuda artifact runs on (default: cuda:0, or
                         $VITC_CUDA_DEVICE); artifacts choose their device
                         kind by target (cpu, cuda, cuda-emulator)
  --threads N            worker threads for kernels (OpenMP / oneDNN); on a
                         machine busy with other work, also set
                         OMP_WAIT_POLICY=passive (threads then sleep, not
                         spin, while they wait for each other)
  --benchmark N          run N timed iterations and print one JSON line:
                         {"iters":N,"mean_ms":..,"p50_ms":..,"p90_ms":..,
                          "p99_ms":..,"batch":B} (B = first dim of the
                         "data" input, or else of input 0), and on a GPU
                         "peak_device_mb": the most device memory held
  --warmup K             untimed iterations before --benchmark (default 1)
  --info                 print the model's functions with their inputs and
                         outputs (dtype, shape, role) and exit
  --weights-table        print the weights table as JSON (the weights
                         section's size and layout digest, and each entry's
                         name, dtype, shape, offset and size) and exit
  --show-schedule        (GPU artifacts) print each function's schedule: the
                         scalar program, allocations, copies and kernel
                         launches the runtime runs, and exit
  --devices              (alone, without a model) list the devices this
                         machine can run on: the CPU, the CUDA GPUs or why
                         there are none
  --help                 show this help

Without --output-dir or --benchmark, prints each output's name, dtype and
shape. .npy files: format 1.0-3.0, C order, little-endian float32, float64,
float16, int64, int32, int8, uint8 or bool.

Profiling (CPU artifacts): with VITC_CODE_DIR=DIR the model's code is loaded
from a file kept in DIR, so `perf record` / `perf report` name each generated
kernel (train_step.loops.N, main.loops.N); DNNL_JIT_PROFILE=2 names oneDNN's.
)";

struct Options {
  std::string model;
  std::string function;
  std::vector<std::string> inputs;
  std::string outputDir;
  std::string weights;
  int threads = 0;
  long benchmark = 0;
  long warmup = 1;
  bool info = false;
  bool schedule = false;
  bool weightsTable = false;
};

long parseCount(const std::string &flag, const std::string &value, long min) {
  char *end = nullptr;
  errno = 0;
  long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end || errno || n < min)
    fatal("invalid value '" + value + "' for " + flag + " (expected an integer >= " +
        std::to_string(min) + ")");
  return n;
}

Options parseArgs(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    vitc::run::Flag parsed(arg);
    const std::string &flag = parsed.name;
    auto next = [&] { return parsed.takeValue(argc, argv, i, fatal); };
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (flag == "--function") {
      options.function = next();
    } else if (flag == "--input") {
      options.inputs.push_back(next());
    } else if (flag == "--output-dir") {
      options.outputDir = next();
      if (options.outputDir.empty())
        fatal("empty value for --output-dir");
    } else if (flag == "--weights") {
      options.weights = next();
    } else if (flag == "--device") {
      next(); // applied before the model was loaded (selectDevice)
    } else if (flag == "--threads") {
      options.threads = static_cast<int>(parseCount(flag, next(), 1));
    } else if (flag == "--benchmark") {
      options.benchmark = parseCount(flag, next(), 1);
    } else if (flag == "--warmup") {
      options.warmup = parseCount(flag, next(), 0);
    } else if (flag == "--info") {
      options.info = true;
    } else if (flag == "--show-schedule") {
      options.schedule = true;
    } else if (flag == "--weights-table") {
      options.weightsTable = true;
    } else if (arg.rfind("-", 0) == 0 && arg != "-") {
      fatal("unknown option '" + arg + "' (see --help)");
    } else if (options.model.empty()) {
      options.model = arg;
    } else {
      fatal("unexpected argument '" + arg + "' (inputs are given with --input)");
    }
  }
  if (options.model.empty())
    fatal("no model given (usage: vitc-run MODEL.vtc --input ...; see --help)");
  return options;
}

std::string shapeString(const int64_t *shape, int32_t rank) {
  std::string text = "[";
  for (int32_t d = 0; d < rank; ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

/// A file name for an output: unsafe characters become '_', and names that
/// collide or would be special get a numeric suffix.
std::string sanitize(const std::string &name, int32_t index,
                     std::set<std::string> &used) {
  std::string file;
  for (char c : name)
    file += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
             c == '-' || c == '_')
                ? c
                : '_';
  if (file.empty() || file == "." || file == "..")
    file = "output" + std::to_string(index);
  std::string unique = file;
  for (int n = 1; !used.insert(unique).second; ++n)
    unique = file + "_" + std::to_string(n);
  return unique;
}

struct Inputs {
  std::vector<vitc::npy::Array> arrays;
  std::vector<vitc_tensor> tensors;
};

/// The function to run: --function, or function 0.
struct Function {
  int32_t index = 0;
  /// "the model", or "function 'NAME'" where the model has several.
  std::string subject;
};

Function selectFunction(vitc_model *model, const Options &options) {
  Function function;
  if (!options.function.empty()) {
    function.index = vitc_model_find_function(model, options.function.c_str());
    if (function.index < 0)
      fatal("--function: " + std::string(vitc_last_error()));
  }
  function.subject =
      vitc_model_num_functions(model) > 1
          ? "function '" +
                std::string(vitc_model_function_name(model, function.index)) +
                "'"
          : "the model";
  return function;
}

/// Reads the --input files and matches them to the function's inputs.
Inputs loadInputs(vitc_model *model, const Function &function,
                  const Options &options) {
  int32_t count = vitc_model_function_num_inputs(model, function.index);
  std::vector<vitc_tensor_info> infos(count);
  for (int32_t i = 0; i < count; ++i)
    vitc_model_function_input_info(model, function.index, i, &infos[i]);

  std::vector<std::string> files(count);
  std::vector<std::string> positional;
  for (const std::string &spec : options.inputs) {
    size_t eq = spec.find('=');
    int32_t named = -1;
    if (eq != std::string::npos)
      for (int32_t i = 0; i < count; ++i)
        if (spec.compare(0, eq, infos[i].name) == 0 &&
            std::strlen(infos[i].name) == eq)
          named = i;
    if (named < 0 && eq != std::string::npos &&
        !std::filesystem::exists(spec)) {
      std::string names;
      for (const vitc_tensor_info &info : infos)
        names += (names.empty() ? "" : ", ") + std::string(info.name);
      fatal("--input " + spec + ": " + function.subject + " has no input '" +
          spec.substr(0, eq) + "' (inputs: " + names + ")");
    }
    if (named >= 0) {
      if (!files[named].empty())
        fatal("--input: input '" + std::string(infos[named].name) +
            "' is given twice");
      files[named] = spec.substr(eq + 1);
    } else {
      positional.push_back(spec);
    }
  }
  size_t nextPositional = 0;
  for (int32_t i = 0; i < count; ++i)
    if (files[i].empty() && nextPositional < positional.size())
      files[i] = positional[nextPositional++];
  if (nextPositional < positional.size())
    fatal("too many --input values: " + function.subject + " takes " +
        std::to_string(count) +
        " input(s)");
  for (int32_t i = 0; i < count; ++i)
    if (files[i].empty())
      fatal("no value for input '" + std::string(infos[i].name) + "' " +
          shapeString(infos[i].shape, infos[i].rank) + " " +
          vitc_dtype_name(infos[i].dtype) + " (use --input " + infos[i].name +
          "=FILE.npy)");

  Inputs inputs;
  inputs.arrays.resize(count);
  for (int32_t i = 0; i < count; ++i) {
    vitc::rt::StatusOr<vitc::npy::Array> read = vitc::npy::readNpy(files[i]);
    if (!read.isOk())
      fatal("input '" + std::string(infos[i].name) +
            "': " + read.status().message());
    inputs.arrays[i] = std::move(*read);
    const vitc::npy::Array &array = inputs.arrays[i];
    if (array.shape.size() > VITC_MAX_RANK)
      fatal("input '" + std::string(infos[i].name) + "': '" + files[i] +
          "' has rank " + std::to_string(array.shape.size()) +
          ", more than " + std::to_string(VITC_MAX_RANK));
    vitc_tensor tensor{};
    tensor.dtype = static_cast<vitc_dtype>(array.dtype);
    tensor.rank = static_cast<int32_t>(array.shape.size());
    std::copy(array.shape.begin(), array.shape.end(), tensor.shape);
    tensor.data = const_cast<char *>(array.data.data());
    inputs.tensors.push_back(tensor);
  }
  return inputs;
}

/// Runs the function. A cpu artifact runs in a session: its arena serves the
/// compiled code's allocations, so a warm call allocates nothing (what
/// --benchmark times). Other targets run by vitc_model_run.
class Runner {
public:
  Runner(vitc_model *model, const Function &function, const Inputs &inputs)
      : model_(model), function_(function), inputs_(inputs),
        outputs_(vitc_model_function_num_outputs(model, function.index)) {
    session_ = vitc_session_create(model, function.index, "cpu", 0);
    // Inputs the session refuses go to vitc_model_run, whose messages name
    // the function and the input as vitc-run always has.
    for (size_t i = 0; session_ && i < inputs.tensors.size(); ++i)
      if (vitc_session_bind_input_at(session_, static_cast<int32_t>(i),
                                     &inputs.tensors[i]) != 0) {
        vitc_session_free(session_);
        session_ = nullptr;
      }
  }
  ~Runner() {
    release();
    vitc_session_free(session_);
  }
  Runner(const Runner &) = delete;
  Runner &operator=(const Runner &) = delete;

  /// Runs once; the results stay valid until the next run.
  std::vector<vitc_tensor> &run() {
    if (session_) {
      if (vitc_session_run(session_) != 0)
        fatal(vitc_last_error());
      for (size_t i = 0; i < outputs_.size(); ++i)
        vitc_session_output(session_, static_cast<int32_t>(i), &outputs_[i]);
      return outputs_;
    }
    release();
    if (vitc_model_run_function(model_, function_.index, inputs_.tensors.data(),
                                static_cast<int32_t>(inputs_.tensors.size()),
                                outputs_.data(),
                                static_cast<int32_t>(outputs_.size())) != 0)
      fatal(vitc_last_error());
    return outputs_;
  }

private:
  /// vitc_model_run's results are the caller's; a session's are its own.
  void release() {
    if (!session_)
      for (vitc_tensor &tensor : outputs_)
        vitc_tensor_free(&tensor);
  }

  vitc_model *model_;
  const Function &function_;
  const Inputs &inputs_;
  vitc_session *session_ = nullptr;
  std::vector<vitc_tensor> outputs_;
};

void writeOutputs(vitc_model *model, const Function &function,
                  std::vector<vitc_tensor> &outputs, const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    fatal("--output-dir: cannot create '" + dir + "': " + ec.message());
  std::set<std::string> used;
  for (int32_t i = 0; i < static_cast<int32_t>(outputs.size()); ++i) {
    vitc_tensor_info info;
    vitc_model_function_output_info(model, function.index, i, &info);
    std::string path =
        (std::filesystem::path(dir) / (sanitize(info.name, i, used) + ".npy"))
            .string();
    const vitc_tensor &tensor = outputs[i];
    vitc::rt::Status written = vitc::npy::writeNpy(
        path, static_cast<vitc::rt::DType>(tensor.dtype),
        std::vector<int64_t>(tensor.shape, tensor.shape + tensor.rank),
        tensor.data);
    if (!written.isOk())
      fatal("output '" + std::string(info.name) + "': " + written.message());
  }
}

void printInfo(vitc_model *model) {
  auto print = [](const char *kind, const vitc_tensor_info &info) {
    std::printf("  %s %s: %s %s", kind, info.name, vitc_dtype_name(info.dtype),
                shapeString(info.shape, info.rank).c_str());
    if (info.full_rank >= 0) // a rank's shard of the whole tensor
      std::printf(" shard of %s",
                  shapeString(info.full_shape, info.full_rank).c_str());
    if (*info.role)
      std::printf(" role=%s", info.role);
    if (*info.updates)
      std::printf(" updates=%s", info.updates);
    std::printf("\n");
  };
  std::printf("mode %s\n", vitc_model_mode(model));
  vitc_training_info training;
  if (vitc_model_training_info(model, &training) == 0)
    std::printf("training loss=%s label_smoothing=%g optimizer=%s lr=%g "
                "weight_decay=%g momentum=%g nesterov=%d beta1=%g beta2=%g "
                "epsilon=%g clip_norm=%g num_classes=%lld\n",
                training.loss, training.label_smoothing, training.optimizer,
                training.lr, training.weight_decay, training.momentum,
                training.nesterov, training.beta1, training.beta2,
                training.epsilon, training.clip_norm,
                static_cast<long long>(training.num_classes));
  if (vitc_model_training_info(model, &training) == 0 &&
      std::strcmp(training.sharding, "none") != 0)
    std::printf("sharding %s\n", training.sharding);
  for (int32_t fn = 0; fn < vitc_model_num_functions(model); ++fn) {
    std::printf("function %s\n", vitc_model_function_name(model, fn));
    for (int32_t i = 0; i < vitc_model_function_num_inputs(model, fn); ++i) {
      vitc_tensor_info info;
      vitc_model_function_input_info(model, fn, i, &info);
      print("input", info);
    }
    for (int32_t i = 0; i < vitc_model_function_num_outputs(model, fn); ++i) {
      vitc_tensor_info info;
      vitc_model_function_output_info(model, fn, i, &info);
      print("output", info);
    }
  }
}

double percentile(const std::vector<double> &sorted, double p) {
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank ? rank - 1 : 0)];
}

/// The batch size of a run: the first dim of the "data" input, or else of
/// input 0; 1 without one.
int64_t batchSize(vitc_model *model, const Function &function,
                  const Inputs &inputs) {
  size_t batchInput = 0;
  for (size_t i = 0; i < inputs.tensors.size(); ++i) {
    vitc_tensor_info info;
    vitc_model_function_input_info(model, function.index,
                                   static_cast<int32_t>(i), &info);
    if (std::strcmp(info.role, "data") == 0) {
      batchInput = i;
      break;
    }
  }
  if (batchInput < inputs.tensors.size() &&
      inputs.tensors[batchInput].rank > 0)
    return inputs.tensors[batchInput].shape[0];
  return 1;
}

void benchmark(vitc_model *model, const Function &function,
               const Inputs &inputs, const Options &options) {
  Runner runner(model, function, inputs);
  for (long i = 0; i < options.warmup; ++i)
    runner.run();
  std::vector<double> times;
  times.reserve(options.benchmark);
  for (long i = 0; i < options.benchmark; ++i) {
    auto start = std::chrono::steady_clock::now();
    runner.run();
    auto stop = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  double mean = 0;
  for (double t : times)
    mean += t / times.size();
  std::sort(times.begin(), times.end());
  int64_t batch = batchSize(model, function, inputs);
  std::printf("{\"iters\":%ld,\"mean_ms\":%.4f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,"
              "\"p99_ms\":%.4f,\"batch\":%lld",
              options.benchmark, mean, percentile(times, 50),
              percentile(times, 90), percentile(times, 99),
              static_cast<long long>(batch));
  // GPU devices count their memory (the CPU's is the process's).
  if (int64_t peak = vitc_model_peak_device_bytes(model); peak >= 0)
    std::printf(",\"peak_device_mb\":%.1f", peak / 1048576.0);
  std::printf("}\n");
}

/// The artifact argv[1] when it is a training one and no flag asks to run
/// one of its functions by hand (--function, --input, --info, ...): then
/// vitc-run trains it (TrainCommand.h).
vitc_model *trainingArtifact(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-')
    return nullptr;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    std::string flag = arg.substr(0, arg.find('='));
    for (const char *manual : {"--function", "--input", "--output-dir",
                               "--info", "--benchmark", "--warmup"})
      if (flag == manual)
        return nullptr;
  }
  // A training artifact compiled with --weights-file may name its weights
  // file with --weights.
  std::string weights;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--weights" && i + 1 < argc)
      weights = argv[i + 1];
    else if (arg.rfind("--weights=", 0) == 0)
      weights = arg.substr(std::strlen("--weights="));
  }
  vitc_model *model = vitc_model_load_with_weights(
      argv[1], weights.empty() ? nullptr : weights.c_str());
  if (model && std::strcmp(vitc_model_mode(model), "train") == 0)
    return model;
  vitc_model_free(model); // the inference path reports load errors
  return nullptr;
}

/// --device cuda:N: the CUDA device reads its ordinal from the environment
/// when it is created, which is when the first cuda artifact loads.
void selectDevice(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--device" && i + 1 < argc)
      value = argv[i + 1];
    else if (arg.rfind("--device=", 0) == 0)
      value = arg.substr(std::strlen("--device="));
    else
      continue;
    std::string ordinal = value == "cuda" ? "0" : value.substr(std::min<size_t>(5, value.size()));
    bool digits = !ordinal.empty() &&
                  std::all_of(ordinal.begin(), ordinal.end(), ::isdigit);
    if ((value != "cuda" && value.rfind("cuda:", 0) != 0) || !digits)
      fatal("--device '" + value + "': expected cuda:N (a CUDA device ordinal)");
    ::setenv("VITC_CUDA_DEVICE", ordinal.c_str(), 1);
  }
}

/// --show-schedule: read through the runtime's loader (which checks every index
/// of the schedules), without a device.
int printSchedules(const std::string &path) {
  auto artifact = vitc::rt::Artifact::open(path, "");
  if (!artifact.isOk())
    fatal(artifact.status().message());
  if (!(*artifact)->isGpu())
    fatal("'" + path + "' is a " + (*artifact)->target() +
          " artifact; only GPU artifacts (cuda, cuda-emulator) have schedules");
  for (size_t fn = 0; fn < (*artifact)->functions().size(); ++fn)
    std::fputs(vitc::rt::describeGpuSchedule(**artifact, fn).c_str(), stdout);
  return 0;
}

/// --weights-table: JSON, for tools that make or fill weights files
/// (tools/gpu/fill_weights.py).
int printWeightsTable(const std::string &path, const std::string &weights) {
  auto artifact = vitc::rt::Artifact::open(path, weights);
  if (!artifact.isOk())
    fatal(artifact.status().message());
  const vitc::rt::Section *section = (*artifact)->section("weights");
  std::printf("{\"bytes\": %llu, \"digest\": %llu, \"entries\": [",
              static_cast<unsigned long long>(section->size),
              static_cast<unsigned long long>((*artifact)->weightsDigest()));
  const auto &entries = (*artifact)->weights();
  for (size_t i = 0; i < entries.size(); ++i) {
    const vitc::rt::WeightSpec &w = entries[i];
    std::string shape;
    for (size_t d = 0; d < w.shape.size(); ++d)
      shape += (d ? ", " : "") + std::to_string(w.shape[d]);
    // Names are ONNX initializer or compiler names: quote and escape.
    std::string name;
    for (char c : w.name)
      name += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    std::printf("%s\n  {\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": [%s], "
                "\"offset\": %llu, \"bytes\": %llu}",
                i ? "," : "", name.c_str(), w.dtype.c_str(), shape.c_str(),
                static_cast<unsigned long long>(w.offset),
                static_cast<unsigned long long>(w.bytes));
  }
  std::printf("\n]}\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 2 && std::strcmp(argv[1], "--devices") == 0)
    return vitc::run::printDevices();
  selectDevice(argc, argv);
  // Inspecting an artifact (--show-schedule, --weights-table) is the same for a
  // training artifact: no trainer, no device.
  bool inspect = std::any_of(argv + 1, argv + argc, [](const char *arg) {
    return std::strcmp(arg, "--show-schedule") == 0 ||
           std::strcmp(arg, "--weights-table") == 0;
  });
  if (vitc_model *model = inspect ? nullptr : trainingArtifact(argc, argv))
    return vitc::run::runTrainer(model, argc, argv);
  Options options = parseArgs(argc, argv);
  if (options.schedule)
    return printSchedules(options.model);
  if (options.weightsTable)
    return printWeightsTable(options.model, options.weights);
  vitc_model *model = vitc_model_load_with_weights(
      options.model.c_str(),
      options.weights.empty() ? nullptr : options.weights.c_str());
  if (!model)
    fatal(vitc_last_error());
  Function function = selectFunction(model, options);
  if (options.info) {
    printInfo(model);
    vitc_model_free(model);
    return 0;
  }
  if (options.threads > 0)
    vitc_set_num_threads(options.threads);
  Inputs inputs = loadInputs(model, function, options);

  if (!options.outputDir.empty() || !options.benchmark) {
    Runner runner(model, function, inputs);
    std::vector<vitc_tensor> &outputs = runner.run();
    if (!options.outputDir.empty()) {
      writeOutputs(model, function, outputs, options.outputDir);
    } else {
      for (int32_t i = 0; i < static_cast<int32_t>(outputs.size()); ++i) {
        vitc_tensor_info info;
        vitc_model_function_output_info(model, function.index, i, &info);
        std::printf("output %s: %s %s\n", info.name,
                    vitc_dtype_name(outputs[i].dtype),
                    shapeString(outputs[i].shape, outputs[i].rank).c_str());
      }
    }
  }
  if (options.benchmark)
    benchmark(model, function, inputs, options);
  vitc_model_free(model);
  return 0;
}
