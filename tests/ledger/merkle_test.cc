// Cross-checks ledger/merkle against a slow reference written straight from
// the recursive definitions of RFC 9162 §2.1 (MTH, PATH, PROOF), for every
// tree size up to kMaxSize, and feeds the verifiers tampered proofs.
#include "ledger/merkle.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/proof_json.h"
#include "ledger/sha256.h"
#include "tests/testing/test_util.h"

namespace caseledger::merkle {
namespace {

constexpr uint64_t kMaxSize = 300;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Made-up entry bytes of varied lengths; entry 0 is empty.
std::string Entry(uint64_t i) {
  return std::string(i % 5, static_cast<char>(i)) + absl::StrCat(i);
}

std::string Hex(const std::vector<Hash>& hashes) {
  std::string out = "[";
  for (const Hash& h : hashes) absl::StrAppend(&out, " ", ToHex(h));
  return out + " ]";
}

Hash FromHex(std::string_view hex) {
  absl::StatusOr<Hash> h = DigestFromHex(hex, "test vector");
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Hash{};
}

Hash Flipped(Hash h, int bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
  return h;
}

// RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, transcribed over D[begin:end) of
// the entries. It hashes with its own prefixes rather than LeafHash and
// NodeHash so that it checks those too. MTH is memoised only for speed.
class Reference {
 public:
  explicit Reference(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) entries_.push_back(Entry(i));
  }

  // MTH(D[begin:end]).
  Hash Mth(uint64_t begin, uint64_t end) {
    const uint64_t n = end - begin;
    if (n == 0) return Sha256("");
    auto it = memo_.find({begin, end});
    if (it != memo_.end()) return it->second;
    Hash h;
    if (n == 1) {
      h = Sha256(std::string(1, '\x00'), entries_[begin]);
    } else {
      const uint64_t k = Split(n);
      h = Sha256(std::string(1, '\x01') + Bytes(Mth(begin, begin + k)),
                 Bytes(Mth(begin + k, end)));
    }
    memo_[{begin, end}] = h;
    return h;
  }

