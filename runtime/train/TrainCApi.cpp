//===- TrainCApi.cpp - the C API (vitc_train.h) over Trainer --------------===//
#include "vitc_train.h"

#include "Trainer.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

using namespace vitc::train;
using vitc::rt::Status;
using vitc::rt::StatusOr;

struct vitc_trainer {
  std::unique_ptr<Trainer> trainer;
  /// Set by vitc_trainer_open: the model the trainer was created on.
  vitc_model *ownedModel = nullptr;
  ~vitc_trainer() {
    trainer.reset(); // before the model it runs
    vitc_model_free(ownedModel);
  }
};

namespace {

int fail(const std::string &message) {
  vitc::rt::setLastError(message);
  return -1;
}

/// Errors of a trainer that is one rank of several name the rank.
int fail(const Trainer &t, const std::string &message) {
  return fail(t.dataParallel().prefix() + message);
}

int check(const Trainer &t, const Status &status) {
  return status.isOk() ? 0 : fail(t, status.message());
}

/// The Trainer of `trainer`, or nullptr after setting an error naming
/// `caller` when `trainer` or one of the pointer `arguments` (with their
/// names) is NULL.
Trainer *get(const vitc_trainer *trainer, const char *caller,
             std::initializer_list<std::pair<const void *, const char *>>
                 arguments = {}) {
  if (!trainer) {
    fail(std::string(caller) + ": trainer is NULL");
    return nullptr;
  }
  for (auto [pointer, name] : arguments)
    if (!pointer) {
      fail(std::string(caller) + ": " + name + " is NULL");
      return nullptr;
    }
  return trainer->trainer.get();
}

int64_t stepsOrFail(const Trainer &t, StatusOr<int64_t> steps) {
  return steps.isOk() ? *steps : fail(t, steps.status().message());
}

} // namespace

