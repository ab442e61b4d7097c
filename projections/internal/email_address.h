// Email addresses as the findings compare them.
//
// An internationalized domain has two spellings that name one mailbox: its
// Unicode labels (anna@müller.de) and their ASCII form (anna@xn--mller-kva.de,
// RFC 5891), which mail software writes where a header must be ASCII. An
// office may record one and the message carry the other; the comparison
// must not call that a different address.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_EMAIL_ADDRESS_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_EMAIL_ADDRESS_H_

#include <optional>
#include <string>
#include <string_view>

namespace caseledger::projections::internal {

// The comparable form of an email address: trimmed, the part between '<' and
// '>' when present, in NFC (ledger/nfc.h), in lower case (lower_case.h's
// letters: beyond them, case is compared as written), and each domain label
// holding non-ASCII characters in its ASCII form ("xn--" and its Punycode).
std::string NormalizeAddress(std::string_view address);

// The Punycode encoding (RFC 3492) of the UTF-8 text `label`, without the
// "xn--" prefix: "müller" gives "mller-kva". nullopt when `label` is not
// well-formed UTF-8 or its encoding would overflow.
std::optional<std::string> Punycode(std::string_view label);

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_EMAIL_ADDRESS_H_
