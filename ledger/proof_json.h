// The JSON form of Merkle proofs: what `caseledger prove` prints, locally or
// from a server, and what an evidence bundle keeps in proofs/ (domain.md,
// CLI). One writer for all of them, so that a proof reads the same wherever
// it was made; the bundle verifier parses it (projections/bundle).
//
// Thread safety: all functions are pure and thread-safe.
#ifndef CASELEDGER_LEDGER_PROOF_JSON_H_
#define CASELEDGER_LEDGER_PROOF_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/merkle.h"

namespace caseledger::merkle {

// {"leaf_index": I, "tree_size": N, "hashes": [base64, ...]} and a newline.
std::string InclusionProofJson(uint64_t leaf_index, uint64_t tree_size,
                               const std::vector<Hash>& hashes);

// {"old_size": M, "new_size": N, "hashes": [base64, ...]} and a newline.
std::string ConsistencyProofJson(uint64_t old_size, uint64_t new_size,
                                 const std::vector<Hash>& hashes);

}  // namespace caseledger::merkle

#endif  // CASELEDGER_LEDGER_PROOF_JSON_H_
