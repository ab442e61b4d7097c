// Pins the verdicts that bench/report writes into docs/performance.md and
// that people read instead of the raw numbers: which median is compared, how
// a ratio near its requirement is printed, whether a target is met, what an
// errored or missing benchmark shows, the memory checks, the ceilings, and
// that rewriting the document keeps every hand-written byte outside the
// generated section. Results are built by hand: no benchmark runs.
#include "bench/report.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kOneAppender[] =
    "1 appender >= 0.9 x RocksDB synced put, 1 thread";
// The Ceilings section names the target without its thread count.
constexpr char kOneAppenderCeiling[] = "1 appender >= 0.9 x RocksDB synced put";
constexpr char kVerify[] = "Verify >= 0.5 x raw iterate";
constexpr char kBatches[] =
    "batches of 100 >= 0.8 x ledger-shaped RocksDB write";
constexpr char kReadCase[] = "ReadCase (200-event case) p99 < 1 ms";
constexpr char kCeilings[] = "Ceilings (same run):\n";
constexpr uint64_t kTenMillion = 10000000;

class BenchReportTest : public ::testing::Test {
 protected:
  // Adds benchmark `name` with one repetition per value of `counter`.
  void Add(const std::string& name, const std::string& counter,
           const std::vector<double>& values) {
    BenchResult& r = input_.results[name];
    r.name = name;
    for (double v : values) r.reps.push_back({{counter, v}});
  }
  void AddRate(const std::string& name, const std::vector<double>& values) {
    Add(name, "items_per_second", values);
  }
  // The 1-appender target against a baseline of 5000 events/s.
  void AddOneAppender(const std::vector<double>& ledger_rates) {
    AddRate("BM_LedgerAppend/threads:1", ledger_rates);
    AddRate("BM_RocksDBSyncPut/threads:1", {5000, 5000, 5000});
  }
  // Expects the 1-appender target's ratio text and verdict for these rates.
  void ExpectOneAppender(const std::vector<double>& ledger_rates,
                         const std::string& ratio, const std::string& met) {
    AddOneAppender(ledger_rates);
    const std::string line = TargetLine(kOneAppender);
    EXPECT_THAT(line, HasSubstr("ratio " + ratio + " "));
    EXPECT_THAT(line, HasSubstr("met: " + met));
  }
  void AddMemory(uint64_t events, double peak_mib,
                 const std::string& what = "Verify") {
    MemoryCheck check;
    check.what = what;
    check.events = events;
    check.seconds = 10;
    check.peak_rss_kib = static_cast<uint64_t>(peak_mib * 1024);
    input_.memory.push_back(check);
  }

  // The summary line of target `label` (targets and ceilings share labels,
  // so each is looked up in its own section).
  std::string TargetLine(const std::string& label) const {
    const std::string summary = TargetSummary(input_);
    return LineIn(summary.substr(0, summary.find(kCeilings)), label);
  }
  // The verify ceiling's line, raw iteration at `iterate` events/s and both
  // of the ceiling's floors (hashing, compared index scan) at `floors`.
  std::string VerifyCeilingWith(double iterate, double floors) {
    AddRate("BM_RawIterate", {iterate});
    AddRate("BM_VerifyHashFloor", {floors});
    AddRate("BM_IndexTallyFloor", {floors});
    return CeilingLine(kVerify);
  }
  std::string CeilingLine(const std::string& label) const {
    return LineIn(Ceilings(), label);
  }
  bool HasCeilingLine(const std::string& label) const {
    return Ceilings().find("\n  " + label + ": ") != std::string::npos;
  }

  // The whole document WriteReport makes of `input_` from nothing.
  std::string WrittenReport() const {
    caseledger::testing::TempFolder folder;
    const std::string path = folder.Sub("performance.md");
    absl::Status written = WriteReport(path, input_);
    if (!written.ok()) return written.ToString();
    return caseledger::testing::FileContents(path);
  }

  ReportInput input_;

 private:
  std::string Ceilings() const {
    const std::string summary = TargetSummary(input_);
    return summary.substr(summary.find(kCeilings));
  }
  static std::string LineIn(const std::string& text, const std::string& label) {
    const size_t start = text.find("\n  " + label + ": ");
    // A failure, not text to match: the whole summary, returned in its
    // place, held another line's words and passed (found by a mutation).
    if (start == std::string::npos) {
      ADD_FAILURE() << "no line for " << label << " in\n" << text;
      return "";
    }
    return text.substr(start + 1, text.find('\n', start + 1) - start - 1);
  }
};

