#include "bench/report.h"

#include <dlfcn.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/bench_common.h"

namespace caseledger::bench {
namespace {

constexpr char kBegin[] = "<!-- bench/run: begin -->";
constexpr char kEnd[] = "<!-- bench/run: end -->";

std::vector<double> Values(const BenchResult& r, const std::string& counter) {
  std::vector<double> v;
  for (const auto& rep : r.reps) {
    if (auto it = rep.find(counter); it != rep.end()) v.push_back(it->second);
  }
  std::sort(v.begin(), v.end());
  return v;
}

std::string ReadLineStartingWith(const std::string& file,
                                 const std::string& prefix) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      size_t colon = line.find(':');
      std::string v =
          colon == std::string::npos ? line : line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "unknown";
}

// The mount (device, type) holding `path`.
std::string FilesystemOf(const std::string& path) {
  std::error_code ec;
  std::string abs = std::filesystem::weakly_canonical(path, ec).string();
  std::ifstream in("/proc/mounts");
  std::string dev, mount, type, best = "unknown";
  size_t best_len = 0;
  std::string rest;
  while (in >> dev >> mount >> type && std::getline(in, rest)) {
    if (abs.rfind(mount, 0) == 0 && mount.size() >= best_len) {
      best_len = mount.size();
      best = absl::StrCat(dev, " (", type, ") mounted at ", mount);
    }
  }
  return best;
}

std::string Rate(double v) {
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

struct Target {
  std::string label;
  std::string bench;     // measured benchmark
  std::string counter;   // its counter
  std::string baseline;  // empty: `factor` is an absolute limit
  double factor = 1;
  bool below = false;          // the target is measured < limit (else >=)
  std::string unit;            // for absolute limits
  std::string not_measurable;  // non-empty: why it cannot be measured yet
  std::string paired;  // a benchmark measuring both sides in turn (`ratio`)
};

// Two decimals, or three where two would round a ratio onto its
// requirement (0.897 against >= 0.90 would read 0.90, and "not met").
std::string RatioText(double ratio, double required) {
  const bool on_the_line =
      absl::StrFormat("%.2f", ratio) == absl::StrFormat("%.2f", required);
  return absl::StrFormat(on_the_line ? "%.3f" : "%.2f", ratio);
}

Target Ratio(std::string label, std::string bench, std::string baseline,
             double factor) {
  Target t;
  t.label = std::move(label);
  t.bench = std::move(bench);
  t.counter = "items_per_second";
  t.baseline = std::move(baseline);
  t.factor = factor;
  return t;
}

Target Absolute(std::string label, std::string bench, std::string counter,
                double limit, bool below, std::string unit) {
  Target t;
  t.label = std::move(label);
  t.bench = std::move(bench);
  t.counter = std::move(counter);
  t.factor = limit;
  t.below = below;
  t.unit = std::move(unit);
  return t;
}

Target Paired(Target t, std::string paired) {
  t.paired = std::move(paired);
  return t;
}

constexpr double kSixtyFourAppendersRequired = 30000;  // events/s

std::vector<Target> Targets() {
  return {
      Paired(Ratio("1 appender >= 0.9 x RocksDB synced put, 1 thread",
                   "BM_LedgerAppend/threads:1", "BM_RocksDBSyncPut/threads:1",
                   0.9),
             "BM_Paired/size:1"),
      Ratio("16 appenders >= 1.5 x RocksDB synced put, 16 threads",
            "BM_LedgerAppend/threads:16", "BM_RocksDBSyncPut/threads:16", 1.5),
      Ratio("16 appenders >= 3 x SQLite, 16 threads",
            "BM_LedgerAppend/threads:16", "BM_SQLiteAppend/threads:16", 3),
      Absolute("64 appenders >= 30,000 events/s", "BM_LedgerAppend/threads:64",
               "items_per_second", kSixtyFourAppendersRequired, false,
               "events/s"),
      Paired(Ratio("batches of 100 >= 0.8 x ledger-shaped RocksDB write",
                   "BM_LedgerAppendBatch/size:100",
                   "BM_RocksDBLedgerShaped/size:100", 0.8),
             "BM_Paired/size:100"),
      Ratio("Verify >= 0.5 x raw iterate", "BM_Verify", "BM_RawIterate", 0.5),
      Absolute("Rebuild (all projections) >= 300,000 events/s", "BM_Rebuild",
               "items_per_second", 300000, false, "events/s"),
      Absolute("ReadCase (200-event case) p99 < 1 ms", "BM_ReadCase", "p99_ms",
               1.0, true, "ms"),
  };
}

const BenchResult* Find(const std::map<std::string, BenchResult>& results,
                        const std::string& name) {
  if (name.empty()) return nullptr;
  auto it = results.find(name);
  return it == results.end() ? nullptr : &it->second;
}

struct Evaluated {
  std::string label, measured, baseline, ratio, required, met;
  bool ok = false;
  // The same ratio from the best repetition of each side: what the ledger
  // does when the shared disk is in a fast spell for both.
  std::string best_ratio = "-";
  // The median `ratio` of the target's paired benchmark, if it has one.
  std::string paired_ratio = "-";
};

std::vector<Evaluated> Evaluate(const ReportInput& input) {
  std::vector<Evaluated> out;
  for (const Target& t : Targets()) {
    Evaluated e;
    e.label = t.label;
    if (!t.not_measurable.empty()) {
      e.measured = e.baseline = e.ratio = "-";
      e.required = t.below ? absl::StrCat("< ", t.factor, " ", t.unit)
                           : absl::StrCat(">= ", Rate(t.factor), " ", t.unit);
      e.met = absl::StrCat("not measurable: ", t.not_measurable);
      out.push_back(e);
      continue;
    }
    const BenchResult* m = Find(input.results, t.bench);
    const BenchResult* b = Find(input.results, t.baseline);
    if (m == nullptr || (!t.baseline.empty() && b == nullptr) ||
        !m->error.empty() || (b != nullptr && !b->error.empty())) {
      e.measured = e.baseline = e.ratio = e.required = "-";
      e.met = "not run";
      if (m != nullptr && !m->error.empty()) e.met = "error: " + m->error;
      out.push_back(e);
      continue;
    }
    double measured = m->Median(t.counter);
    bool rate = t.counter == "items_per_second";
    e.measured = rate ? absl::StrCat(Rate(measured), " events/s")
                      : absl::StrFormat("%.3f %s", measured, t.unit);
    if (b != nullptr) {
      double base = b->Median(t.counter);
      double ratio = base > 0 ? measured / base : 0;
      e.baseline = absl::StrCat(Rate(base), " events/s (", b->name, ")");
      e.ratio = RatioText(ratio, t.factor);
      double best_base = b->Max(t.counter);
      if (best_base > 0) {
        e.best_ratio = absl::StrFormat("%.2f", m->Max(t.counter) / best_base);
      }
      e.required = absl::StrFormat(">= %.2f (%s events/s)", t.factor,
                                   Rate(base * t.factor));
      e.ok = ratio >= t.factor;
      if (const BenchResult* p = Find(input.results, t.paired);
          p != nullptr && p->error.empty() && p->Median("ratio") > 0) {
        e.paired_ratio = RatioText(p->Median("ratio"), t.factor);
      }
    } else {
      e.baseline = "-";
      e.ratio = absl::StrFormat("%.2f", measured / t.factor);
      e.best_ratio = absl::StrFormat(
          "%.2f", (t.below ? m->Min(t.counter) : m->Max(t.counter)) / t.factor);
      e.required = t.below
                       ? absl::StrFormat("< %g %s", t.factor, t.unit)
                       : absl::StrFormat(">= %s %s", Rate(t.factor), t.unit);
      e.ok = t.below ? measured < t.factor : measured >= t.factor;
    }
    e.met = e.ok ? "yes" : "**no**";
    out.push_back(e);
  }
  // Memory: verify and rebuild of a 10M-event ledger under 512 MiB.
  for (const MemoryCheck& c : input.memory) {
    if (c.what != "Verify" && c.what != "Rebuild") continue;
    Evaluated e;
    e.label = absl::StrCat(c.what, " of ", Rate(c.events),
                           " events in < 512 MiB resident");
    if (!c.error.empty()) {
      e.measured = e.baseline = e.ratio = "-";
      e.required = "< 512 MiB";
      e.met = "error: " + c.error;
    } else {
      double mib = static_cast<double>(c.peak_rss_kib) / 1024.0;
      e.measured = absl::StrFormat("%.0f MiB peak RSS", mib);
      e.baseline = "-";
      e.ratio = absl::StrFormat("%.2f", mib / 512.0);
      e.required = "< 512 MiB";
      e.ok = mib < 512;
      e.met = e.ok ? "yes" : "**no**";
      if (c.events < 10000000) {
        e.met +=
            " (not the 10M-event target: a smaller ledger, the fixture of "
            "--quick or the size --memory_events gave)";
      }
    }
    out.push_back(e);
  }
  if (input.memory.empty()) {
    for (const char* what : {"Verify", "Rebuild"}) {
      out.push_back({absl::StrCat(what, " of 10M events in < 512 MiB resident"),
                     "-", "-", "-", "< 512 MiB",
                     "not run (no 10M-event ledger in this run: --quick, or "
                     "--memory_events=0)"});
    }
  }
  return out;
}

// How a ceiling compares with the requirement and with the ledger: in words
// for the report, and as "C / L" for the record of every run
// (docs/performance-history.md), C the ceiling as a share of the
// requirement, L the ledger's share of the ceiling, and "ᵘ" when C is
// short of the requirement.
struct Verdict {
  std::string text;
  std::string record;
};

// What the machine allows for a target, measured in the same run: the
// target's measure with the ledger replaced by raw RocksDB (or one core's
// hashing) doing only the work that target cannot avoid. A ceiling below
// the requirement shows that no ledger reaches it on this machine.
struct Ceiling {
  std::string target;
  std::string how;
  std::string ceiling;  // the ceiling, in the target's terms
  Verdict verdict;
};

std::vector<Ceiling> Ceilings(const ReportInput& input) {
  auto median = [&](const std::string& bench,
                    const std::string& counter) -> double {
    const BenchResult* r = Find(input.results, bench);
    return r == nullptr || !r->error.empty() ? 0 : r->Median(counter);
  };
  auto rate = [&](const std::string& bench) {
    return median(bench, "items_per_second");
  };
  // `ceiling` and `required` in the target's ratio; `ledger` as a fraction
  // of the ceiling.
  auto bounded = [](double ceiling, double required, double ledger) {
    const bool short_of = ceiling < required;
    return Verdict{
        absl::StrFormat(
            "%s (ceiling %.2f of the requirement); the ledger reaches %.2f of "
            "the ceiling",
            short_of ? "**unreachable here**" : "reachable in principle",
            ceiling / required, ledger),
        absl::StrFormat("%.2f / %.2f%s", ceiling / required, ledger,
                        short_of ? " ᵘ" : "")};
  };
  // A ceiling that is a rate, for a target that is a ratio to `base`.
  auto ratio_row = [&](std::string target, std::string how, double ceiling,
                       double base, const char* base_name, double required,
                       double ledger) {
    return Ceiling{std::move(target), std::move(how),
                   absl::StrFormat("%s events/s = %.2f x %s", Rate(ceiling),
                                   ceiling / base, base_name),
                   bounded(ceiling / base, required, ledger / ceiling)};
  };
  // Waking a thread on the other core (`BM_ThreadWake/pinned:1`), which the
  // group commit pays for every caller and a large call for its second
  // thread; said where it is measured.
  const double wake_signal_us = median("BM_ThreadWake/pinned:1", "signal_us");
  const double wake_us = median("BM_ThreadWake/pinned:1", "wake_us");
  auto wake_cost = [&](const char* who) -> std::string {
    if (wake_signal_us <= 0 || wake_us <= 0) return "";
    return absl::StrFormat(
        ". Waking %s on the other core costs the waker %.0f us and the "
        "woken thread runs %.0f us later (`BM_ThreadWake/pinned:1`; on one "
        "core: %.0f us)",
        who, wake_signal_us, wake_us,
        median("BM_ThreadWake/pinned:0", "wake_us"));
  };
  // The same raw write with storage format 2's case-index copies, which the
  // ledger writes and the shaped baseline leaves out, against `base`.
  auto with_copies = [&](int size, double base) -> std::string {
    const std::string name =
        absl::StrCat("BM_RocksDBLedgerShapedWithCopies/size:", size);
    if (rate(name) <= 0 || base <= 0) return "";
    return absl::StrFormat(
        ". With the copies of entry and event that storage format 2 adds to "
        "each case-index value (`%s`): %.2f x that rate",
        name, rate(name) / base);
  };
  // The raw write of format 2's bytes for `size` events measured in turn
  // with the target's baseline (`base`), as `BM_Paired` measures the
  // ledger: both ratios meet the same spells.
  auto paired_copies = [&](int size, const char* base) -> std::string {
    const std::string name = absl::StrCat("BM_PairedRawCopies/size:", size);
    const double raw = median(name, "ratio");
    if (raw <= 0) return "";
    std::string text = absl::StrFormat(
        ". Measured in turn with the %s, as `BM_Paired/size:%d` measures the "
        "ledger (`%s`): %.2f x the %s",
        base, size, name, raw, base);
    const double ledger =
        median(absl::StrCat("BM_Paired/size:", size), "ratio");
    if (ledger > 0) {
      absl::StrAppend(&text,
                      absl::StrFormat(", the ledger's paired ratio %.2f of it",
                                      ledger / raw));
    }
    return text;
  };
  std::vector<Ceiling> out;
  const double put1 = rate("BM_RocksDBSyncPut/threads:1");
  const double shaped1 = rate("BM_RocksDBLedgerShaped/size:1");
  if (put1 > 0 && shaped1 > 0) {
    out.push_back(ratio_row(
        "1 appender >= 0.9 x RocksDB synced put",
        "raw RocksDB syncing the keys of one ledger event per write, nothing "
        "else (`BM_RocksDBLedgerShaped/size:1`): an event is ~7 keys and ~1 "
        "KiB, the baseline one 300-byte value" +
            with_copies(1, shaped1) + paired_copies(1, "put"),
        shaped1, put1, "the baseline", 0.9, rate("BM_LedgerAppend/threads:1")));
  }
  const double put16 = rate("BM_RocksDBSyncPut/threads:16");
  const double shaped16 = rate("BM_RocksDBLedgerShaped/size:16");
  const double skeleton =
      std::max(rate("BM_RawGroupCommit/whole_groups:1/threads:16"),
               rate("BM_RawGroupCommit/whole_groups:16/threads:16"));
  if (put16 > 0 && shaped16 > 0 && skeleton > 0) {
    out.push_back(
        {"16 appenders >= 1.5 x RocksDB synced put",
         "the ledger's design with none of its work: 16 callers each queue "
         "one event and wait for it, one writer thread syncs the ledger's "
         "keys for everything waiting and wakes them "
         "(`BM_RawGroupCommit/threads:16`), the better of writing whatever "
         "waits (`whole_groups:1`) and waiting for all 16 (`whole_groups:16`)"
         ". For scale, the same keys of 16 events synced back to back with "
         "no callers to wake (`BM_RocksDBLedgerShaped/size:16`)" +
             wake_cost("each caller"),
         absl::StrFormat("%s events/s = %.2f x the baseline (16 events per "
                         "sync, no callers: %s = %.2f x)",
                         Rate(skeleton), skeleton / put16, Rate(shaped16),
                         shaped16 / put16),
         bounded(skeleton / put16, 1.5,
                 rate("BM_LedgerAppend/threads:16") / skeleton)});
  }
  const double sqlite16 = rate("BM_SQLiteAppend/threads:16");
  if (sqlite16 > 0 && skeleton > 0) {
    out.push_back(ratio_row("16 appenders >= 3 x SQLite",
                            "the same design with none of the ledger's work "
                            "(`BM_RawGroupCommit/threads:16`, as above), "
                            "against SQLite's 16 connections",
                            skeleton, sqlite16, "SQLite", 3,
                            rate("BM_LedgerAppend/threads:16")));
  }
  const double skeleton64 = rate("BM_RawGroupCommit/whole_groups:1/threads:64");
  if (skeleton64 > 0) {
    const double put64 = rate("BM_RocksDBSyncPut/threads:64");
    // The same design writing the ledger's bytes, storage format 2's
    // copies included: said beside the ceiling, as for the other rows.
    std::string with_copies64;
    const char* copies_name =
        "BM_RawGroupCommitWithCopies/whole_groups:1/threads:64";
    if (const double copies64 = rate(copies_name); copies64 > 0) {
      with_copies64 = absl::StrFormat(
          ". With the copies of entry and event that storage format 2 adds "
          "to each case-index value, as the ledger writes them (`%s`): %s "
          "events/s, the ledger %.2f of it",
          copies_name, Rate(copies64),
          rate("BM_LedgerAppend/threads:64") / copies64);
    }
    out.push_back(
        {"64 appenders >= 30,000 events/s",
         "the same design with none of the ledger's work, 64 callers, the "
         "writer writing whatever waits "
         "(`BM_RawGroupCommit/whole_groups:1/threads:64`)" +
             (put64 > 0 ? ". For scale, RocksDB's own group commit of 64 "
                          "threads' synced puts "
                          "(`BM_RocksDBSyncPut/threads:64`): " +
                              Rate(put64) + " events/s"
                        : std::string()) +
             with_copies64 + wake_cost("each caller"),
         absl::StrFormat("%s events/s", Rate(skeleton64)),
         bounded(skeleton64 / kSixtyFourAppendersRequired, 1,
                 rate("BM_LedgerAppend/threads:64") / skeleton64)});
  }
  const double shaped100 = rate("BM_RocksDBLedgerShaped/size:100");
  const double copies100 = rate("BM_RocksDBLedgerShapedWithCopies/size:100");
  const double floor100 = rate("BM_AppendHashFloor");
  if (shaped100 > 0 && copies100 > 0 && floor100 > 0) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // Per event: the raw write of the ledger's bytes, then the work no
    // append can skip, as if split perfectly over every core.
    const double ceiling = 1 / (1 / copies100 + 1 / (floor100 * cores));
    // Per event, the target leaves 1/(0.8 x base) - 1/base of wall time for
    // everything the ledger does beyond the shaped write.
    const double budget_us = 1e6 / (0.8 * shaped100) - 1e6 / shaped100;
    const double batch100 = rate("BM_LedgerAppendBatch/size:100");
    const double extra_us = batch100 > 0 ? 1e6 / batch100 - 1e6 / shaped100 : 0;
    std::string asides = absl::StrFormat(
        ". The target leaves %.1f us of wall time per event beyond the "
        "shaped write; the ledger takes %.1f us more",
        budget_us, extra_us);
    // The same ceiling from the paired measure of the raw write, whose
    // ratio is steadier than two medians: its baseline's rate turns the
    // floor's time into a share of the ratio.
    const double paired_raw = median("BM_PairedRawCopies/size:100", "ratio");
    const double paired_base =
        median("BM_PairedRawCopies/size:100", "baseline_events_per_s");
    if (paired_raw > 0 && paired_base > 0) {
      asides += absl::StrFormat(
          ". Paired (`BM_PairedRawCopies/size:100`, the raw write of those "
          "bytes in turn with the shaped write: %.2f x it), with the same "
          "floor: %.2f x the shaped write",
          paired_raw, 1 / (1 / paired_raw + paired_base / (floor100 * cores)));
      if (const double ledger = median("BM_Paired/size:100", "ratio");
          ledger > 0) {
        asides += absl::StrFormat(" (the ledger's paired ratio: %.2f)", ledger);
      }
    }
    if (const double bulk = rate("BM_LedgerBulkAppend/size:1000"); bulk > 0) {
      asides += absl::StrFormat(
          ". The ledger's append path with no sync at all: %s events/s "
          "(`BM_LedgerBulkAppend/size:1000`)",
          Rate(bulk));
    }
    out.push_back(ratio_row(
        "batches of 100 >= 0.8 x ledger-shaped RocksDB write",
        absl::StrFormat(
            "raw RocksDB syncing the ledger's bytes for 100 events in one "
            "write, storage format 2's case-index copies included "
            "(`BM_RocksDBLedgerShapedWithCopies/size:100`: %.2f x the shaped "
            "write), plus the work no append can skip before it writes "
            "(`BM_AppendHashFloor`: each event serialized, its two SHA-256 "
            "digests, its entry built and serialized, the leaf and Merkle "
            "node hashes; %s events/s on one core) split perfectly over %u "
            "cores; validation, the event-id look-up and the sequencing "
            "checks left out",
            copies100 / shaped100, Rate(floor100), cores) +
            asides + wake_cost("the second thread, once per call,"),
        ceiling, shaped100, "the baseline", 0.8, batch100));
  }
  const double iterate = rate("BM_RawIterate");
  const double hashing = rate("BM_VerifyHashFloor");
  const double tallied = rate("BM_IndexTallyFloor");
  if (iterate > 0 && hashing > 0 && tallied > 0) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // Per event: the hashing over the log scan, then the scan of the index
    // families with each item compared once, as if split perfectly over
    // every core, with nothing decoded.
    const double ceiling = cores / (1 / hashing + 1 / tallied);
    std::string asides;
    // How much of the ceiling's margin the comparison takes: the same scan
    // with nothing compared, which a verify cannot do.
    const double indexes = rate("BM_RawIterateIndexes");
    if (indexes > 0) {
      asides += absl::StrFormat(
          ". With the index families only read, nothing compared "
          "(`BM_RawIterateIndexes`): %.2f x raw iterate",
          cores / (1 / hashing + 1 / indexes) / iterate);
    }
    // A verify must also learn from each entry and event the keys its
    // indexes hold (case, version, event id, request). Decoding both as a
    // replay does costs what `BM_ForEach` takes beyond the same scan: not a
    // floor (a verify could read just those fields), so said beside the
    // ceiling rather than in its verdict.
    const double replay = rate("BM_ForEach");
    if (replay > 0 && replay < iterate) {
      const double decode_s = 1 / replay - 1 / iterate;
      const double with_decoding =
          cores / (1 / hashing + 1 / tallied + decode_s);
      asides += absl::StrFormat(
          ". With each entry and event also decoded as a replay decodes them "
          "(`BM_ForEach` beyond `BM_RawIterate`: %.2f us per event on one "
          "core): %s events/s = %.2f x raw iterate",
          decode_s * 1e6, Rate(with_decoding), with_decoding / iterate);
    }
    out.push_back(
        {"Verify >= 0.5 x raw iterate",
         absl::StrFormat(
             "the hashing a verify cannot skip over the log scan "
             "(`BM_VerifyHashFloor`, one core) plus the scan of the four "
             "index families with each key and value hashed once by "
             "SipHash-2-4, the cheapest comparison of them that holds "
             "neither side in memory (`BM_IndexTallyFloor`), split perfectly "
             "over %u cores, with nothing parsed and the log's side of each "
             "comparison left out",
             cores) +
             asides,
         absl::StrFormat("%s events/s = %.2f x raw iterate", Rate(ceiling),
                         ceiling / iterate),
         bounded(ceiling / iterate, 0.5, rate("BM_Verify") / ceiling)});
  }
  const double raw_p99 = median("BM_ReadCaseRawScan", "p99_ms");
  if (raw_p99 > 0) {
    out.push_back(
        {"ReadCase p99 < 1 ms",
         "the same read through raw RocksDB, nothing decoded: one scan of "
         "the case's adjacent keys in the case index, values included "
         "(`BM_ReadCaseRawScan`). By position instead, as storage format 1 "
         "read a case (`BM_ReadCaseRawMultiGet`: its 200 events in ~200 "
         "different blocks of each family), raw RocksDB alone has p99 " +
             absl::StrFormat("%.2f ms",
                             median("BM_ReadCaseRawMultiGet", "p99_ms")),
         absl::StrFormat("p99 %.2f ms", raw_p99),
         Verdict{absl::StrFormat("%s; the ledger's p99 is %.2f x the raw one",
                                 raw_p99 >= 1
                                     ? "**unreachable here** with this layout"
                                     : "reachable",
                                 median("BM_ReadCase", "p99_ms") / raw_p99),
                 absl::StrFormat("%.2f / x%.2f%s", 1 / raw_p99,
                                 median("BM_ReadCase", "p99_ms") / raw_p99,
                                 raw_p99 >= 1 ? " ᵘ" : "")}});
  }
  return out;
}

