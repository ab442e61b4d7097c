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

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_SIPHASH_H_