TEST_F(BenchReportTest, MedianOfRepetitionsIsCompared) {
  // Mean (1.10), best (1.80) or worst (0.60) would all read differently;
  // 0.897 also needs a third decimal not to read as "0.90".
  ExpectOneAppender({9000, 3000, 4485}, "0.897", "**no**");
}

TEST_F(BenchReportTest, MedianOfAnEvenNumberOfRepetitionsIsTheMiddleTwosMean) {
  // 4500, between 4000 and 5000; either of them alone would read 0.80 or 1.00.
  ExpectOneAppender({9000, 3000, 5000, 4000}, "0.900", "yes");
}

// The best column pairs the best repetition of each side (4800 / 6000), and
// the requirement is stated in events/s of the baseline's median (0.9 x
// 5200).
TEST_F(BenchReportTest, BestColumnAndRequirementAreEachSidesOwn) {
  AddRate("BM_LedgerAppend/threads:1", {4000, 4500, 4800});
  AddRate("BM_RocksDBSyncPut/threads:1", {5000, 5200, 6000});
  const std::string line = TargetLine(kOneAppender);
  EXPECT_THAT(line, HasSubstr("ratio 0.87 (best repetitions 0.80;"));
  EXPECT_THAT(line, HasSubstr("required >= 0.90 (4.7k events/s); met: **no**"));
}

TEST_F(BenchReportTest, RatioClearOfItsRequirementHasTwoDecimals) {
  ExpectOneAppender({4750, 4750, 4750}, "0.95", "yes");
}

TEST_F(BenchReportTest, RatioExactlyOnItsRequirementHasThreeDecimalsAndIsMet) {
  // 4500 / 5000 is exactly 0.9 in doubles: on the line counts as met.
  ExpectOneAppender({4500, 4500, 4500}, "0.900", "yes");
}

TEST_F(BenchReportTest, PairedColumnIsMedianOfPairedRatioCounter) {
  AddOneAppender({4500, 4500, 4500});
  Add("BM_Paired/size:1", "ratio", {2.0, 0.5, 0.93});  // mean 1.14
  EXPECT_THAT(TargetLine(kOneAppender), HasSubstr("paired 0.93)"));
}

TEST_F(BenchReportTest, AnErroredPairedBenchmarkGivesNoPairedRatio) {
  AddOneAppender({4500, 4500, 4500});
  Add("BM_Paired/size:1", "ratio", {0.93});
  input_.results["BM_Paired/size:1"].error = "disk full";
  EXPECT_THAT(TargetLine(kOneAppender), HasSubstr("paired -)"));
}

TEST_F(BenchReportTest, RateCountersReadAsRatesInTheTableOfAllBenchmarks) {
  Add("BM_Paired/size:100", "ledger_events_per_s", {71881.4});
  input_.results["BM_Paired/size:100"].reps.front()["ratio"] = 0.81598;
  EXPECT_THAT(WrittenReport(),
              HasSubstr("| BM_Paired/size:100 | - | - | - | "
                        "ledger_events_per_s 71.9k, ratio 0.816 |"));
}

// The rate is its own column, not repeated among the other counters.
TEST_F(BenchReportTest, TheTableOfAllBenchmarksShowsEachCounterOnce) {
  AddRate("BM_ReadCase", {2000});
  input_.results["BM_ReadCase"].reps.front()["p99_ms"] = 0.5;
  EXPECT_THAT(WrittenReport(),
              HasSubstr("| BM_ReadCase | 2.0k | 2.0k | 2.0k | p99_ms 0.5 |"));
}

TEST_F(BenchReportTest, AnErroredBenchmarkHasOneRowSayingItsError) {
  input_.results["BM_Verify"].error = "fixture missing";
  const std::string report = WrittenReport();
  EXPECT_THAT(report, HasSubstr("| BM_Verify | error: fixture missing |"));
  EXPECT_THAT(report, Not(HasSubstr("| BM_Verify | - |")));
}

TEST_F(BenchReportTest, TheMemoryTableGivesEachChecksRate) {
  AddMemory(kTenMillion, 264);  // in 10 s
  EXPECT_THAT(WrittenReport(),
              HasSubstr("| Verify | 10000000 | 264 MiB | 10.0 s | 1.00M |"));
}

