//===- DataLoaderTest.cpp - Seeded batches, resume and validation split ---===//
#include "DataTestUtil.h"

#include <algorithm>
#include <numeric>
#include <set>

using namespace vitc::data;
using namespace vitc::data::test;
namespace rt = vitc::rt;

namespace {

bool sameBatches(const std::vector<Batch> &a, const std::vector<Batch> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].size != b[i].size || a[i].labels != b[i].labels ||
        a[i].images != b[i].images)
      return false;
  return true;
}

/// The sample ids (labels of makeIdSplit) of an epoch, in order.
std::vector<int64_t> order(const std::vector<Batch> &batches) {
  std::vector<int64_t> ids;
  for (const Batch &batch : batches)
    ids.insert(ids.end(), batch.labels.begin(), batch.labels.end());
  return ids;
}

Transform augmenting(const Split &split) {
  Transform t = identityTransform(split);
  t.cropPadding = 1, t.flip = true;
  return t;
}

TEST(DataLoader, EpochIsAPermutationWithAShortLastBatch) {
  Split split = makeIdSplit(103, 1, 3, 3);
  VITC_ASSIGN_OK(loader, Loader::create(split, identityTransform(split), 10,
                                        /*shuffle=*/true, false, false, 1));
  EXPECT_EQ(loader->numBatches(), 11);
  std::vector<Batch> batches = epochBatches(*loader, 0);
  ASSERT_EQ(batches.size(), 11u);
  for (size_t i = 0; i < 10; ++i)
    EXPECT_EQ(batches[i].size, 10);
  EXPECT_EQ(batches.back().size, 3);
  EXPECT_EQ(batches.back().images.size(), 3u * 9);
  std::vector<int64_t> ids = order(batches), sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(103);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  EXPECT_NE(ids, all) << "shuffle left the order alone";
  // Images travel with their labels.
  for (const Batch &batch : batches)
    for (int64_t i = 0; i < batch.size; ++i)
      for (int64_t p = 0; p < 9; ++p)
        ASSERT_NEAR(batch.images[i * 9 + p],
                    split.u8[batch.labels[i] * 9 + p] / 255.0, 1e-6);
}

TEST(DataLoader, DropLastAndNoShuffle) {
  Split split = makeIdSplit(103, 1, 2, 2);
  VITC_ASSIGN_OK(loader, Loader::create(split, identityTransform(split), 10,
                                        /*shuffle=*/false, false,
                                        /*dropLast=*/true, 1));
  EXPECT_EQ(loader->numBatches(), 10);
  std::vector<Batch> batches = epochBatches(*loader, 4);
  ASSERT_EQ(batches.size(), 10u);
  for (const Batch &batch : batches)
    EXPECT_EQ(batch.size, 10);
  std::vector<int64_t> first100(100);
  std::iota(first100.begin(), first100.end(), 0);
  EXPECT_EQ(order(batches), first100);

  VITC_ASSIGN_OK(tiny, Loader::create(split, identityTransform(split), 200,
                                      true, false, /*dropLast=*/true, 1));
  EXPECT_EQ(tiny->numBatches(), 0);
  EXPECT_TRUE(epochBatches(*tiny, 0).empty());
}

TEST(DataLoader, SameSeedSameBatchesOtherEpochOtherOrder) {
  Split split = makeIdSplit(150, 1, 5, 5);
  VITC_ASSIGN_OK(
      a, Loader::create(split, augmenting(split), 16, true, true, false, 42));
  VITC_ASSIGN_OK(
      b, Loader::create(split, augmenting(split), 16, true, true, false, 42));
  VITC_ASSIGN_OK(
      c, Loader::create(split, augmenting(split), 16, true, true, false, 43));
  std::vector<Batch> a0 = epochBatches(*a, 0), a1 = epochBatches(*a, 1);
  EXPECT_TRUE(sameBatches(a0, epochBatches(*b, 0)));
  EXPECT_TRUE(sameBatches(a1, epochBatches(*b, 1)));
  EXPECT_NE(order(a0), order(a1));
  EXPECT_NE(order(a0), order(epochBatches(*c, 0)));
  // The order of an epoch depends on the epoch number, not on what ran before.
  VITC_ASSIGN_OK(fresh, Loader::create(split, augmenting(split), 16, true, true,
                                       false, 42));
  EXPECT_TRUE(sameBatches(a1, epochBatches(*fresh, 1)));
}

