// StopSignals (tools/cli.h): one stop signal is noted and lets the write
// finish; the user insisting, a signal later, ends the process; two copies
// of one signal (as `timeout` sends them, to the process and to its group)
// are one stop.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "gtest/gtest.h"
#include "tools/cli.h"

namespace caseledger::cli {
namespace {

TEST(StopSignalsTest, TwoCopiesOfOneSignalAreOneStop) {
  StopSignals stop;
  std::raise(SIGTERM);
  std::raise(SIGTERM);
  std::raise(SIGINT);
  EXPECT_EQ(stop.received(), SIGTERM);
  EXPECT_EQ(stop.exit_code(), 143);
}

TEST(StopSignalsDeathTest, ASignalHalfASecondAfterTheFirstEndsTheProcess) {
  EXPECT_EXIT(
      {
        StopSignals stop;
        std::raise(SIGINT);
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        std::raise(SIGINT);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGINT), "");
}

TEST(StopSignalsTest, EachStopStartsAgainFromNoSignal) {
  {
    StopSignals first;
    std::raise(SIGINT);
    EXPECT_EQ(first.received(), SIGINT);
  }
  StopSignals second;
  EXPECT_EQ(second.received(), 0);
  std::raise(SIGTERM);
  EXPECT_EQ(second.received(), SIGTERM);
}

}  // namespace
}  // namespace caseledger::cli
