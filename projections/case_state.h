// Case state (domain.md §4, `state`): where one case stands at an evaluation
// point.
//
// Status: while undecided, AWAITING_DOCUMENTS if some request is PENDING,
// OVERDUE or DELIVERY_FAILED (deadlines.h), else OPEN; case_decided sets
// REFUSED, APPROVED or WITHDRAWN; reconsideration_requested gives
// RECONSIDERATION_PENDING; REFUSAL_MAINTAINED returns to REFUSED; REOPENED
// returns to undecided. Events are taken in business-time order
// (OccurredBefore).
//
// Addresses on file: email_consent_recorded puts its address on file whatever
// its basis; email_consent_withdrawn takes it off; contact_address_changed
// takes the old address off and puts the new one on with the old one's party
// and basis (consent carries); when the old address was not on file, the new
// one inherits the basis of another address of the same party on file, and
// without one it does not go on file (there is no consent to carry);
// representative_withdrawn takes every REPRESENTATIVE address off.
// Addresses compare as NormalizeAddress() makes them
// (internal/email_address.h): trimmed, the part between '<' and '>' when
// present, letters lower-cased and composed, a Unicode domain in its
// Punycode form.
//
// Thread safety: plain values; the functions are pure and thread-safe.
#ifndef CASELEDGER_PROJECTIONS_CASE_STATE_H_
#define CASELEDGER_PROJECTIONS_CASE_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "caseledger/v1/events.pb.h"
#include "ledger/recorded_event.h"
#include "projections/case_model.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"

namespace caseledger::projections {

enum class CaseStatus {
  kOpen,
  kAwaitingDocuments,
  kRefused,
  kApproved,
  kWithdrawn,
  kReconsiderationPending,
};

// "OPEN", "AWAITING_DOCUMENTS", ... exactly as domain.md §4.
std::string_view CaseStatusName(CaseStatus status);

struct AddressOnFile {
  // As written in the event that put it on file.
  std::string address;
  v1::Party::Value party = v1::Party::PARTY_UNSPECIFIED;
  v1::ConsentBasis::Value basis = v1::ConsentBasis::CONSENT_BASIS_UNSPECIFIED;
  // The event that put it on file.
  uint64_t position = 0;

  bool operator==(const AddressOnFile&) const = default;
};

struct Representative {
  std::string representative_id;
  std::string name;
  std::string email;

  bool operator==(const Representative&) const = default;
};

// A request whose deadline status is PENDING, OVERDUE or DELIVERY_FAILED.
struct OpenRequest {
  std::string request_id;
  v1::Channel::Value channel = v1::Channel::CHANNEL_UNSPECIFIED;
  absl::Time sent_at;
  // After extensions; nullopt when the request gave none.
  std::optional<absl::Time> deadline;
  DeadlineState status = DeadlineState::kPending;

  bool operator==(const OpenRequest&) const = default;
};

struct Transfer {
  std::string from_office_id;
  std::string to_office_id;
  std::string reason;
  absl::Time occurred_at;
  uint64_t position = 0;

  bool operator==(const Transfer&) const = default;
};

struct CaseState {
  std::string case_id;
  CaseStatus status = CaseStatus::kOpen;
  // The case's office: case_opened's, then each transfer's destination.
  std::string office_id;
  std::string applicant_country;
  // In the order they went on file.
  std::vector<AddressOnFile> addresses_on_file;
  // The representative appointed last and not withdrawn, if any (a
  // withdrawal ends the appointment it names, and no other).
  std::optional<Representative> representative;
  // In send order.
  std::vector<OpenRequest> open_requests;
  // In business-time order.
  std::vector<Transfer> transfers;
  // The court file number of the last judicial_review_filed, or "".
  std::string judicial_review;
  // Highest case_version and position among the evaluated events; 0 when
  // no event is evaluated (e.g. as of a time before the case was opened).
  uint64_t version = 0;
  uint64_t last_position = 0;

  bool operator==(const CaseState&) const = default;
};

// Returns the state of `model`'s case with the events `evaluation` includes.
CaseState CaseStateFor(const CaseModel& model, const Evaluation& evaluation);

// Folds `events` (one case, in case_version order) and returns its state.
// Errors as for FoldCase().
absl::StatusOr<CaseState> CaseStateFor(absl::Span<const RecordedEvent> events,
                                       const Evaluation& evaluation);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_CASE_STATE_H_