// What the performance issue measured on the machine its targets were set
// on ("What the machine allows"), with the benchmark of this suite that
// measures the same thing. The absolute targets (64 appenders, rebuild, a
// case read) hold on that machine's speed; where a run's machine is slower,
// these ratios say by how much.
struct IssueMachineFigure {
  const char* what;
  const char* bench;
  double rate;  // per second
};
constexpr IssueMachineFigure kIssueMachine[] = {
    {"one synced write (`fdatasync`)", "BM_FileSyncWrite", 5000},
    {"RocksDB synced put, 1 thread", "BM_RocksDBSyncPut/threads:1", 5200},
    {"RocksDB synced put, 4 threads", "BM_RocksDBSyncPut/threads:4", 10000},
    {"RocksDB synced put, 16 threads", "BM_RocksDBSyncPut/threads:16", 26000},
    {"SQLite, WAL, synchronous=FULL, one row per transaction",
     "BM_SQLiteAppend/threads:1", 7000},
    {"ledger-shaped write, 100 events per sync",
     "BM_RocksDBLedgerShaped/size:100", 90000},
    {"forward RocksDB scan", "BM_RawIterate", 2.4e6},
    {"SHA-256 of short messages, one core", "BM_Sha256ShortPrefetched", 2.5e6},
};

