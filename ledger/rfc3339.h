// The one spelling of a time the ledger takes, in its input and its flags
// alike: RFC 3339 §5.6 date-time with a zone, e.g. 2011-02-01T10:00:00Z or
// 2011-02-01T05:00:00.25-05:00.
//
// Thread safety: pure functions.
#ifndef CASELEDGER_LEDGER_RFC3339_H_
#define CASELEDGER_LEDGER_RFC3339_H_

#include <string_view>

#include "absl/time/time.h"

namespace caseledger {

// True when `text` is spelled YYYY-MM-DDTHH:MM:SS, then an optional fraction
// of 1 to 9 digits, then Z or +HH:MM / -HH:MM: T and Z in capitals, seconds
// 00 to 59, nothing before or after. Whether the date exists is left to the
// parser that reads the value. Protobuf's and Abseil's parsers each take
// spellings the other refuses (a one-digit month, text after a NUL, a tenth
// fraction digit, a lowercase 't', a leap second); checking the spelling
// first makes a time mean the same to every part of the ledger.
bool IsRfc3339Time(std::string_view text);

// True when `text` is spelled YYYY-MM-DD (RFC 3339 full-date).
bool IsRfc3339Date(std::string_view text);

// The instants a google.protobuf.Timestamp holds, as messages name them. The
// spelling allows more: year 0000, and a zone offset that carries
// 9999-12-31 past the end in UTC.
inline constexpr char kTimestampRange[] =
    "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in UTC";

// True when `t` lies within kTimestampRange.
bool IsWithinTimestampRange(absl::Time t);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_RFC3339_H_
