#include "bench/bench_common.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_events.h"

namespace caseledger::bench {
namespace {

absl::Mutex facts_mu;
std::vector<std::pair<std::string, std::string>>& FactList() {
  static auto* facts = new std::vector<std::pair<std::string, std::string>>;
  return *facts;
}

// Appends the events of cases `first`, `first + stride`, ... (each
// `case_length` long) in batches of about 1000 events, interleaving 50 cases
// per batch so that a case's events are spread over the log as in
// production (a case's 200 events over ~20,000 positions).
absl::Status AppendCases(Ledger& ledger, const std::vector<std::string>& ids,
                         size_t first, size_t stride, uint64_t case_length) {
  constexpr size_t kWindow = 50;
  constexpr uint64_t kBatch = 1000;
  const uint64_t per_case = std::max<uint64_t>(1, kBatch / kWindow);
  std::vector<size_t> mine;
  for (size_t i = first; i < ids.size(); i += stride) mine.push_back(i);
  for (size_t g = 0; g < mine.size(); g += kWindow) {
    std::vector<CaseScript> window;
    for (size_t k = g; k < std::min(mine.size(), g + kWindow); ++k) {
      window.emplace_back(ids[mine[k]]);
    }
    for (uint64_t done = 0; done < case_length; done += per_case) {
      std::vector<v1::Event> batch;
      batch.reserve(window.size() * per_case);
      // Round robin, one event of each case at a time, so that
      // consecutive events of a case are ~50 positions apart.
      for (uint64_t j = 0; j < per_case; ++j) {
        for (CaseScript& script : window) {
          if (script.produced() < case_length) batch.push_back(script.Next());
        }
      }
      if (batch.empty()) break;
      auto appended = ledger.Append(batch);
      if (!appended.ok()) return appended.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace

RunSettings& Settings() {
  static auto* settings = new RunSettings;
  return *settings;
}

std::string NewScratchDir(const std::string& name) {
  static std::atomic<int> counter{0};
  std::string dir =
      absl::StrCat(Settings().workdir, "/", name, "-", counter.fetch_add(1));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(),
                 ec.message().c_str());
    std::abort();
  }
  return dir;
}

absl::StatusOr<ReadFixture> BuildLedger(const std::string& dir, uint64_t events,
                                        uint64_t case_length) {
  ReadFixture fixture;
  fixture.dir = dir + "/ledger";
  fixture.store_dir = fixture.dir + "/store";
  uint64_t cases = std::max<uint64_t>(1, events / case_length);
  for (uint64_t c = 0; c < cases; ++c) {
    fixture.case_ids.push_back(absl::StrFormat("IMM-%07d", c));
  }
  fixture.events = cases * case_length;
  absl::Time start = absl::Now();
  {
    LedgerOptions options;
    options.sync = false;
    auto ledger = Ledger::Create(fixture.dir, "bench.example/fixture", options);
    if (!ledger.ok()) return ledger.status();
    // Two appenders: the callers' validation and hashing run beside the
    // sequencer, which is how a bulk import would use the ledger.
    absl::Status status[2];
    std::thread workers[2];
    for (int t = 0; t < 2; ++t) {
      workers[t] = std::thread([&, t] {
        status[t] = AppendCases(**ledger, fixture.case_ids, t, 2, case_length);
      });
    }
    for (auto& w : workers) w.join();
    for (auto& s : status) {
      if (!s.ok()) return s;
    }
    if ((*ledger)->Size() != fixture.events) {
      return absl::InternalError(
          absl::StrCat("fixture holds ", (*ledger)->Size(),
                       " events, expected ", fixture.events));
    }
  }
  fixture.build_time = absl::Now() - start;
  fixture.build_events_per_second = static_cast<double>(fixture.events) /
                                    absl::ToDoubleSeconds(fixture.build_time);
  {
    // Reopening for writing makes RocksDB's recovery write what was still
    // only in the WAL to SST files.
    auto reopened = Ledger::Open(fixture.dir);
    if (!reopened.ok()) return reopened.status();
  }
  return fixture;
}

const ReadFixture& GetReadFixture() {
  static const ReadFixture* fixture = [] {
    const RunSettings& s = Settings();
    std::fprintf(stderr, "building the read fixture: %llu events ...\n",
                 static_cast<unsigned long long>(s.fixture_events));
    auto built =
        BuildLedger(NewScratchDir("fixture"), s.fixture_events, s.case_length);
    if (!built.ok()) {
      std::fprintf(stderr, "cannot build the read fixture: %s\n",
                   built.status().ToString().c_str());
      std::abort();
    }
    std::fprintf(stderr, "built in %.1f s (%.0f events/s)\n",
                 absl::ToDoubleSeconds(built->build_time),
                 built->build_events_per_second);
    NoteFact(
        "Read fixture",
        absl::StrFormat("%d events in %d cases of %d, built in %.1f s (%.0f "
                        "events/s; sync=false, batches of 1000, 2 appenders)",
                        built->events, built->case_ids.size(), s.case_length,
                        absl::ToDoubleSeconds(built->build_time),
                        built->build_events_per_second));
    return new ReadFixture(*std::move(built));
  }();
  return *fixture;
}

void NoteFact(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&facts_mu);
  for (auto& [k, v] : FactList()) {
    if (k == key) {
      v = value;
      return;
    }
  }
  FactList().emplace_back(key, value);
}

std::vector<std::pair<std::string, std::string>> Facts() {
  absl::MutexLock lock(&facts_mu);
  return FactList();
}

namespace {
absl::Mutex hooks_mu;
std::vector<std::function<void()>>& Hooks() {
  static auto* hooks = new std::vector<std::function<void()>>;
  return *hooks;
}
}  // namespace

void AtRunEnd(std::function<void()> close) {
  absl::MutexLock lock(&hooks_mu);
  Hooks().push_back(std::move(close));
}

void RunEndHooks() {
  std::vector<std::function<void()>> hooks;
  {
    absl::MutexLock lock(&hooks_mu);
    hooks.swap(Hooks());
  }
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)();
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(
      std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

double ProcessCpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

uint64_t PeakRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  return 0;
}

}  // namespace caseledger::bench
