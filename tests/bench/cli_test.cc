// The built caseledger_bench on the files and folders it is given, and the
// load generator's usage. The bench empties its scratch folder at start and
// removes it at exit, and it rewrites the report it is pointed at: these run
// it where a user's files could be lost (a folder named by mistake, a report
// it cannot read) and check that they survive. A filter that matches no
// benchmark keeps each run short.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/test_util.h"

namespace caseledger::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNoBenchmark[] =
    " --memory_events=0 --benchmark_filter=NoSuchBenchmark";

// A run with `workdir` that matches no benchmark.
CliRun RunBenchIn(const std::string& workdir, const TempFolder& scratch) {
  return RunCli(CASELEDGER_BENCH,
                absl::StrCat("--workdir=", workdir, kNoBenchmark), scratch);
}

TEST(BenchWorkdirTest, AFolderHoldingFilesItDidNotMakeIsRefusedAndKept) {
  TempFolder scratch;
  const std::string folder = scratch.Sub("mine");
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/notes.txt") << "kept";
  CliRun run = RunBenchIn(folder, scratch);
  EXPECT_EQ(run.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("--workdir " + folder + " is not empty"));
  EXPECT_EQ(FileContents(folder + "/notes.txt"), "kept");
}

TEST(BenchWorkdirTest, AFileIsRefusedAndKept) {
  TempFolder scratch;
  const std::string file = scratch.Sub("results.json");
  std::ofstream(file) << "kept";
  CliRun run = RunBenchIn(file, scratch);
  EXPECT_EQ(run.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("is not a folder"));
  EXPECT_EQ(FileContents(file), "kept");
}

TEST(BenchWorkdirTest, ANewFolderOrOneAnInterruptedRunLeftIsTakenAndRemoved) {
  TempFolder scratch;
  const std::string fresh = scratch.Sub("new/bench-work");
  // A run marks the folder it makes; one killed before its end leaves that
  // mark beside its ledgers.
  const std::string left = scratch.Sub("bench-work");
  std::filesystem::create_directories(left + "/fixture-0");
  std::ofstream(left + "/.caseledger-bench");
  std::ofstream(left + "/fixture-0/CURRENT") << "left";
  for (const std::string& folder : {fresh, left}) {
    CliRun run = RunBenchIn(folder, scratch);
    EXPECT_EQ(run.code, 0) << folder << ": " << run.err;
    EXPECT_FALSE(std::filesystem::exists(folder)) << folder;
  }
}

TEST(BenchWorkdirTest, AFolderARunStillUsesIsRefusedAndKept) {
  TempFolder scratch;
  const std::string folder = scratch.Sub("bench-work");
  std::filesystem::create_directories(folder + "/fixture-0");
  std::ofstream(folder + "/fixture-0/CURRENT") << "in use";
  std::ofstream(folder + "/.caseledger-bench");
  // This test holds the folder's lock as a running bench does.
  const int held = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  CliRun run = RunBenchIn(folder, scratch);
  EXPECT_EQ(run.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("another caseledger_bench run is using "
                                 "--workdir " +
                                 folder));
  EXPECT_EQ(FileContents(folder + "/fixture-0/CURRENT"), "in use");
  ::close(held);
  // Once that run is gone, its folder is taken as any it left.
  EXPECT_EQ(RunBenchIn(folder, scratch).code, 0);
  EXPECT_FALSE(std::filesystem::exists(folder));
}

// The memory check runs each operation in a child started through the
// shell; a quote in the folder's name ended the quoting, and the child
// never started ("error: the child failed").
TEST(BenchWorkdirTest, AFolderNamedWithAQuoteHoldsTheMemoryCheck) {
  TempFolder scratch;
  CliRun run = RunCli(
      CASELEDGER_BENCH,
      absl::StrCat("--quick --fixture_events=2000 --benchmark_repetitions=1 "
                   "--benchmark_filter=BM_Verify/ \"--workdir=",
                   scratch.Sub("it's a bench"), "\""),
      scratch);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("Verify of 2.0k events in < 512 MiB "
                                 "resident: "));
  EXPECT_THAT(run.out, Not(HasSubstr("the child failed")));
  EXPECT_THAT(run.out, HasSubstr("MiB peak RSS; ratio"));
}

TEST(BenchWorkdirTest, HelpNamesOurFlagsAndLeavesNoFolderBehind) {
  TempFolder scratch;
  const std::string tmp = scratch.Sub("tmp");
  std::filesystem::create_directories(tmp);
  CliRun run = RunCli(WithEnvironment({{"TMPDIR", tmp}}, CASELEDGER_BENCH),
                      "--help", scratch);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\n  --workdir=DIR "));
  EXPECT_THAT(run.out, HasSubstr("--benchmark_filter"));
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
}

// Taken for an empty file, a report that could not be read was replaced by
// the skeleton of a new one, and the page's hand-written text was lost.
// A negative count of repetitions went on to Google Benchmark, which
// aborted (std::length_error).
TEST(BenchFlagsTest, ABadNumberIsRefusedNamingItsFlag) {
  TempFolder scratch;
  for (const char* given : {"--repetitions=-3", "--repetitions=0",
                            "--fixture_events=0", "--memory_events=ten"}) {
    CliRun run = RunCli(
        CASELEDGER_BENCH,
        absl::StrCat("--quick ", given, " --workdir=", scratch.Sub("work"),
                     " --benchmark_filter=NoSuchBenchmark"),
        scratch);
    EXPECT_EQ(run.code, 2) << given << ": " << run.err;
    EXPECT_THAT(run.err, HasSubstr(absl::StrCat(
                             given, ": give a whole number of at least")));
    EXPECT_FALSE(std::filesystem::exists(scratch.Sub("work"))) << given;
  }
}

TEST(BenchReportFileTest, AReportThatCannotBeReadIsLeftAsItIs) {
  TempFolder scratch;
  const std::string report = scratch.Sub("performance.md");
  std::ofstream(report) << "hand-written\n";
  auto environment = Preloading(CASELEDGER_READ_FAILS);
  environment.emplace_back("CASELEDGER_TEST_FAIL_READ_OF", "/performance.md");
  CliRun run = RunCli(WithEnvironment(environment, CASELEDGER_BENCH),
                      absl::StrCat("--workdir=", scratch.Sub("work"),
                                   " --report=", report, kNoBenchmark),
                      scratch);
  EXPECT_EQ(run.code, 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("cannot read " + report +
                                 ": Input/output error; the report was not "
                                 "written"));
  EXPECT_EQ(FileContents(report), "hand-written\n");
  EXPECT_FALSE(std::filesystem::exists(report + ".tmp"));
}

TEST(LoadGeneratorCliTest, HelpPrintsEveryFlagAndExitsZero) {
  TempFolder scratch;
  CliRun run = RunCli(CASELEDGER_LOAD_GENERATOR, "--help", scratch);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  for (const char* flag :
       {"--embedded", "--server HOST:PORT", "--token-file F", "--tls-ca F",
        "--clients N", "--seconds S", "--batch N[,N...]", "--subscribers N",
        "--subscribe-case CASE", "--pubkey F", "--target-file F"}) {
    EXPECT_THAT(run.out, HasSubstr(flag));
  }
}

TEST(LoadGeneratorCliTest, AnUnknownFlagExitsTwoWithTheUsage) {
  TempFolder scratch;
  CliRun run = RunCli(CASELEDGER_LOAD_GENERATOR, "--bogus", scratch);
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("unknown argument --bogus\nusage: "));
  EXPECT_EQ(run.out, "");
}

}  // namespace
}  // namespace caseledger::testing
