#include "projections/evaluation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger/rfc3339.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/case_model.h"

namespace caseledger::projections {

absl::Time Evaluation::JudgedAt() const {
  if (as_of != absl::InfiniteFuture()) return as_of;
  return std::min(known_at, now);
}

absl::Time Evaluation::OccurredBy() const {
  return as_of != absl::InfiniteFuture() ? as_of : now;
}

bool Evaluation::Includes(absl::Time occurred_at,
                          absl::Time recorded_at) const {
  return occurred_at <= OccurredBy() && recorded_at <= known_at;
}

bool Evaluation::Includes(const RecordedEvent& event) const {
  return Includes(FromTimestamp(event.event.occurred_at()), event.recorded_at);
}

absl::Status CheckOpenAt(const Evaluation& evaluation, std::string_view case_id,
                         absl::Time opened_at, absl::Time opened_recorded_at) {
  if (evaluation.Includes(opened_at, opened_recorded_at)) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat("case ", Printable(case_id),
                   " was not open yet at that point: it was opened at ",
                   FormatUtc(opened_at), " (recorded at ",
                   FormatUtc(opened_recorded_at), ")"));
}

absl::StatusOr<absl::Time> ParseEvaluationTime(std::string_view text,
                                               std::string_view flag) {
  const std::string s(text);
  // The spelling is checked first: Abseil's parser also takes "+0500", "+05",
  // a five-digit year, surrounding spaces, a lowercase 't', a leap second on
  // any day and more than nine fraction digits, which occurred_at refuses
  // (found by audits).
  absl::CivilDay day;
  absl::Time t;
  std::string unused_detail;  // Abseil's reason adds nothing to act on
  bool spelled = false;
  if (IsRfc3339Date(s)) {
    spelled = absl::ParseCivilTime(s, &day);
    t = absl::FromCivil(day + 1, absl::UTCTimeZone()) - absl::Nanoseconds(1);
  } else {
    spelled = IsRfc3339Time(s) &&
              absl::ParseTime(absl::RFC3339_full, s, &t, &unused_detail);
  }
  // An event cannot be dated outside the range, so a flag is not either.
  if (spelled && !IsWithinTimestampRange(t)) {
    return absl::InvalidArgumentError(absl::StrCat(
        AbslView(flag), ": \"", Printable(s),
        "\" is outside the times a timestamp holds: ", kTimestampRange));
  }
  if (spelled) return t;
  return absl::InvalidArgumentError(absl::StrCat(
      AbslView(flag), ": \"", Printable(s),
      "\" is neither an RFC 3339 time with a zone nor a date YYYY-MM-DD "
      "(e.g. 2012-05-01T12:00:00Z, 2012-05-01T08:00:00-04:00 or 2012-05-01)"));
}

std::string FormatUtc(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return "";
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace caseledger::projections
