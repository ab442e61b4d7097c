// caseledger_bench: the ledger's benchmarks with their baselines, and the
// writer of docs/performance.md. Usually started by bench/run.
//
// Its flags: kUsage below, which --help prints.
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_common.h"
#include "bench/report.h"
#include "benchmark/benchmark.h"
#include "ledger/internal/folder_lock.h"
#include "ledger/ledger.h"
#include "ledger/status_macros.h"
#include "projections/deadline_index.h"

namespace caseledger::bench {
namespace {

constexpr char kUsage[] =
    R"(usage: caseledger_bench [flags] [Google Benchmark flags]

The ledger's benchmarks with their baselines, and the writer of
docs/performance.md. Usually started by bench/run.

Flags of our own (everything else goes to Google Benchmark, below):
  --quick              100k-event fixture, 5 repetitions of 0.3 s, no
                       10M-event memory check (under three minutes)
  --workdir=DIR        scratch folder (default: a new folder in $TMPDIR),
                       emptied at start and removed at exit. DIR must be
                       new, empty, or one an earlier run left (it holds
                       .caseledger-bench) and no run still uses; any
                       other is refused, not emptied
  --report=FILE        rewrite the generated part of FILE (markdown)
  --history=FILE       add a full run's rows to the record of every run in
                       FILE (docs/performance-history.md); a --quick run,
                       or one with --benchmark_filter, adds none
  --command=TEXT       how the run was started, for the report
  --source=TEXT        the code measured (bench/run: its git commit)
  --fixture_events=N   events in the read fixture, in whole cases of 200
                       (default 1000000)
  --memory_events=N    ledger size for the memory check (default 10000000
                       in full mode; 0 skips it)
  --repetitions=N      repetitions per benchmark (default 9; quick 5)
  --child=verify|rebuild|foreach --dir=LEDGER
                       internal: run one operation on the ledger (opened
                       read-only except for rebuild) and print its peak
                       RSS (used for the memory check)

Google Benchmark's flags:
)";

void PrintUsage() {
  std::fputs(kUsage, stdout);
  benchmark::PrintDefaultHelp();
}

std::string LoadAverage() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return absl::StrFormat("%.2f / %.2f / %.2f", load[0], load[1], load[2]);
}

