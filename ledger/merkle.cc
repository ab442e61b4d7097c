// RFC 9162 §2.1 over stored complete subtrees. Grammar of the hashed bytes:
// docs/formats.md ("Merkle tree").
//
// Builders and verifiers share one idea: a subtree D[begin:end) of the RFC
// tree always starts at a multiple of a power of two that is >= its size, so
// it is the fold, right to left, of the perfect subtrees given by the binary
// digits of (end - begin), largest first. Each such perfect subtree is one
// stored node.
#include "ledger/merkle.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"

namespace caseledger::merkle {
namespace {

constexpr char kLeafPrefix = '\x00';
constexpr char kNodePrefix = '\x01';

// The largest power of two strictly less than n; n >= 2 (RFC 9162 §2.1.1).
uint64_t SplitPoint(uint64_t n) {
  return uint64_t{1} << (std::bit_width(n - 1) - 1);
}

// A subtree D[begin:end) of the RFC tree whose hash a proof carries.
struct Range {
  uint64_t begin;
  uint64_t end;
};

// The subtrees whose hashes make up PATH(leaf_index, D[tree_size]), in proof
// order (next to the leaf first). Requires leaf_index < tree_size. Computing
// the plan without hashes lets the verifier know the exact proof length the
// builder would produce.
std::vector<Range> InclusionPlan(uint64_t leaf_index, uint64_t tree_size) {
  std::vector<Range> plan;
  uint64_t begin = 0, end = tree_size;
  while (end - begin > 1) {
    const uint64_t mid = begin + SplitPoint(end - begin);
    if (leaf_index < mid) {
      plan.push_back({mid, end});
      end = mid;
    } else {
      plan.push_back({begin, mid});
      begin = mid;
    }
  }
  // Built from the root down; the proof lists siblings from the leaf up.
  std::reverse(plan.begin(), plan.end());
  return plan;
}

// The subtrees whose hashes make up PROOF(old_size, D[new_size]), in proof
// order. Requires 0 < old_size < new_size. Follows SUBPROOF of §2.1.4.1,
// with `whole_old_tree` as its boolean b.
std::vector<Range> ConsistencyPlan(uint64_t old_size, uint64_t new_size) {
  std::vector<Range> plan;
  uint64_t begin = 0, end = new_size;
  bool whole_old_tree = true;
  while (old_size != end) {
    const uint64_t mid = begin + SplitPoint(end - begin);
    if (old_size <= mid) {
      plan.push_back({mid, end});
      end = mid;
    } else {
      plan.push_back({begin, mid});
      begin = mid;
      whole_old_tree = false;
    }
  }
  // The verifier knows the old root itself, so when the old tree is one
  // subtree of the new one the proof leaves it out.
  if (!whole_old_tree) plan.push_back({begin, end});
  std::reverse(plan.begin(), plan.end());
  return plan;
}

// Hash of D[begin:end), with one read per binary digit of (end - begin).
// Only the ranges of a plan (or of RootAt) may be passed: their alignment is
// what makes every piece a stored node.
absl::StatusOr<Hash> RangeHash(const Range& r, const NodeSource& nodes) {
  const uint64_t size = r.end - r.begin;
  if (size == 0) return EmptyRoot();
  std::vector<Hash> pieces;
  uint64_t offset = r.begin;
  for (int level = std::bit_width(size) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    CASELEDGER_ASSIGN_OR_RETURN(Hash h, nodes(level, offset >> level));
    pieces.push_back(h);
    offset += width;
  }
  // A non-perfect tree is its left perfect subtree joined with the rest, so
  // fold from the smallest (rightmost) piece outwards.
  Hash acc = pieces.back();
  for (size_t i = pieces.size() - 1; i-- > 0;) acc = NodeHash(pieces[i], acc);
  return acc;
}

absl::StatusOr<std::vector<Hash>> ReadPlan(const std::vector<Range>& plan,
                                           const NodeSource& nodes) {
  std::vector<Hash> proof;
  proof.reserve(plan.size());
  for (const Range& r : plan) {
    CASELEDGER_ASSIGN_OR_RETURN(Hash h, RangeHash(r, nodes));
    proof.push_back(h);
  }
  return proof;
}

}  // namespace

Hash LeafHash(std::string_view entry_bytes) {
  return Sha256(std::string_view(&kLeafPrefix, 1), entry_bytes);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  // One buffer keeps this to a single digest call; it runs on every append.
  char buf[1 + 2 * 32];
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 1 + 32);
  return Sha256(std::string_view(buf, sizeof(buf)));
}

Hash EmptyRoot() { return Sha256(std::string_view()); }

absl::StatusOr<Hash> RootAt(uint64_t size, const NodeSource& nodes) {
  if (size == 0) return EmptyRoot();
  return RangeHash({0, size}, nodes);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t leaf_index,
                                                 uint64_t tree_size,
                                                 const NodeSource& nodes) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf_index ", leaf_index, " is not below tree_size ", tree_size));
  }
  // Every sibling is one stored node except at most one right sibling (the
  // first taken on the way down: below it every subtree is perfect), so the
  // reads stay within about 2 log2(tree_size).
  return ReadPlan(InclusionPlan(leaf_index, tree_size), nodes);
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size,
                                                   uint64_t new_size,
                                                   const NodeSource& nodes) {
  if (old_size == 0) {
    return absl::InvalidArgumentError(
        "old_size must be positive: the empty tree needs no consistency proof");
  }
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "old_size ", old_size, " is greater than new_size ", new_size));
  }
  if (old_size == new_size) return std::vector<Hash>();
  return ReadPlan(ConsistencyPlan(old_size, new_size), nodes);
}

absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index,
                             uint64_t tree_size, const std::vector<Hash>& proof,
                             const Hash& root) {
  const std::string what = absl::StrCat("inclusion proof for leaf ", leaf_index,
                                        " of tree ", tree_size);
  // §2.1.3.2 step 1. The claim comes with the proof, so an impossible one is
  // a failed proof rather than a caller's mistake.
  if (leaf_index >= tree_size) {
    return absl::DataLossError(
        absl::StrCat(what, ": leaf index is not below the tree size"));
  }
  // The RFC algorithm rejects a wrong length too, but only by its effect on
  // the computed root; checking first names the actual fault.
  const size_t expected = InclusionPlan(leaf_index, tree_size).size();
  if (proof.size() != expected) {
    return absl::DataLossError(absl::StrCat(what, ": proof has ", proof.size(),
                                            " hashes, expected ", expected));
  }
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return absl::DataLossError(
          absl::StrCat(what, ": proof is longer than the path to the root"));
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::DataLossError(
        absl::StrCat(what, ": proof is shorter than the path to the root"));
  }
  if (r != root) {
    return absl::DataLossError(absl::StrCat(what, ": computed root ", ToHex(r),
                                            " != expected root ", ToHex(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               const std::vector<Hash>& proof) {
  const std::string what = absl::StrCat("consistency proof from tree ",
                                        old_size, " to tree ", new_size);
  if (old_size > new_size) {
    return absl::DataLossError(
        absl::StrCat(what, ": old size is greater than new size"));
  }
  if (old_size == new_size || old_size == 0) {
    // Nothing to prove beyond what the roots say themselves: equal trees
    // have equal roots, and the empty tree is a prefix of every tree.
    if (!proof.empty()) {
      return absl::DataLossError(absl::StrCat(
          what, ": proof has ", proof.size(), " hashes, expected 0"));
    }
    const Hash& want = old_size == 0 ? EmptyRoot() : new_root;
    if (old_root != want) {
      return absl::DataLossError(absl::StrCat(
          what, ": old root ", ToHex(old_root), " != ", ToHex(want)));
    }
    return absl::OkStatus();
  }
  const size_t expected = ConsistencyPlan(old_size, new_size).size();
  if (proof.size() != expected) {
    return absl::DataLossError(absl::StrCat(what, ": proof has ", proof.size(),
                                            " hashes, expected ", expected));
  }
  // §2.1.4.2, steps 1 to 7. Step 2 prepends old_root when old_size is a
  // power of two; walking `path` by index avoids copying the proof.
  const bool prepend = std::has_single_bit(old_size);
  const size_t path_size = proof.size() + (prepend ? 1 : 0);
  auto path = [&](size_t i) -> const Hash& {
    if (prepend) return i == 0 ? old_root : proof[i - 1];
    return proof[i];
  };
  // Step 1: the length check above already refused an empty path, which is
  // possible only when old_size is not a power of two.
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path(0);
  Hash sr = path(0);
  for (size_t i = 1; i < path_size; ++i) {
    const Hash& c = path(i);
    if (sn == 0) {
      return absl::DataLossError(
          absl::StrCat(what, ": proof is longer than the path to the root"));
    }
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::DataLossError(
        absl::StrCat(what, ": proof is shorter than the path to the root"));
  }
  if (fr != old_root) {
    return absl::DataLossError(absl::StrCat(what, ": computed old root ",
                                            ToHex(fr), " != expected old root ",
                                            ToHex(old_root)));
  }
  if (sr != new_root) {
    return absl::DataLossError(absl::StrCat(what, ": computed new root ",
                                            ToHex(sr), " != expected new root ",
                                            ToHex(new_root)));
  }
  return absl::OkStatus();
}

absl::StatusOr<MerkleFrontier> MerkleFrontier::Load(uint64_t size,
                                                    const NodeSource& nodes) {
  MerkleFrontier f;
  uint64_t offset = 0;
  for (int level = std::bit_width(size) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    CASELEDGER_ASSIGN_OR_RETURN(Hash h, nodes(level, offset >> level));
    f.peaks_.emplace_back(level, h);
    offset += width;
  }
  f.size_ = size;
  return f;
}

std::vector<MerkleFrontier::Node> MerkleFrontier::Append(
    const Hash& leaf_hash) {
  std::vector<Node> completed;
  completed.push_back({0, size_, leaf_hash});
  peaks_.emplace_back(0, leaf_hash);
  ++size_;
  // Two peaks of one level are siblings: the new leaf closed their parent.
  while (peaks_.size() >= 2 &&
         peaks_[peaks_.size() - 2].first == peaks_.back().first) {
    const int level = peaks_.back().first + 1;
    const Hash parent =
        NodeHash(peaks_[peaks_.size() - 2].second, peaks_.back().second);
    peaks_.pop_back();
    peaks_.back() = {level, parent};
    // size_ is a multiple of 2^level here; the node ends at size_.
    completed.push_back({level, (size_ >> level) - 1, parent});
  }
  return completed;
}

Hash MerkleFrontier::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  Hash acc = peaks_.back().second;
  for (size_t i = peaks_.size() - 1; i-- > 0;) {
    acc = NodeHash(peaks_[i].second, acc);
  }
  return acc;
}

}  // namespace caseledger::merkle
