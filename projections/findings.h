// Findings (domain.md §4, `findings`): the procedure of Operational Bulletin
// 265 checked against one case, rule by rule. docs/findings.md gives, for
// each rule, the sentence of the bulletin or the decision it comes from, how
// it is evaluated, and an example.
//
// Shape of the result:
// - Every rule appears at least once, in the order of the §4 table.
// - Request-scoped rules give one finding, carrying `request_id`, for each
//   request the rule judges, in send order: CONSENT_ESTABLISHED,
//   RECIPIENT_MATCHES_FILE, RECIPIENT_VERIFIED, ORGANIZATIONAL_MAILBOX and
//   SENT_MESSAGE_PRESERVED judge email requests; REQUEST_RECORDED and
//   REFUSAL_WARNING_GIVEN every request; DEADLINE_REASONABLE those with a
//   deadline; BOUNCE_FOLLOWED_UP those that bounced; NON_COMPLIANCE_AFTER_
//   DEADLINE and STANDARD_NOTE_USED those with a non-compliance note;
//   DELIVERY_WARNING_HEEDED those with a sign of a delivery problem;
//   EXTENSION_REQUEST_DECIDED those with an extension request.
// - Other findings have `request_id` "": CONSENT_ESTABLISHED also judges
//   each transfer notice (after the requests); REPRESENTATIVE_EMAIL_REPEATED
//   each consent on the representative form; TRANSFER_NOTICE_GIVEN each
//   transfer; RECONSIDERATION_ADDRESSED each reconsideration request;
//   RECORDED_PROMPTLY the case. REFUSAL_SUPPORTED judges each NON_COMPLIANCE
//   refusal and carries the refusal's request_id.
// - A rule with nothing to judge gives one NOT_APPLICABLE finding with
//   `request_id` "".
// - `positions` lists, ascending and without repeats, the events that
//   support the finding.
// Rules compare business times (occurred_at, then case_version for equal
// times); only RECORDED_PROMPTLY looks at recorded_at.
//
// Thread safety: plain values; the functions are pure and thread-safe
// provided `message_stored` is.
#ifndef CASELEDGER_PROJECTIONS_FINDINGS_H_
#define CASELEDGER_PROJECTIONS_FINDINGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ledger/recorded_event.h"
#include "projections/case_model.h"
#include "projections/evaluation.h"
#include "projections/policy.h"

namespace caseledger::projections {

// The rules, in the order of the domain.md §4 table.
enum class Rule {
  kConsentEstablished,
  kRepresentativeEmailRepeated,
  kRecipientMatchesFile,
  kRecipientVerified,
  kRequestRecorded,
  kOrganizationalMailbox,
  kRefusalWarningGiven,
  kDeadlineReasonable,
  kBounceFollowedUp,
  kNonComplianceAfterDeadline,
  kStandardNoteUsed,
  kRefusalSupported,
  kTransferNoticeGiven,
  kReconsiderationAddressed,
  kSentMessagePreserved,
  kDeliveryWarningHeeded,
  kExtensionRequestDecided,
  kRecordedPromptly,
};

// Every rule, in table order.
const std::vector<Rule>& AllRules();

// "CONSENT_ESTABLISHED", ... exactly as domain.md §4.
std::string_view RuleName(Rule rule);

enum class FindingStatus { kPass, kFail, kWarn, kNotApplicable };

// "PASS", "FAIL", "WARN", "NOT_APPLICABLE".
std::string_view FindingStatusName(FindingStatus status);

struct Finding {
  Rule rule = Rule::kConsentEstablished;
  FindingStatus status = FindingStatus::kNotApplicable;
  // The request judged, or "" (see the header comment).
  std::string request_id;
  // One or more plain-language English sentences.
  std::string message;
  // Supporting events, ascending, no repeats.
  std::vector<uint64_t> positions;

  bool operator==(const Finding&) const = default;
};

struct Findings {
  std::string case_id;
  std::vector<Finding> findings;

  // True when some finding is FAIL (`findings --strict` exits 1).
  bool HasFail() const;

  bool operator==(const Findings&) const = default;
};

// Answers whether the message with this SHA-256 (lowercase hex) is stored
// beside the log, intact: OK if so, kNotFound if it is not stored,
// kDataLoss if the bytes stored under that digest no longer have it (the
// finding then says the copy was altered, which a court reads differently
// from a copy never kept), any other error if it could not be read. Used by
// SENT_MESSAGE_PRESERVED (and so by REFUSAL_SUPPORTED). An empty function
// means "nothing is stored".
using MessageStored = std::function<absl::Status(std::string_view sha256_hex)>;

// Returns the findings for `model`'s case with the events `evaluation`
// includes; deadlines are judged at evaluation.JudgedAt().
Findings FindingsFor(const CaseModel& model, const Evaluation& evaluation,
                     const DeadlinePolicy& policy,
                     const MessageStored& message_stored);

// Folds `events` (one case, in case_version order) and returns its findings.
// Errors as for FoldCase().
absl::StatusOr<Findings> FindingsFor(absl::Span<const RecordedEvent> events,
                                     const Evaluation& evaluation,
                                     const DeadlinePolicy& policy,
                                     const MessageStored& message_stored);

// The standard non-compliance note of step 4 of the bulletin, as written in
// domain.md §1.
extern const char kStandardNoteEnglish[];
extern const char kStandardNoteFrench[];

// Returns `note` normalised for comparison with the standard note: Unicode
// NFC (ledger/nfc.h, Unicode 14), ’ ‘ mapped to ' and “ ” « » to ", white
// space (Unicode's White_Space, IsWhiteSpace in ledger/untrusted_text.h)
// collapsed to one space, trimmed, then surrounding quotes stripped and
// trimmed again.
std::string NormalizeNote(std::string_view note);

// True when `note` equals the English or the French standard note after
// NormalizeNote() on both sides.
bool IsStandardNote(std::string_view note);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_FINDINGS_H_