// jemalloc when the program was linked with it (CASELEDGER_JEMALLOC), found
// by its control function rather than by how the build was configured.
std::string AllocatorInUse() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  const char* version = nullptr;
  size_t size = sizeof version;
  if (mallctl == nullptr ||
      mallctl("version", &version, &size, nullptr, 0) != 0) {
    return "glibc malloc";
  }
  return absl::StrCat("jemalloc ", version);
}

std::string Generated(const ReportInput& input) {
  std::ostringstream md;
  md << kBegin << "\n";
  md << "<!-- Written by bench/run; edits between these markers are lost. "
        "-->\n\n";
  const bool partial = input.mode != "full";
  if (partial) {
    // A quick run's verdicts differ from a full run's (a tenth of the read
    // fixture, fewer and shorter repetitions), and the prose after this
    // section describes the last full run (found by an outside reading).
    md << "> **A partial run (`" << input.mode
       << "`): not the results of record.** Its verdicts are noisier than a "
          "full run's and some targets may not be measured; the text after "
          "this section describes the last full run, whose figures are in "
          "docs/performance-history.md and whose section is in git "
          "(`git log -p -- docs/performance.md`). `bench/run` without "
          "arguments writes a full one.\n\n";
  }
  md << "### Run\n\n";
  struct utsname u;
  uname(&u);
  md << "| | |\n|---|---|\n";
  md << "| Date | " << input.started_at << " |\n";
  md << "| Command | `" << input.command << "` |\n";
  if (!input.source.empty()) md << "| Source | " << input.source << " |\n";
  md << "| Mode | " << input.mode << ", " << input.repetitions
     << " repetitions per benchmark, randomly interleaved; medians shown |\n";
  md << "| CPU | " << ReadLineStartingWith("/proc/cpuinfo", "model name")
     << ", " << std::thread::hardware_concurrency()
     << " cores (shared machine) |\n";
  md << "| Memory | " << ReadLineStartingWith("/proc/meminfo", "MemTotal")
     << " |\n";
  md << "| Kernel | " << u.sysname << " " << u.release << " |\n";
  md << "| Disk (scratch dir) | " << FilesystemOf(input.workdir) << " |\n";
  md << "| Load average (1/5/15 min) | before: " << input.load_before
     << "; after: " << input.load_after << " |\n";
  md << "| Compiler | g++ " << __VERSION__ << ", Release (-O3 -DNDEBUG) |\n";
  md << "| Google Benchmark | 1.7.1 (Debian package) |\n";
  md << "| Allocator | " << AllocatorInUse() << " |\n";
  for (const auto& [k, v] : Facts()) md << "| " << k << " | " << v << " |\n";

  md << "\n### Targets" << (partial ? " (partial run: not the record)" : "")
     << "\n\n";
  md << "Met is judged on the medians. *Best* is the same ratio from the best "
        "repetition of each side (for p99, the lowest): the shared disk "
        "switches between fast and slow spells, and a median can land in a "
        "different spell for the two sides of a ratio; where the two columns "
        "disagree about the target, the measurement is at the mercy of the "
        "disk. *Paired* is the median ratio of `BM_Paired`, which measures "
        "the two sides in turn within every iteration, so that both meet "
        "the same spells of the disk: steadier, and shown beside the medians "
        "rather than replacing them, since for batched appends it can read "
        "high. Paired, the background work the ledger leaves (RocksDB's "
        "flushes and compactions) can run during the baseline's turns, whose "
        "one thread mostly waits for its sync; appending alone, the ledger's "
        "batches compete with their own background work. `BM_Paired` reports "
        "each side's rate (`ledger_events_per_s`, `baseline_events_per_s`), "
        "to compare with the two benchmarks run alone.\n\n";
  md << "| Target | Measured (median) | Baseline (median, same run) | Ratio | "
        "Best | Paired | Required | Met |\n"
        "|---|---|---|---|---|---|---|---|\n";
  for (const Evaluated& e : Evaluate(input)) {
    md << "| " << e.label << " | " << e.measured << " | " << e.baseline << " | "
       << e.ratio << " | " << e.best_ratio << " | " << e.paired_ratio << " | "
       << e.required << " | " << e.met << " |\n";
  }

  const std::vector<Ceiling> ceilings = Ceilings(input);
  if (!ceilings.empty()) {
    md << "\n### Ceilings\n\n";
    md << "For targets that depend on more than the ledger: what the same "
          "run measures with the ledger replaced by the work the target "
          "cannot avoid. Where the ceiling is below the requirement, no "
          "ledger meets the target on this machine.\n\n";
    md << "| Target | Ceiling measured as | Ceiling | Verdict |\n"
          "|---|---|---|---|\n";
    for (const Ceiling& c : ceilings) {
      md << "| " << c.target << " | " << c.how << " | " << c.ceiling << " | "
         << c.verdict.text << " |\n";
    }
  }

  std::ostringstream machine;
  for (const IssueMachineFigure& f : kIssueMachine) {
    const BenchResult* r = Find(input.results, f.bench);
    if (r == nullptr || !r->error.empty()) continue;
    const double here = r->Median("items_per_second");
    machine << "| " << f.what << " | `" << f.bench << "` | " << Rate(f.rate)
            << " | " << Rate(here) << " | "
            << absl::StrFormat("%.2f", here / f.rate) << " |\n";
  }
  if (!machine.str().empty()) {
    md << "\n### This machine against the issue's\n\n";
    md << "The performance issue set its targets on a machine that measured "
          "the figures below (per second). Ratios to a baseline carry over "
          "from one machine to another only as far as the ledger's work and "
          "the baseline's slow down alike; the absolute targets (64 "
          "appenders, rebuild, a case read's p99) do not carry over at all: "
          "where this machine measures less, they are harder here by about "
          "that factor, the appenders' by the synced writes', the rebuild's "
          "and the case read's by the scan's and the CPU's.\n\n";
    md << "| Measure | Benchmark | Issue's machine | This run (median) | "
          "This / issue's |\n|---|---|---|---|---|\n";
    md << machine.str();
  }

  md << "\n### All benchmarks\n\n";
  md << "Events/s is Google Benchmark's `items_per_second` over wall-clock "
        "time (`UseRealTime`; for threaded runs, the events of all threads "
        "over the wall time), except the BM_Sha256 ones (CPU time). Min and "
        "max are over the repetitions.\n\n";
  md << "| Benchmark | Median events/s | Min | Max | Other counters (median) "
        "|\n|---|---|---|---|---|\n";
  for (const auto& [name, r] : input.results) {
    if (!r.error.empty()) {
      md << "| " << name << " | error: " << r.error << " | | | |\n";
      continue;
    }
    std::vector<std::string> other;
    if (!r.reps.empty()) {
      for (const auto& [counter, value] : r.reps.front()) {
        if (counter == "items_per_second") continue;
        const double v = r.Median(counter);
        other.push_back(absl::EndsWith(counter, "_per_s")
                            ? absl::StrCat(counter, " ", Rate(v))
                            : absl::StrFormat("%s %.3g", counter, v));
      }
    }
    // Some benchmarks count no events (BM_ThreadWake times wake-ups).
    const bool counts_events =
        !r.reps.empty() && r.reps.front().count("items_per_second") > 0;
    auto rate = [&](double v) { return counts_events ? Rate(v) : "-"; };
    md << "| " << name << " | " << rate(r.Median("items_per_second")) << " | "
       << rate(r.Min("items_per_second")) << " | "
       << rate(r.Max("items_per_second")) << " | " << absl::StrJoin(other, ", ")
       << " |\n";
  }
  if (!input.memory.empty()) {
    md << "\n### Memory\n\n";
    md << "Each operation runs alone in a child process (`caseledger_bench "
          "--child=...`) on the ledger (opened read-only, except for the "
          "rebuild, which stores its projection); peak RSS is the child's "
          "VmHWM.\n\n";
    md << "| Operation | Events | Peak RSS | Wall time | Events/s |\n"
          "|---|---|---|---|---|\n";
    for (const MemoryCheck& c : input.memory) {
      if (!c.error.empty()) {
        md << "| " << c.what << " | " << c.events << " | error: " << c.error
           << " | | |\n";
        continue;
      }
      md << "| " << c.what << " | " << c.events << " | "
         << absl::StrFormat("%.0f MiB", c.peak_rss_kib / 1024.0) << " | "
         << absl::StrFormat("%.1f s", c.seconds) << " | "
         << Rate(c.seconds > 0 ? c.events / c.seconds : 0) << " |\n";
    }
  }
  md << "\n" << kEnd << "\n";
  return md.str();
}