TEST(DataLoader, ResumingMidEpochGivesTheTailOfTheFullEpoch) {
  Split split = makeIdSplit(95, 1, 4, 4);
  VITC_ASSIGN_OK(
      full, Loader::create(split, augmenting(split), 8, true, true, false, 7));
  VITC_ASSIGN_OK(resumed, Loader::create(split, augmenting(split), 8, true,
                                         true, false, 7, RankSlice{},
                                         /*prefetch=*/2));
  for (int64_t epoch : {0, 3}) {
    std::vector<Batch> all = epochBatches(*full, epoch);
    ASSERT_EQ(all.size(), 12u);
    for (int64_t k : {0, 1, 5, 11, 12}) {
      std::vector<Batch> tail(all.begin() + k, all.end());
      EXPECT_TRUE(sameBatches(epochBatches(*resumed, epoch, k), tail))
          << "epoch " << epoch << " from batch " << k;
    }
  }
  // startEpoch cancels an epoch in flight (batches already prefetched).
  Batch batch;
  ASSERT_TRUE(ok(resumed->startEpoch(1)));
  rt::StatusOr<bool> got = resumed->next(batch);
  ASSERT_TRUE(ok(got));
  ASSERT_TRUE(*got);
  std::vector<Batch> all3 = epochBatches(*full, 3);
  EXPECT_TRUE(sameBatches(epochBatches(*resumed, 3, 4),
                          std::vector<Batch>(all3.begin() + 4, all3.end())));
  got = resumed->next(batch);
  ASSERT_TRUE(ok(got));
  EXPECT_FALSE(*got) << "an ended epoch stays ended";
  expectError(resumed->startEpoch(0, 13), {"batch 13", "12 batches"});
}

TEST(DataLoader, RankSlicesMakeUpTheOneProcessBatches) {
  // 3 ranks, batch 8 across them: full batches split 2/3/3, the last batch
  // of 2 samples leaves rank 0 a stand-in.
  Split split = makeIdSplit(42, 1, 4, 4);
  VITC_ASSIGN_OK(whole, Loader::create(split, augmenting(split), 8, true, true,
                                       false, 5));
  std::vector<Batch> want = epochBatches(*whole, 2);
  ASSERT_EQ(want.size(), 6u);
  std::vector<std::vector<Batch>> ranks;
  for (int r = 0; r < 3; ++r) {
    VITC_ASSIGN_OK(part, Loader::create(split, augmenting(split), 8, true,
                                        true, false, 5, RankSlice{r, 3}));
    EXPECT_EQ(part->numBatches(), 6);
    ranks.push_back(epochBatches(*part, 2));
  }
  for (size_t b = 0; b < want.size(); ++b) {
    Batch joined;
    for (int r = 0; r < 3; ++r) {
      const Batch &p = ranks[r][b];
      EXPECT_EQ(p.globalSize, want[b].size);
      if (p.standIn) {
        EXPECT_EQ(p.size, 1);
        EXPECT_EQ(p.contributing(), 0);
        EXPECT_EQ(p.labels[0], want[b].labels[0]) << "the first sample";
        continue;
      }
      EXPECT_EQ(p.offset, joined.size) << "batch " << b << " rank " << r;
      joined.size += p.size;
      joined.labels.insert(joined.labels.end(), p.labels.begin(),
                           p.labels.end());
      joined.images.insert(joined.images.end(), p.images.begin(),
                           p.images.end());
    }
    EXPECT_TRUE(sameBatches({joined}, {want[b]})) << "batch " << b;
  }
  EXPECT_EQ(ranks[0][0].size, 2);
  EXPECT_EQ(ranks[2][0].size, 3);
  EXPECT_TRUE(ranks[0][5].standIn);
  EXPECT_FALSE(ranks[1][5].standIn);
  expectError(Loader::create(split, identityTransform(split), 8, true, false,
                             false, 0, RankSlice{3, 3}),
              {"rank 3 of 3"});
}

