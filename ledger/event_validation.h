// The rules of domain.md §3 that one event must meet on its own. The rules
// that depend on the ledger's contents (first event of a case, request
// already sent, ...) are checked by the sequencer. Validation rejects
// malformed data, never poor practice: the findings judge practice.
#ifndef CASELEDGER_LEDGER_EVENT_VALIDATION_H_
#define CASELEDGER_LEDGER_EVENT_VALIDATION_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caseledger/v1/events.pb.h"

namespace caseledger {

// OK when `event` is well formed; otherwise kInvalidArgument whose message
// starts with the offending field's path, e.g.
// "document_request_sent.to[1]: 'bob@' is not a valid email address".
// An empty event_id is allowed (the ledger generates one).
absl::Status ValidateEvent(const v1::Event& event);

// The largest event ValidateEvent takes, encoded with its event_id (the one
// the ledger will give it, when it has none): 1 MiB.
inline constexpr size_t kMaxEventBytes = 1 << 20;

// OK when `code` is one of the 249 assigned ISO 3166-1 alpha-2 codes, or
// "XK" (Kosovo, user-assigned);
// otherwise kInvalidArgument: "\"UK\" is no country's ISO 3166-1 alpha-2
// code (the United Kingdom's is \"GB\")".
absl::Status CheckCountryCode(std::string_view code);

// True for `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
bool IsValidCaseId(std::string_view case_id);
// A syntactic check of a mailbox as SMTP takes it (RFC 5321 §4.1.2: a
// dot-atom or quoted local part, a domain of two labels or more), with
// UTF-8 wherever RFC 6531 allows it: applicants write from every country,
// and anna@müller.de or 李@例子.中国 are addresses an office must be able to
// record. Address literals (user@[192.0.2.1]) are not taken, nor control,
// line-separating or bidirectional formatting characters, nor a character
// that shows as nothing or as a plain space (FirstHiddenCharacter).
bool IsValidEmailAddress(std::string_view address);
// True for the 8-4-4-4-12 hex form, in either case.
bool IsValidUuid(std::string_view id);
// The spelling under which the ledger stores an event id: a UUID's hex
// digits in lower case (RFC 9562 reads them in either case, so "0B6F..."
// and "0b6f..." name one event); any other text as it is.
std::string CanonicalEventId(std::string_view id);
// The canonical text of a 16-byte UUID, after setting its version nibble
// and the RFC 9562 variant bits.
std::string UuidText(std::string_view sixteen_bytes, int version);
// A fresh random event id (UUID version 4) from the system's CSPRNG.
// Clients that retry appends give each event its id before the first try.
absl::StatusOr<std::string> NewEventId();

// The request a payload is about ("" when none). Refers to `event`'s own
// field: valid while `event` is neither changed nor gone.
const std::string& RequestIdOf(const v1::Event& event);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_EVENT_VALIDATION_H_
