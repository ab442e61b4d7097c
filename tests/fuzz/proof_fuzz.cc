// Fuzz target: the inclusion and consistency proof verifiers
// (ledger/merkle.h), which check proofs that arrive from outside (bundles,
// `prove` output). Two kinds of input, chosen by the first byte:
//   raw: arbitrary sizes, indexes, hashes and proof lengths; no crash, no
//     undefined behaviour, and a verdict of OK or kDataLoss only;
//   built: a tree of up to 300 distinct leaves, a correct proof from the
//     builders (which must verify), then one tampering the input chooses
//     (flip a bit of a hash, drop or add one, change the leaf, index, roots
//     or sizes); a tampered proof must never verify.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/merkle.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using caseledger::merkle::Hash;
namespace merkle = caseledger::merkle;

// Reads fixed-size values off the input; zeros once it runs out.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | U8();
    return v;
  }
  uint16_t U16() { return static_cast<uint16_t>(U8() << 8 | U8()); }
  Hash H() {
    Hash h;
    for (auto& b : h) b = U8();
    return h;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void CheckVerdict(const absl::Status& s) {
  FUZZ_CHECK(s.ok() || absl::IsDataLoss(s),
             absl::StrCat("unexpected verdict ", s.ToString()));
}

// Every complete subtree of a tree of `n` distinct leaves.
struct Tree {
  explicit Tree(uint64_t n) {
    merkle::MerkleFrontier f;
    for (uint64_t i = 0; i < n; ++i) {
      Hash leaf = merkle::LeafHash(absl::StrCat("leaf ", i));
      leaves.push_back(leaf);
      for (const auto& node : f.Append(leaf)) {
        nodes[{node.level, node.index}] = node.hash;
      }
      roots.push_back(f.Root());  // roots[i] is the root of size i + 1
    }
  }
  merkle::NodeSource Source() const {
    return [this](int level, uint64_t index) -> absl::StatusOr<Hash> {
      auto it = nodes.find({level, index});
      if (it == nodes.end()) return absl::NotFoundError("no such node");
      return it->second;
    };
  }
  std::vector<Hash> leaves;
  std::vector<Hash> roots;
  std::map<std::pair<int, uint64_t>, Hash> nodes;
};

// Applies tampering `kind` to a proof; returns false when it changed nothing.
bool TamperProof(uint8_t kind, Input& in, std::vector<Hash>& proof) {
  switch (kind % 3) {
    case 0: {  // flip one bit of one hash
      if (proof.empty()) return false;
      Hash& h = proof[in.U8() % proof.size()];
      h[in.U8() % h.size()] ^= static_cast<uint8_t>(1 << (in.U8() % 8));
      return true;
    }
    case 1:  // drop one hash
      if (proof.empty()) return false;
      proof.erase(proof.begin() + in.U8() % proof.size());
      return true;
    default:  // add one hash
      proof.insert(proof.begin() + in.U8() % (proof.size() + 1), in.H());
      return true;
  }
}

void Raw(Input& in) {
  const uint8_t kind = in.U8();
  const uint64_t a = in.U64(), b = in.U64();
  const size_t n = in.U8() % 72;
  std::vector<Hash> proof;
  for (size_t i = 0; i < n; ++i) proof.push_back(in.H());
  const Hash x = in.H(), y = in.H();
  if (kind % 2 == 0) {
    CheckVerdict(merkle::VerifyInclusion(x, a, b, proof, y));
  } else {
    CheckVerdict(merkle::VerifyConsistency(a, b, x, y, proof));
  }
}

void BuiltInclusion(Input& in) {
  const uint64_t size = 1 + in.U16() % 300;
  const Tree tree(size);
  const uint64_t index = in.U16() % size;
  auto built = merkle::InclusionProof(index, size, tree.Source());
  FUZZ_CHECK(built.ok(), built.status().ToString());
  const Hash& root = tree.roots[size - 1];
  const Hash& leaf = tree.leaves[index];
  absl::Status good = merkle::VerifyInclusion(leaf, index, size, *built, root);
  FUZZ_CHECK(good.ok(),
             absl::StrCat("a correct inclusion proof of ", index, " in ", size,
                          " fails: ", good.ToString()));
  std::vector<Hash> proof = *built;
  uint64_t idx = index;
  Hash l = leaf, r = root;
  const uint8_t what = in.U8();
  switch (what % 4) {
    case 0:
      if (!TamperProof(in.U8(), in, proof)) return;
      break;
    case 1: {  // another leaf of the same tree
      uint64_t other = in.U16() % size;
      if (other == index) return;
      l = tree.leaves[other];
      break;
    }
    case 2: {  // another index in the same tree
      uint64_t other = in.U16() % size;
      if (other == index) return;
      idx = other;
      break;
    }
    default: {  // another root
      Hash h = in.H();
      if (h == root) return;
      r = h;
      break;
    }
  }
  absl::Status bad = merkle::VerifyInclusion(l, idx, size, proof, r);
  FUZZ_CHECK(
      absl::IsDataLoss(bad),
      absl::StrCat("a tampered inclusion proof (kind ", what % 4, ") of ",
                   index, " in ", size, " gives: ", bad.ToString()));
}

void BuiltConsistency(Input& in) {
  const uint64_t new_size = 1 + in.U16() % 300;
  const uint64_t old_size = 1 + in.U16() % new_size;
  const Tree tree(new_size);
  auto built = merkle::ConsistencyProof(old_size, new_size, tree.Source());
  FUZZ_CHECK(built.ok(), built.status().ToString());
  const Hash& old_root = tree.roots[old_size - 1];
  const Hash& new_root = tree.roots[new_size - 1];
  absl::Status good =
      merkle::VerifyConsistency(old_size, new_size, old_root, new_root, *built);
  FUZZ_CHECK(good.ok(),
             absl::StrCat("a correct consistency proof ", old_size, " -> ",
                          new_size, " fails: ", good.ToString()));
  std::vector<Hash> proof = *built;
  Hash o = old_root, n = new_root;
  const uint8_t what = in.U8();
  switch (what % 3) {
    case 0:
      if (!TamperProof(in.U8(), in, proof)) return;
      break;
    case 1: {  // another old root
      uint64_t other = in.U16() % new_size;
      if (tree.roots[other] == old_root) return;
      o = tree.roots[other];
      break;
    }
    default: {  // another new root
      uint64_t other = in.U16() % new_size;
      if (tree.roots[other] == new_root) return;
      n = tree.roots[other];
      break;
    }
  }
  absl::Status bad = merkle::VerifyConsistency(old_size, new_size, o, n, proof);
  FUZZ_CHECK(
      absl::IsDataLoss(bad),
      absl::StrCat("a tampered consistency proof (kind ", what % 3, ") ",
                   old_size, " -> ", new_size, " gives: ", bad.ToString()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  switch (in.U8() % 3) {
    case 0:
      Raw(in);
      break;
    case 1:
      BuiltInclusion(in);
      break;
    default:
      BuiltConsistency(in);
      break;
  }
  return 0;
}
