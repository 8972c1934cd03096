//===- CApi.cpp - the C API over Artifact, the devices and Session --------===//
#include "CApiInternal.h"

#include "vitc/runtime/ArtifactFormat.h"

#include <cstdlib>
#include <optional>
#include <string>

using namespace vitc::rt;

namespace {
thread_local std::string lastError;

int fail(const std::string &message) {
  lastError = message;
  return -1;
}

/// Function `fn` of `model`, or nullptr after setting the error.
const FunctionSpec *functionAt(const vitc_model *model, int32_t fn,
                               const char *caller) {
  if (!model) {
    fail(std::string(caller) + ": model is NULL");
    return nullptr;
  }
  const std::vector<FunctionSpec> &functions =
      model->session->artifact().functions();
  if (fn < 0 || static_cast<size_t>(fn) >= functions.size()) {
    fail(std::string(caller) + ": no function #" + std::to_string(fn) +
         " (the model has " + std::to_string(functions.size()) + ")");
    return nullptr;
  }
  return &functions[fn];
}

int fillInfo(const std::vector<TensorSpec> &specs, int32_t index,
             vitc_tensor_info *info, const char *what) {
  if (!info)
    return fail(std::string("vitc_model_") + what + "_info: info is NULL");
  if (index < 0 || static_cast<size_t>(index) >= specs.size())
    return fail(std::string("no ") + what + " #" + std::to_string(index) +
                " (the model has " + std::to_string(specs.size()) + ")");
  const TensorSpec &spec = specs[index];
  info->name = spec.name.c_str();
  info->dtype = static_cast<vitc_dtype>(spec.dtype);
  info->rank = static_cast<int32_t>(spec.shape.size());
  info->shape = spec.shape.data();
  info->role = spec.role.c_str();
  info->updates = spec.updates.c_str();
  info->full_rank =
      spec.fullShape.empty() ? -1 : static_cast<int32_t>(spec.fullShape.size());
  info->full_shape = spec.fullShape.data();
  return 0;
}

/// Fills `tensor` with `shape`; fails above VITC_MAX_RANK.
int setShape(vitc_tensor &tensor, const std::vector<int64_t> &shape,
             const std::string &what) {
  if (shape.size() > VITC_MAX_RANK)
    return fail(what + " has rank " + std::to_string(shape.size()) +
                ", more than " + std::to_string(VITC_MAX_RANK));
  tensor.rank = static_cast<int32_t>(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    tensor.shape[d] = shape[d];
  return 0;
}

/// The model of an opened artifact on the device of its target.
vitc_model *loadModel(StatusOr<std::shared_ptr<Artifact>> artifact) {
  if (!artifact.isOk()) {
    fail(artifact.status().message());
    return nullptr;
  }
  auto device = deviceForTarget((*artifact)->target());
  if (!device.isOk()) {
    fail("'" + (*artifact)->path() + "': " + device.status().message());
    return nullptr;
  }
  auto session = Session::create(*artifact, *device);
  if (!session.isOk()) {
    fail(session.status().message());
    return nullptr;
  }
  return new vitc_model{*device, std::move(*session)};
}
} // namespace

namespace vitc::rt {
void setLastError(std::string message) { lastError = std::move(message); }
} // namespace vitc::rt

extern "C" {

vitc_model *vitc_model_load(const char *path) {
  return vitc_model_load_with_weights(path, nullptr);
}

vitc_model *vitc_model_load_with_weights(const char *path,
                                         const char *weights_path) {
  if (!path) {
    fail("vitc_model_load: path is NULL");
    return nullptr;
  }
  return loadModel(Artifact::open(path, weights_path ? weights_path : ""));
}

vitc_model *vitc_model_load_from_memory(const void *data, size_t size,
                                        const char *weights_path) {
  if (!data) {
    fail("vitc_model_load_from_memory: data is NULL");
    return nullptr;
  }
  return loadModel(
      Artifact::openMemory(data, size, weights_path ? weights_path : ""));
}

void vitc_model_free(vitc_model *model) { delete model; }

const char *vitc_model_mode(const vitc_model *model) {
  if (!model) {
    fail("vitc_model_mode: model is NULL");
    return nullptr;
  }
  return model->session->artifact().mode().c_str();
}

const char *vitc_model_source(const vitc_model *model) {
  if (!model) {
    fail("vitc_model_source: model is NULL");
    return nullptr;
  }
  return model->session->artifact().source().c_str();
}

int32_t vitc_model_num_functions(const vitc_model *model) {
  return model ? static_cast<int32_t>(
                     model->session->artifact().functions().size())
               : -1;
}

const char *vitc_model_function_name(const vitc_model *model, int32_t fn) {
  const FunctionSpec *function =
      functionAt(model, fn, "vitc_model_function_name");
  return function ? function->name.c_str() : nullptr;
}

int32_t vitc_model_find_function(const vitc_model *model, const char *name) {
  if (!model || !name)
    return fail("vitc_model_find_function: model or name is NULL");
  const Artifact &artifact = model->session->artifact();
  if (std::optional<size_t> index = artifact.findFunction(name))
    return static_cast<int32_t>(*index);
  std::string names;
  for (const FunctionSpec &function : artifact.functions())
    names += (names.empty() ? "" : ", ") + function.name;
  return fail("the model has no function '" + std::string(name) +
              "' (functions: " + names + ")");
}

int32_t vitc_model_function_num_inputs(const vitc_model *model, int32_t fn) {
  const FunctionSpec *function =
      functionAt(model, fn, "vitc_model_function_num_inputs");
  return function ? static_cast<int32_t>(function->inputs.size()) : -1;
}

int32_t vitc_model_function_num_outputs(const vitc_model *model, int32_t fn) {
  const FunctionSpec *function =
      functionAt(model, fn, "vitc_model_function_num_outputs");
  return function ? static_cast<int32_t>(function->outputs.size()) : -1;
}

int vitc_model_function_input_info(const vitc_model *model, int32_t fn,
                                   int32_t index, vitc_tensor_info *info) {
  const FunctionSpec *function =
      functionAt(model, fn, "vitc_model_function_input_info");
  return function ? fillInfo(function->inputs, index, info, "input") : -1;
}

int vitc_model_function_output_info(const vitc_model *model, int32_t fn,
                                    int32_t index, vitc_tensor_info *info) {
  const FunctionSpec *function =
      functionAt(model, fn, "vitc_model_function_output_info");
  return function ? fillInfo(function->outputs, index, info, "output") : -1;
}

int vitc_model_run_function(vitc_model *model, int32_t fn,
                            const vitc_tensor *inputs, int32_t num_inputs,
                            vitc_tensor *outputs, int32_t num_outputs) {
  const FunctionSpec *function =
      functionAt(model, fn, "vitc_model_run_function");
  if (!function)
    return -1;
  if (num_inputs < 0 || (num_inputs > 0 && !inputs))
    return fail("vitc_model_run_function: invalid inputs");
  if (num_outputs != static_cast<int32_t>(function->outputs.size()) ||
      (num_outputs > 0 && !outputs))
    return fail("vitc_model_run_function: function '" + function->name +
                "' has " + std::to_string(function->outputs.size()) +
                " output(s), got room for " + std::to_string(num_outputs));
  std::vector<TensorView> views;
  views.reserve(num_inputs);
  for (int32_t i = 0; i < num_inputs; ++i) {
    const vitc_tensor &tensor = inputs[i];
    if (tensor.rank < 0 || tensor.rank > VITC_MAX_RANK ||
        !dtypeName(static_cast<DType>(tensor.dtype)))
      return fail("input #" + std::to_string(i) +
                  ": invalid rank or dtype in vitc_tensor");
    views.push_back({static_cast<DType>(tensor.dtype),
                     std::vector<int64_t>(tensor.shape,
                                          tensor.shape + tensor.rank),
                     tensor.data});
  }
  std::vector<OwnedTensor> results;
  Status status = model->session->run(static_cast<size_t>(fn), views, results);
  if (!status.isOk())
    return fail(status.message());
  // Check every rank before handing out any data: on failure the results
  // free their memory here.
  for (size_t i = 0; i < results.size(); ++i)
    if (results[i].shape.size() > VITC_MAX_RANK)
      return fail("output '" + function->outputs[i].name + "' has rank " +
                  std::to_string(results[i].shape.size()) + ", more than " +
                  std::to_string(VITC_MAX_RANK));
  for (size_t i = 0; i < results.size(); ++i) {
    OwnedTensor &result = results[i];
    vitc_tensor &out = outputs[i];
    out.dtype = static_cast<vitc_dtype>(result.dtype);
    (void)setShape(out, result.shape, "output");
    out.data = result.release();
  }
  return 0;
}

int32_t vitc_model_num_inputs(const vitc_model *model) {
  return vitc_model_function_num_inputs(model, 0);
}

int32_t vitc_model_num_outputs(const vitc_model *model) {
  return vitc_model_function_num_outputs(model, 0);
}

int vitc_model_input_info(const vitc_model *model, int32_t index,
                          vitc_tensor_info *info) {
  return vitc_model_function_input_info(model, 0, index, info);
}

int vitc_model_output_info(const vitc_model *model, int32_t index,
                           vitc_tensor_info *info) {
  return vitc_model_function_output_info(model, 0, index, info);
}

int vitc_model_run(vitc_model *model, const vitc_tensor *inputs,
                   int32_t num_inputs, vitc_tensor *outputs,
                   int32_t num_outputs) {
  return vitc_model_run_function(model, 0, inputs, num_inputs, outputs,
                                 num_outputs);
}

int vitc_model_training_info(const vitc_model *model,
                             vitc_training_info *info) {
  if (!model || !info)
    return fail("vitc_model_training_info: model or info is NULL");
  const Artifact &artifact = model->session->artifact();
  if (!artifact.training())
    return fail("'" + artifact.path() + "' is not a training artifact (mode '" +
                artifact.mode() + "')");
  const TrainingSpec &training = *artifact.training();
  info->loss = training.loss.c_str();
  info->label_smoothing = training.labelSmoothing;
  info->optimizer = training.optimizer.c_str();
  info->weight_decay = training.weightDecay;
  info->momentum = training.momentum;
  info->nesterov = training.nesterov ? 1 : 0;
  info->beta1 = training.beta1;
  info->beta2 = training.beta2;
  info->epsilon = training.epsilon;
  info->clip_norm = training.clipNorm;
  info->lr = training.lr;
  info->num_classes = training.numClasses;
  info->sharding = training.sharding.c_str();
  return 0;
}

int vitc_model_initial_value(const vitc_model *model, const char *name,
                             vitc_tensor *view) {
  if (!model || !name || !view)
    return fail("vitc_model_initial_value: model, name or view is NULL");
  const Artifact &artifact = model->session->artifact();
  if (!artifact.training())
    return fail("'" + artifact.path() + "' is not a training artifact (mode '" +
                artifact.mode() + "'), it has no initial values");
  const InitialValue *value = artifact.training()->findInitialValue(name);
  if (!value)
    return fail("'" + artifact.path() + "' has no initial value '" +
                std::string(name) + "'");
  vitc_tensor result{};
  result.dtype = static_cast<vitc_dtype>(value->dtype);
  if (setShape(result, value->shape,
               "initial value '" + std::string(name) + "'") != 0)
    return -1;
  result.data = const_cast<void *>(value->data);
  *view = result;
  return 0;
}

void vitc_tensor_free(vitc_tensor *tensor) {
  if (!tensor)
    return;
  std::free(tensor->data);
  tensor->data = nullptr;
}

int64_t vitc_model_peak_device_bytes(const vitc_model *model) {
  if (!model) {
    fail("vitc_model_peak_device_bytes: model is NULL");
    return -1;
  }
  return model->session->peakDeviceBytes();
}

int vitc_set_num_threads(int32_t n) {
  setDevicesThreadCount(n);
  return 0;
}

const char *vitc_last_error(void) { return lastError.c_str(); }

int32_t vitc_runtime_version(void) { return VITC_RUNTIME_VERSION; }

const char *vitc_runtime_version_string(void) {
  return VITC_RUNTIME_VERSION_STRING;
}

int32_t vitc_runtime_artifact_format(void) {
  return static_cast<int32_t>(vitc::artifact::kFormatVersion);
}

const char *vitc_dtype_name(vitc_dtype dtype) {
  return dtypeName(static_cast<DType>(dtype));
}

size_t vitc_dtype_size(vitc_dtype dtype) {
  return dtypeSize(static_cast<DType>(dtype));
}

} // extern "C"