  // PATH(m, D[begin:end]), m relative to begin.
  std::vector<Hash> Path(uint64_t m, uint64_t begin, uint64_t end) {
    const uint64_t n = end - begin;
    if (n == 1) return {};
    const uint64_t k = Split(n);
    std::vector<Hash> out;
    if (m < k) {
      out = Path(m, begin, begin + k);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Path(m - k, begin + k, end);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  // PROOF(m, D[n]).
  std::vector<Hash> Proof(uint64_t m, uint64_t n) {
    return Subproof(m, 0, n, true);
  }

 private:
  static std::string Bytes(const Hash& h) { return DigestBytes(h); }

  // The largest power of two smaller than n, counted up the slow way.
  static uint64_t Split(uint64_t n) {
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  // SUBPROOF(m, D[begin:end], b), m relative to begin.
  std::vector<Hash> Subproof(uint64_t m, uint64_t begin, uint64_t end, bool b) {
    const uint64_t n = end - begin;
    if (m == n) {
      if (b) return {};
      return {Mth(begin, end)};
    }
    const uint64_t k = Split(n);
    std::vector<Hash> out;
    if (m <= k) {
      out = Subproof(m, begin, begin + k, b);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Subproof(m - k, begin + k, end, false);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  std::vector<std::string> entries_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

using NodeKey = std::pair<int, uint64_t>;

// One frontier fed kMaxSize entries, shared by the tests: what it emitted
// stands in for the ledger's node store.
struct Grown {
  std::map<NodeKey, Hash> nodes;
  // emitted[n - 1]: the nodes returned by the n-th Append.
  std::vector<std::vector<MerkleFrontier::Node>> emitted;
  // roots[n]: frontier root after n appends.
  std::vector<Hash> roots;
};

class MerkleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ref_ = new Reference(kMaxSize);
    grown_ = new Grown;
    MerkleFrontier f;
    grown_->roots.push_back(f.Root());
    for (uint64_t i = 0; i < kMaxSize; ++i) {
      std::vector<MerkleFrontier::Node> nodes = f.Append(LeafHash(Entry(i)));
      for (const MerkleFrontier::Node& node : nodes) {
        grown_->nodes[{node.level, node.index}] = node.hash;
      }
      grown_->emitted.push_back(std::move(nodes));
      grown_->roots.push_back(f.Root());
    }
  }
  static void TearDownTestSuite() {
    delete ref_;
    delete grown_;
  }

  // The stored nodes as a ledger of `size` entries holds them: asking for a
  // node that is not yet complete at that size is a bug in the caller.
  NodeSource SourceAt(uint64_t size) {
    reads_ = 0;
    return [this, size](int level, uint64_t index) -> absl::StatusOr<Hash> {
      ++reads_;
      if (level < 0 || level > 63 || index >= (size >> level)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "node (", level, ", ", index, ") is not complete at size ", size));
      }
      auto it = grown_->nodes.find({level, index});
      if (it == grown_->nodes.end()) {
        return absl::NotFoundError(
            absl::StrCat("node (", level, ", ", index, ")"));
      }
      return it->second;
    };
  }

  static Hash Leaf(uint64_t i) { return LeafHash(Entry(i)); }
  static Hash Root(uint64_t n) { return grown_->roots[n]; }

  // Reads are bounded by about 2 log2(n): one node per sibling, plus at most
  // one non-perfect sibling folded from its perfect parts.
  static int MaxReads(uint64_t n) { return 2 * std::bit_width(n); }

  static Reference* ref_;
  static Grown* grown_;
  int reads_ = 0;
};

Reference* MerkleTest::ref_ = nullptr;
Grown* MerkleTest::grown_ = nullptr;

void ExpectRefused(const absl::Status& s, const std::string& context) {
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << context << ": " << s;
}

// ---------------------------------------------------------------------------
// Known answers.

TEST_F(MerkleTest, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(ToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(MerkleFrontier().Root()), ToHex(EmptyRoot()));
  ASSERT_OK_AND_ASSIGN(Hash root, RootAt(0, SourceAt(0)));
  EXPECT_EQ(ToHex(root), ToHex(EmptyRoot()));
  EXPECT_EQ(reads_, 0);
}

TEST_F(MerkleTest, ThreeLeafTreeComputedByHand) {
  // python3: h=lambda b: hashlib.sha256(b).digest()
  //   a,b,c = (h(b"\0"+x) for x in (b"a", b"b", b"c"))
  //   ab = h(b"\1"+a+b); abc = h(b"\1"+ab+c)
  const Hash a = LeafHash("a"), b = LeafHash("b"), c = LeafHash("c");
  EXPECT_EQ(ToHex(a),
            "022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c");
  EXPECT_EQ(ToHex(b),
            "57eb35615d47f34ec714cacdf5fd74608a5e8e102724e80b24b287c0c27b6a31");
  EXPECT_EQ(ToHex(c),
            "597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8");
  const Hash ab = NodeHash(a, b);
  EXPECT_EQ(ToHex(ab),
            "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb");
  MerkleFrontier f;
  f.Append(a);
  f.Append(b);
  EXPECT_EQ(ToHex(f.Root()), ToHex(ab));
  f.Append(c);
  const Hash abc = FromHex(
      "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1");
  EXPECT_EQ(ToHex(f.Root()), ToHex(abc));

  std::map<NodeKey, Hash> stored = {
      {{0, 0}, a}, {{0, 1}, b}, {{0, 2}, c}, {{1, 0}, ab}};
  NodeSource source = [&](int level, uint64_t index) -> absl::StatusOr<Hash> {
    auto it = stored.find({level, index});
    if (it == stored.end()) return absl::NotFoundError("no such node");
    return it->second;
  };
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> path0, InclusionProof(0, 3, source));
  EXPECT_EQ(Hex(path0), Hex({b, c}));
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> path2, InclusionProof(2, 3, source));
  EXPECT_EQ(Hex(path2), Hex({ab}));
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof1,
                       ConsistencyProof(1, 3, source));
  EXPECT_EQ(Hex(proof1), Hex({b, c}));
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof2,
                       ConsistencyProof(2, 3, source));
  EXPECT_EQ(Hex(proof2), Hex({c}));
  ASSERT_OK(VerifyInclusion(c, 2, 3, path2, abc));
  ASSERT_OK(VerifyConsistency(2, 3, ab, abc, proof2));
}