const Evaluated* TargetNamed(const std::vector<Evaluated>& targets,
                             std::string_view prefix) {
  for (const Evaluated& e : targets) {
    if (std::string_view(e.label).starts_with(prefix)) return &e;
  }
  return nullptr;
}

// The tables of docs/performance-history.md that each full run adds a row
// to, by the start of their header lines.
constexpr char kEveryRunHeader[] = "| Date (UTC) | Source commit |";
constexpr char kCeilingsHeader[] = "| Date | 1 appender |";

// This run's row of "Every recorded run": the machine's pace (one sync, one
// synced put, the scan) beside each target's median, paired in brackets.
std::string RunRecord(const ReportInput& input) {
  auto rate = [&](const char* bench) -> std::string {
    const BenchResult* r = Find(input.results, bench);
    return r == nullptr || !r->error.empty()
               ? "-"
               : Rate(r->Median("items_per_second"));
  };
  const std::vector<Evaluated> targets = Evaluate(input);
  auto ratio = [&](std::string_view target) -> std::string {
    const Evaluated* e = TargetNamed(targets, target);
    if (e == nullptr) return "-";
    return e->paired_ratio == "-"
               ? e->ratio
               : absl::StrCat(e->ratio, " (", e->paired_ratio, ")");
  };
  auto measured = [&](std::string_view target) -> std::string {
    const Evaluated* e = TargetNamed(targets, target);
    if (e == nullptr) return "-";
    std::string m = e->measured;
    for (std::string_view unit : {" events/s", " ms"}) {
      if (std::string_view(m).ends_with(unit)) m.resize(m.size() - unit.size());
    }
    return m;
  };
  auto peak_mib = [&](const char* what) -> std::string {
    for (const MemoryCheck& c : input.memory) {
      if (c.what == what && c.error.empty()) {
        return absl::StrFormat("%.0f", c.peak_rss_kib / 1024.0);
      }
    }
    return "-";
  };
  std::string source = input.source.empty()
                           ? "-"
                           : input.source.substr(0, input.source.find(" ("));
  if (absl::StrContains(input.source, "uncommitted")) {
    source += " + uncommitted changes";
  }
  const std::string model = ReadLineStartingWith("/proc/cpuinfo", "model name");
  std::string machine = model.empty() ? "-" : model;
  for (const char* maker : {"AMD", "Intel"}) {
    if (absl::StrContains(model, maker)) machine = maker;
  }
  std::string date = input.started_at;
  if (std::string_view(date).ends_with(" UTC")) date.resize(date.size() - 4);
  return absl::StrCat(
      "| ", date, " | ", source, " | ", machine, " | ",
      rate("BM_FileSyncWrite"), " | ", rate("BM_RocksDBSyncPut/threads:1"),
      " | ", rate("BM_RawIterate"), " | ", ratio("1 appender"), " | ",
      ratio("16 appenders >= 1.5"), " | ", ratio("16 appenders >= 3"), " | ",
      measured("64 appenders"), " | ", ratio("batches of 100"), " | ",
      ratio("Verify >="), " | ", measured("Rebuild (all"), " | ",
      measured("ReadCase"), " | ", peak_mib("Verify"), " / ",
      peak_mib("Rebuild"), " |");
}

