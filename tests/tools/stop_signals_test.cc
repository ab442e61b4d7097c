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
#include <tuple>

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

// What a verb stopped between steps says and exits with (import, export,
// demo): the signal's name, and 128 + its number, as a shell reports for a
// process the signal ended: 130 for Ctrl-C, 143 for SIGTERM.
TEST(StopSignalsTest, EachSignalIsNamedAndGivesItsExitCode) {
  for (auto [signal_number, name, code] :
       {std::tuple{SIGINT, "SIGINT", 130},
        std::tuple{SIGTERM, "SIGTERM", 143}}) {
    StopSignals stop;
    std::raise(signal_number);
    EXPECT_EQ(stop.received_name(), name);
    EXPECT_EQ(stop.exit_code(), code);
  }
}

// A signal ignored on entry stays ignored: a shell starts background jobs
// so, that Ctrl-C meant for the foreground spares them.
TEST(StopSignalsTest, ASignalIgnoredOnEntryStaysIgnored) {
  for (int signal_number : {SIGINT, SIGTERM}) {
    struct sigaction ignore {
    }, before{}, after{};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(signal_number, &ignore, &before);
    {
      StopSignals stop;
      std::raise(signal_number);
      EXPECT_EQ(stop.received(), 0) << signal_number;
    }
    sigaction(signal_number, &before, &after);
    EXPECT_EQ(after.sa_handler, SIG_IGN) << signal_number;
  }
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

// Reads and syncs in progress when the signal comes carry on rather than
// fail with EINTR: the handlers restart them.
TEST(StopSignalsTest, CallsTheSignalInterruptsAreRestarted) {
  StopSignals stop;
  for (int signal_number : {SIGINT, SIGTERM}) {
    struct sigaction now {};
    sigaction(signal_number, nullptr, &now);
    EXPECT_NE(now.sa_flags & SA_RESTART, 0) << signal_number;
  }
}

// Held (HoldUntilExit), a stop goes on catching past its object, to the
// process's exit: a signal while the ledger closes, after a write's outcome
// was printed, is noted, not an end with 143 of what was reported done.
TEST(StopSignalsDeathTest, AHeldStopCatchesToTheExit) {
  EXPECT_EXIT(
      {
        {
          StopSignals stop;
          stop.HoldUntilExit();
        }
        std::raise(SIGTERM);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
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