// What Google Benchmark reports is kept as it ran: each repetition's
// counters, no aggregate among them (a mean of 100 would move the median),
// and an error without the counters of the run that failed.
TEST_F(BenchReportTest, CollectingReporterKeepsEachRepetitionOnly) {
  auto run = [](const std::string& name, double items_per_second) {
    benchmark::BenchmarkReporter::Run r;
    r.run_name.function_name = name;
    r.counters["items_per_second"] = items_per_second;
    return r;
  };
  std::vector<benchmark::BenchmarkReporter::Run> runs = {
      run("BM_Verify", 1), run("BM_Verify", 3), run("BM_Verify", 100),
      run("BM_Rebuild", 5)};
  runs[2].run_type = benchmark::BenchmarkReporter::Run::RT_Aggregate;
  runs[2].aggregate_name = "mean";
  runs[3].error_occurred = true;
  runs[3].error_message = "fixture missing";
  CollectingReporter reporter;
  std::ostringstream console;
  reporter.SetOutputStream(&console);
  reporter.SetErrorStream(&console);
  reporter.ReportRuns(runs);

  const BenchResult& verify = reporter.results().at("BM_Verify");
  EXPECT_EQ(verify.reps.size(), 2u);
  EXPECT_EQ(verify.Median("items_per_second"), 2);
  const BenchResult& rebuild = reporter.results().at("BM_Rebuild");
  EXPECT_EQ(rebuild.error, "fixture missing");
  EXPECT_TRUE(rebuild.reps.empty());
}

TEST_F(BenchReportTest, ReadCaseP99UnderOneMillisecondIsMet) {
  Add("BM_ReadCase", "p99_ms", {0.39});
  EXPECT_THAT(TargetLine(kReadCase), HasSubstr("0.390 ms"));
  EXPECT_THAT(TargetLine(kReadCase), HasSubstr("met: yes"));
}

TEST_F(BenchReportTest, ReadCaseP99OverOneMillisecondIsNotMet) {
  Add("BM_ReadCase", "p99_ms", {1.2});
  EXPECT_THAT(TargetLine(kReadCase), HasSubstr("met: **no**"));
}

TEST_F(BenchReportTest, ReadCaseP99OfExactlyOneMillisecondIsNotMet) {
  Add("BM_ReadCase", "p99_ms", {1.0});
  EXPECT_THAT(TargetLine(kReadCase), HasSubstr("met: **no**"));
}

// For a time, the best repetition is the lowest.
TEST_F(BenchReportTest, ReadCaseBestIsTheLowestP99) {
  Add("BM_ReadCase", "p99_ms", {0.8, 0.39, 0.5});
  EXPECT_THAT(TargetLine(kReadCase),
              HasSubstr("0.500 ms; ratio 0.50 (best repetitions 0.39;"));
}

TEST_F(BenchReportTest, ErroredBenchmarkShowsItsMessage) {
  AddRate("BM_RawIterate", {1e6});
  input_.results["BM_Verify"].error = "fixture missing";
  EXPECT_THAT(TargetLine(kVerify), HasSubstr("met: error: fixture missing"));
}

TEST_F(BenchReportTest, TargetWithoutItsBaselineIsNotRun) {
  AddRate("BM_Verify", {1e6});
  EXPECT_THAT(TargetLine(kVerify), HasSubstr("met: not run"));
}

TEST_F(BenchReportTest, TargetWhoseBaselineErredIsNotRun) {
  AddRate("BM_Verify", {1e6});
  AddRate("BM_RawIterate", {1e6});
  input_.results["BM_RawIterate"].error = "fixture missing";
  const std::string line = TargetLine(kVerify);
  EXPECT_THAT(line, HasSubstr("ratio -"));
  EXPECT_THAT(line, HasSubstr("met: not run"));
}

TEST_F(BenchReportTest, VerifyOfTenMillionEventsUnder512MiBIsMet) {
  AddMemory(kTenMillion, 264);
  const std::string line =
      TargetLine("Verify of 10.00M events in < 512 MiB resident");
  EXPECT_THAT(line, HasSubstr("264 MiB peak RSS"));
  EXPECT_THAT(line, HasSubstr("met: yes"));
  EXPECT_THAT(line, Not(HasSubstr("not the 10M-event target")));
}

TEST_F(BenchReportTest, VerifyOver512MiBIsNotMet) {
  AddMemory(kTenMillion, 600);
  EXPECT_THAT(TargetLine("Verify of 10.00M events in < 512 MiB resident"),
              HasSubstr("met: **no**"));
}

TEST_F(BenchReportTest, VerifyOfExactly512MiBIsNotMet) {
  AddMemory(kTenMillion, 512);
  EXPECT_THAT(TargetLine("Verify of 10.00M events in < 512 MiB resident"),
              HasSubstr("met: **no**"));
}

