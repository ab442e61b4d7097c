#include "ledger/sha256.h"

// SHA256_* is deprecated in OpenSSL 3 in favour of EVP, which is slower for
// short messages (see Sha256); the calls are kept and run the same code.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace caseledger {

Sha256Digest Sha256(std::string_view a, std::string_view b) {
  // OpenSSL's SHA256_* calls rather than EVP's: an EVP digest, even fetched
  // once and with its context kept, allocates and frees its state at every
  // init, 0.12 us of the 0.44 us a 300-byte message takes; an append hashes
  // each event four times, verify as often (docs/performance.md).
  SHA256_CTX ctx;
  Sha256Digest out;
  // These calls cannot fail for SHA-256; a digest we could not compute must
  // never be mistaken for a real one, so abort if one ever did.
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, a.data(), a.size()) != 1 ||
      SHA256_Update(&ctx, b.data(), b.size()) != 1 ||
      SHA256_Final(out.data(), &ctx) != 1) {
    abort();
  }
  return out;
}

Sha256Digest Sha256(std::string_view data) { return Sha256(data, {}); }

std::optional<Sha256Digest> DigestFromBytes(std::string_view bytes) {
  Sha256Digest d;
  if (bytes.size() != d.size()) return std::nullopt;
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

std::string DigestBytes(const Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string ToHex(const Sha256Digest& d) { return ToHex(DigestBytes(d)); }

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

absl::StatusOr<Sha256Digest> DigestFromHex(std::string_view hex,
                                           std::string_view what) {
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": expected 64 hex digits, got ",
                     hex.size(), " characters"));
  }
  Sha256Digest out;
  for (size_t i = 0; i < 32; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(what), ": character ",
                       2 * i + (hi < 0 ? 0 : 1), " is not hex"));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

bool IsLowerHexSha256(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace caseledger
