#include "ledger/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace caseledger {

namespace {

// OpenSSL 3 looks the algorithm up on every EVP_sha256() init ("implicit
// fetch"), which costs twice the hashing of a short message; fetch it once
// and keep one context per thread (docs/performance.md).
const EVP_MD* FetchedSha256() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Sha256Digest Sha256(std::string_view a, std::string_view b) {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(
      EVP_MD_CTX_new());
  Sha256Digest out;
  // These calls fail only on allocation failure inside OpenSSL; a digest we
  // cannot compute must never be mistaken for a real one, so abort.
  if (ctx == nullptr ||
      EVP_DigestInit_ex(ctx.get(), FetchedSha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr) != 1) {
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
