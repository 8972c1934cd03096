//===- TrainOptions.cpp - command line of `vitc-run TRAIN.vtc` ------------===//
#include "TrainOptions.h"

#include "Diagnostics.h"
#include "Flags.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace vitc::run {

namespace {

constexpr const char *kUsage = R"(usage: vitc-run TRAIN.vtc [options]

Trains a model compiled with `vitc MODEL.onnx --mode train -o TRAIN.vtc`.

data:
  --dataset NAME         fashion-mnist (default), mnist or npy
  --data-dir DIR         where the dataset lives (fashion-mnist default:
                         /usr/share/datasets/fashion-mnist); npy: a directory
                         of train_images*.npy, train_labels*.npy,
                         test_images*.npy, test_labels*.npy
  --val-split F          fraction of the training split held out for
                         validation (default 0.1; 0 disables validation)
  --limit-train N        use only the first N training samples (before the
                         validation split)
  --limit-test N         evaluate only the first N test samples
  --resize               resize images to the model's input size (bilinear)
  --replicate-channels   feed grey images to a 3-channel model
  --normalize M,S        x = (pixel/255 - M) / S; 2C values give per-channel
                         means then stds. Default: 0.1307,0.3081 for mnist,
                         0.2860,0.3530 for fashion-mnist (their training-set
                         statistics), none (0,1) for npy
  --augment LIST         crop=P (random crop after P pixels of zero padding)
                         and/or flip (random horizontal flip), e.g. crop=4,flip

training:
  --epochs N             epochs to train (default 1); 0 with --resume and
                         --export-onnx only exports
  --batch-size N         images per step (default 64)
  --max-steps N          stop after global step N, as if interrupted (the
                         schedule still spans all epochs)
  --seed N               seed of the data order, augmentation and dropout
                         (default 0)
  --threads N            worker threads for kernels (OpenMP / oneDNN); on a
                         machine busy with other work, also set
                         OMP_WAIT_POLICY=passive (threads then sleep, not
                         spin, while they wait for each other)
  --weights FILE.vtw     the weights of an artifact compiled with
                         `vitc --weights-file` (default: the file it names)
  --device cuda:N        the GPU a cuda artifact trains on (default: cuda:0)

ranks (started by mpirun or srun with a `vitc --shard ddp` artifact; the
batch size is per rank, each step takes a global batch of batch size x
ranks, and rank 0 prints and writes the run's files):
  --collective-timeout S a collective running longer than S seconds ends
                         every rank, naming the collective and the peer
                         (default 300; 0: never)
  --check-collectives    ranks agree on each collective before running it
                         and report a mismatch instead of hanging

learning rate (computed per step; steps are 1-based):
  --lr X                 base rate (default: the one given to vitc)
  --schedule KIND        constant (default), step or cosine
  --step-size N          step: decay every N epochs (default 1)
  --gamma X              step: decay factor (default 0.1)
  --min-lr X             cosine: final rate (default 0)
  --warmup-steps N       linear warm-up from lr/N to lr over N steps
  --warmup-epochs X      the same, in epochs

output:
  --log-every N          log the loss every N batches and at the last
                         (default 100)
  --metrics FILE.jsonl   one JSON object per epoch and a final test line
                         (default: CHECKPOINT_DIR/metrics.jsonl)
  --tensorboard DIR      also write TensorBoard scalars to a new event file
                         DIR/events.out.tfevents.<time>.<host> (view with
                         `tensorboard --logdir DIR`): train/loss and train/lr
                         every step; epoch/train_loss, epoch/train_accuracy,
                         epoch/val_loss, epoch/val_accuracy,
                         epoch/images_per_second, epoch/seconds and
                         epoch/peak_rss_mb per epoch; test/loss and
                         test/accuracy at the end. Not written by default
  --plot FILE.png        loss per step and per epoch, accuracy per epoch
  --checkpoint-dir DIR   write DIR/checkpoint.vtck after every epoch
  --checkpoint-every N   ... and every N steps
  --resume DIR           continue from DIR/checkpoint.vtck (also the
                         checkpoint directory unless --checkpoint-dir is given);
                         pass the flags of the interrupted run
  --export-onnx FILE     at the end, write the source ONNX model with the
                         trained weights
  --onnx-model PATH      the source ONNX model for --export-onnx (default:
                         the model the artifact was compiled from)
  --help                 show this help
)";

long long parseInt(const std::string &flag, const std::string &value,
                   long long min) {
  char *end = nullptr;
  errno = 0;
  long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end || errno || n < min)
    fatal("invalid value '" + value + "' for " + flag +
          " (expected an integer >= " + std::to_string(min) + ")");
  return n;
}