TEST_F(MerkleTest, MatchesCertificateTransparencyTestVectors) {
  // The leaves and roots of the RFC 6962 test data used by certificate
  // transparency implementations: an independent check of both prefixes.
  const std::vector<std::string> leaves = {
      "",
      std::string(1, '\x00'),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  MerkleFrontier f;
  for (size_t i = 0; i < leaves.size(); ++i) {
    f.Append(LeafHash(leaves[i]));
    EXPECT_EQ(ToHex(f.Root()), roots[i]) << "size " << i + 1;
  }
}

// ---------------------------------------------------------------------------
// Every tree size against the reference.

TEST_F(MerkleTest, RootsAgreeForEverySize) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    const std::string want = ToHex(ref_->Mth(0, n));
    ASSERT_EQ(ToHex(Root(n)), want) << "frontier, size " << n;
    ASSERT_OK_AND_ASSIGN(Hash stored, RootAt(n, SourceAt(n)));
    ASSERT_EQ(ToHex(stored), want) << "RootAt, size " << n;
    // One read per perfect subtree of the tree.
    ASSERT_EQ(reads_, std::popcount(n)) << "size " << n;
  }
}

TEST_F(MerkleTest, FrontierEmitsEveryCompletedNodeOnce) {
  std::map<NodeKey, int> seen;
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    const std::vector<MerkleFrontier::Node>& nodes = grown_->emitted[n - 1];
    ASSERT_FALSE(nodes.empty());
    EXPECT_EQ(nodes[0].level, 0);
    EXPECT_EQ(nodes[0].index, n - 1);
    EXPECT_EQ(ToHex(nodes[0].hash), ToHex(Leaf(n - 1)));
    // Exactly the subtrees ending at leaf n: one per trailing zero of n.
    ASSERT_EQ(nodes.size(), static_cast<size_t>(std::countr_zero(n)) + 1)
        << "append " << n;
    for (size_t j = 0; j < nodes.size(); ++j) {
      const MerkleFrontier::Node& node = nodes[j];
      EXPECT_EQ(node.level, static_cast<int>(j));
      const uint64_t width = uint64_t{1} << node.level;
      EXPECT_EQ((node.index + 1) * width, n);
      EXPECT_EQ(ToHex(node.hash),
                ToHex(ref_->Mth(node.index * width, (node.index + 1) * width)))
          << "node (" << node.level << ", " << node.index << ")";
      EXPECT_EQ(++seen[NodeKey(node.level, node.index)], 1);
    }
  }
  EXPECT_EQ(seen.size(), 2 * kMaxSize - std::popcount(kMaxSize));
}

TEST_F(MerkleTest, InclusionProofsMatchReferenceAndVerifyForEveryLeaf) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    const NodeSource source = SourceAt(n);
    for (uint64_t m = 0; m < n; ++m) {
      reads_ = 0;
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           InclusionProof(m, n, source));
      ASSERT_LE(reads_, MaxReads(n)) << "leaf " << m << " of " << n;
      ASSERT_EQ(Hex(proof), Hex(ref_->Path(m, 0, n)))
          << "leaf " << m << " of " << n;
      ASSERT_OK(VerifyInclusion(Leaf(m), m, n, proof, Root(n)));
    }
  }
}

TEST_F(MerkleTest, ConsistencyProofsMatchReferenceAndVerifyForEveryPair) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    const NodeSource source = SourceAt(n);
    for (uint64_t m = 1; m <= n; ++m) {
      reads_ = 0;
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           ConsistencyProof(m, n, source));
      ASSERT_LE(reads_, MaxReads(n)) << m << " -> " << n;
      ASSERT_EQ(Hex(proof), Hex(ref_->Proof(m, n))) << m << " -> " << n;
      ASSERT_OK(VerifyConsistency(m, n, Root(m), Root(n), proof));
    }
  }
}

// ---------------------------------------------------------------------------
// Tampered inclusion proofs. Sizes around powers of two, where the shapes
// change, plus a few larger ones.

