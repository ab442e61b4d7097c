// When a projection is evaluated: the two time axes of domain.md §4 and the
// instant at which deadlines are judged.
//
// Projections never read the wall clock. A caller that wants "now" reads its
// Clock once and passes the value in `now`; replays and evidence bundles pass
// a fixed time, so the same events and the same Evaluation always give the
// same output.
//
// Thread safety: plain values; the functions are pure and thread-safe.
#ifndef CASELEDGER_PROJECTIONS_EVALUATION_H_
#define CASELEDGER_PROJECTIONS_EVALUATION_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/recorded_event.h"

namespace caseledger::projections {

struct Evaluation {
  // `--as-of`: only events that occurred (occurred_at) at or before it.
  // Default: absl::InfiniteFuture(), meaning `now` (domain.md §4: evaluated
  // as of a time T, "default: now"; an event dated later has not happened).
  absl::Time as_of = absl::InfiniteFuture();
  // `--known-at`: only events the ledger had recorded (recorded_at) at or
  // before it. Default: absl::InfiniteFuture() (no limit).
  absl::Time known_at = absl::InfiniteFuture();
  // The caller's "now": the limit on occurred_at when `as_of` is not set,
  // and the instant deadlines are judged at when neither `as_of` nor
  // `known_at` is set. Default: absl::InfiniteFuture(), which includes every
  // event and judges every deadline as passed; callers that mean "now" must
  // pass it.
  absl::Time now = absl::InfiniteFuture();

  // Returns the instant at which deadlines are judged: `as_of` if set, else
  // the earlier of `known_at` and `now`. "Set" means not InfiniteFuture().
  // A `known_at` after `now` judges at `now`, as the events it includes
  // are only those that occurred by now: judged later, a request answered
  // by documents dated after now would read OVERDUE, a status no moment had
  // (found by an audit).
  absl::Time JudgedAt() const;

  // Returns the latest occurred_at this evaluation includes: `as_of` if set,
  // else `now` (so `known_at` alone still leaves out what occurs after now).
  absl::Time OccurredBy() const;

  // Returns true when an event that occurred at `occurred_at` and was
  // recorded at `recorded_at` belongs to this evaluation:
  // occurred_at <= OccurredBy() and recorded_at <= known_at.
  bool Includes(absl::Time occurred_at, absl::Time recorded_at) const;
  bool Includes(const RecordedEvent& event) const;
};

// kNotFound "case C was not open yet at that point: it was opened at T
// (recorded at R)" when the case_opened event `opened` lies outside
// `evaluation`: before it there is no case to describe, and "status OPEN,
// version 0" would say there was.
absl::Status CheckOpenAt(const Evaluation& evaluation, std::string_view case_id,
                         absl::Time opened_at, absl::Time opened_recorded_at);

// Parses a `--as-of` / `--known-at` value: RFC 3339 with a zone
// ("2012-08-01T12:00:00Z", "2012-08-01T08:00:00-04:00") or a date
// ("2012-08-01"), meaning the end of that day in UTC (its last nanosecond).
// kInvalidArgument naming `flag` ("--as-of") otherwise.
absl::StatusOr<absl::Time> ParseEvaluationTime(std::string_view text,
                                               std::string_view flag);

// Formats `t` as RFC 3339 in UTC, with fractional seconds only when non-zero:
// "2012-04-15T23:59:59Z". Infinite times format as "" (never in output).
std::string FormatUtc(absl::Time t);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_EVALUATION_H_
