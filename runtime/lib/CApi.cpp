//===- CApi.cpp - the C API over Artifact, CpuDevice and Session ----------===//
#include "vitc_runtime.h"

#include "vitc/runtime/Session.h"

#include <cstdlib>
#include <string>

using namespace vitc::rt;

struct vitc_model {
  std::shared_ptr<Device> device;
  std::unique_ptr<Session> session;
};

namespace {
thread_local std::string lastError;

int fail(const std::string &message) {
  lastError = message;
  return -1;
}

std::shared_ptr<Device> &cpuDevice() {
  static std::shared_ptr<Device> device = createCpuDevice();
  return device;
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
  return 0;
}
} // namespace

extern "C" {

vitc_model *vitc_model_load(const char *path) {
  if (!path) {
    fail("vitc_model_load: path is NULL");
    return nullptr;
  }
  auto artifact = Artifact::open(path);
  if (!artifact.isOk()) {
    fail(artifact.status().message());
    return nullptr;
  }
  auto session = Session::create(*artifact, cpuDevice());
  if (!session.isOk()) {
    fail(session.status().message());
    return nullptr;
  }
  return new vitc_model{cpuDevice(), std::move(*session)};
}

void vitc_model_free(vitc_model *model) { delete model; }

int32_t vitc_model_num_inputs(const vitc_model *model) {
  return model ? static_cast<int32_t>(model->session->artifact().inputs().size())
               : -1;
}

int32_t vitc_model_num_outputs(const vitc_model *model) {
  return model
             ? static_cast<int32_t>(model->session->artifact().outputs().size())
             : -1;
}

int vitc_model_input_info(const vitc_model *model, int32_t index,
                          vitc_tensor_info *info) {
  if (!model)
    return fail("vitc_model_input_info: model is NULL");
  return fillInfo(model->session->artifact().inputs(), index, info, "input");
}

int vitc_model_output_info(const vitc_model *model, int32_t index,
                           vitc_tensor_info *info) {
  if (!model)
    return fail("vitc_model_output_info: model is NULL");
  return fillInfo(model->session->artifact().outputs(), index, info, "output");
}

int vitc_model_run(vitc_model *model, const vitc_tensor *inputs,
                   int32_t num_inputs, vitc_tensor *outputs,
                   int32_t num_outputs) {
  if (!model)
    return fail("vitc_model_run: model is NULL");
  const Artifact &artifact = model->session->artifact();
  if (num_inputs < 0 || (num_inputs > 0 && !inputs))
    return fail("vitc_model_run: invalid inputs");
  if (num_outputs != static_cast<int32_t>(artifact.outputs().size()) ||
      (num_outputs > 0 && !outputs))
    return fail("vitc_model_run: the model has " +
                std::to_string(artifact.outputs().size()) +
                " output(s), got room for " + std::to_string(num_outputs));
  std::vector<TensorView> views;
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
  Status status = model->session->run(views, results);
  if (!status.isOk())
    return fail(status.message());
  for (size_t i = 0; i < results.size(); ++i) {
    OwnedTensor &result = results[i];
    if (result.shape.size() > VITC_MAX_RANK)
      return fail("output '" + artifact.outputs()[i].name + "' has rank " +
                  std::to_string(result.shape.size()) + ", more than " +
                  std::to_string(VITC_MAX_RANK));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    OwnedTensor &result = results[i];
    vitc_tensor &out = outputs[i];
    out.dtype = static_cast<vitc_dtype>(result.dtype);
    out.rank = static_cast<int32_t>(result.shape.size());
    for (size_t d = 0; d < result.shape.size(); ++d)
      out.shape[d] = result.shape[d];
    out.data = result.release();
  }
  return 0;
}

void vitc_tensor_free(vitc_tensor *tensor) {
  if (!tensor)
    return;
  std::free(tensor->data);
  tensor->data = nullptr;
}

int vitc_set_num_threads(int32_t n) {
  cpuDevice()->setThreadCount(n);
  return 0;
}

const char *vitc_last_error(void) { return lastError.c_str(); }

const char *vitc_dtype_name(vitc_dtype dtype) {
  return dtypeName(static_cast<DType>(dtype));
}

size_t vitc_dtype_size(vitc_dtype dtype) {
  return dtypeSize(static_cast<DType>(dtype));
}

} // extern "C"