const std::vector<uint64_t>& TamperSizes() {
  static const auto* sizes = new std::vector<uint64_t>{
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 31, 32, 33, 100};
  return *sizes;
}

TEST_F(MerkleTest, InclusionRefusesEveryFlippedBit) {
  for (uint64_t n : TamperSizes()) {
    for (uint64_t m = 0; m < n; ++m) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           InclusionProof(m, n, SourceAt(n)));
      for (size_t j = 0; j < proof.size(); ++j) {
        for (int bit = 0; bit < 256; ++bit) {
          std::vector<Hash> bad = proof;
          bad[j] = Flipped(bad[j], bit);
          ExpectRefused(
              VerifyInclusion(Leaf(m), m, n, bad, Root(n)),
              absl::StrCat("leaf ", m, " of ", n, ", hash ", j, " bit ", bit));
        }
      }
    }
  }
}

TEST_F(MerkleTest, InclusionRefusesWrongIndexLeafSizeOrRoot) {
  for (uint64_t n : TamperSizes()) {
    for (uint64_t m = 0; m < n; ++m) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           InclusionProof(m, n, SourceAt(n)));
      const std::string ctx = absl::StrCat("leaf ", m, " of ", n);
      for (uint64_t other = 0; other < n + 2; ++other) {
        if (other == m) continue;
        // The right leaf claimed at another index, and another leaf at its
        // own index or at this one.
        ExpectRefused(VerifyInclusion(Leaf(m), other, n, proof, Root(n)),
                      ctx + " at index " + absl::StrCat(other));
        ExpectRefused(VerifyInclusion(Leaf(other), other, n, proof, Root(n)),
                      ctx + " as leaf " + absl::StrCat(other));
        ExpectRefused(VerifyInclusion(Leaf(other), m, n, proof, Root(n)),
                      ctx + " with leaf " + absl::StrCat(other));
      }
      // A proof from one tree against the checkpoint of another.
      for (uint64_t other = m + 1; other <= kMaxSize; ++other) {
        if (other == n) continue;
        ExpectRefused(VerifyInclusion(Leaf(m), m, other, proof, Root(other)),
                      ctx + " in tree " + absl::StrCat(other));
      }
      ExpectRefused(VerifyInclusion(Leaf(m), m, n, proof, Flipped(Root(n), 7)),
                    ctx + " wrong root");
      ExpectRefused(VerifyInclusion(Leaf(m), m, n, proof, EmptyRoot()),
                    ctx + " empty root");
    }
  }
}

TEST_F(MerkleTest, InclusionRefusesExtraOrMissingHashes) {
  for (uint64_t n : TamperSizes()) {
    for (uint64_t m = 0; m < n; ++m) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           InclusionProof(m, n, SourceAt(n)));
      const std::string ctx = absl::StrCat("leaf ", m, " of ", n);
      std::vector<Hash> longer = proof;
      longer.push_back(Root(n));
      ExpectRefused(VerifyInclusion(Leaf(m), m, n, longer, Root(n)),
                    ctx + " extra at end");
      longer = proof;
      longer.insert(longer.begin(), Leaf(m));
      ExpectRefused(VerifyInclusion(Leaf(m), m, n, longer, Root(n)),
                    ctx + " extra at start");
      for (size_t j = 0; j < proof.size(); ++j) {
        std::vector<Hash> shorter = proof;
        shorter.erase(shorter.begin() + j);
        ExpectRefused(VerifyInclusion(Leaf(m), m, n, shorter, Root(n)),
                      ctx + " without hash " + absl::StrCat(j));
      }
    }
  }
}

TEST_F(MerkleTest, InclusionFailureNamesWhatDiffered) {
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                       InclusionProof(4, 7, SourceAt(7)));
  ASSERT_EQ(proof.size(), 3u);
  const Hash wrong = Flipped(Root(7), 0);
  absl::Status s = VerifyInclusion(Leaf(4), 4, 7, proof, wrong);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            absl::StrCat("inclusion proof for leaf 4 of tree 7: "
                         "computed root ",
                         ToHex(Root(7)), " != expected root ", ToHex(wrong)));

  proof.push_back(Root(7));
  proof.push_back(Root(7));
  s = VerifyInclusion(Leaf(4), 4, 7, proof, Root(7));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "inclusion proof for leaf 4 of tree 7: proof has 5 hashes, "
            "expected 3");

  s = VerifyInclusion(Leaf(4), 7, 7, {}, Root(7));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "inclusion proof for leaf 7 of tree 7: leaf index is not below "
            "the tree size");
}