// This run's row of "The ceilings of each run".
std::string CeilingRecord(const ReportInput& input) {
  const std::vector<Ceiling> ceilings = Ceilings(input);
  std::string row = absl::StrCat("| ", input.started_at, " |");
  for (const char* target :
       {"1 appender", "16 appenders >= 1.5", "16 appenders >= 3",
        "64 appenders", "batches of 100", "Verify", "ReadCase"}) {
    std::string cell = "-";
    for (const Ceiling& c : ceilings) {
      if (std::string_view(c.target).starts_with(target)) {
        cell = c.verdict.record;
      }
    }
    absl::StrAppend(&row, " ", cell, " |");
  }
  return row;
}

// `text` with `row` after the last row of the table whose header line
// starts with `header`.
absl::StatusOr<std::string> WithRowAdded(const std::string& text,
                                         const std::string& path,
                                         std::string_view header,
                                         const std::string& row) {
  size_t at = 0;
  while (at < text.size() &&
         !std::string_view(text).substr(at).starts_with(header)) {
    at = text.find('\n', at);
    if (at == std::string::npos) break;
    ++at;
  }
  if (at == std::string::npos || at >= text.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has no table whose header starts with `",
                     std::string(header), "`; nothing recorded"));
  }
  while (at < text.size() && text[at] == '|') {
    const size_t end = text.find('\n', at);
    at = end == std::string::npos ? text.size() : end + 1;
  }
  std::string with = text.substr(0, at);
  if (!with.empty() && with.back() != '\n') with += '\n';
  return absl::StrCat(with, row, "\n", text.substr(at));
}

