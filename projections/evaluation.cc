#include "projections/evaluation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger/untrusted_text.h"
#include "projections/case_model.h"
#include "projections/internal/strings.h"

namespace caseledger::projections {

absl::Time Evaluation::JudgedAt() const {
  if (as_of != absl::InfiniteFuture()) return as_of;
  if (known_at != absl::InfiniteFuture()) return known_at;
  return now;
}

absl::Time Evaluation::OccurredBy() const {
  return as_of != absl::InfiniteFuture() ? as_of : now;
}

bool Evaluation::Includes(absl::Time occurred_at,
                          absl::Time recorded_at) const {
  return occurred_at <= OccurredBy() && recorded_at <= known_at;
}

bool Evaluation::Includes(const RecordedEvent& event) const {
  return Includes(ToTime(event.event.occurred_at()), event.recorded_at);
}

absl::Status CheckOpenAt(const Evaluation& evaluation, std::string_view case_id,
                         absl::Time opened_at, absl::Time opened_recorded_at) {
  if (evaluation.Includes(opened_at, opened_recorded_at)) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat("case ", std::string(case_id),
                   " was not open yet at that point: it was opened at ",
                   FormatUtc(opened_at), " (recorded at ",
                   FormatUtc(opened_recorded_at), ")"));
}

namespace {

// Whether `s` is spelled as RFC 3339 §5.6 spells a date (full-date) or a
// time (date-time), digits and separators in place; the values are Abseil's
// to judge. Abseil's own parser also takes "+0500", "+05", a five-digit year
// and surrounding spaces, which occurred_at refuses (found by an audit).
bool SpelledAsRfc3339(std::string_view s) {
  auto digits = [&](size_t from, size_t n) {
    if (s.size() < from + n) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  auto at = [&](size_t i, std::string_view one_of) {
    return i < s.size() && one_of.find(s[i]) != std::string_view::npos;
  };
  if (!digits(0, 4) || !at(4, "-") || !digits(5, 2) || !at(7, "-") ||
      !digits(8, 2)) {
    return false;
  }
  if (s.size() == 10) return true;
  if (!at(10, "Tt") || !digits(11, 2) || !at(13, ":") || !digits(14, 2) ||
      !at(16, ":") || !digits(17, 2)) {
    return false;
  }
  size_t i = 19;
  if (at(i, ".")) {
    const size_t first = ++i;
    while (digits(i, 1)) ++i;
    if (i == first) return false;
  }
  if (at(i, "Zz")) return i + 1 == s.size();
  return at(i, "+-") && digits(i + 1, 2) && at(i + 3, ":") &&
         digits(i + 4, 2) && i + 6 == s.size();
}

}  // namespace

absl::StatusOr<absl::Time> ParseEvaluationTime(std::string_view text,
                                               std::string_view flag) {
  const std::string s(text);
  if (SpelledAsRfc3339(s)) {
    absl::CivilDay day;
    absl::Time t;
    std::string unused_detail;  // Abseil's reason adds nothing to act on
    if (s.size() == 10) {
      if (absl::ParseCivilTime(s, &day)) {
        return absl::FromCivil(day + 1, absl::UTCTimeZone()) -
               absl::Nanoseconds(1);
      }
    } else if (absl::ParseTime(absl::RFC3339_full, s, &t, &unused_detail)) {
      return t;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      internal::Sv(flag), ": \"", Printable(s),
      "\" is neither an RFC 3339 time with a zone nor a date YYYY-MM-DD "
      "(e.g. 2012-05-01T12:00:00Z, 2012-05-01T08:00:00-04:00 or 2012-05-01)"));
}

std::string FormatUtc(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

}  // namespace caseledger::projections
