// Standard base64 (RFC 4648 section 4, with '=' padding), the spelling the
// C2SP checkpoint and signed-note formats and our bundles use.
//
// Thread safety: all functions are pure and thread-safe.
#ifndef CASELEDGER_LEDGER_BASE64_H_
#define CASELEDGER_LEDGER_BASE64_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace caseledger {

// Returns the padded standard base64 encoding of `bytes`.
std::string Base64Encode(std::string_view bytes);

// Decodes padded standard base64. Strict, so that every byte string has
// exactly one accepted spelling: rejects characters outside the alphabet
// (including white space and the URL-safe '-' and '_'), a length that is not
// a multiple of 4, missing, misplaced or extra '=', and non-zero bits in the
// unused low end of the last character. The empty string decodes to "".
// kInvalidArgument naming `what` and the offending character position.
absl::StatusOr<std::string> Base64Decode(std::string_view text,
                                         std::string_view what);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_BASE64_H_
