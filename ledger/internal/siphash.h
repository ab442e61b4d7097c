// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudorandom function
// with a 128-bit key and a 64-bit output. Verify uses it, under a key drawn
// afresh for every run, to compare the indexes with the log as multisets
// without holding either in memory (tamper_evidence.cc); an attacker who
// edits the store beforehand cannot know the key, so cannot aim for a
// collision.
#ifndef CASELEDGER_LEDGER_INTERNAL_SIPHASH_H_
#define CASELEDGER_LEDGER_INTERNAL_SIPHASH_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace caseledger::internal {

using SipHashKey = std::array<uint8_t, 16>;

uint64_t SipHash24(const SipHashKey& key, std::string_view data);

// The same hash of data given in pieces: Update with each, then Finish.
// Spares building the concatenation (Verify hashes copies of whole entries
// and events).
class SipHasher {
 public:
  explicit SipHasher(const SipHashKey& key);
  void Update(std::string_view data);
  uint64_t Finish();

 private:
  uint64_t v_[4];       // the state: v0, v1, v2, v3
  uint8_t pending_[8];  // bytes not yet a whole 8-byte block
  size_t pending_size_ = 0;
  uint64_t length_ = 0;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_SIPHASH_H_