extern "C" {

void vitc_train_options_init(vitc_train_options *options) {
  if (!options)
    return;
  *options = vitc_train_options{};
  options->val_split = 0.1;
  options->epochs = 1;
  options->batch_size = 64;
  options->schedule = VITC_LR_CONSTANT;
  options->step_size = 1;
  options->gamma = 0.1;
  options->collective_timeout = 300;
}

vitc_trainer *vitc_trainer_create(vitc_model *model, const char *name,
                                  const vitc_train_options *options) {
  if (!model || !options) {
    fail("vitc_trainer_create: model or options is NULL");
    return nullptr;
  }
  StatusOr<TrainerOptions> parsed = TrainerOptions::fromC(*options);
  if (!parsed.isOk()) {
    fail(parsed.status().message());
    return nullptr;
  }
  if (options->threads > 0)
    vitc_set_num_threads(options->threads);
  Callbacks callbacks{options->on_epoch_begin, options->on_step,
                      options->on_epoch_end, options->on_warning,
                      options->user_data};
  StatusOr<std::unique_ptr<Trainer>> trainer = Trainer::create(
      model, name ? name : "the artifact", std::move(*parsed), callbacks);
  if (!trainer.isOk()) {
    fail(trainer.status().message());
    return nullptr;
  }
  auto *result = new vitc_trainer;
  result->trainer = std::move(*trainer);
  return result;
}

vitc_trainer *vitc_trainer_open(const char *path,
                                const vitc_train_options *options) {
  if (!path) {
    fail("vitc_trainer_open: path is NULL");
    return nullptr;
  }
  vitc_model *model = vitc_model_load(path);
  if (!model)
    return nullptr;
  vitc_trainer *trainer = vitc_trainer_create(model, path, options);
  if (!trainer) {
    vitc_model_free(model);
    return nullptr;
  }
  trainer->ownedModel = model;
  return trainer;
}

void vitc_trainer_free(vitc_trainer *trainer) { delete trainer; }

int vitc_trainer_set_dataset(vitc_trainer *trainer, const char *kind,
                             const char *dir) {
  Trainer *t = get(trainer, "vitc_trainer_set_dataset", {{kind, "kind"}});
  return t ? check(*t, t->setDataset({kind, dir ? dir : ""})) : -1;
}

int vitc_trainer_load_checkpoint(vitc_trainer *trainer, const char *dir) {
  Trainer *t = get(trainer, "vitc_trainer_load_checkpoint", {{dir, "dir"}});
  return t ? check(*t, t->loadCheckpoint(dir)) : -1;
}

int vitc_trainer_save_checkpoint(vitc_trainer *trainer, const char *dir) {
  Trainer *t = get(trainer, "vitc_trainer_save_checkpoint", {{dir, "dir"}});
  return t ? check(*t, t->saveCheckpoint(dir)) : -1;
}

int64_t vitc_trainer_train_steps(vitc_trainer *trainer, int64_t steps) {
  Trainer *t = get(trainer, "vitc_trainer_train_steps");
  return t ? stepsOrFail(*t, t->train(steps > 0 ? steps : 0, 0)) : -1;
}

int64_t vitc_trainer_train_epochs(vitc_trainer *trainer, int64_t epochs) {
  Trainer *t = get(trainer, "vitc_trainer_train_epochs");
  if (!t)
    return -1;
  if (epochs <= 0)
    return fail("vitc_trainer_train_epochs: epochs is " +
                std::to_string(epochs) + ", expected > 0");
  return stepsOrFail(*t, t->train(0, epochs));
}

int vitc_trainer_evaluate(vitc_trainer *trainer, vitc_split split,
                          vitc_eval_result *result) {
  Trainer *t = get(trainer, "vitc_trainer_evaluate", {{result, "result"}});
  if (!t)
    return -1;
  StatusOr<Evaluation> evaluation = t->evaluate(split);
  if (!evaluation.isOk())
    return fail(*t, evaluation.status().message());
  *result = {evaluation->loss, evaluation->accuracy, evaluation->samples};
  return 0;
}

int64_t vitc_trainer_global_step(const vitc_trainer *trainer) {
  Trainer *t = get(trainer, "vitc_trainer_global_step");
  return t ? t->globalStep() : -1;
}

double vitc_trainer_run_seconds(const vitc_trainer *trainer) {
  Trainer *t = get(trainer, "vitc_trainer_run_seconds");
  return t ? t->runSeconds() : NAN;
}

int vitc_trainer_rank_info(const vitc_trainer *trainer, vitc_rank_info *info) {
  Trainer *t = get(trainer, "vitc_trainer_rank_info", {{info, "info"}});
  if (!t)
    return -1;
  const DataParallel &dp = t->dataParallel();
  ModelStateBytes m = t->state().modelStateBytes();
  *info = vitc_rank_info{dp.rank(),    dp.size(),   dp.backend(),
                         m.params,     m.grads,     m.optimizer,
                         m.gathered,   t->lastStepCollectiveBytes(),
                         t->stepSeconds(), t->stepWaitSeconds()};
  return 0;
}

int32_t vitc_trainer_num_epochs(const vitc_trainer *trainer) {
  Trainer *t = get(trainer, "vitc_trainer_num_epochs");
  return t ? static_cast<int32_t>(t->history().size()) : -1;
}

int vitc_trainer_epoch_info(const vitc_trainer *trainer, int32_t index,
                            vitc_epoch_info *info) {
  Trainer *t = get(trainer, "vitc_trainer_epoch_info", {{info, "info"}});
  if (!t)
    return -1;
  if (index < 0 || static_cast<size_t>(index) >= t->history().size())
    return fail("no epoch #" + std::to_string(index) + " (the run has " +
                std::to_string(t->history().size()) + " finished)");
  *info = toEpochInfo(t->history()[index]);
  return 0;
}

const float *vitc_trainer_step_losses(const vitc_trainer *trainer,
                                      int64_t *count) {
  Trainer *t = get(trainer, "vitc_trainer_step_losses");
  const std::vector<float> *losses = t ? &t->stepLosses() : nullptr;
  if (count)
    *count = losses ? static_cast<int64_t>(losses->size()) : 0;
  return losses && !losses->empty() ? losses->data() : nullptr;
}

int vitc_trainer_gather_weights(vitc_trainer *trainer) {
  Trainer *t = get(trainer, "vitc_trainer_gather_weights");
  return t ? check(*t, t->gatherWeights()) : -1;
}

int32_t vitc_trainer_num_weights(const vitc_trainer *trainer) {
  Trainer *t = get(trainer, "vitc_trainer_num_weights");
  return t ? t->state().numWeights() : -1;
}

int vitc_trainer_weight(const vitc_trainer *trainer, int32_t index,
                        vitc_weight *weight) {
  Trainer *t = get(trainer, "vitc_trainer_weight", {{weight, "weight"}});
  if (!t)
    return -1;
  if (index < 0 || index >= t->state().numWeights())
    return fail("no weight #" + std::to_string(index) + " (the model has " +
                std::to_string(t->state().numWeights()) + ")");
  StatusOr<Weight> whole = t->weight(index);
  if (!whole.isOk())
    return fail(*t, whole.status().message());
  const Weight &w = *whole;
  *weight = vitc_weight{};
  weight->name = w.name;
  weight->role = w.role;
  weight->dtype = w.tensor.dtype;
  weight->rank = w.tensor.rank;
  std::copy(w.tensor.shape, w.tensor.shape + w.tensor.rank, weight->shape);
  weight->data = w.tensor.data;
  weight->bytes = w.bytes;
  return 0;
}

} // extern "C"
