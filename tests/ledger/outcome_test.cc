// The hand-off of an append's result from the sequencer to the appender.
#include "ledger/internal/outcome.h"

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace caseledger::internal {
namespace {

// A lost wake would leave the taker asleep for ever: the tests wait this
// long for it, then fail rather than hang.
constexpr absl::Duration kPatience = absl::Seconds(30);

TEST(OutcomeTest, AnOutcomeSetFirstIsTakenAtOnce) {
  Outcome<std::unique_ptr<int>> outcome;
  outcome.Set(std::make_unique<int>(7));
  std::unique_ptr<int> taken = outcome.Take();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 7);
}

TEST(OutcomeTest, ASleepingTakerIsWokenWithTheValue) {
  // Shared with the taker, so that a taker never woken can be left behind.
  auto outcome = std::make_shared<Outcome<std::unique_ptr<int>>>();
  auto taken = std::make_shared<absl::Notification>();
  auto value = std::make_shared<int>(0);
  std::thread taker([outcome, taken, value] {
    *value = *outcome->Take();
    taken->Notify();
  });
  // Long enough for the taker to be asleep in the kernel, not spinning.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(taken->HasBeenNotified());
  outcome->Set(std::make_unique<int>(42));
  if (!taken->WaitForNotificationWithTimeout(kPatience)) {
    taker.detach();
    FAIL() << "the taker was not woken";
  }
  taker.join();
  EXPECT_EQ(*value, 42);
}

// As the append path uses it: the taker destroys each outcome as soon as it
// has its value, often while the setter is still in Set.
TEST(OutcomeTest, ManyHandOffsEachDeliverTheirOwnValue) {
  constexpr int kCount = 20000;
  struct Shared {
    std::vector<Outcome<int>*> outcomes;
    std::vector<int> values;
  };
  auto shared = std::make_shared<Shared>();
  for (int i = 0; i < kCount; ++i) {
    shared->outcomes.push_back(new Outcome<int>);
  }
  auto done = std::make_shared<absl::Notification>();
  std::thread taker([shared, done] {
    for (Outcome<int>* outcome : shared->outcomes) {
      shared->values.push_back(outcome->Take());
      delete outcome;
    }
    done->Notify();
  });
  std::thread setter([shared] {
    for (int i = 0; i < kCount; ++i) {
      shared->outcomes[i]->Set(i);
      // Now and then let the taker fall asleep before the next value.
      if (i % 1000 == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  setter.join();
  if (!done->WaitForNotificationWithTimeout(kPatience)) {
    taker.detach();
    FAIL() << "the taker was not woken";
  }
  taker.join();
  ASSERT_EQ(shared->values.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(shared->values[i], i);
}

}  // namespace
}  // namespace caseledger::internal