TEST_F(MerkleTest, InclusionSurvivesHostileSizes) {
  const std::vector<Hash> junk(70, Leaf(7));
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, kMax - 1, kMax}) {
    for (uint64_t index : {uint64_t{0}, uint64_t{1}, kMax - 1, kMax}) {
      for (size_t len :
           {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{70}}) {
        std::vector<Hash> proof(junk.begin(), junk.begin() + len);
        absl::Status s = VerifyInclusion(Leaf(0), index, size, proof, Root(1));
        if (size == 1 && index == 0 && len == 0) {
          EXPECT_TRUE(s.ok()) << s;  // the genuine one-leaf tree
        } else {
          ExpectRefused(
              s, absl::StrCat("index ", index, " size ", size, " len ", len));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Tampered consistency proofs.

TEST_F(MerkleTest, ConsistencyRefusesEveryFlippedBit) {
  for (uint64_t n : TamperSizes()) {
    for (uint64_t m = 1; m < n; ++m) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           ConsistencyProof(m, n, SourceAt(n)));
      for (size_t j = 0; j < proof.size(); ++j) {
        for (int bit = 0; bit < 256; ++bit) {
          std::vector<Hash> bad = proof;
          bad[j] = Flipped(bad[j], bit);
          ExpectRefused(VerifyConsistency(m, n, Root(m), Root(n), bad),
                        absl::StrCat(m, " -> ", n, ", hash ", j, " bit ", bit));
        }
      }
    }
  }
}

TEST_F(MerkleTest, ConsistencyRefusesWrongSizesOrRoots) {
  for (uint64_t n : TamperSizes()) {
    for (uint64_t m = 1; m <= n; ++m) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           ConsistencyProof(m, n, SourceAt(n)));
      const std::string ctx = absl::StrCat(m, " -> ", n);
      // The proof against the true checkpoints of other sizes.
      for (uint64_t other = 1; other <= n + 3; ++other) {
        if (other == m) continue;
        ExpectRefused(VerifyConsistency(other, n, Root(other), Root(n), proof),
                      ctx + " from " + absl::StrCat(other));
      }
      for (uint64_t other = m; other <= n + 3; ++other) {
        if (other == n) continue;
        ExpectRefused(VerifyConsistency(m, other, Root(m), Root(other), proof),
                      ctx + " to " + absl::StrCat(other));
      }
      ExpectRefused(
          VerifyConsistency(m, n, Flipped(Root(m), 255), Root(n), proof),
          ctx + " wrong old root");
      ExpectRefused(
          VerifyConsistency(m, n, Root(m), Flipped(Root(n), 255), proof),
          ctx + " wrong new root");
      if (m != n) {
        ExpectRefused(VerifyConsistency(m, n, Root(n), Root(m), proof),
                      ctx + " roots swapped");
        ExpectRefused(VerifyConsistency(n, m, Root(n), Root(m), proof),
                      ctx + " sizes and roots swapped");
      }
    }
  }
}

TEST_F(MerkleTest, ConsistencyRefusesExtraOrMissingHashes) {
  for (uint64_t n : TamperSizes()) {
    for (uint64_t m = 1; m <= n; ++m) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           ConsistencyProof(m, n, SourceAt(n)));
      const std::string ctx = absl::StrCat(m, " -> ", n);
      std::vector<Hash> longer = proof;
      longer.push_back(Root(n));
      ExpectRefused(VerifyConsistency(m, n, Root(m), Root(n), longer),
                    ctx + " extra at end");
      longer = proof;
      longer.insert(longer.begin(), Root(m));
      ExpectRefused(VerifyConsistency(m, n, Root(m), Root(n), longer),
                    ctx + " extra at start");
      for (size_t j = 0; j < proof.size(); ++j) {
        std::vector<Hash> shorter = proof;
        shorter.erase(shorter.begin() + j);
        ExpectRefused(VerifyConsistency(m, n, Root(m), Root(n), shorter),
                      ctx + " without hash " + absl::StrCat(j));
      }
    }
  }
}