// The file's text; NotFound when there is no such file. A file that is there
// but cannot be read is an error of its own: taken for an empty one, the
// report would replace a hand-written page with its skeleton.
absl::StatusOr<std::string> FileText(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    if (error == ENOENT) {
      return absl::NotFoundError(absl::StrCat("there is no ", path));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
  }
  std::string text;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
  }
  return text;
}

// Writes `text` to `path` whole or not at all.
absl::Status ReplaceFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  }
  return absl::OkStatus();
}

constexpr char kSkeleton[] = R"(# Performance

How fast the ledger appends and replays on our machines, measured against
baselines (raw RocksDB, SQLite, the disk) in the same run, so that every
target is a ratio of two numbers taken under the same noise.

## Benchmark suite

`bench/run` builds Release in `build-bench/`, runs `caseledger_bench`, and
rewrites the results section below. `bench/run --quick` finishes in under
three minutes (100k-event fixture, 5 short repetitions, no 10M-event memory
check).

## Latest results

)";

}  // namespace

double BenchResult::Median(const std::string& counter) const {
  std::vector<double> v = Values(*this, counter);
  if (v.empty()) return 0;
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double BenchResult::Min(const std::string& counter) const {
  std::vector<double> v = Values(*this, counter);
  return v.empty() ? 0 : v.front();
}
double BenchResult::Max(const std::string& counter) const {
  std::vector<double> v = Values(*this, counter);
  return v.empty() ? 0 : v.back();
}

std::string ShortName(const benchmark::BenchmarkReporter::Run& run) {
  // Settings that every run of the suite shares or that change with the
  // mode (min_time, iterations, real_time) are left out, so that names are
  // those of the performance issue: "BM_LedgerAppend/threads:16".
  benchmark::BenchmarkName name = run.run_name;
  name.min_time.clear();
  name.min_warmup_time.clear();
  name.iterations.clear();
  name.repetitions.clear();
  name.time_type.clear();
  return name.str();
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.run_type != Run::RT_Iteration) continue;
    std::string name = ShortName(run);
    BenchResult& r = results_[name];
    r.name = name;
    if (run.error_occurred) {
      r.error = run.error_message;
      continue;
    }
    std::map<std::string, double> counters;
    for (const auto& [k, c] : run.counters) counters[k] = c.value;
    r.reps.push_back(std::move(counters));
  }
  ConsoleReporter::ReportRuns(runs);
}