TEST_F(BenchReportTest, RebuildOfTenMillionEventsIsJudgedToo) {
  AddMemory(kTenMillion, 600, "Rebuild");
  EXPECT_THAT(TargetLine("Rebuild of 10.00M events in < 512 MiB resident"),
              HasSubstr("600 MiB peak RSS; ratio 1.17"));
}

TEST_F(BenchReportTest, MemoryOfSmallLedgerSaysItIsNotTheTarget) {
  AddMemory(5000000, 40);
  EXPECT_THAT(TargetLine("Verify of 5.00M events in < 512 MiB resident"),
              HasSubstr("met: yes (not the 10M-event target: a smaller "
                        "ledger, the fixture of --quick or the size "
                        "--memory_events gave)"));
}

TEST_F(BenchReportTest, NoMemoryChecksSaysWhichFlagsSkipThem) {
  for (const char* what : {"Verify", "Rebuild"}) {
    EXPECT_THAT(
        TargetLine(absl::StrCat(what, " of 10M events in < 512 MiB resident")),
        HasSubstr("met: not run (no 10M-event ledger in this run: "
                  "--quick, or --memory_events=0)"));
  }
}

// The verify ceiling scales with the machine's cores; rates a billion
// apart keep the verdict the same on 1 core or 1000.
TEST_F(BenchReportTest, VerifyCeilingBelowRequirementIsUnreachable) {
  EXPECT_THAT(VerifyCeilingWith(/*iterate=*/1e9, /*floors=*/1),
              HasSubstr("**unreachable here**"));
}

TEST_F(BenchReportTest, VerifyCeilingAboveRequirementIsReachable) {
  EXPECT_THAT(VerifyCeilingWith(/*iterate=*/1, /*floors=*/1e9),
              HasSubstr("reachable in principle"));
}

// Hashing 2 us, the indexes read in 1 us and compared in 2: the ceiling
// charges the comparison (4 us per event), and says what reading alone would
// allow (3 us).
TEST_F(BenchReportTest, VerifyCeilingChargesComparingTheIndexes) {
  AddRate("BM_RawIterate", {1e6});
  AddRate("BM_VerifyHashFloor", {5e5});
  AddRate("BM_RawIterateIndexes", {1e6});
  AddRate("BM_IndexTallyFloor", {5e5});
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string line = CeilingLine(kVerify);
  EXPECT_THAT(line,
              HasSubstr(absl::StrFormat("%.2f x raw iterate;", cores / 4.0)));
  EXPECT_THAT(
      WrittenReport(),
      HasSubstr(absl::StrFormat(
          "nothing compared (`BM_RawIterateIndexes`): %.2f x", cores / 3.0)));
}

// The index scan alone is no ceiling: a verify must compare what it reads.
TEST_F(BenchReportTest, VerifyCeilingNeedsTheComparedIndexScan) {
  AddRate("BM_RawIterate", {1e6});
  AddRate("BM_VerifyHashFloor", {5e5});
  AddRate("BM_RawIterateIndexes", {1e6});
  EXPECT_FALSE(HasCeilingLine(kVerify));
}

// Scan 1 us, hashing 2 us, compared indexes 1 us, decoding 1 us more than
// the scan: on any number of cores the decoded figure is 3/4 of the ceiling.
TEST_F(BenchReportTest, VerifyCeilingSaysWhatDecodingEveryEventWouldLeave) {
  AddRate("BM_RawIterate", {1e6});
  AddRate("BM_VerifyHashFloor", {5e5});
  AddRate("BM_IndexTallyFloor", {1e6});
  AddRate("BM_ForEach", {5e5});
  const std::string line = CeilingLine(kVerify);
  EXPECT_THAT(WrittenReport(),
              HasSubstr("(`BM_ForEach` beyond `BM_RawIterate`: 1.00 us per "
                        "event on one core)"));
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_THAT(WrittenReport(), HasSubstr(absl::StrFormat(
                                   "= %.2f x raw iterate |", cores / 3.0)));
  EXPECT_THAT(WrittenReport(),
              HasSubstr(absl::StrFormat("%.2f x raw iterate", cores / 4.0)));
  // The verdict stays the ceiling's.
  EXPECT_THAT(line,
              HasSubstr(absl::StrFormat("%.2f x raw iterate;", cores / 3.0)));
}

