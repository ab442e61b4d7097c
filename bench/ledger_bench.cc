// The ledger through its public API: appends (one event per call from many
// threads, and batches), and the full-ledger reads (replay, verify, one
// case) over the read fixture.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_common.h"
#include "bench/bench_events.h"
#include "benchmark/benchmark.h"
#include "ledger/ledger.h"
#include "projections/deadline_index.h"

namespace caseledger::bench {
namespace {

uint64_t NextStream() {
  static std::atomic<uint64_t> next{0};
  return next.fetch_add(1);
}

// A writable ledger with the default options (synced appends, a signed
// checkpoint every 1000 entries), created on first use and kept for the run,
// so that it grows the way a production ledger does.
Ledger& AppendLedger(const char* name) {
  auto open = [](const char* n) {
    auto ledger = Ledger::Create(NewScratchDir(n) + "/ledger",
                                 absl::StrCat("bench.example/", n));
    if (!ledger.ok()) {
      std::fprintf(stderr, "cannot create a ledger: %s\n",
                   ledger.status().ToString().c_str());
      std::abort();
    }
    Ledger* raw = ledger->release();
    AtRunEnd([raw] { delete raw; });
    return raw;
  };
  if (std::string_view(name) == "append") {
    static Ledger* single = open("append");
    return *single;
  }
  static Ledger* batch = open("append-batch");
  return *batch;
}

// A ledger with LedgerOptions.sync = false: the bulk-load mode, whose rate
// is the CPU cost of the append path without the disk.
Ledger& BulkLedger() {
  static Ledger* ledger = [] {
    LedgerOptions options;
    options.sync = false;
    auto created = Ledger::Create(NewScratchDir("bulk") + "/ledger",
                                  "bench.example/bulk", options);
    if (!created.ok()) {
      std::fprintf(stderr, "cannot create a ledger: %s\n",
                   created.status().ToString().c_str());
      std::abort();
    }
    Ledger* raw = created->release();
    AtRunEnd([raw] { delete raw; });
    return raw;
  }();
  return *ledger;
}

// Reports how well the appends of a run shared syncs, and the CPU time the
// whole process spent per event (all threads, RocksDB's included): the cost
// of the append path that the disk's noise does not hide.
class AppendCounters {
 public:
  explicit AppendCounters(const Ledger& ledger)
      : ledger_(ledger),
        before_(ledger.GetStats()),
        cpu_before_(ProcessCpuSeconds()) {}
  void Report(benchmark::State& state) const {
    double cpu = ProcessCpuSeconds() - cpu_before_;
    Ledger::Stats after = ledger_.GetStats();
    uint64_t writes = after.writes - before_.writes;
    uint64_t events = after.events - before_.events;
    if (writes == 0 || events == 0) return;
    state.counters["events_per_sync"] =
        static_cast<double>(events) / static_cast<double>(writes);
    state.counters["cpu_us_per_event"] =
        cpu * 1e6 / static_cast<double>(events);
  }