absl::Status WriteReport(const std::string& path, const ReportInput& input) {
  absl::StatusOr<std::string> read = FileText(path);
  if (!read.ok() && !absl::IsNotFound(read.status())) {
    return absl::Status(
        read.status().code(),
        absl::StrCat(read.status().message(), "; the report was not written"));
  }
  const std::string old = read.ok() ? *std::move(read) : "";
  std::string text;
  size_t begin = old.find(kBegin), end = old.find(kEnd);
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    size_t after = end + std::string(kEnd).size();
    if (after < old.size() && old[after] == '\n') ++after;
    text = old.substr(0, begin) + Generated(input) + old.substr(after);
  } else if (old.empty()) {
    text = absl::StrCat(kSkeleton, Generated(input));
  } else {
    text = absl::StrCat(old, "\n## Latest results\n\n", Generated(input));
  }
  return ReplaceFile(path, text);
}

absl::Status RecordRun(const std::string& path, const ReportInput& input) {
  if (input.mode != "full") return absl::OkStatus();
  const absl::StatusOr<std::string> old = FileText(path);
  if (!old.ok()) {
    return absl::Status(
        old.status().code(),
        absl::StrCat(old.status().message(), "; nothing recorded"));
  }
  absl::StatusOr<std::string> text =
      WithRowAdded(*old, path, kEveryRunHeader, RunRecord(input));
  if (text.ok()) {
    text = WithRowAdded(*text, path, kCeilingsHeader, CeilingRecord(input));
  }
  if (!text.ok()) return text.status();
  return ReplaceFile(path, *text);
}

std::string TargetSummary(const ReportInput& input) {
  std::string out = "\nTargets (medians of this run):\n";
  for (const Evaluated& e : Evaluate(input)) {
    absl::StrAppend(&out, "  ", e.label, ": ", e.measured, "; ratio ", e.ratio,
                    " (best repetitions ", e.best_ratio, "; paired ",
                    e.paired_ratio, "); required ", e.required,
                    "; met: ", e.met, "\n");
  }
  absl::StrAppend(&out, "Ceilings (same run):\n");
  for (const Ceiling& c : Ceilings(input)) {
    absl::StrAppend(&out, "  ", c.target, ": ", c.ceiling, "; ", c.verdict.text,
                    "\n");
  }
  return out;
}

}  // namespace caseledger::bench