TEST_F(BenchReportTest, RawScanP99OverOneMillisecondMakesReadCaseUnreachable) {
  Add("BM_ReadCaseRawScan", "p99_ms", {1.3});
  EXPECT_THAT(CeilingLine("ReadCase p99 < 1 ms"),
              HasSubstr("p99 1.30 ms; **unreachable here**"));
}

TEST_F(BenchReportTest, SixtyFourAppendersCeilingIsTheRawGroupCommit) {
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {28000});
  AddRate("BM_LedgerAppend/threads:64", {21000});
  EXPECT_THAT(CeilingLine("64 appenders >= 30,000 events/s"),
              HasSubstr("28.0k events/s; **unreachable here** (ceiling 0.93 "
                        "of the requirement); the ledger reaches 0.75"));
}

TEST_F(BenchReportTest,
       SixtyFourAppendersCeilingQuotesRocksDBOnlyWhenMeasured) {
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {28000});
  EXPECT_THAT(WrittenReport(),
              Not(HasSubstr("`BM_RocksDBSyncPut/threads:64`")));
  AddRate("BM_RocksDBSyncPut/threads:64", {22500});
  EXPECT_THAT(WrittenReport(),
              HasSubstr("(`BM_RocksDBSyncPut/threads:64`): 22.5k events/s"));
}

TEST_F(BenchReportTest,
       SixtyFourAppendersCeilingOverThirtyThousandIsReachable) {
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {45000});
  EXPECT_THAT(CeilingLine("64 appenders >= 30,000 events/s"),
              HasSubstr("reachable in principle (ceiling 1.50"));
}

TEST_F(BenchReportTest, CeilingExactlyOnTheRequirementIsReachable) {
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {30000});
  EXPECT_THAT(
      CeilingLine("64 appenders >= 30,000 events/s"),
      HasSubstr("30.0k events/s; reachable in principle (ceiling 1.00"));
}

TEST_F(BenchReportTest, AnErroredBenchmarkIsNoCeiling) {
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {45000});
  input_.results["BM_RawGroupCommit/whole_groups:1/threads:64"].error =
      "timed out";
  EXPECT_FALSE(HasCeilingLine("64 appenders >= 30,000 events/s"));
}

// The design's ceiling is the better of its two ways of grouping, whichever
// measured it.
TEST_F(BenchReportTest, SixteenAppendersCeilingIsTheBetterGrouping) {
  for (const bool whatever_waits_is_better : {true, false}) {
    input_ = {};
    AddRate("BM_RocksDBSyncPut/threads:16", {20000});
    AddRate("BM_RocksDBLedgerShaped/size:16", {40000});
    AddRate("BM_RawGroupCommit/whole_groups:1/threads:16",
            {whatever_waits_is_better ? 30000.0 : 24000.0});
    AddRate("BM_RawGroupCommit/whole_groups:16/threads:16",
            {whatever_waits_is_better ? 24000.0 : 30000.0});
    EXPECT_THAT(CeilingLine("16 appenders >= 1.5 x RocksDB synced put"),
                HasSubstr("30.0k events/s = 1.50 x the baseline"))
        << "whole_groups:" << (whatever_waits_is_better ? 1 : 16)
        << " the better";
  }
}

TEST_F(BenchReportTest, SixtyFourAppendersCeilingQuotesTheDesignWithCopies) {
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {34000});
  AddRate("BM_RawGroupCommitWithCopies/whole_groups:1/threads:64", {32000});
  AddRate("BM_LedgerAppend/threads:64", {24000});
  EXPECT_THAT(
      WrittenReport(),
      HasSubstr("(`BM_RawGroupCommitWithCopies/whole_groups:1/threads:64`): "
                "32.0k events/s, the ledger 0.75 of it"));
  // The verdict stays the design's without the copies.
  EXPECT_THAT(CeilingLine("64 appenders >= 30,000 events/s"),
              HasSubstr("reachable in principle (ceiling 1.13"));
}

TEST_F(BenchReportTest, OneAppenderCeilingQuotesTheRawCopiesPairedWithThePut) {
  AddOneAppender({4500});
  AddRate("BM_RocksDBLedgerShaped/size:1", {5000});
  Add("BM_PairedRawCopies/size:1", "ratio", {0.95, 0.96, 0.97});
  Add("BM_Paired/size:1", "ratio", {0.912});
  EXPECT_THAT(WrittenReport(),
              HasSubstr("(`BM_PairedRawCopies/size:1`): 0.96 x the put, the "
                        "ledger's paired ratio 0.95 of it"));
}