double parseReal(const std::string &flag, const std::string &value,
                 bool positive) {
  char *end = nullptr;
  errno = 0;
  double x = std::strtod(value.c_str(), &end);
  if (value.empty() || *end || errno || !std::isfinite(x) || x < 0 ||
      (positive && x == 0))
    fatal("invalid value '" + value + "' for " + flag + " (expected a " +
          (positive ? "positive" : "non-negative") + " number)");
  return x;
}

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');)
    items.push_back(item);
  return items;
}

bool parseSchedule(const std::string &text, vitc_lr_schedule &schedule) {
  static const std::pair<const char *, vitc_lr_schedule> kNames[] = {
      {"constant", VITC_LR_CONSTANT},
      {"step", VITC_LR_STEP},
      {"cosine", VITC_LR_COSINE}};
  for (const auto &[name, value] : kNames)
    if (text == name) {
      schedule = value;
      return true;
    }
  return false;
}

void parseAugment(const std::string &value, TrainOptions &o) {
  for (const std::string &item : splitList(value)) {
    if (item == "flip")
      o.trainer.flip = 1;
    else if (item.rfind("crop=", 0) == 0)
      o.trainer.crop_padding = parseInt("--augment crop", item.substr(5), 1);
    else
      fatal("invalid --augment item '" + item + "' (expected crop=P or flip)");
  }
}

} // namespace

