// Our SipHash-2-4 against the paper's worked example and against OpenSSL's
// independent implementation on inputs of every length around the 8-byte
// block boundaries.
#include "ledger/internal/siphash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace caseledger::internal {
namespace {

SipHashKey CountingKey() {
  SipHashKey key;
  for (int i = 0; i < 16; ++i) key[i] = static_cast<uint8_t>(i);
  return key;
}

uint64_t OpenSslSipHash(const SipHashKey& key, const std::string& data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  size_t size = 8;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
      OSSL_PARAM_construct_end()};
  uint8_t out[8] = {};
  size_t out_len = 0;
  bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
            EVP_MAC_update(ctx, reinterpret_cast<const uint8_t*>(data.data()),
                           data.size()) == 1 &&
            EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  EXPECT_TRUE(ok);
  EXPECT_EQ(out_len, 8u);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | out[i];
  return v;
}

TEST(SipHashTest, PaperExample) {
  // Appendix A of the SipHash paper: key 00..0f, message 00..0e.
  std::string message;
  for (int i = 0; i < 15; ++i) message.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(CountingKey(), message), 0xa129ca6149be45e5ULL);
}

TEST(SipHashTest, AgreesWithOpenSslOnEveryLengthUpTo100) {
  std::mt19937_64 random(20261130);
  for (size_t n = 0; n <= 100; ++n) {
    SipHashKey key;
    for (auto& b : key) b = static_cast<uint8_t>(random());
    std::string data(n, '\0');
    for (auto& c : data) c = static_cast<char>(random());
    EXPECT_EQ(SipHash24(key, data), OpenSslSipHash(key, data))
        << "length " << n;
  }
}

// Data given in pieces hashes as the whole: every way of cutting 40 bytes
// in three, empty pieces included, against OpenSSL on the whole.
TEST(SipHashTest, PiecesHashAsTheirConcatenation) {
  std::mt19937_64 random(20261202);
  SipHashKey key;
  for (auto& b : key) b = static_cast<uint8_t>(random());
  std::string data(40, '\0');
  for (auto& c : data) c = static_cast<char>(random());
  const uint64_t whole = OpenSslSipHash(key, data);
  for (size_t a = 0; a <= data.size(); ++a) {
    for (size_t b = a; b <= data.size(); ++b) {
      SipHasher hasher(key);
      const std::string_view all(data);
      hasher.Update(all.substr(0, a));
      hasher.Update(all.substr(a, b - a));
      hasher.Update(all.substr(b));
      EXPECT_EQ(hasher.Finish(), whole) << "cut at " << a << " and " << b;
    }
  }
}

TEST(SipHashTest, TheKeyChangesTheOutput) {
  SipHashKey other = CountingKey();
  other[15] ^= 1;
  EXPECT_NE(SipHash24(CountingKey(), "caseledger"),
            SipHash24(other, "caseledger"));
}

}  // namespace
}  // namespace caseledger::internal
