// Verbs that read the projections: timeline, state, deadlines, findings,
// and rebuild of the stored ones.

#include "projections/deadline_index.h"
#include "projections/queries.h"
#include "tools/cli.h"
#include "tools/output.h"

namespace caseledger::cli {
namespace {

using projections::OutputFormat;
using projections::Query;

const std::vector<FlagSpec> kQueryFlags = {
    {"as-of", "T",
     "only events that occurred by T (default: now; RFC 3339, or a date "
     "meaning its end)"},
    {"known-at", "T", "only events the ledger had recorded by T"},
    {"policy", "FILE",
     "deadline policy JSON, e.g. {\"default_minimum_days\": 30, "
     "\"countries\": {\"SY\": 60}}"},
    {"format", "json|text", "output format (default: text)"},
};

std::vector<FlagSpec> WithQueryFlags(std::vector<FlagSpec> flags) {
  flags.insert(flags.end(), kQueryFlags.begin(), kQueryFlags.end());
  return flags;
}

absl::StatusOr<Query> ParseQuery(const Args& args, Io& io) {
  auto flags = ParseQueryFlags(args, io);
  if (!flags.ok()) return flags.status();
  Query query;
  query.format = flags->json ? OutputFormat::kJson : OutputFormat::kText;
  // "Now" is read once, here, at the edge; the projections never read it.
  query.evaluation.now = SystemClock().Now();
  if (flags->as_of) query.evaluation.as_of = *flags->as_of;
  if (flags->known_at) query.evaluation.known_at = *flags->known_at;
  query.policy = flags->policy;
  return query;
}

// Runs a one-case query verb.
int CaseVerb(const std::string& verb, const Args& args, Io& io,
             const std::function<absl::StatusOr<std::string>(
                 const Ledger&, const std::string&, const Query&)>& run) {
  if (!args.Has("case")) return UsageError(io, verb, "--case C is required");
  auto query = ParseQuery(args, io);
  if (!query.ok()) return Fail(io, verb, query.status());
  auto ledger = OpenForRead(args);
  if (!ledger.ok()) return Fail(io, verb, ledger.status());
  auto out = run(**ledger, args.Get("case"), *query);
  if (!out.ok()) return Fail(io, verb, out.status());
  io.out << ShownAs(*out, query->format);
  return kExitOk;
}

int Timeline(const Args& args, Io& io) {
  return CaseVerb("timeline", args, io, projections::TimelineOutput);
}

int State(const Args& args, Io& io) {
  return CaseVerb("state", args, io, projections::StateOutput);
}

int Findings(const Args& args, Io& io) {
  bool has_fail = false;
  int code = CaseVerb("findings", args, io,
                      [&](const Ledger& ledger, const std::string& c,
                          const Query& q) -> absl::StatusOr<std::string> {
                        auto result = projections::FindingsOutput(ledger, c, q);
                        if (!result.ok()) return result.status();
                        has_fail = result->has_fail;
                        return result->output;
                      });
  if (code == kExitOk && has_fail && args.Has("strict")) {
    return kExitCheckFailed;
  }
  return code;
}

int Deadlines(const Args& args, Io& io) {
  auto query = ParseQuery(args, io);
  if (!query.ok()) return Fail(io, "deadlines", query.status());
  auto status = DeadlineStatusFlag(args);
  if (!status.ok()) return Fail(io, "deadlines", status.status());
  std::optional<std::string> case_id;
  if (args.Has("case")) case_id = args.Get("case");
  auto ledger = OpenForRead(args);
  if (!ledger.ok()) return Fail(io, "deadlines", ledger.status());
  // Every case of a large ledger takes a minute or more (4.3 s for the
  // 20,214 cases of 550,056 events).
  query->progress = [&](uint64_t cases_read) {
    io.err << "deadlines: " << cases_read << " cases read\n";
  };
  auto out = projections::DeadlinesOutput(**ledger, case_id, *status, *query);
  if (!out.ok()) return Fail(io, "deadlines", out.status());
  io.out << ShownAs(*out, query->format);
  return kExitOk;
}

// The refusal of a writer beside `serve` offers the verbs with a client
// mode, which rebuild is not one of (found by a review).
absl::Status BesideTheServer(const absl::Status& refused) {
  constexpr std::string_view kServed = "; it serves this ledger: stop it first";
  std::string message(refused.message());
  const size_t at = message.rfind(kServed);
  if (at == std::string::npos || !message.ends_with(")")) return refused;
  const size_t end = at + kServed.size();
  message.replace(end, message.size() - 1 - end,
                  " (rebuild has no client mode; the server brings the index "
                  "up to date itself, every --index-every seconds)");
  return absl::Status(refused.code(), message);
}

int Rebuild(const Args& args, Io& io) {
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok())
    return Fail(io, "rebuild", BesideTheServer(ledger.status()));
  auto applied = projections::DeadlineIndex::Rebuild(
      **ledger, [&](uint64_t done, uint64_t total) {
        io.err << "rebuild: deadline index " << done << "/" << total
               << " events\n";
      });
  if (!applied.ok()) return Fail(io, "rebuild", applied.status());
  io.out << "rebuilt the deadline index from " << *applied << " events\n";
  return kExitOk;
}

}  // namespace

std::vector<Verb> ProjectionVerbs() {
  return {
      {{"timeline",
        "timeline --db DIR --case C [--as-of T] [--known-at T] [--policy FILE] "
        "[--format json|text]",
        "The readable history of one case, one line per event in the domain's "
        "words.",
        WithQueryFlags({{"case", "C", "the case"}}), 0, 0},
       Timeline},
      {{"state",
        "state --db DIR --case C [--as-of T] [--known-at T] [--policy FILE] "
        "[--format json|text]",
        "The case's state: status, office, addresses on file, representative, "
        "open\nrequests, transfers, judicial review.",
        WithQueryFlags({{"case", "C", "the case"}}), 0, 0},
       State},
      {{"deadlines",
        "deadlines --db DIR [--case C] [--status S] [--as-of T] [--known-at T] "
        "[--policy FILE] [--format json|text]",
        "One row per request: sent, deadline after extensions, status and "
        "flags.\nWithout --case, every case; --status OVERDUE across cases "
        "reads only the\ncases whose deadlines fell before the evaluation "
        "time. Across cases, says on\nstderr how many it has read, every "
        "10,000 (not in client mode).",
        WithQueryFlags({{"case", "C", "one case only"},
                        {"status", "S",
                         "only rows with this status (SUPERSEDED, SATISFIED, "
                         "SATISFIED_LATE, CLOSED,\n                            "
                         "DELIVERY_FAILED, OVERDUE, PENDING)"}}),
        0, 0},
       Deadlines},
      {{"findings",
        "findings --db DIR --case C [--strict] [--as-of T] [--known-at T] "
        "[--policy FILE] [--format json|text]",
        "The procedure (Operational Bulletin 265 and the Federal Court's "
        "decisions)\nchecked against one case: each rule PASS, FAIL, WARN or "
        "NOT_APPLICABLE, with\nthe positions of the events behind it.",
        WithQueryFlags({{"case", "C", "the case"},
                        {"strict", "", "exit 1 when any rule FAILs"}}),
        0, 0},
       Findings},
      {{"rebuild",
        "rebuild --db DIR",
        "Rebuild the stored projections (the cross-case deadline index) from "
        "the log,\nwith progress. State, deadlines and findings of a case are "
        "always folded\nfrom its events, so they need no rebuild.",
        {},
        0,
        0},
       Rebuild},
  };
}

}  // namespace caseledger::cli
