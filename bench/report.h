// Collects the benchmark runs and writes docs/performance.md: the machine,
// the command, the median of the repetitions of every benchmark, and each
// target of the performance issue with its ratio and whether it is met.
//
// Thread safety: none; used by main() only.
#ifndef CASELEDGER_BENCH_REPORT_H_
#define CASELEDGER_BENCH_REPORT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"

namespace caseledger::bench {

// The repetitions of one benchmark instance (e.g. "BM_Verify/...").
struct BenchResult {
  std::string name;
  std::vector<std::map<std::string, double>> reps;  // counters per repetition
  std::string error;
  // Median over the repetitions of `counter`; 0 when absent.
  double Median(const std::string& counter) const;
  double Min(const std::string& counter) const;
  double Max(const std::string& counter) const;
};

// Shows progress on the console and keeps every repetition's counters
// (items_per_second, p99_ms, ...) by benchmark name.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;
  const std::map<std::string, BenchResult>& results() const { return results_; }

 private:
  std::map<std::string, BenchResult> results_;
};

// A measurement made outside Google Benchmark (peak memory of a child
// process verifying a large ledger).
struct MemoryCheck {
  std::string what;     // e.g. "Verify"
  uint64_t events = 0;  // ledger size
  double seconds = 0;   // wall time of the operation
  uint64_t peak_rss_kib = 0;
  std::string error;  // non-empty when it could not be measured
};

struct ReportInput {
  std::string command;  // how the run was started
  std::string source;   // the code measured (git commit), if known
  // "full", or what makes the run partial: "--quick", or the filter given
  // ("--benchmark_filter=Append"); a partial run's section says it is not
  // the record.
  std::string mode = "full";
  int repetitions = 0;
  std::string workdir;
  std::string started_at;
  std::string load_before;
  std::string load_after;
  std::map<std::string, BenchResult> results;
  std::vector<MemoryCheck> memory;
};

// Replaces the generated part of `path` (between the markers
// "<!-- bench/run: begin -->" and "<!-- bench/run: end -->") with the
// results, keeping everything else; writes a new document when `path` has
// no markers or does not exist.
absl::Status WriteReport(const std::string& path, const ReportInput& input);

// Adds a full run's rows to the record of every run at `path`
// (docs/performance-history.md): one to the table whose header starts
// "| Date (UTC) | Source commit |" (the machine's pace and each target's
// median), one to the table starting "| Date | 1 appender |" (each
// ceiling as a share of its requirement, and the ledger's share of it),
// each after the table's last row. A --quick run records nothing. Fails,
// leaving the file as it was, when either table is missing.
absl::Status RecordRun(const std::string& path, const ReportInput& input);

// The same results as plain text, for the console.
std::string TargetSummary(const ReportInput& input);

}  // namespace caseledger::bench

#endif  // CASELEDGER_BENCH_REPORT_H_