// The batch ceiling: the raw write of the ledger's bytes (76k events/s,
// 0.95 x the shaped write) plus the append floor. A floor of 1e12 events/s
// costs nothing, whatever the cores.
TEST_F(BenchReportTest, BatchCeilingIsTheRawWriteOfTheLedgersBytes) {
  AddRate("BM_RocksDBLedgerShaped/size:100", {80000});
  AddRate("BM_RocksDBLedgerShapedWithCopies/size:100", {76000});
  AddRate("BM_AppendHashFloor", {1e12});
  AddRate("BM_LedgerAppendBatch/size:100", {38000});
  EXPECT_THAT(WrittenReport(),
              HasSubstr("(`BM_RocksDBLedgerShapedWithCopies/size:100`: 0.95 "
                        "x the shaped write)"));
  const std::string line = CeilingLine(kBatches);
  EXPECT_THAT(line, HasSubstr("76.0k events/s = 0.95 x the baseline"));
  EXPECT_THAT(line, HasSubstr("reachable in principle (ceiling 1.19 of the "
                              "requirement); the ledger reaches 0.50 of the "
                              "ceiling"));
}

// A floor of 20k events/s (50 us per event, over even 64 cores 0.8 us)
// brings the same raw write below the line.
TEST_F(BenchReportTest, BatchCeilingCountsTheWorkNoAppendCanSkip) {
  AddRate("BM_RocksDBLedgerShaped/size:100", {80000});
  AddRate("BM_RocksDBLedgerShapedWithCopies/size:100", {66000});
  AddRate("BM_AppendHashFloor", {20000});
  EXPECT_THAT(CeilingLine(kBatches), HasSubstr("**unreachable here**"));
}

// A floor as fast as the raw write, split over the cores: per event the
// write's time and 1/cores of it more. (On one core a floor that ignored
// the cores would read the same.)
TEST_F(BenchReportTest, BatchCeilingSplitsTheFloorOverTheCores) {
  AddRate("BM_RocksDBLedgerShaped/size:100", {80000});
  AddRate("BM_RocksDBLedgerShapedWithCopies/size:100", {80000});
  AddRate("BM_AppendHashFloor", {80000});
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_THAT(CeilingLine(kBatches),
              HasSubstr(absl::StrFormat("= %.2f x the baseline",
                                        cores / (cores + 1.0))));
}

TEST_F(BenchReportTest,
       BatchCeilingQuotesTheRawCopiesPairedWithTheShapedWrite) {
  AddRate("BM_RocksDBLedgerShaped/size:100", {80000});
  AddRate("BM_RocksDBLedgerShapedWithCopies/size:100", {76000});
  AddRate("BM_AppendHashFloor", {1e12});
  Add("BM_PairedRawCopies/size:100", "ratio", {0.90, 0.88, 0.86});
  Add("BM_PairedRawCopies/size:100", "baseline_events_per_s", {70000});
  Add("BM_Paired/size:100", "ratio", {0.77});
  AddOneAppender({4500});
  AddRate("BM_RocksDBLedgerShaped/size:1", {5000});
  const std::string report = WrittenReport();
  EXPECT_THAT(report,
              HasSubstr("shaped write: 0.88 x it), with the same floor: 0.88 "
                        "x the shaped write (the ledger's paired ratio: "
                        "0.77)"));
  // The one-appender row quotes only its own size.
  EXPECT_THAT(CeilingLine(kOneAppenderCeiling), HasSubstr("reachable"));
  EXPECT_THAT(report, Not(HasSubstr("x the put")));
}

TEST_F(BenchReportTest, MachineIsComparedWithTheIssuesFigures) {
  AddRate("BM_RawIterate", {1.2e6, 0.9e6, 1.5e6});
  const std::string report = WrittenReport();
  EXPECT_THAT(report, HasSubstr("| forward RocksDB scan | `BM_RawIterate` | "
                                "2.40M | 1.20M | 0.50 |"));
  // Only what the run measured is compared.
  EXPECT_THAT(report, Not(HasSubstr("`BM_Sha256ShortPrefetched`")));
}

TEST_F(BenchReportTest, RunWithoutTheIssuesMeasuresHasNoMachineComparison) {
  Add("BM_ReadCase", "p99_ms", {0.39});
  EXPECT_THAT(WrittenReport(), Not(HasSubstr("against the issue's")));
}

TEST_F(BenchReportTest, RunTableNamesTheCodeMeasuredWhenKnown) {
  EXPECT_THAT(WrittenReport(), Not(HasSubstr("| Source |")));
  input_.source = "`65263b9` (2026-12-01)";
  EXPECT_THAT(WrittenReport(),
              HasSubstr("| Source | `65263b9` (2026-12-01) |\n"));
}