TrainOptions parseTrainOptions(int argc, char **argv) {
  TrainOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    Flag parsed(arg);
    const std::string &flag = parsed.name;
    auto next = [&] { return parsed.takeValue(argc, argv, i, fatal); };
    auto path = [&]() {
      std::string text = next();
      if (text.empty())
        fatal("empty value for " + flag);
      return text;
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (flag == "--dataset") {
      o.dataset = next();
      if (o.dataset != "fashion-mnist" && o.dataset != "mnist" &&
          o.dataset != "npy")
        fatal("unknown --dataset '" + o.dataset +
              "' (expected fashion-mnist, mnist or npy)");
    } else if (flag == "--data-dir") {
      o.dataDir = path();
    } else if (flag == "--val-split") {
      o.trainer.val_split = parseReal(flag, next(), false);
      if (o.trainer.val_split >= 1)
        fatal("invalid value for --val-split (expected a fraction in [0, 1))");
    } else if (flag == "--limit-train") {
      o.trainer.limit_train = parseInt(flag, next(), 1);
    } else if (flag == "--limit-test") {
      o.trainer.limit_test = parseInt(flag, next(), 1);
    } else if (flag == "--resize") {
      o.trainer.resize = 1;
    } else if (flag == "--replicate-channels") {
      o.trainer.replicate_channels = 1;
    } else if (flag == "--normalize") {
      o.normalize.clear();
      for (const std::string &item : splitList(next()))
        o.normalize.push_back(static_cast<float>(parseReal(flag, item, false)));
      if (o.normalize.size() < 2 || o.normalize.size() % 2)
        fatal("invalid value for --normalize (expected MEAN,STD or C means "
              "then C stds)");
      for (size_t c = o.normalize.size() / 2; c < o.normalize.size(); ++c)
        if (o.normalize[c] == 0)
          fatal("invalid value for --normalize (a std is 0)");
    } else if (flag == "--augment") {
      parseAugment(next(), o);
    } else if (flag == "--epochs") {
      o.trainer.epochs = parseInt(flag, next(), 0);
    } else if (flag == "--batch-size") {
      o.trainer.batch_size = parseInt(flag, next(), 1);
    } else if (flag == "--max-steps") {
      o.trainer.max_steps = parseInt(flag, next(), 1);
    } else if (flag == "--seed") {
      o.trainer.seed = static_cast<uint64_t>(parseInt(flag, next(), 0));
    } else if (flag == "--threads") {
      o.trainer.threads = static_cast<int32_t>(parseInt(flag, next(), 1));
    } else if (flag == "--weights" || flag == "--device") {
      next(); // applied when the artifact was loaded
    } else if (flag == "--collective-timeout") {
      o.trainer.collective_timeout = parseReal(flag, next(), false);
    } else if (flag == "--check-collectives") {
      o.trainer.check_collectives = 1;
    } else if (flag == "--lr") {
      o.trainer.lr = parseReal(flag, next(), true);
    } else if (flag == "--schedule") {
      std::string kind = next();
      if (!parseSchedule(kind, o.trainer.schedule))
        fatal("unknown --schedule '" + kind +
              "' (expected constant, step or cosine)");
    } else if (flag == "--step-size") {
      o.trainer.step_size = parseInt(flag, next(), 1);
    } else if (flag == "--gamma") {
      o.trainer.gamma = parseReal(flag, next(), true);
    } else if (flag == "--min-lr") {
      o.trainer.min_lr = parseReal(flag, next(), false);
    } else if (flag == "--warmup-steps") {
      o.trainer.warmup_steps = parseInt(flag, next(), 0);
    } else if (flag == "--warmup-epochs") {
      o.trainer.warmup_epochs = parseReal(flag, next(), false);
    } else if (flag == "--log-every") {
      o.logEvery = parseInt(flag, next(), 1);
    } else if (flag == "--metrics") {
      o.metrics = path();
    } else if (flag == "--tensorboard") {
      o.tensorboard = path();
    } else if (flag == "--plot") {
      o.plot = path();
    } else if (flag == "--checkpoint-dir") {
      o.checkpointDir = path();
    } else if (flag == "--checkpoint-every") {
      o.trainer.checkpoint_every = parseInt(flag, next(), 1);
    } else if (flag == "--resume") {
      o.resume = path();
    } else if (flag == "--export-onnx") {
      o.exportOnnx = path();
    } else if (flag == "--onnx-model") {
      o.onnxModel = path();
    } else if (arg.rfind("-", 0) == 0 && arg != "-") {
      fatal("unknown option '" + arg + "' for training (see --help)");
    } else if (o.model.empty()) {
      o.model = arg;
    } else {
      fatal("unexpected argument '" + arg + "'");
    }
  }
  if (o.trainer.warmup_steps && o.trainer.warmup_epochs)
    fatal("give --warmup-steps or --warmup-epochs, not both");
  if (o.checkpointDir.empty())
    o.checkpointDir = o.resume;
  if (o.metrics.empty() && !o.checkpointDir.empty())
    o.metrics = o.checkpointDir + "/metrics.jsonl";
  if (o.trainer.checkpoint_every && o.checkpointDir.empty())
    fatal("--checkpoint-every needs --checkpoint-dir");
  return o;
}

vitc_train_options TrainOptions::trainerOptions() const {
  vitc_train_options options = trainer;
  auto text = [](const std::string &s) { return s.empty() ? nullptr : s.c_str(); };
  options.normalize = normalize.empty() ? nullptr : normalize.data();
  options.num_normalize = static_cast<int32_t>(normalize.size());
  options.metrics_path = text(metrics);
  options.tensorboard_dir = text(tensorboard);
  options.checkpoint_dir = text(checkpointDir);
  return options;
}

} // namespace vitc::run