 private:
  const Ledger& ledger_;
  Ledger::Stats before_;
  double cpu_before_;
};

// One realistic event per Append call (an event of the case script,
// ExpectedVersion::Any, caller-supplied event id); each thread works on its
// own cases, a new case every Settings().case_length events. Making the
// events (and freeing them) is the client's work, not the append's (the
// baseline builds its value before its loop): each thread makes them 256 at
// a time with its timer paused, which costs two pauses per 256 appends
// instead of a few microseconds of protobuf building in every one.
void BM_LedgerAppend(benchmark::State& state) {
  Ledger& ledger = AppendLedger("append");
  const uint64_t stream = NextStream();
  uint64_t case_number = 0;
  CaseScript script(absl::StrCat("A-", stream, "-", case_number));
  std::unique_ptr<AppendCounters> sharing;
  if (state.thread_index() == 0)
    sharing = std::make_unique<AppendCounters>(ledger);
  constexpr size_t kMadeAtOnce = 256;
  std::vector<std::vector<v1::Event>> made;
  size_t next = 0;
  for (auto _ : state) {
    if (next == made.size()) {
      state.PauseTiming();
      made.assign(kMadeAtOnce, {});
      for (std::vector<v1::Event>& one : made) {
        if (script.produced() == Settings().case_length) {
          script = CaseScript(absl::StrCat("A-", stream, "-", ++case_number));
        }
        one.push_back(script.Next());
      }
      next = 0;
      state.ResumeTiming();
    }
    auto appended = ledger.Append(made[next++]);
    if (!appended.ok()) {
      state.SkipWithError(appended.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (sharing) sharing->Report(state);
}

// One Append call of `size` events drawn round robin from ten cases, from
// one thread: the bulk path, one WriteBatch per call.
void AppendBatches(benchmark::State& state, Ledger& ledger) {
  const size_t size = static_cast<size_t>(state.range(0));
  RoundRobinCases cases(absl::StrCat("B-", NextStream(), "-"), 10,
                        Settings().case_length);
  AppendCounters sharing(ledger);
  std::vector<v1::Event> batch;
  batch.reserve(size);
  for (auto _ : state) {
    // Making the events, and freeing the last call's, is the client's work,
    // not the append's (the baseline builds its values before its loop
    // too); a pause costs about a microsecond against the millisecond of a
    // batch.
    state.PauseTiming();
    cases.Next(size, batch);
    state.ResumeTiming();
    auto appended = ledger.Append(batch);
    if (!appended.ok()) {
      state.SkipWithError(appended.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(size));
  sharing.Report(state);
}

void BM_LedgerAppendBatch(benchmark::State& state) {
  AppendBatches(state, AppendLedger("append-batch"));
}

// The same without syncing (the bulk-load mode): the CPU cost of the
// append path, free of the disk's noise.
void BM_LedgerBulkAppend(benchmark::State& state) {
  AppendBatches(state, BulkLedger());
}

// The read fixture opened read-only, as a reader process (or the server's
// read path) sees it.
const Ledger* OpenFixtureReadOnly() {
  LedgerOptions options;
  options.read_only = true;
  auto opened = Ledger::Open(GetReadFixture().dir, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open the read fixture: %s\n",
                 opened.status().ToString().c_str());
    std::abort();
  }
  const Ledger* raw = opened->release();
  AtRunEnd([raw] { delete raw; });
  return raw;
}

// For the full walks (replay, verify).
const Ledger& FixtureLedger() {
  static const Ledger* ledger = OpenFixtureReadOnly();
  return *ledger;
}

// For the point reads: an instance of its own, so that its block cache
// holds what a reader of cases keeps there, not what verify's index probes
// left (each open has its own cache).
const Ledger& FixtureLedgerForCases() {
  static const Ledger* ledger = OpenFixtureReadOnly();
  return *ledger;
}

// Replay: every event decoded, in order, through Ledger::ForEach.
void BM_ForEach(benchmark::State& state) {
  const Ledger& ledger = FixtureLedger();
  int64_t items = 0;
  for (auto _ : state) {
    uint64_t n = 0;
    absl::Status s = ledger.ForEach(1, [&](const RecordedEvent& e) {
      n += e.event_bytes.size() > 0;
      return absl::OkStatus();
    });
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    items += static_cast<int64_t>(n);
  }
  state.SetItemsProcessed(items);
}

// Ledger::Verify over the whole fixture (every digest, leaf, node, index and
// checkpoint).
void BM_Verify(benchmark::State& state) {
  const Ledger& ledger = FixtureLedger();
  int64_t items = 0;
  for (auto _ : state) {
    auto report = ledger.Verify();
    if (!report.ok()) {
      state.SkipWithError(report.status().ToString().c_str());
      break;
    }
    items += static_cast<int64_t>(report->entries);
  }
  state.SetItemsProcessed(items);
}

// A copy of the fixture opened for writing, for the projection rebuild
// (which stores the projection's state in the ledger). A copy, because a
// writer compacts and deletes files under the read-only instances.
Ledger& WritableFixture() {
  static Ledger* ledger = [] {
    std::string dir = NewScratchDir("fixture-writable") + "/ledger";
    std::error_code ec;
    std::filesystem::copy(GetReadFixture().dir, dir,
                          std::filesystem::copy_options::recursive, ec);
    if (ec) {
      std::fprintf(stderr, "cannot copy the read fixture: %s\n",
                   ec.message().c_str());
      std::abort();
    }
    auto opened = Ledger::Open(dir);
    if (!opened.ok()) {
      std::fprintf(stderr, "cannot open the read fixture for writing: %s\n",
                   opened.status().ToString().c_str());
      std::abort();
    }
    Ledger* raw = opened->release();
    AtRunEnd([raw] { delete raw; });
    return raw;
  }();
  return *ledger;
}

// Rebuild of every stored projection from the log. The deadline index is
// the only stored projection (projections/deadline_index.h: case state,
// deadlines and findings are folded from a case's events on demand), so
// this is DeadlineIndex::Rebuild: drop, then replay the whole log.
void BM_Rebuild(benchmark::State& state) {
  Ledger& ledger = WritableFixture();
  int64_t items = 0;
  for (auto _ : state) {
    auto applied = projections::DeadlineIndex::Rebuild(ledger);
    if (!applied.ok()) {
      state.SkipWithError(applied.status().ToString().c_str());
      break;
    }
    items += static_cast<int64_t>(*applied);
  }
  state.SetItemsProcessed(items);
}

// ReadCase of a whole case (Settings().case_length events) picked at random
// among the fixture's cases; reports the latency percentiles of the calls.
void BM_ReadCase(benchmark::State& state) {
  const Ledger& ledger = FixtureLedgerForCases();
  const std::vector<std::string>& cases = GetReadFixture().case_ids;
  static std::atomic<uint64_t> runs{0};
  std::mt19937_64 gen(42 + runs.fetch_add(1));
  std::uniform_int_distribution<size_t> pick(0, cases.size() - 1);
  std::vector<double> millis;
  millis.reserve(static_cast<size_t>(state.max_iterations));
  int64_t items = 0;
  for (auto _ : state) {
    const std::string& c = cases[pick(gen)];
    auto start = std::chrono::steady_clock::now();
    auto events = ledger.ReadCase(c);
    auto end = std::chrono::steady_clock::now();
    if (!events.ok()) {
      state.SkipWithError(events.status().ToString().c_str());
      break;
    }
    items += static_cast<int64_t>(events->size());
    millis.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  state.SetItemsProcessed(items);
  state.counters["p50_ms"] = Percentile(millis, 50);
  state.counters["p99_ms"] = Percentile(millis, 99);
  state.counters["max_ms"] = Percentile(millis, 100);
}

}  // namespace

void RegisterLedgerBenchmarks() {
  const double min_time = Settings().write_min_time;
  auto* append =
      benchmark::RegisterBenchmark("BM_LedgerAppend", BM_LedgerAppend);
  for (int threads : {1, 4, 16, 64}) append->Threads(threads);
  append->UseRealTime()->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_LedgerAppendBatch", BM_LedgerAppendBatch)
      ->ArgName("size")
      ->Arg(10)
      ->Arg(100)
      ->UseRealTime()
      ->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_LedgerBulkAppend", BM_LedgerBulkAppend)
      ->ArgName("size")
      ->Arg(1)
      ->Arg(1000)
      ->UseRealTime()
      ->MinTime(min_time);
  for (auto [name, fn] : {std::pair{"BM_ForEach", &BM_ForEach},
                          {"BM_Verify", &BM_Verify},
                          {"BM_Rebuild", &BM_Rebuild}}) {
    benchmark::RegisterBenchmark(name, fn)->Iterations(1)->UseRealTime()->Unit(
        benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("BM_ReadCase", BM_ReadCase)
      ->Iterations(Settings().read_case_calls)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace caseledger::bench
