// One Batch is one atomic write whatever order Store::Write hands its keys
// to RocksDB in: every key arrives, and of two writes to one key the later
// wins, in every family, for batches above and below the size at which the
// writes are reordered.
#include "ledger/internal/store.h"

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger::internal {
namespace {

class StoreTest : public ::testing::TestWithParam<int> {};

TEST_P(StoreTest, EveryWriteLandsAndTheLaterOfTwoToOneKeyWins) {
  caseledger::testing::TempFolder dir;
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir.Sub("store"), {.create_if_missing = true,
                                                      .read_only = false,
                                                      .faults = nullptr}));
  const std::vector<Family> families = {Family::kEntries, Family::kCaseIndex,
                                        Family::kEventIds, Family::kMerkle};
  std::mt19937 random(7);
  // What each (family, key) must read back: absent after a delete.
  std::map<std::pair<Family, std::string>, std::optional<std::string>> want;
  Batch batch(*store);
  for (int i = 0; i < GetParam(); ++i) {
    Family f = families[random() % families.size()];
    // Few distinct keys, so that keys repeat within the batch.
    std::string key = absl::StrCat("k", random() % (GetParam() / 3 + 1));
    if (random() % 4 == 0) {
      batch.Delete(f, key);
      want[{f, key}] = std::nullopt;
    } else {
      std::string value = absl::StrCat("v", i);
      batch.Put(f, key, value);
      want[{f, key}] = value;
    }
  }
  ASSERT_OK(store->Write(batch, /*sync=*/false));
  for (const auto& [where, value] : want) {
    ASSERT_OK_AND_ASSIGN(auto got, store->Get(where.first, where.second));
    EXPECT_EQ(got, value) << "family " << static_cast<int>(where.first)
                          << " key " << where.second;
  }
}

// A write past the size whose buffers are kept for the next one (1 MiB)
// lets them go; the batch and the writes after it still land whole.
TEST(StoreBuffersTest, WritesAfterAnOversizedOneLandWhole) {
  caseledger::testing::TempFolder dir;
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir.Sub("store"), {.create_if_missing = true,
                                                      .read_only = false,
                                                      .faults = nullptr}));
  Batch batch(*store);
  const std::string big(4096, 'x');
  for (int i = 0; i < 600; ++i) {  // ~2.4 MiB
    batch.Put(Family::kEvents, absl::StrCat("big", 1000 + i), big);
  }
  ASSERT_OK(store->Write(batch, /*sync=*/false));
  for (int round = 0; round < 3; ++round) {
    batch.Clear();
    for (int i = 0; i < 20; ++i) {
      batch.Put(Family::kEntries, absl::StrCat("r", round, "-", 10 + i),
                absl::StrCat("v", i));
    }
    ASSERT_OK(store->Write(batch, /*sync=*/false));
  }
  for (int i = 0; i < 600; i += 99) {
    ASSERT_OK_AND_ASSIGN(
        auto got, store->Get(Family::kEvents, absl::StrCat("big", 1000 + i)));
    EXPECT_EQ(got, big) << i;
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK_AND_ASSIGN(
          auto got,
          store->Get(Family::kEntries, absl::StrCat("r", round, "-", 10 + i)));
      EXPECT_EQ(got, absl::StrCat("v", i)) << round << " " << i;
    }
  }
}

// Below 16 writes the batch is written as made; from 16 on, in key order.
INSTANTIATE_TEST_SUITE_P(BatchSizes, StoreTest,
                         ::testing::Values(5, 15, 16, 40, 400));

}  // namespace
}  // namespace caseledger::internal
