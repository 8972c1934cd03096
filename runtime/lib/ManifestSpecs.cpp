//===- ManifestSpecs.cpp - check functions, roles and training info -------===//
#include "ManifestSpecs.h"

#include <algorithm>
#include <set>

namespace vitc::rt {
namespace {

// The roles of artifact.proto's TensorInfo. Updated state (param, buffer,
// opt_state) is both an input and, as its new value, an output.
const std::set<std::string> kInputRoles = {
    "data", "label",  "param", "buffer", "opt_state",
    "lr",   "step",   "seed",  "sample_offset"};
const std::set<std::string> kOutputRoles = {
    "loss", "correct", "logits", "grad_norm", "param", "buffer", "opt_state"};

std::string listOf(const std::set<std::string> &names) {
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text;
}

bool validShape(const google::protobuf::RepeatedField<int64_t> &shape) {
  return std::all_of(shape.begin(), shape.end(),
                     [](int64_t dim) { return dim >= -1; });
}

/// `what` is "input" or "output"; `where` prefixes errors.
Status readTensors(
    const google::protobuf::RepeatedPtrField<artifact::TensorInfo> &infos,
    const std::string &what, const std::string &where,
    std::vector<TensorSpec> &specs) {
  const std::set<std::string> &roles =
      what == "input" ? kInputRoles : kOutputRoles;
  for (const artifact::TensorInfo &info : infos) {
    std::string tensor = where + what + " '" + info.name() + "'";
    std::optional<DType> dtype = parseDType(info.dtype());
    if (!dtype)
      return Status::error(tensor + " has unsupported dtype '" + info.dtype() +
                           "'");
    if (!validShape(info.shape()))
      return Status::error(tensor + " has an invalid shape");
    if (!info.role().empty() && !roles.count(info.role()))
      return Status::error(tensor + " has unknown role '" + info.role() +
                           "' (" + what + " roles: " + listOf(roles) + ")");
    if (what == "input" && !info.updates().empty())
      return Status::error(tensor + " names an input to update ('" +
                           info.updates() + "'), which only outputs can");
    specs.push_back({info.name(), *dtype,
                     std::vector<int64_t>(info.shape().begin(),
                                          info.shape().end()),
                     info.role(), info.updates(),
                     std::vector<int64_t>(info.full_shape().begin(),
                                          info.full_shape().end())});
  }
  return Status::ok();
}

/// Each `updates` names an input of `function` of the same dtype and shape,
/// and no input is updated twice.
Status checkUpdates(const FunctionSpec &function, const std::string &where) {
  std::set<std::string> updated;
  for (const TensorSpec &output : function.outputs) {
    if (output.updates.empty())
      continue;
    std::string tensor = where + "output '" + output.name + "'";
    auto input = std::find_if(
        function.inputs.begin(), function.inputs.end(),
        [&](const TensorSpec &spec) { return spec.name == output.updates; });
    if (input == function.inputs.end())
      return Status::error(tensor + " updates '" + output.updates +
                           "', which is not an input of the function");
    if (input->dtype != output.dtype || input->shape != output.shape)
      return Status::error(
          tensor + " (" + dtypeName(output.dtype) + " " +
          shapeString(output.shape) + ") cannot update input '" + input->name +
          "' (" + dtypeName(input->dtype) + " " + shapeString(input->shape) +
          ")");
    if (!updated.insert(output.updates).second)
      return Status::error(where + "input '" + output.updates +
                           "' is updated by more than one output");
  }
  return Status::ok();
}

} // namespace

Status readFunctions(const artifact::Manifest &manifest,
                     const std::string &path,
                     std::vector<FunctionSpec> &functions,
                     std::vector<GpuKernelSpec> &kernels) {
  if (manifest.functions().empty())
    return Status::error("'" + path + "' has no function");
  bool gpu = manifest.target() == "cuda" || manifest.target() == "cuda-emulator";
  for (const artifact::GpuKernel &kernel : manifest.kernels())
    kernels.push_back({kernel.module(), kernel.name()});
  for (const artifact::Function &message : manifest.functions()) {
    std::string where = "'" + path + "': function '" + message.name() + "': ";
    if (message.name().empty())
      return Status::error("'" + path + "' has a function without a name");
    for (const FunctionSpec &other : functions)
      if (other.name == message.name())
        return Status::error("'" + path + "' has two functions named '" +
                             message.name() + "'");
    if (message.entry().empty() && !gpu)
      return Status::error(where + "no entry symbol");
    FunctionSpec function{message.name(), message.entry(), {}, {}, {}};
    Status status = readTensors(message.inputs(), "input", where,
                                function.inputs);
    if (status.isOk())
      status = readTensors(message.outputs(), "output", where,
                           function.outputs);
    if (status.isOk())
      status = checkUpdates(function, where);
    if (status.isOk() && gpu)
      status = readGpuSchedule(message, kernels.size(), where, function);
    if (!status.isOk())
      return status;
    functions.push_back(std::move(function));
  }
  return Status::ok();
}

Status readTraining(const artifact::Manifest &manifest, const std::string &path,
                    const Section &weights,
                    const std::vector<FunctionSpec> &functions,
                    std::optional<TrainingSpec> &training) {
  std::string where = "'" + path + "': ";
  bool train = manifest.mode() == "train";
  if (!train && manifest.mode() != "inference")
    return Status::error(where + "unknown mode '" + manifest.mode() +
                         "' (inference, train)");
  if (manifest.has_training() != train)
    return Status::error(where + (train ? "mode 'train' but no training "
                                          "information"
                                        : "training information in an "
                                          "inference artifact"));
  if (!train)
    return Status::ok();

  const artifact::Training &message = manifest.training();
  TrainingSpec spec;
  spec.loss = message.loss();
  spec.optimizer = message.optimizer();
  spec.labelSmoothing = message.label_smoothing();
  spec.weightDecay = message.weight_decay();
  spec.momentum = message.momentum();
  spec.nesterov = message.nesterov();
  spec.beta1 = message.beta1();
  spec.beta2 = message.beta2();
  spec.epsilon = message.epsilon();
  spec.clipNorm = message.clip_norm();
  spec.lr = message.lr();
  spec.numClasses = message.num_classes();
  if (!message.sharding().empty())
    spec.sharding = message.sharding();
  if (spec.sharding != "none" && spec.sharding != "ddp" &&
      spec.sharding != "fsdp")
    return Status::error(where + "unknown sharding '" + spec.sharding +
                         "' (this runtime runs none, ddp and fsdp)");
  for (const artifact::Weight &weight : message.initial_values()) {
    std::string value = where + "initial value '" + weight.name() + "'";
    std::optional<DType> dtype = parseDType(weight.dtype());
    if (!dtype)
      return Status::error(value + " has unsupported dtype '" +
                           weight.dtype() + "'");
    if (!validShape(weight.shape()) ||
        std::find(weight.shape().begin(), weight.shape().end(), -1) !=
            weight.shape().end())
      return Status::error(value + " has an invalid shape");
    if (spec.findInitialValue(weight.name()))
      return Status::error(value + " is given twice");
    std::vector<int64_t> shape(weight.shape().begin(), weight.shape().end());
    uint64_t expected = dtypeSize(*dtype);
    for (int64_t dim : shape)
      expected *= static_cast<uint64_t>(dim);
    if (weight.bytes() != expected)
      return Status::error(value + " has " + std::to_string(weight.bytes()) +
                           " bytes, but " + dtypeName(*dtype) + " " +
                           shapeString(shape) + " needs " +
                           std::to_string(expected));
    if (weight.offset() > weights.size ||
        weight.bytes() > weights.size - weight.offset())
      return Status::error(value + " lies outside the weights section (" +
                           std::to_string(weight.offset()) + " + " +
                           std::to_string(weight.bytes()) + " > " +
                           std::to_string(weights.size) + " bytes)");
    if (weight.offset() % dtypeSize(*dtype) != 0)
      return Status::error(value + " is misaligned in the weights section");
    spec.initialValues.push_back({weight.name(), *dtype, std::move(shape),
                                  weights.data + weight.offset(),
                                  weight.bytes()});
  }
  // A trainer starts every param and buffer from its initial value.
  for (const FunctionSpec &function : functions)
    for (const TensorSpec &input : function.inputs) {
      if (input.role != "param" && input.role != "buffer")
        continue;
      const InitialValue *initial = spec.findInitialValue(input.name);
      std::string tensor = where + "function '" + function.name + "': " +
                           input.role + " '" + input.name + "'";
      if (!initial)
        return Status::error(tensor + " has no initial value");
      // A sharded param starts from its whole initial value.
      const std::vector<int64_t> &shape =
          input.fullShape.empty() ? input.shape : input.fullShape;
      if (initial->dtype != input.dtype || initial->shape != shape)
        return Status::error(tensor + " is " + dtypeName(input.dtype) + " " +
                             shapeString(shape) +
                             ", but its initial value is " +
                             dtypeName(initial->dtype) + " " +
                             shapeString(initial->shape));
    }
  training = std::move(spec);
  return Status::ok();
}

const InitialValue *
TrainingSpec::findInitialValue(const std::string &name) const {
  for (const InitialValue &value : initialValues)
    if (value.name == name)
      return &value;
  return nullptr;
}

} // namespace vitc::rt
