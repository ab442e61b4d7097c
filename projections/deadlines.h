// Deadline status (domain.md §4, `deadlines`): one row per document request
// of a case, at an evaluation point.
//
// Status, the first that applies:
//   SUPERSEDED      a request sent at or after this one (business time) has
//                   resend_of this one;
//   SATISFIED       complete documents (documents_received, complete) dated
//                   at or after the send arrived at or before the deadline (or
//                   the request set none);
//   SATISFIED_LATE  they arrived after it;
//   CLOSED          the case stands decided (a case_decided not undone by a
//                   REOPENED reconsideration), other than by a NON_COMPLIANCE
//                   refusal naming this request;
//   DELIVERY_FAILED a FAILED delivery notice names this request;
//   OVERDUE         the deadline is before Evaluation::JudgedAt();
//   PENDING         otherwise (including a request without a deadline).
// The deadline is the request's, replaced by each deadline_extended for it in
// business-time order.
//
// Flags: one for each of these rules (findings.h) that gives this request a
// FAIL or WARN, in this order: BELOW_POLICY_MINIMUM (DEADLINE_REASONABLE),
// NOT_VERIFIED (RECIPIENT_VERIFIED), ADDRESS_MISMATCH
// (RECIPIENT_MATCHES_FILE), NO_REFUSAL_WARNING (REFUSAL_WARNING_GIVEN),
// NON_ORGANIZATIONAL_MAILBOX (ORGANIZATIONAL_MAILBOX), NO_CONSENT
// (CONSENT_ESTABLISHED). NOT_APPLICABLE raises no flag.
//
// Thread safety: plain values; the functions are pure and thread-safe.
#ifndef CASELEDGER_PROJECTIONS_DEADLINES_H_
#define CASELEDGER_PROJECTIONS_DEADLINES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ledger/recorded_event.h"
#include "projections/case_model.h"
#include "projections/evaluation.h"
#include "projections/policy.h"

namespace caseledger::projections {

enum class DeadlineState {
  kSuperseded,
  kSatisfied,
  kSatisfiedLate,
  kClosed,
  kDeliveryFailed,
  kOverdue,
  kPending,
};

// "SUPERSEDED", "SATISFIED", ... exactly as domain.md §4.
std::string_view DeadlineStateName(DeadlineState state);
// Parses a name as written by DeadlineStateName(); kInvalidArgument naming
// `field` (`--status`, or the request field) and listing the valid names
// otherwise.
absl::StatusOr<DeadlineState> ParseDeadlineState(std::string_view name,
                                                 std::string_view field);

enum class DeadlineFlag {
  kBelowPolicyMinimum,
  kNotVerified,
  kAddressMismatch,
  kNoRefusalWarning,
  kNonOrganizationalMailbox,
  kNoConsent,
};

// "BELOW_POLICY_MINIMUM", ... exactly as domain.md §4.
std::string_view DeadlineFlagName(DeadlineFlag flag);

// One row of the deadline table. (Named after the projection; its `status`
// field is the DeadlineState.)
struct DeadlineStatus {
  std::string case_id;
  std::string request_id;
  absl::Time sent_at;
  // After extensions; nullopt when the request gave no deadline.
  std::optional<absl::Time> deadline;
  DeadlineState status = DeadlineState::kPending;
  std::vector<DeadlineFlag> flags;

  bool operator==(const DeadlineStatus&) const = default;
};

// Returns one row per request of `model`'s case that `evaluation` includes,
// in send order (business time).
std::vector<DeadlineStatus> DeadlinesFor(const CaseModel& model,
                                         const Evaluation& evaluation,
                                         const DeadlinePolicy& policy);

// Folds `events` (one case, in case_version order) and returns its rows.
// Errors as for FoldCase().
absl::StatusOr<std::vector<DeadlineStatus>> DeadlinesFor(
    absl::Span<const RecordedEvent> events, const Evaluation& evaluation,
    const DeadlinePolicy& policy);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_DEADLINES_H_
