#include "projections/policy.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ledger/event_validation.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"
#include "projections/internal/json.h"

namespace caseledger::projections {
namespace {

using internal::JsonValue;

constexpr int kMaxDays = 3650;

absl::StatusOr<int> ParseDays(const JsonValue& v, std::string_view field) {
  int days = 0;
  // A whole number too large for an int is out of range, not "not whole"
  // (found by an outside reading).
  const std::string_view digits =
      std::string_view(v.text).substr(v.text.starts_with('-') ? 1 : 0);
  const bool whole =
      v.kind == JsonValue::Kind::kNumber && !digits.empty() &&
      digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!whole) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy: ", AbslView(field), " must be a whole number of days"));
  }
  if (!absl::SimpleAtoi(v.text, &days) || days < 0 || days > kMaxDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy: ", AbslView(field), " must be between 0 and ",
                     kMaxDays, " days, not ", v.text));
  }
  return days;
}

bool IsCountryCode(std::string_view s) {
  return s.size() == 2 &&
         absl::ascii_isupper(static_cast<unsigned char>(s[0])) &&
         absl::ascii_isupper(static_cast<unsigned char>(s[1]));
}

}  // namespace

int DeadlinePolicy::MinimumDaysFor(std::string_view country) const {
  const auto it = countries.find(std::string(country));
  return it == countries.end() ? default_minimum_days : it->second;
}

DeadlinePolicy DefaultPolicy() { return DeadlinePolicy{}; }

absl::StatusOr<DeadlinePolicy> ParsePolicy(std::string_view json_text) {
  // Editors on Windows may start a UTF-8 file with a byte order mark; event
  // input skips one, and a policy file was refused for it (found by an
  // outside reading).
  if (LooksLikeUtf16(json_text)) {
    return absl::InvalidArgumentError(
        "policy: the file is UTF-16, not UTF-8; save it as UTF-8 (JSON is "
        "UTF-8, RFC 8259)");
  }
  // Skipped in place, so that the offsets errors give are the file's.
  absl::StatusOr<JsonValue> doc = internal::ParseJson(
      json_text, json_text.starts_with("\xEF\xBB\xBF") ? 3 : 0);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy: ", doc.status().message()));
  }
  if (doc->kind != JsonValue::Kind::kObject) {
    return absl::InvalidArgumentError("policy: must be a JSON object");
  }
  DeadlinePolicy policy;
  bool has_default = false;
  for (const auto& [key, value] : doc->members) {
    if (key == "default_minimum_days") {
      absl::StatusOr<int> days = ParseDays(value, key);
      if (!days.ok()) return days.status();
      policy.default_minimum_days = *days;
      has_default = true;
    } else if (key == "countries") {
      if (value.kind != JsonValue::Kind::kObject) {
        return absl::InvalidArgumentError(
            "policy: countries must be an object of country code to days");
      }
      for (const auto& [code, days_value] : value.members) {
        if (!IsCountryCode(code)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "policy: countries.", code,
              ": a country code is two uppercase letters (ISO 3166-1 "
              "alpha-2)"));
        }
        absl::StatusOr<int> days =
            ParseDays(days_value, absl::StrCat("countries.", code));
        if (!days.ok()) return days.status();
        policy.countries[code] = *days;
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("policy: unknown key \"", key,
                       "\" (expected default_minimum_days, countries)"));
    }
  }
  if (!has_default) {
    return absl::InvalidArgumentError(
        "policy: default_minimum_days is required");
  }
  return policy;
}

absl::StatusOr<DeadlinePolicy> ParseGivenPolicy(std::string_view json_text) {
  CASELEDGER_ASSIGN_OR_RETURN(DeadlinePolicy policy, ParsePolicy(json_text));
  for (const auto& [code, days] : policy.countries) {
    if (absl::Status assigned = CheckCountryCode(code); !assigned.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy: countries.", code, ": ", assigned.message()));
    }
  }
  return policy;
}

std::string PolicyJson(const DeadlinePolicy& policy) {
  internal::JsonWriter w;
  w.BeginObject();
  w.Key("default_minimum_days");
  w.Int(policy.default_minimum_days);
  w.Key("countries");
  w.BeginObject();
  for (const auto& [code, days] : policy.countries) {
    w.Key(code);
    w.Int(days);
  }
  w.EndObject();
  w.EndObject();
  return std::move(w).Finish();
}

}  // namespace caseledger::projections
