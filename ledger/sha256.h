// SHA-256 through OpenSSL, and the hex spelling the formats use (base64 is
// ledger/base64.h).
#ifndef CASELEDGER_LEDGER_SHA256_H_
#define CASELEDGER_LEDGER_SHA256_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace caseledger {

using Sha256Digest = std::array<uint8_t, 32>;

// Returns SHA-256(data).
Sha256Digest Sha256(std::string_view data);
// Returns SHA-256(a || b) without copying the parts together.
Sha256Digest Sha256(std::string_view a, std::string_view b);

// The digest's 32 bytes as a string.
std::string DigestBytes(const Sha256Digest& d);
// The digest whose bytes DigestBytes gives; nullopt unless `bytes` holds
// exactly 32 (callers say what the bytes were).
std::optional<Sha256Digest> DigestFromBytes(std::string_view bytes);
// Lowercase hex, 64 characters.
std::string ToHex(std::string_view bytes);
std::string ToHex(const Sha256Digest& d);
// Parses 64 hex digits (either case) into a digest; kInvalidArgument naming
// `what` otherwise.
absl::StatusOr<Sha256Digest> DigestFromHex(std::string_view hex,
                                           std::string_view what);
// True when `s` is 64 lowercase hex digits.
bool IsLowerHexSha256(std::string_view s);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_SHA256_H_