// Runs `what` on the ledger in `dir` opened read-only; prints
// "events=N seconds=S peak_rss_kib=K" on success.
int RunChild(const std::string& what, const std::string& dir) {
  LedgerOptions options;
  options.read_only = what != "rebuild";  // rebuild stores its projection
  auto ledger = Ledger::Open(dir, options);
  if (!ledger.ok()) {
    std::printf("error=%s\n", ledger.status().ToString().c_str());
    return 1;
  }
  absl::Time start = absl::Now();
  uint64_t events = 0;
  absl::Status status;
  if (what == "verify") {
    auto report = (*ledger)->Verify();
    status = report.status();
    if (report.ok()) events = report->entries;
  } else if (what == "rebuild") {
    auto applied = projections::DeadlineIndex::Rebuild(**ledger);
    status = applied.status();
    if (applied.ok()) events = *applied;
  } else if (what == "foreach") {
    status = (*ledger)->ForEach(1, [&](const RecordedEvent&) {
      ++events;
      return absl::OkStatus();
    });
  } else {
    status = absl::InvalidArgumentError(absl::StrCat("unknown child ", what));
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!status.ok()) {
    std::printf("error=%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("events=%llu seconds=%.3f peak_rss_kib=%llu\n",
              static_cast<unsigned long long>(events), seconds,
              static_cast<unsigned long long>(PeakRssKib()));
  return 0;
}

// `word` quoted for the shell: a folder named with a quote would otherwise
// end the quoting and the child would not start.
std::string ShellWord(const std::string& word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

MemoryCheck MeasureInChild(const std::string& what, const std::string& dir,
                           uint64_t events) {
  MemoryCheck check;
  check.what = what == "verify"    ? "Verify"
               : what == "rebuild" ? "Rebuild"
                                   : "ForEach (replay)";
  check.events = events;
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string command = absl::StrCat(ShellWord(self), " --child=", what,
                                     " --dir=", ShellWord(dir), " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    check.error = "cannot start the child process";
    return check;
  }
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  int rc = pclose(pipe);
  unsigned long long n = 0, kib = 0;
  double seconds = 0;
  const char* line = std::strstr(output.c_str(), "events=");
  if (rc != 0 || line == nullptr ||
      std::sscanf(line, "events=%llu seconds=%lf peak_rss_kib=%llu", &n,
                  &seconds, &kib) != 3) {
    check.error = output.empty() ? "the child failed" : output;
    while (!check.error.empty() && check.error.back() == '\n') {
      check.error.pop_back();
    }
    return check;
  }
  check.events = n;
  check.seconds = seconds;
  check.peak_rss_kib = kib;
  return check;
}

// The scratch folder of this run, locked while the run lasts.
struct Workdir {
  std::string path;
  internal::FolderLock lock;
};

// Takes `workdir`, or a new folder in $TMPDIR when it is empty, and empties
// it. A given folder that holds anything but what an earlier run left (its
// mark), or a file, is refused: emptying it could delete a user's files
// (--workdir=. would have removed the checkout). So is one that a run still
// holds locked: emptied, that run's ledgers would vanish under it.
absl::StatusOr<Workdir> ClaimWorkdir(std::string workdir) {
  namespace fs = std::filesystem;
  constexpr char kMark[] = ".caseledger-bench";
  std::error_code ec;
  if (workdir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/caseledger-bench-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make a folder ", pattern,
                       " for the run: ", std::strerror(errno)));
    }
    workdir = pattern;
  }
  const fs::file_status found = fs::status(workdir, ec);
  if (found.type() == fs::file_type::not_found) {
    ec.clear();
    fs::create_directories(workdir, ec);
  } else if (!ec && !fs::is_directory(found)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--workdir ", workdir, " is not a folder; give a new or empty one"));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot take --workdir ", workdir, ": ", ec.message()));
  }
  const std::string busy =
      absl::StrCat("another caseledger_bench run is using --workdir ", workdir,
                   "; wait for it or give another folder");
  CASELEDGER_ASSIGN_OR_RETURN(internal::FolderLock lock,
                              internal::FolderLock::Take(workdir, busy));
  const bool empty = fs::is_empty(workdir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot look into --workdir ", workdir, ": ", ec.message()));
  }
  if (!empty && !fs::exists(fs::path(workdir) / kMark, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--workdir ", workdir, " is not empty and no earlier run left it (it",
        " holds no ", kMark, "), so it is left as it is; give a new or",
        " empty folder"));
  }
  for (auto it = fs::directory_iterator(workdir, ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    fs::remove_all(it->path(), ec);
  }
  if (!ec) std::ofstream(fs::path(workdir) / kMark);
  if (ec || !fs::exists(fs::path(workdir) / kMark, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot empty --workdir ", workdir, ": ",
                     ec ? ec.message() : "its mark cannot be written"));
  }
  return Workdir{workdir, std::move(lock)};
}

bool Flag(const char* arg, const char* name, std::string* value) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

}  // namespace
}  // namespace caseledger::bench

