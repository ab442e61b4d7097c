// The deadline policy: the shortest deadline, in days, that counts as
// reasonable for an applicant's country (domain.md §4, rule
// DEADLINE_REASONABLE). The policy is data, never stored in the ledger: the
// built-in default applies unless a command is given `--policy FILE`.
//
// File form (JSON):
//   {"default_minimum_days": 30, "countries": {"SY": 60}}
// `default_minimum_days` is required, `countries` is optional; days are
// non-negative integers (at most 3650); country codes are ISO 3166-1
// alpha-2, two uppercase ASCII letters. Unknown keys are rejected.
//
// Days are counted in calendar days (UTC) from the day of the send to the day
// of the deadline: sent 2011-02-01 at any hour, deadline 2011-03-03 at any
// hour is 30 days.
//
// Thread safety: plain values; the functions are pure and thread-safe.
#ifndef CASELEDGER_PROJECTIONS_POLICY_H_
#define CASELEDGER_PROJECTIONS_POLICY_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace caseledger::projections {

struct DeadlinePolicy {
  // Default: 30.
  int default_minimum_days = 30;
  // Country code -> minimum days, overriding the default. Default: empty.
  std::map<std::string, int> countries;

  // Returns the minimum for `country` (matched exactly; an unknown or empty
  // country gets the default).
  int MinimumDaysFor(std::string_view country) const;

  bool operator==(const DeadlinePolicy&) const = default;
};

// The built-in policy: {"default_minimum_days": 30, "countries": {}}.
DeadlinePolicy DefaultPolicy();

// Parses a policy file's text, after a byte order mark if it starts with
// one. kInvalidArgument naming the field otherwise:
// not JSON, not an object, an unknown key, a missing default_minimum_days, a
// negative, fractional or too large number of days, or a country code that is
// not two uppercase letters.
absl::StatusOr<DeadlinePolicy> ParsePolicy(std::string_view json_text);
// ParsePolicy, and every country code must be one some country has: a
// policy naming "UK" was taken and matched no case, whose country must be
// "GB" since 2026-12-05 (found by a review). For a policy given to a
// command; a bundle's own is read by ParsePolicy, since one exported before
// may name such a code.
absl::StatusOr<DeadlinePolicy> ParseGivenPolicy(std::string_view json_text);

// The policy in its file form (keys in a fixed order), followed by a newline.
std::string PolicyJson(const DeadlinePolicy& policy);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_POLICY_H_
