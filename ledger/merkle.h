// The Merkle tree of RFC 9162 §2.1 over stored LedgerEntry bytes, and its
// inclusion and consistency proofs (§2.1.3, §2.1.4).
//
// The ledger stores the hash of every complete subtree: node (level L,
// index i) covers leaves [i * 2^L, (i + 1) * 2^L). Level 0 holds leaf hashes.
// Roots and proofs for any tree size are built from those nodes with
// O(log n) reads through a NodeSource; proofs are checked by pure functions
// that need no ledger. Failures of a check are kDataLoss naming what differed.
//
// Thread safety: free functions are thread-safe; MerkleFrontier is not.
#ifndef CASELEDGER_LEDGER_MERKLE_H_
#define CASELEDGER_LEDGER_MERKLE_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/sha256.h"

namespace caseledger::merkle {

using Hash = Sha256Digest;

// SHA-256(0x00 || entry_bytes).
Hash LeafHash(std::string_view entry_bytes);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256 of the empty string: the root of the empty tree.
Hash EmptyRoot();

// Reads the stored hash of a complete subtree. Returns kNotFound (or any
// other error, passed through) when it is not stored.
using NodeSource =
    std::function<absl::StatusOr<Hash>(int level, uint64_t index)>;

// Returns the root hash of the first `size` leaves.
absl::StatusOr<Hash> RootAt(uint64_t size, const NodeSource& nodes);

// Returns PATH(leaf_index, D[tree_size]) of RFC 9162 §2.1.3.1.
// kInvalidArgument when leaf_index >= tree_size.
absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t leaf_index,
                                                 uint64_t tree_size,
                                                 const NodeSource& nodes);

// Returns PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1.
// kInvalidArgument unless 0 < old_size <= new_size (old_size == new_size
// gives an empty proof).
absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size,
                                                   uint64_t new_size,
                                                   const NodeSource& nodes);

// Checks an inclusion proof (RFC 9162 §2.1.3.2). OK when `leaf_hash` is the
// leaf at `leaf_index` of the tree of `tree_size` whose root is `root`;
// kDataLoss otherwise, saying what differed (e.g. the computed root).
absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index,
                             uint64_t tree_size, const std::vector<Hash>& proof,
                             const Hash& root);

// Checks a consistency proof (RFC 9162 §2.1.4.2). kDataLoss when it fails.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               const std::vector<Hash>& proof);

// The right edge of the tree during appends: the roots of the perfect
// subtrees that make up the current tree, so each append needs no reads.
class MerkleFrontier {
 public:
  // A node that became complete; the ledger stores it.
  struct Node {
    int level;
    uint64_t index;
    Hash hash;
  };

  MerkleFrontier() = default;
  // Rebuilds the frontier of a tree of `size` leaves from stored nodes:
  // O(log n) reads.
  static absl::StatusOr<MerkleFrontier> Load(uint64_t size,
                                             const NodeSource& nodes);

  // Adds the next leaf. Returns every node completed by it, the leaf first
  // (level 0), each with its hash.
  std::vector<Node> Append(const Hash& leaf_hash);

  uint64_t size() const { return size_; }
  // Root of the current tree (EmptyRoot() when empty).
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  // (level, hash) of each perfect subtree, largest (leftmost) first.
  std::vector<std::pair<int, Hash>> peaks_;
};

}  // namespace caseledger::merkle

#endif  // CASELEDGER_LEDGER_MERKLE_H_