// A quick run replaced the full run's section unmarked, under text that
// describes the full run (found by an outside reading).
TEST_F(BenchReportTest, APartialRunSaysItIsNotTheRecord) {
  EXPECT_THAT(WrittenReport(), Not(HasSubstr("not the record")));
  EXPECT_THAT(WrittenReport(), HasSubstr("\n### Targets\n"));
  for (const char* mode : {"--quick", "--benchmark_filter=Append"}) {
    input_.mode = mode;
    const std::string text = WrittenReport();
    EXPECT_THAT(text,
                HasSubstr(absl::StrCat("> **A partial run (`", mode,
                                       "`): not the results of record.**")));
    EXPECT_THAT(text,
                HasSubstr("\n### Targets (partial run: not the record)\n"));
  }
}

TEST_F(BenchReportTest, WriteReportReplacesOnlyTheTextBetweenTheMarkers) {
  caseledger::testing::TempFolder folder;
  const std::string path = folder.Sub("performance.md");
  // Trailing spaces, a tab and blank lines must survive as they are.
  const std::string before = "# Performance\n\nBy hand.  \n\tindented\n\n";
  const std::string after = "\n## Notes\n\nAlso by hand.\n";
  std::ofstream(path) << before << "<!-- bench/run: begin -->\nstale table\n"
                      << "<!-- bench/run: end -->\n"
                      << after;
  AddOneAppender({4500});

  ASSERT_OK(WriteReport(path, input_));
  const std::string text = caseledger::testing::FileContents(path);
  EXPECT_EQ(text.substr(0, before.size()), before);
  ASSERT_GE(text.size(), after.size());
  EXPECT_EQ(text.substr(text.size() - after.size()), after);
  EXPECT_THAT(text, Not(HasSubstr("stale table")));
  EXPECT_THAT(text, HasSubstr("| " + std::string(kOneAppender) + " |"));
  EXPECT_THAT(text, HasSubstr("<!-- bench/run: end -->\n" + after));
}

TEST_F(BenchReportTest, WriteReportCreatesDocumentWhenFileIsMissing) {
  caseledger::testing::TempFolder folder;
  const std::string path = folder.Sub("performance.md");

  ASSERT_OK(WriteReport(path, input_));
  const std::string text = caseledger::testing::FileContents(path);
  EXPECT_THAT(text, HasSubstr("# Performance\n"));
  EXPECT_THAT(text, HasSubstr("<!-- bench/run: begin -->"));
  EXPECT_THAT(text, HasSubstr("<!-- bench/run: end -->"));
}

// A document written by hand without the markers keeps every byte; the
// section is added after it.
TEST_F(BenchReportTest, WriteReportAddsTheSectionToADocumentWithoutMarkers) {
  caseledger::testing::TempFolder folder;
  const std::string path = folder.Sub("performance.md");
  const std::string by_hand = "# Performance\n\nBy hand.\n";
  std::ofstream(path) << by_hand;

  ASSERT_OK(WriteReport(path, input_));
  EXPECT_THAT(
      caseledger::testing::FileContents(path),
      StartsWith(by_hand + "\n## Latest results\n\n<!-- bench/run: begin"));
}

// An end marker before the begin marker encloses no section: nothing
// between them is taken for one, and nothing is written twice.
TEST_F(BenchReportTest, MarkersOutOfOrderEncloseNoSection) {
  caseledger::testing::TempFolder folder;
  const std::string path = folder.Sub("performance.md");
  std::ofstream(path) << "<!-- bench/run: end -->\nkept\n"
                      << "<!-- bench/run: begin -->\n";

  ASSERT_OK(WriteReport(path, input_));
  const std::string text = caseledger::testing::FileContents(path);
  EXPECT_THAT(text, StartsWith("<!-- bench/run: end -->\nkept\n"));
  EXPECT_EQ(text.find("kept"), text.rfind("kept"));
}

