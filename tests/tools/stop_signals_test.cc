// StopSignals (tools/cli.h): one stop signal is noted and lets the write
// finish; the user insisting, a signal later, ends the process; two copies
// of one signal (as `timeout` sends them, to the process and to its group)
// are one stop.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
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

TEST(StopSignalsDeathTest, TheSecondSignalSaysWhatItLeaves) {
  EXPECT_EXIT(
      {
        StopSignals stop;
        stop.SayWhenCaught("import", "stopping between batches",
                           "run the same import again");
        std::raise(SIGINT);
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        std::raise(SIGINT);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGINT),
      "caseledger import: SIGINT received; stopping between batches\n"
      "caseledger import: ended by a second stop signal; run the same "
      "import again\n");
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

// A signal ignored on entry stays ignored: a shell starts background jobs
// so, that Ctrl-C meant for the foreground spares them.
TEST(StopSignalsTest, ASignalIgnoredOnEntryStaysIgnored) {
  struct sigaction ignore {
  }, before{}, after{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGINT, &ignore, &before);
  {
    StopSignals stop;
    std::raise(SIGINT);
    EXPECT_EQ(stop.received(), 0);
  }
  sigaction(SIGINT, &before, &after);
  EXPECT_EQ(after.sa_handler, SIG_IGN);
}

// Once a stop is over, SIGINT and SIGTERM are handled as before it.
TEST(StopSignalsTest, TheHandlersBeforeAStopAreRestoredAfterIt) {
  for (int signal_number : {SIGINT, SIGTERM}) {
    std::signal(signal_number, SIG_DFL);
    { StopSignals stop; }
    struct sigaction after {};
    sigaction(signal_number, nullptr, &after);
    EXPECT_EQ(after.sa_handler, SIG_DFL) << signal_number;
  }
}

// A stop that waits for a call in flight says at once that it heard the
// signal: against a server that hangs, the wait lasts up to the call's
// deadline, and nothing was said meanwhile.
TEST(StopSignalsTest, TheFirstSignalIsSaidAtOnce) {
  char path[] = "/tmp/stop_signals_test_XXXXXX";
  const int file = ::mkstemp(path);
  ASSERT_GE(file, 0);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(file, STDERR_FILENO);
  {
    StopSignals stop;
    stop.SayWhenCaught("import", "stopping between batches", "run it again");
    std::raise(SIGTERM);
    std::raise(SIGTERM);  // a copy: said once
  }
  {
    StopSignals quiet;  // says nothing unless asked
    std::raise(SIGINT);
  }
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  char text[256] = {};
  const ssize_t n = ::pread(file, text, sizeof(text) - 1, 0);
  ::close(file);
  ::unlink(path);
  EXPECT_EQ(std::string(text, n > 0 ? n : 0),
            "caseledger import: SIGTERM received; stopping between batches\n");
}

}  // namespace
}  // namespace caseledger::cli