int main(int argc, char** argv) {
  using namespace caseledger::bench;
  bool quick = false;
  std::string workdir, report, history, command, source, child, child_dir;
  std::string fixture_events, memory_events, repetitions;
  std::vector<char*> passthrough = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--quick") == 0) {
      quick = true;
    } else if (!Flag(a, "--workdir", &workdir) &&
               !Flag(a, "--report", &report) &&
               !Flag(a, "--history", &history) &&
               !Flag(a, "--command", &command) &&
               !Flag(a, "--source", &source) && !Flag(a, "--child", &child) &&
               !Flag(a, "--dir", &child_dir) &&
               !Flag(a, "--fixture_events", &fixture_events) &&
               !Flag(a, "--memory_events", &memory_events) &&
               !Flag(a, "--repetitions", &repetitions)) {
      passthrough.push_back(argv[i]);
    }
  }
  if (!child.empty()) return RunChild(child, child_dir);

  RunSettings& settings = Settings();
  // Many short repetitions, randomly interleaved: the shared disk switches
  // between fast and slow spells, and a median over many short samples
  // gives the baseline and the ledger the same mix of them.
  int reps = quick ? 5 : 9;
  uint64_t memory_check_events = quick ? 0 : 10000000;
  settings.fixture_events = quick ? 100000 : 1000000;
  settings.write_min_time = quick ? 0.3 : 0.5;
  settings.read_case_calls = 1000;
  // A flag not given keeps its default.
  auto take = [](const char* flag, const std::string& text, auto* value,
                 int least) {
    using Number = std::remove_pointer_t<decltype(value)>;
    if (text.empty() || (absl::SimpleAtoi(text, value) &&
                         *value >= static_cast<Number>(least))) {
      return true;
    }
    std::fprintf(stderr,
                 "caseledger_bench: %s=%s: give a whole number of at least "
                 "%d\n",
                 flag, text.c_str(), least);
    return false;
  };
  if (!take("--fixture_events", fixture_events, &settings.fixture_events, 1) ||
      !take("--memory_events", memory_events, &memory_check_events, 0) ||
      !take("--repetitions", repetitions, &reps, 1)) {
    return 2;
  }
  // Our defaults for Google Benchmark; flags given on the command line come
  // later and win.
  std::string reps_flag = absl::StrCat("--benchmark_repetitions=", reps);
  std::vector<char*> bm_argv = {
      passthrough[0], reps_flag.data(),
      const_cast<char*>("--benchmark_enable_random_interleaving="
                        "true")};
  bm_argv.insert(bm_argv.end(), passthrough.begin() + 1, passthrough.end());
  int bm_argc = static_cast<int>(bm_argv.size());
  benchmark::Initialize(&bm_argc, bm_argv.data(), PrintUsage);
  if (benchmark::ReportUnrecognizedArguments(bm_argc, bm_argv.data())) {
    return 2;
  }
  // Only now: Initialize exits on --help, which would leave a new folder.
  absl::StatusOr<Workdir> claimed = ClaimWorkdir(workdir);
  if (!claimed.ok()) {
    std::fprintf(stderr, "caseledger_bench: %s\n",
                 std::string(claimed.status().message()).c_str());
    return 2;
  }
  workdir = claimed->path;
  settings.workdir = workdir;
  std::error_code ec;
  RegisterBaselineBenchmarks();
  RegisterLedgerBenchmarks();
  RegisterBundleBenchmarks();
  RegisterProjectionBenchmarks();

  ReportInput input;
  input.command =
      command.empty() ? absl::StrJoin(argv, argv + argc, " ") : command;
  input.source = source;
  input.mode = quick ? "--quick" : "full";
  for (const char* a : passthrough) {
    if (std::string_view(a).starts_with("--benchmark_filter")) {
      input.mode = quick ? absl::StrCat("--quick ", a) : a;
    }
  }
  input.repetitions = reps;
  input.workdir = workdir;
  input.started_at = absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", absl::Now(),
                                      absl::UTCTimeZone());
  input.load_before = LoadAverage();

  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  RunEndHooks();
  input.results = reporter.results();

  if (memory_check_events > 0) {
    std::string dir;
    uint64_t events = memory_check_events;
    std::fprintf(stderr, "memory check: building a %llu-event ledger ...\n",
                 static_cast<unsigned long long>(events));
    auto built =
        BuildLedger(NewScratchDir("memory"), events, settings.case_length);
    if (built.ok()) {
      std::fprintf(stderr, "built in %.0f s (%.0f events/s)\n",
                   absl::ToDoubleSeconds(built->build_time),
                   built->build_events_per_second);
      NoteFact("Memory-check ledger",
               absl::StrFormat("%d events, built in %.0f s (%.0f events/s)",
                               built->events,
                               absl::ToDoubleSeconds(built->build_time),
                               built->build_events_per_second));
      for (const char* what : {"verify", "rebuild", "foreach"}) {
        input.memory.push_back(MeasureInChild(what, built->dir, events));
      }
      std::filesystem::remove_all(built->dir, ec);
    } else {
      MemoryCheck failed;
      failed.what = "Verify";
      failed.events = events;
      failed.error = built.status().ToString();
      input.memory.push_back(failed);
    }
  } else if (quick && input.results.count("BM_Verify")) {
    // The fixture, as a smoke test of the method; not the 10M target.
    const ReadFixture& fixture = GetReadFixture();
    for (const char* what : {"verify", "rebuild"}) {
      input.memory.push_back(MeasureInChild(what, fixture.dir, fixture.events));
    }
  }
  input.load_after = LoadAverage();

  std::fputs(TargetSummary(input).c_str(), stdout);
  int rc = 0;
  if (!report.empty()) {
    absl::Status written = WriteReport(report, input);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.ToString().c_str());
      rc = 1;
    } else {
      std::fprintf(stderr, "wrote %s\n", report.c_str());
    }
  }
  // Only a whole run is a row of the record: a filtered one would leave
  // most of its cells empty.
  const bool filtered = absl::c_any_of(passthrough, [](const char* a) {
    return std::string_view(a).starts_with("--benchmark_filter");
  });
  if (!history.empty() && !filtered) {
    absl::Status recorded = RecordRun(history, input);
    if (!recorded.ok()) {
      std::fprintf(stderr, "%s\n", recorded.ToString().c_str());
      rc = 1;
    } else if (!quick) {
      std::fprintf(stderr, "added this run to %s\n", history.c_str());
    }
  }
  std::filesystem::remove_all(workdir, ec);
  return rc;
}