// The record of every run (docs/performance-history.md), with a row already
// in each table and text after them that must stay as it is.
constexpr char kHistory[] =
    "# Record\n\n"
    "| Date (UTC) | Source commit | Machine (Intel/AMD) | fdatasync/s | put/s "
    "| scan | 1 appender | 16 | SQLite | 64 | batches | verify | rebuild | "
    "p99 | MiB |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    "| 2026-12-04 16:35:37 | `391ebcd` | AMD | 4.5k | 3.2k | 976.5k | 0.75 "
    "(0.77) | 0.83 | 4.73 | 17.3k | 0.90 (0.77) | 0.11 | 249.8k | 1.300 | "
    "182 / 272 |\n"
    "\nA footnote.\n\n## Ceilings\n\n"
    "| Date | 1 appender | 16 appenders vs RocksDB | 16 vs SQLite | 64 "
    "appenders | batches of 100 | verify | ReadCase |\n"
    "|---|---|---|---|---|---|---|---|\n"
    "| 2026-12-04 16:35:37 UTC | 1.08 / 0.77 | 0.68 / 0.82 ᵘ | 1.93 / 0.82 | "
    "0.61 / 0.95 ᵘ | 1.48 / 0.76 | 0.71 / 0.31 ᵘ | 2.70 / x3.55 |\n"
    "\nAfter the ceilings.\n";

class RecordRunTest : public BenchReportTest {
 protected:
  RecordRunTest() {
    input_.mode = "full";
    input_.started_at = "2026-12-05 10:00:00 UTC";
    input_.source = "`abc1234` (2026-12-05)";
  }
  // The record after RecordRun, or its error.
  std::string Recorded(const std::string& before) {
    caseledger::testing::TempFolder folder;
    const std::string path = folder.Sub("performance-history.md");
    std::ofstream(path) << before;
    absl::Status recorded = RecordRun(path, input_);
    const std::string after = caseledger::testing::FileContents(path);
    if (!recorded.ok()) {
      EXPECT_EQ(after, before) << "a failed record changed the file";
      return recorded.ToString();
    }
    return after;
  }
};

TEST_F(RecordRunTest, AFullRunAddsItsRowsAfterEachTablesLastRow) {
  AddOneAppender({4500});
  Add("BM_Paired/size:1", "ratio", {0.93});
  AddRate("BM_RocksDBLedgerShaped/size:1", {5000});
  AddRate("BM_LedgerAppend/threads:64", {31000});
  AddRate("BM_RawGroupCommit/whole_groups:1/threads:64", {28000});
  Add("BM_ReadCase", "p99_ms", {0.43});
  Add("BM_ReadCaseRawScan", "p99_ms", {0.2});
  AddMemory(kTenMillion, 183);
  const std::string text = Recorded(kHistory);
  const std::string old_run = "182 / 272 |\n";
  EXPECT_THAT(text,
              HasSubstr(old_run + "| 2026-12-05 10:00:00 | `abc1234` | "));
  EXPECT_THAT(text, HasSubstr(" | - | 5.0k | - | 0.900 (0.93) | - | - | "
                              "31.0k | - | - | - | 0.430 | 183 / - |\n"
                              "\nA footnote.\n"));
  EXPECT_THAT(text, HasSubstr("2.70 / x3.55 |\n| 2026-12-05 10:00:00 UTC | "
                              "1.11 / 0.90 | - | - | 0.93 / 1.11 ᵘ | - | - | "
                              "5.00 / x2.15 |\n\nAfter the ceilings.\n"));
  EXPECT_EQ(
      text.substr(0, text.find(old_run)),
      std::string(kHistory).substr(0, std::string(kHistory).find(old_run)));
}

TEST_F(RecordRunTest, UncommittedChangesAreSaidInTheSourceCell) {
  input_.source = "`abc1234` (2026-12-05), with uncommitted changes";
  EXPECT_THAT(Recorded(kHistory),
              HasSubstr("| `abc1234` + uncommitted changes | "));
}

TEST_F(RecordRunTest, AQuickRunRecordsNothing) {
  input_.mode = "--quick";
  AddOneAppender({4500});
  EXPECT_EQ(Recorded(kHistory), kHistory);
}

TEST_F(RecordRunTest, AMemoryCheckThatFailedRecordsNoPeak) {
  AddMemory(kTenMillion, 183);
  AddMemory(kTenMillion, 250, "Rebuild");
  input_.memory.front().error = "out of disk";
  EXPECT_THAT(Recorded(kHistory), HasSubstr(" | - / 250 |\n"));
}

TEST_F(RecordRunTest, AMissingTableIsNamedAndNothingIsRecorded) {
  const std::string history(kHistory);
  const std::string runs_only = history.substr(0, history.find("## Ceilings"));
  EXPECT_THAT(Recorded(runs_only),
              HasSubstr("has no table whose header starts with `| Date | 1 "
                        "appender |`; nothing recorded"));
}

}  // namespace
}  // namespace caseledger::bench
