// Output of the projections for the `state`, `deadlines`, `findings` and
// `timeline` verbs: JSON exactly as domain.md §6 (proto field names in
// snake_case, enum names as strings, times RFC 3339 in UTC, numbers as JSON
// numbers), and text for people. Every renderer is deterministic: the same
// value gives the same bytes, so outputs can go into evidence bundles.
//
// JSON conventions where the spec is silent:
// - A string with no value is "" (`judicial_review`, a missing `deadline`,
//   the `request_id` of a case-level finding); `representative` is null when
//   none is appointed. Every documented key is always present.
// - Objects are indented by two spaces; every rendering ends with a newline.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_RENDER_H_
#define CASELEDGER_PROJECTIONS_RENDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "caseledger/v1/events.pb.h"
#include "ledger/recorded_event.h"
#include "projections/case_model.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"
#include "projections/findings.h"
#include "projections/policy.h"

namespace caseledger::projections {

// {"case_id", "status", "office_id", "applicant_country",
//  "addresses_on_file": [{"address", "party", "basis"}],
//  "representative": {"representative_id", "name", "email"} | null,
//  "open_requests": [{"request_id", "channel", "sent_at", "deadline",
//                     "status"}],
//  "transfers": [{"from_office_id", "to_office_id", "reason", "occurred_at",
//                 "position"}],
//  "judicial_review", "version", "last_position"}
std::string RenderStateJson(const CaseState& state);
// Aligned "label  value" lines.
std::string RenderStateText(const CaseState& state);

// {"deadlines": [{"case_id", "request_id", "sent_at", "deadline", "status",
//                 "flags": [...]}]}; rows in the order given (they may span
// several cases).
std::string RenderDeadlinesJson(absl::Span<const DeadlineStatus> rows);
// An aligned table with a header line. When empty, "no requests", or "no
// requests with status S" when the rows were those of `status` only.
std::string RenderDeadlinesText(
    absl::Span<const DeadlineStatus> rows,
    std::optional<DeadlineState> status = std::nullopt);

// {"case_id", "findings": [{"rule", "status", "request_id", "message",
//                           "positions": [...]}]}
std::string RenderFindingsJson(const Findings& findings);
// One line per finding: status, rule, request, message, positions; then a
// count by status.
std::string RenderFindingsText(const Findings& findings);

// One event of the timeline.
struct TimelineEntry {
  uint64_t position = 0;
  uint64_t case_version = 0;
  absl::Time occurred_at;
  absl::Time recorded_at;
  // The payload's field name, e.g. "document_request_sent".
  std::string event_type;
  // Who acted, as the text output names them: "officer off-17".
  std::string actor;
  // The event in the domain's words (DescribeEvent()).
  std::string sentence;

  bool operator==(const TimelineEntry&) const = default;
};

// Calls `row` with each event `evaluation` includes, in business-time order
// (occurred_at, then case_version), described in the domain's words. The
// renderers below take the rows one at a time: held all at once beside the
// model, a timeline of 225,004 events took ~100 MB more.
void ForEachTimelineEntry(const CaseModel& model, const Evaluation& evaluation,
                          const DeadlinePolicy& policy,
                          absl::FunctionRef<void(TimelineEntry&&)> row);
// Those rows, collected.
std::vector<TimelineEntry> TimelineFor(const CaseModel& model,
                                       const Evaluation& evaluation,
                                       const DeadlinePolicy& policy);

// One line per entry: "#<position> v<version> <occurred_at> <actor>:
// <sentence>", then " (recorded <day>, <N> days later)" for an event recorded
// more than internal::kLateRecording after it occurred (docs/cli.md).
std::vector<std::string> TimelineLines(const CaseModel& model,
                                       const Evaluation& evaluation,
                                       const DeadlinePolicy& policy);
// Folds `events` (one case, in case_version order) first; errors as for
// FoldCase().
absl::StatusOr<std::vector<std::string>> TimelineLines(
    absl::Span<const RecordedEvent> events, const Evaluation& evaluation,
    const DeadlinePolicy& policy);

// {"case_id", "timeline": [{"position", "case_version", "occurred_at",
//                           "recorded_at", "event_type", "actor", "text"}]}
std::string RenderTimelineJson(std::string_view case_id, const CaseModel& model,
                               const Evaluation& evaluation,
                               const DeadlinePolicy& policy);
// The TimelineLines(), one per line.
std::string RenderTimelineText(const CaseModel& model,
                               const Evaluation& evaluation,
                               const DeadlinePolicy& policy);

// Describes one event in a sentence, e.g. "DOC-1 emailed to a@b.example from
// the office mailbox, deadline 2011-03-03 (30 days), refusal warning
// included". `minimum_days` is the policy minimum for the case's country;
// a request's deadline below it is said to be so. `deadline_in_force`, for
// a deadline_extended, is the request's deadline before it: an extension to
// an earlier date is said to leave it standing.
std::string DescribeEvent(
    const v1::Event& event, int minimum_days,
    std::optional<absl::Time> deadline_in_force = std::nullopt);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_RENDER_H_
