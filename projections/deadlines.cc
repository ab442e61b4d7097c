#include "projections/deadlines.h"

#include <array>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"
#include "projections/findings.h"
#include "projections/internal/analysis.h"
#include "projections/internal/rules.h"

namespace caseledger::projections {
namespace {

constexpr std::array<DeadlineState, 7> kStates = {
    DeadlineState::kSuperseded,     DeadlineState::kSatisfied,
    DeadlineState::kSatisfiedLate,  DeadlineState::kClosed,
    DeadlineState::kDeliveryFailed, DeadlineState::kOverdue,
    DeadlineState::kPending};

// Flag order of domain.md §4, with the rule behind each flag.
constexpr std::array<std::pair<DeadlineFlag, Rule>, 6> kFlagRules = {{
    {DeadlineFlag::kBelowPolicyMinimum, Rule::kDeadlineReasonable},
    {DeadlineFlag::kNotVerified, Rule::kRecipientVerified},
    {DeadlineFlag::kAddressMismatch, Rule::kRecipientMatchesFile},
    {DeadlineFlag::kNoRefusalWarning, Rule::kRefusalWarningGiven},
    {DeadlineFlag::kNonOrganizationalMailbox, Rule::kOrganizationalMailbox},
    {DeadlineFlag::kNoConsent, Rule::kConsentEstablished},
}};

}  // namespace

std::string_view DeadlineStateName(DeadlineState state) {
  switch (state) {
    case DeadlineState::kSuperseded:
      return "SUPERSEDED";
    case DeadlineState::kSatisfied:
      return "SATISFIED";
    case DeadlineState::kSatisfiedLate:
      return "SATISFIED_LATE";
    case DeadlineState::kClosed:
      return "CLOSED";
    case DeadlineState::kDeliveryFailed:
      return "DELIVERY_FAILED";
    case DeadlineState::kOverdue:
      return "OVERDUE";
    case DeadlineState::kPending:
      return "PENDING";
  }
  return "UNKNOWN";
}

absl::StatusOr<DeadlineState> ParseDeadlineState(std::string_view name,
                                                 std::string_view field) {
  std::vector<std::string> names;
  for (DeadlineState s : kStates) {
    if (DeadlineStateName(s) == name) return s;
    names.emplace_back(DeadlineStateName(s));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(AbslView(field), ": \"", Printable(name),
                   "\" is not one of ", absl::StrJoin(names, ", ")));
}

std::string_view DeadlineFlagName(DeadlineFlag flag) {
  switch (flag) {
    case DeadlineFlag::kBelowPolicyMinimum:
      return "BELOW_POLICY_MINIMUM";
    case DeadlineFlag::kNotVerified:
      return "NOT_VERIFIED";
    case DeadlineFlag::kAddressMismatch:
      return "ADDRESS_MISMATCH";
    case DeadlineFlag::kNoRefusalWarning:
      return "NO_REFUSAL_WARNING";
    case DeadlineFlag::kNonOrganizationalMailbox:
      return "NON_ORGANIZATIONAL_MAILBOX";
    case DeadlineFlag::kNoConsent:
      return "NO_CONSENT";
  }
  return "UNKNOWN";
}

std::vector<DeadlineStatus> DeadlinesFor(const CaseModel& model,
                                         const Evaluation& evaluation,
                                         const DeadlinePolicy& policy) {
  const internal::Analysis analysis(model, evaluation);
  // Flags do not depend on stored messages.
  // The rules each request does not PASS, looked up per request: scanning
  // every finding for every request made a case of 3,400 requests take
  // seconds (found by an audit).
  absl::flat_hash_set<std::pair<Rule, std::string_view>> not_passed;
  const std::vector<Finding> findings =
      internal::EvaluateRules(analysis, policy, MessageStored());
  for (const Finding& f : findings) {
    if (f.status == FindingStatus::kFail || f.status == FindingStatus::kWarn) {
      not_passed.emplace(f.rule, f.request_id);
    }
  }
  std::vector<DeadlineStatus> rows;
  for (const internal::RequestFacts* r : analysis.requests()) {
    DeadlineStatus row;
    row.case_id = analysis.case_id();
    row.request_id = r->id;
    row.sent_at = r->sent->occurred_at;
    row.deadline = r->deadline;
    row.status = r->state;
    for (const auto& [flag, rule] : kFlagRules) {
      if (not_passed.contains({rule, r->id})) row.flags.push_back(flag);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<DeadlineStatus>> DeadlinesFor(
    absl::Span<const RecordedEvent> events, const Evaluation& evaluation,
    const DeadlinePolicy& policy) {
  absl::StatusOr<CaseModel> model = FoldCase(events);
  if (!model.ok()) return model.status();
  return DeadlinesFor(*model, evaluation, policy);
}

}  // namespace caseledger::projections
