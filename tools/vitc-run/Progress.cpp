//===- Progress.cpp - the trainer's per-batch log lines and progress bar --===//
#include "Progress.h"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace vitc::train {

Progress::Progress(int64_t epochs, int64_t logEvery)
    : epochs_(epochs), logEvery_(logEvery), terminal_(isatty(STDOUT_FILENO)) {}

void Progress::startEpoch(int64_t epoch, int64_t batches, int64_t firstBatch) {
  epoch_ = epoch;
  batches_ = batches;
  firstBatch_ = firstBatch;
  start_ = std::chrono::steady_clock::now();
  lastDraw_ = {};
}

void Progress::clear() {
  if (barShown_)
    std::fputs("\r\033[K", stdout);
  barShown_ = false;
}

void Progress::batchDone(int64_t batch, double loss) {
  if (batch % logEvery_ == 0 || batch == batches_) {
    clear();
    std::printf("Epoch: %04lld/%04lld | Batch %04lld/%04lld | Loss: %.4f\n",
                static_cast<long long>(epoch_ + 1),
                static_cast<long long>(epochs_), static_cast<long long>(batch),
                static_cast<long long>(batches_), loss);
  }
  if (terminal_ && batch < batches_)
    drawBar(batch, loss);
  std::fflush(stdout);
}

void Progress::drawBar(int64_t batch, double loss) {
  auto now = std::chrono::steady_clock::now();
  if (now - lastDraw_ < std::chrono::milliseconds(200))
    return;
  lastDraw_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  double eta = seconds / (batch - firstBatch_) * (batches_ - batch);
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * batch / batches_);
  std::string bar(filled, '=');
  if (filled < kWidth)
    bar += '>' + std::string(kWidth - filled - 1, ' ');
  long etaSeconds = static_cast<long>(eta + 0.5);
  std::printf("\r\033[K[%s] %lld/%lld loss %.4f ETA %ld:%02ld", bar.c_str(),
              static_cast<long long>(batch), static_cast<long long>(batches_),
              loss, etaSeconds / 60, etaSeconds % 60);
  barShown_ = true;
}

} // namespace vitc::train
