// What the benchmark suites share: the run's settings, scratch folders, and
// the read fixture (a ledger of many events built once per run).
//
// Thread safety: Settings() is written once by main() before any benchmark
// runs; ReadFixture() builds the fixture on first use and is thread-safe.
#ifndef CASELEDGER_BENCH_BENCH_COMMON_H_
#define CASELEDGER_BENCH_BENCH_COMMON_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ledger/ledger.h"

namespace caseledger::bench {

struct RunSettings {
  // Scratch space for every database of the run; removed at exit.
  std::string workdir;
  // Events in the read fixture (BM_RawIterate, BM_Verify, BM_ReadCase).
  uint64_t fixture_events = 1000000;
  // Events per case in the read fixture.
  uint64_t case_length = 200;
  // Minimum seconds per repetition of the write benchmarks.
  double write_min_time = 1.0;
  // Read-case calls per repetition of BM_ReadCase.
  int read_case_calls = 1000;
};
RunSettings& Settings();

// A new empty folder under the run's workdir.
std::string NewScratchDir(const std::string& name);

// The read fixture: a closed ledger of Settings().fixture_events events in
// cases of Settings().case_length events, written with LedgerOptions.sync =
// false in batches of 1000 by two appenders (the bulk-load mode; durability
// of the fixture is irrelevant), then reopened once so that RocksDB's
// recovery writes the last memtables to SST files, as in a ledger that has
// been running for a while.
struct ReadFixture {
  std::string dir;        // the ledger folder
  std::string store_dir;  // its RocksDB folder
  uint64_t events = 0;
  std::vector<std::string> case_ids;
  absl::Duration build_time;
  double build_events_per_second = 0;
};
// Builds the fixture on first call (not timed by any benchmark); aborts the
// run when it cannot be built.
const ReadFixture& GetReadFixture();

// Builds a ledger of `events` events in `dir` as described for ReadFixture.
absl::StatusOr<ReadFixture> BuildLedger(const std::string& dir, uint64_t events,
                                        uint64_t case_length);

// Values for the report's "machine" section, filled in as the suites learn
// them (library versions, fixture build time, memory checks).
void NoteFact(const std::string& key, const std::string& value);
std::vector<std::pair<std::string, std::string>> Facts();

// Registers `close` to run after the last benchmark, before the scratch
// folder is removed (to close the databases the suites keep open).
void AtRunEnd(std::function<void()> close);
// Runs the registered functions, last registered first.
void RunEndHooks();

// The p-th percentile (0 < p <= 100) of `values` (sorted in place).
double Percentile(std::vector<double>& values, double p);

// Peak resident memory of this process, in KiB (VmHWM).
uint64_t PeakRssKib();

// CPU time (user and system) of every thread of this process so far.
double ProcessCpuSeconds();

// Registration of each suite, in the order they should run.
void RegisterBaselineBenchmarks();
void RegisterLedgerBenchmarks();
void RegisterBundleBenchmarks();
void RegisterProjectionBenchmarks();

}  // namespace caseledger::bench

#endif  // CASELEDGER_BENCH_BENCH_COMMON_H_