TEST(DataLoader, BoundaryCases) {
  Split split = makeIdSplit(10, 1, 2, 2);
  Batch batch;
  {
    VITC_ASSIGN_OK(loader, Loader::create(split, identityTransform(split), 3,
                                          true, false, false, 0));
    rt::StatusOr<bool> got = loader->next(batch);
    ASSERT_TRUE(ok(got));
    EXPECT_FALSE(*got) << "no epoch started";
    ASSERT_TRUE(ok(loader->startEpoch(0)));
    got = loader->next(batch);
    ASSERT_TRUE(ok(got));
    ASSERT_TRUE(*got);
    EXPECT_EQ(batch.size, 3);
  } // destroyed with batches prefetched: joins without hanging
  expectError(
      Loader::create(split, identityTransform(split), 0, true, false, false, 0),
      {"batch size must be positive"});
}

TEST(DataSplit, ValidationIsDisjointDeterministicAndFaithful) {
  Split split = makeIdSplit(1000, 1, 2, 3);
  VITC_ASSIGN_OK(parts, splitValidation(split, 0.1, 11));
  auto &[train, validation] = parts;
  EXPECT_EQ(validation.count, 100);
  EXPECT_EQ(train.count, 900);
  EXPECT_EQ(train.channels, 1);
  EXPECT_EQ(validation.width, 3);
  std::set<int64_t> ids(train.labels.begin(), train.labels.end());
  for (int64_t id : validation.labels)
    EXPECT_TRUE(ids.insert(id).second)
        << "sample " << id << " is in both parts";
  EXPECT_EQ(ids.size(), 1000u);
  for (const Split *part : {&train, &validation})
    for (int64_t i = 0; i < part->count; ++i)
      for (int p = 0; p < 6; ++p)
        ASSERT_EQ(part->u8[i * 6 + p], split.u8[part->labels[i] * 6 + p]);
  // Not simply the last 10%.
  EXPECT_LT(
      *std::min_element(validation.labels.begin(), validation.labels.end()),
      900);

  VITC_ASSIGN_OK(parts2, splitValidation(split, 0.1, 11));
  auto &[train2, validation2] = parts2;
  EXPECT_EQ(validation2.labels, validation.labels);
  EXPECT_EQ(train2.u8, train.u8);
  VITC_ASSIGN_OK(parts3, splitValidation(split, 0.1, 12));
  auto &[train3, validation3] = parts3;
  EXPECT_NE(validation3.labels, validation.labels);

  VITC_ASSIGN_OK(parts0, splitValidation(split, 0.0, 11));
  auto &[whole, none] = parts0;
  EXPECT_EQ(whole.count, 1000);
  EXPECT_EQ(none.count, 0);
  expectError(splitValidation(split, 1.0, 1), {"must be in [0, 1)"});
  expectError(splitValidation(split, -0.5, 1), {"must be in [0, 1)"});
  expectError(splitValidation(split, 0.9999, 1), {"leaves none of 1000"});
}

TEST(DataSplit, FloatSamplesFollowTheirLabels) {
  Split split;
  split.count = 50, split.channels = 1, split.height = 1, split.width = 2;
  for (int i = 0; i < 50; ++i) {
    split.f32.insert(split.f32.end(), {float(i), -float(i)});
    split.labels.push_back(i);
  }
  VITC_ASSIGN_OK(parts, splitValidation(split, 0.2, 3));
  auto &[train, validation] = parts;
  EXPECT_EQ(validation.count, 10);
  EXPECT_TRUE(validation.u8.empty());
  for (int64_t i = 0; i < validation.count; ++i)
    EXPECT_EQ(validation.f32[i * 2 + 1], -float(validation.labels[i]));
}

} // namespace
