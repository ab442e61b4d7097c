// The findings of one large case, shaped as an adversarial test shaped the
// cases whose judgment grew faster than the case: many consents on file, a
// long chain of resends, many reconsideration cycles. Each shape is
// measured at two sizes, 4x apart, so that the report shows how its cost
// grows (about 4x is linear, 16x quadratic). Events/s counts the case's
// events judged per second, as `findings --case` judges them.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/bench_common.h"
#include "bench/bench_events.h"
#include "benchmark/benchmark.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"
#include "projections/queries.h"

namespace caseledger::bench {
namespace {

enum Shape { kConsents, kChainedResends, kReconsiderations };
constexpr const char* kShapeNames[] = {"consents", "chained_resends",
                                       "reconsiderations"};

[[noreturn]] void Abort(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "projections bench: %s: %s\n", what,
               status.ToString().c_str());
  std::abort();
}

// The events of one case of `shape`, `n` steps long, one minute apart.
class LargeCase {
 public:
  explicit LargeCase(std::string case_id) : case_id_(std::move(case_id)) {}

  std::vector<v1::Event> Of(Shape shape, int n) {
    Add(R"("case_opened": {"program": "TRV", "office_id": "VO-1", )"
        R"("office_mailbox": "visa-office@office.example", )"
        R"("applicant_country": "SN", "language": "en"})");
    if (shape == kConsents) {
      for (int i = 0; i < n; ++i) Consent(absl::StrCat("a", i));
      Request("DOC-0", absl::StrCat("a", n - 1), "", absl::Hours(24 * 40));
      return std::move(events_);
    }
    Consent("amina");
    if (shape == kChainedResends) {
      Request("DOC-0", "amina", "", absl::Hours(24 * 40));
      for (int i = 1; i < n; ++i) {
        Request(absl::StrCat("DOC-", i), "amina", absl::StrCat("DOC-", i - 1),
                absl::Hours(24 * 40));
      }
      return std::move(events_);
    }
    Request("DOC-0", "amina", "", absl::Hours(24));
    at_ += absl::Hours(48);
    for (int i = 0; i < n; ++i) {
      Add(R"("case_decided": {"decision": "REFUSED", "ground": )"
          R"("NON_COMPLIANCE", "request_id": "DOC-0", "reasons": "nc"})");
      Add(R"("reconsideration_requested": {"ground": "EMAIL_NOT_RECEIVED", )"
          R"("statement": "never got it"})",
          "APPLICANT");
      Add(R"("reconsideration_decided": {"outcome": "REOPENED", )"
          R"("reasons": "ok", "circumstances_considered": ["x"]})");
    }
    return std::move(events_);
  }

 private:
  void Add(const std::string& payload, const char* actor = "OFFICER") {
    const std::string json = absl::StrCat(
        R"({"event_id": ")", BenchEventId(case_id_, events_.size()),
        R"(", "case_id": ")", case_id_, R"(", "occurred_at": ")",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at_, absl::UTCTimeZone()),
        R"(", "actor": {"kind": ")", actor, R"(", "id": "o-1"}, )", payload,
        "}");
    auto event = ParseEventJson(json);
    if (!event.ok()) Abort("making an event", event.status());
    events_.push_back(*std::move(event));
    at_ += absl::Minutes(1);
  }
  void Consent(const std::string& mailbox) {
    Add(absl::StrCat(
        R"("email_consent_recorded": {"party": "APPLICANT", )",
        R"("address": ")", mailbox, R"(@mail.example", )",
        R"("basis": "APPLICATION_FORM", "evidence_ref": "form"})"));
  }
  void Request(const std::string& id, const std::string& mailbox,
               const std::string& resend_of, absl::Duration deadline) {
    Add(absl::StrCat(
        R"("document_request_sent": {"request_id": ")", id,
        R"(", "channel": "EMAIL", "to": [")", mailbox,
        R"(@mail.example"], "from_mailbox": "visa-office@office.example", )",
        R"("organizational_mailbox": true, "deadline": ")",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at_ + deadline,
                         absl::UTCTimeZone()),
        R"(", "items": ["police certificate"], )",
        R"("refusal_warning_included": true, "message_id": "<)", id,
        R"(@office.example>", "subject": "Request", "body_sha256": ")",
        std::string(64, 'a'), R"(")",
        resend_of.empty()
            ? ""
            : absl::StrCat(R"(, "resend_of": ")", resend_of, R"(")"),
        "}"));
  }

  const std::string case_id_;
  absl::Time at_ =
      absl::FromCivil(absl::CivilSecond(2011, 1, 1), absl::UTCTimeZone());
  std::vector<v1::Event> events_;
};

// A ledger holding case BIG-1 of `shape`, `steps` long, made once per run
// (Google Benchmark calls a benchmark more than once); its event count.
std::pair<const Ledger*, size_t> LargeCaseLedger(Shape shape, int steps) {
  static auto* made =
      new std::map<std::pair<Shape, int>, std::pair<const Ledger*, size_t>>();
  auto [it, added] = made->try_emplace({shape, steps});
  if (!added) return it->second;
  LedgerOptions options;
  options.sync = false;  // a fixture: durability is irrelevant
  auto ledger = Ledger::Create(
      NewScratchDir(absl::StrCat("findings-", kShapeNames[shape], "-", steps)) +
          "/ledger",
      "bench.example/findings", options);
  if (!ledger.ok()) Abort("creating the ledger", ledger.status());
  const std::vector<v1::Event> events = LargeCase("BIG-1").Of(shape, steps);
  for (size_t i = 0; i < events.size(); i += 1000) {
    const std::vector<v1::Event> batch(
        events.begin() + i, events.begin() + std::min(events.size(), i + 1000));
    if (auto appended = (*ledger)->Append(batch); !appended.ok()) {
      Abort("appending", appended.status());
    }
  }
  Ledger* kept = ledger->release();
  AtRunEnd([kept] { delete kept; });
  it->second = {kept, events.size()};
  return it->second;
}

// args: shape, steps.
void BM_FindingsOfALargeCase(benchmark::State& state) {
  const auto shape = static_cast<Shape>(state.range(0));
  const auto [ledger, events] =
      LargeCaseLedger(shape, static_cast<int>(state.range(1)));
  projections::Query query;
  query.format = projections::OutputFormat::kJson;
  for (auto _ : state) {
    auto findings = projections::FindingsOutput(*ledger, "BIG-1", query);
    if (!findings.ok()) {
      state.SkipWithError(findings.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(findings->output);
  }
  state.SetItemsProcessed(state.iterations() * events);
  state.SetLabel(kShapeNames[shape]);
}

}  // namespace

void RegisterProjectionBenchmarks() {
  auto* findings = benchmark::RegisterBenchmark("BM_FindingsOfALargeCase",
                                                BM_FindingsOfALargeCase);
  findings->ArgNames({"shape", "steps"});
  for (Shape shape : {kConsents, kChainedResends, kReconsiderations}) {
    // Reconsideration cycles are three events each, and cost the most.
    const int small = shape == kReconsiderations ? 125 : 1000;
    findings->Args({shape, small})->Args({shape, 4 * small});
  }
  findings->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace caseledger::bench