TEST_F(MerkleTest, ConsistencyOfEqualOrEmptyTrees) {
  ASSERT_OK(VerifyConsistency(5, 5, Root(5), Root(5), {}));
  ExpectRefused(VerifyConsistency(5, 5, Root(5), Root(4), {}), "5 != 4 roots");
  ExpectRefused(VerifyConsistency(5, 5, Root(5), Root(5), {Root(5)}),
                "extra hash");
  // The empty tree is a prefix of every tree, but only with its own root.
  ASSERT_OK(VerifyConsistency(0, 5, EmptyRoot(), Root(5), {}));
  ASSERT_OK(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}));
  ExpectRefused(VerifyConsistency(0, 5, Root(1), Root(5), {}), "old root");
  ExpectRefused(VerifyConsistency(0, 5, EmptyRoot(), Root(5), {Root(5)}),
                "proof from empty");
}

TEST_F(MerkleTest, ConsistencyFailureNamesWhatDiffered) {
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                       ConsistencyProof(3, 7, SourceAt(7)));
  const Hash wrong = Flipped(Root(7), 9);
  absl::Status s = VerifyConsistency(3, 7, Root(3), wrong, proof);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      s.message(),
      absl::StrCat("consistency proof from tree 3 to tree 7: computed "
                   "new root ",
                   ToHex(Root(7)), " != expected new root ", ToHex(wrong)));
  proof.pop_back();
  s = VerifyConsistency(3, 7, Root(3), Root(7), proof);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            absl::StrCat("consistency proof from tree 3 to tree 7: proof has ",
                         proof.size(), " hashes, expected ", proof.size() + 1));
  s = VerifyConsistency(8, 7, Root(8), Root(7), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "consistency proof from tree 8 to tree 7: old size is greater than "
            "new size");
}

