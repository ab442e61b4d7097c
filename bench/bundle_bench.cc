// Evidence bundles of one 1,000-event case: building one (BuildBundle, the
// export without recording it, so that every iteration exports the same
// tree) and checking one offline (VerifyBundle, from the bytes and the
// public key alone). Events/s counts the case's events.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_common.h"
#include "bench/bench_events.h"
#include "benchmark/benchmark.h"
#include "ledger/ledger.h"
#include "projections/bundle/bundle.h"
#include "projections/bundle/verify.h"

namespace caseledger::bench {
namespace {

constexpr uint64_t kCaseEvents = 1000;
constexpr char kCase[] = "IMM-BUNDLE-1000";

[[noreturn]] void Abort(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "bundle bench: %s: %s\n", what,
               status.ToString().c_str());
  std::abort();
}

// A ledger holding the case among other cases' events, checkpointed at its
// final size; the export request for it; the verifier key.
struct BundleFixture {
  Ledger* ledger = nullptr;
  bundle::ExportRequest request;
  std::string verifier_key;
  std::string bundle;  // one export, for the verify benchmark
};

const BundleFixture& GetBundleFixture() {
  static const BundleFixture* fixture = [] {
    auto* f = new BundleFixture;
    LedgerOptions options;
    options.sync = false;  // a fixture: durability is irrelevant
    auto created = Ledger::Create(NewScratchDir("bundle") + "/ledger",
                                  "bench.example/bundle", options);
    if (!created.ok()) Abort("creating the ledger", created.status());
    f->ledger = created->release();
    AtRunEnd([f] { delete f->ledger; });
    // The case interleaved with four others, as cases share a ledger.
    std::vector<CaseScript> scripts;
    scripts.emplace_back(kCase);
    for (int i = 1; i <= 4; ++i) {
      scripts.emplace_back(absl::StrCat("IMM-BUNDLE-OTHER-", i));
    }
    while (scripts[0].produced() < kCaseEvents) {
      std::vector<v1::Event> batch;
      for (int k = 0; k < 100; ++k) {
        batch.push_back(scripts[k % scripts.size()].Next());
      }
      if (auto appended = f->ledger->Append(batch); !appended.ok()) {
        Abort("appending", appended.status());
      }
    }
    if (auto note = f->ledger->SignCheckpoint(); !note.ok()) {
      Abort("signing a checkpoint", note.status());
    }
    auto key = f->ledger->VerifierKeyText();
    if (!key.ok()) Abort("reading the key", key.status());
    f->verifier_key = *key;
    f->request.case_id = kCase;
    f->request.purpose = v1::BundlePurpose::JUDICIAL_REVIEW;
    f->request.tree_size = f->ledger->Size();
    f->request.requested_by = "bench";
    auto built = bundle::BuildBundle(*f->ledger, f->request);
    if (!built.ok()) Abort("building the bundle", built.status());
    if (built->events != kCaseEvents) {
      Abort("building the bundle",
            absl::InternalError(
                absl::StrCat("the bundle holds ", built->events, " events")));
    }
    f->bundle = std::move(built->bytes);
    return f;
  }();
  return *fixture;
}

void BM_Export(benchmark::State& state) {
  const BundleFixture& f = GetBundleFixture();
  size_t bytes = 0;
  for (auto _ : state) {
    auto built = bundle::BuildBundle(*f.ledger, f.request);
    if (!built.ok()) {
      state.SkipWithError(built.status().ToString().c_str());
      break;
    }
    bytes = built->bytes.size();
  }
  state.SetItemsProcessed(state.iterations() * kCaseEvents);
  state.counters["bundle_mib"] = static_cast<double>(bytes) / (1 << 20);
}

void BM_VerifyBundle(benchmark::State& state) {
  const BundleFixture& f = GetBundleFixture();
  for (auto _ : state) {
    auto verdict = bundle::VerifyBundle(f.bundle, f.verifier_key);
    if (!verdict.ok() || !verdict->ok()) {
      state.SkipWithError("the bundle does not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kCaseEvents);
}

}  // namespace

void RegisterBundleBenchmarks() {
  for (auto [name, fn] : {std::pair{"BM_Export", &BM_Export},
                          {"BM_VerifyBundle", &BM_VerifyBundle}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->MinTime(Settings().write_min_time)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace caseledger::bench