TEST_F(MerkleTest, ConsistencySurvivesHostileSizes) {
  const std::vector<Hash> junk(70, Leaf(7));
  const std::vector<uint64_t> sizes = {0, 1, 2, 3, kMax - 1, kMax};
  for (uint64_t old_size : sizes) {
    for (uint64_t new_size : sizes) {
      for (size_t len :
           {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{70}}) {
        std::vector<Hash> proof(junk.begin(), junk.begin() + len);
        absl::Status s =
            VerifyConsistency(old_size, new_size, Root(1), Root(2), proof);
        ExpectRefused(s,
                      absl::StrCat(old_size, " -> ", new_size, " len ", len));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Builders: bad arguments and store failures.

TEST_F(MerkleTest, BuildersRefuseImpossibleArguments) {
  EXPECT_EQ(InclusionProof(5, 5, SourceAt(5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(0, 0, SourceAt(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(kMax, kMax, SourceAt(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(0, 5, SourceAt(5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(6, 5, SourceAt(5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> same,
                       ConsistencyProof(5, 5, SourceAt(5)));
  EXPECT_TRUE(same.empty());
  EXPECT_EQ(reads_, 0);
}

TEST_F(MerkleTest, StoreErrorsPassThroughUnchanged) {
  const absl::Status broken = absl::UnavailableError("disk went away");
  NodeSource failing = [&](int, uint64_t) -> absl::StatusOr<Hash> {
    return broken;
  };
  EXPECT_EQ(RootAt(7, failing).status(), broken);
  EXPECT_EQ(InclusionProof(3, 7, failing).status(), broken);
  EXPECT_EQ(ConsistencyProof(3, 7, failing).status(), broken);
  EXPECT_EQ(MerkleFrontier::Load(7, failing).status(), broken);

  // A store that lacks a node: its kNotFound comes back as it was.
  const NodeSource source = SourceAt(kMaxSize);
  NodeSource missing = [&](int level, uint64_t index) -> absl::StatusOr<Hash> {
    if (level == 1 && index == 2) return absl::NotFoundError("node (1, 2)");
    return source(level, index);
  };
  EXPECT_EQ(RootAt(6, missing).status(), absl::NotFoundError("node (1, 2)"));
  EXPECT_EQ(InclusionProof(0, 6, missing).status(),
            absl::NotFoundError("node (1, 2)"));
  EXPECT_EQ(MerkleFrontier::Load(6, missing).status(),
            absl::NotFoundError("node (1, 2)"));
}

TEST_F(MerkleTest, RootAtHugeSizeReadsOneNodePerPeak) {
  int reads = 0;
  NodeSource any = [&](int, uint64_t) -> absl::StatusOr<Hash> {
    ++reads;
    return Leaf(0);
  };
  ASSERT_OK(RootAt(kMax, any).status());
  EXPECT_EQ(reads, 64);
  reads = 0;
  ASSERT_OK(InclusionProof(kMax - 1, kMax, any).status());
  EXPECT_LE(reads, 2 * 64);
  reads = 0;
  ASSERT_OK(ConsistencyProof(kMax - 2, kMax, any).status());
  EXPECT_LE(reads, 2 * 64);
}

// ---------------------------------------------------------------------------
// Frontier reload.

TEST_F(MerkleTest, LoadedFrontierContinuesLikeAnUninterruptedOne) {
  for (uint64_t s :
       {0,  1,  2,  3,  4,  5,   6,   7,   8,   9,   15,  16,  17,  31,
        32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 299, 300}) {
    ASSERT_OK_AND_ASSIGN(MerkleFrontier f,
                         MerkleFrontier::Load(s, SourceAt(s)));
    EXPECT_EQ(reads_, std::popcount(s)) << "size " << s;
    ASSERT_EQ(f.size(), s);
    ASSERT_EQ(ToHex(f.Root()), ToHex(Root(s))) << "size " << s;
    for (uint64_t i = s; i < kMaxSize; ++i) {
      const std::vector<MerkleFrontier::Node> nodes = f.Append(Leaf(i));
      const std::vector<MerkleFrontier::Node>& want = grown_->emitted[i];
      ASSERT_EQ(nodes.size(), want.size())
          << "loaded at " << s << ", leaf " << i;
      for (size_t j = 0; j < nodes.size(); ++j) {
        EXPECT_EQ(nodes[j].level, want[j].level);
        EXPECT_EQ(nodes[j].index, want[j].index);
        EXPECT_EQ(ToHex(nodes[j].hash), ToHex(want[j].hash));
      }
      ASSERT_EQ(ToHex(f.Root()), ToHex(Root(i + 1)))
          << "loaded at " << s << ", size " << i + 1;
    }
  }
}

// The form `caseledger prove` prints and bundles keep (domain.md, CLI),
// byte for byte: other programs parse it.
TEST(ProofJsonTest, PrintsTheSpecifiedFormByteForByte) {
  Hash zeros{};
  Hash counting;
  for (size_t i = 0; i < counting.size(); ++i) {
    counting[i] = static_cast<uint8_t>(i);
  }
  EXPECT_EQ(InclusionProofJson(6, 9, {zeros, counting}),
            "{\"leaf_index\": 6, \"tree_size\": 9, \"hashes\": "
            "[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", "
            "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"]}\n");
  EXPECT_EQ(ConsistencyProofJson(4, 4, {}),
            "{\"old_size\": 4, \"new_size\": 4, \"hashes\": []}\n");
}

// Stored nodes, bundle proofs and a server's proofs all carry hashes as raw
// bytes: exactly 32 read back as the digest DigestBytes wrote, any other
// length as none.
TEST(DigestBytesTest, ReadBackOnlyFromExactly32Bytes) {
  const Hash h = LeafHash("entry");
  std::optional<Hash> back = DigestFromBytes(DigestBytes(h));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, h);
  const std::string bytes = DigestBytes(h);
  EXPECT_FALSE(DigestFromBytes(bytes.substr(0, 31)).has_value());
  EXPECT_FALSE(DigestFromBytes(bytes + "x").has_value());
  EXPECT_FALSE(DigestFromBytes("").has_value());
}

}  // namespace
}  // namespace caseledger::merkle
