// The Ledger's tamper evidence: signed checkpoints, proofs from the stored
// Merkle nodes, the tail check at open, and the full verify walk.
// Formats: docs/formats.md.
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <optional>
#include <thread>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ledger/internal/event_summary.h"
#include "ledger/internal/kept_checkpoint.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/internal/siphash.h"
#include "ledger/status_macros.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"

namespace caseledger {

using internal::AppendCaseIndexValue;
using internal::AppendCaseKey;
using internal::AppendMerkleKey;
using internal::AppendRequestKey;
using internal::AppendU64;
using internal::Batch;
using internal::DecodeU64;
using internal::EncodeU64;
using internal::Family;
using internal::kSaltSize;

namespace {

absl::Status Tampered(uint64_t position, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("position ", position, ": ", std::string(what)));
}

std::string HashHex(const merkle::Hash& h) { return ToHex(h); }

// `note`, stored under tree size `size`, when it holds what the ledger
// signs and stores: one signature line, its own. A line added later (a
// "witness" that never signed) was printed by `checkpoint` and shipped in
// bundles as the ledger's (found by an audit).
absl::StatusOr<std::string> AsSigned(uint64_t size, std::string note) {
  const size_t body_end = note.find("\n\n");
  const size_t lines =
      body_end == std::string::npos
          ? 0
          : std::count(note.begin() + body_end + 2, note.end(), '\n');
  if (lines != 1) {
    return absl::DataLossError(
        absl::StrCat("checkpoint of size ", size, " holds ", lines,
                     " signature lines; the ledger signs and stores one"));
  }
  return note;
}

}  // namespace

bool Ledger::Impl::CheckpointDue(absl::Time now) const {
  uint64_t n = frontier.size();
  if (n == 0 || (has_checkpoint && n == checkpoint_size)) return false;
  if (options.checkpoint_every_entries > 0 &&
      n - checkpoint_size >= options.checkpoint_every_entries) {
    return true;
  }
  return options.checkpoint_every > absl::ZeroDuration() &&
         now - checkpoint_time >= options.checkpoint_every;
}

namespace {
// A checkpoint asked of a ledger that refuses appends, in its own words:
// `checkpoint`, and a backup, which signs one, said "append not written"
// (found by an adversarial test).
absl::Status NoCheckpointAfter(const absl::Status& refused) {
  absl::string_view why = refused.message();
  absl::ConsumePrefix(&why, internal::kAppendNotWritten);
  absl::Status said(refused.code(),
                    absl::StrCat("no checkpoint can be signed: ", why));
  refused.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    said.SetPayload(url, value);
  });
  return said;
}
}  // namespace

absl::StatusOr<std::string> Ledger::Impl::SignAndStoreCheckpoint(bool sync) {
  {
    absl::MutexLock lock(&mu);
    if (!poisoned.ok()) return NoCheckpointAfter(poisoned);
  }
  uint64_t n = frontier.size();
  if (has_checkpoint && n == checkpoint_size) {
    CASELEDGER_ASSIGN_OR_RETURN(auto note,
                                store->Get(Family::kCheckpoints, EncodeU64(n)));
    if (note) {
      if (sync && checkpoint_unsynced) {
        SyncCheckpoint();
        absl::MutexLock lock(&mu);
        if (!poisoned.ok()) return NoCheckpointAfter(poisoned);
      }
      if (sync) CASELEDGER_RETURN_IF_ERROR(KeepLatestCheckpoint(/*now=*/true));
      return AsSigned(n, *std::move(note));
    }
  }
  merkle::Hash root = frontier.Root();
  CASELEDGER_ASSIGN_OR_RETURN(std::string note, SignTree(n, root));
  Batch batch(*store);
  batch.Put(Family::kCheckpoints, EncodeU64(n), note);
  CASELEDGER_RETURN_IF_ERROR(store->Write(batch, sync));
  checkpoint_unsynced = !sync;
  checkpoint_size = n;
  checkpoint_root = root;
  has_checkpoint = true;
  checkpoint_time = clock->Now();
  // Every entry it signs is durable: synced before it was signed, or with
  // it when `sync`.
  CASELEDGER_RETURN_IF_ERROR(KeepLatestCheckpoint(/*now=*/sync));
  return note;
}

absl::StatusOr<std::string> Ledger::Impl::SignTree(uint64_t n,
                                                   const merkle::Hash& root) {
  // The stored nodes, not just the in-memory frontier, must agree with what
  // we sign and with what we signed before: a ledger never signs two
  // checkpoints that are inconsistent with each other.
  CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash stored_root,
                              merkle::RootAt(n, Nodes()));
  if (stored_root != root) {
    return absl::DataLossError(
        absl::StrCat("refusing to sign: the stored Merkle nodes give root ",
                     HashHex(stored_root), " for size ", n,
                     " but the ledger computed ", HashHex(root)));
  }
  if (has_checkpoint && checkpoint_size > 0) {
    if (checkpoint_size > n) {
      return absl::DataLossError(absl::StrCat(
          "refusing to sign: a checkpoint of size ", checkpoint_size,
          " was signed but the ledger now has ", n, " entries"));
    }
    CASELEDGER_ASSIGN_OR_RETURN(
        auto proof, merkle::ConsistencyProof(checkpoint_size, n, Nodes()));
    absl::Status consistent = merkle::VerifyConsistency(
        checkpoint_size, n, checkpoint_root, root, proof);
    if (!consistent.ok()) {
      return absl::DataLossError(absl::StrCat(
          "refusing to sign a checkpoint inconsistent with the one of size ",
          checkpoint_size, ": ", consistent.message()));
    }
  }
  if (!key) return absl::FailedPreconditionError("no signing key loaded");
  return caseledger::SignCheckpoint({origin, n, root}, *key);
}

absl::Duration Ledger::Impl::KeepSignedWithin() const {
  if (options.keep_signed_within <= absl::ZeroDuration()) {
    return absl::ZeroDuration();
  }
  return std::max(options.keep_signed_within, absl::Milliseconds(10));
}

bool Ledger::Impl::TreeKeepDue() const {
  const absl::Duration within = KeepSignedWithin();
  return within > absl::ZeroDuration() &&
         frontier.size() > std::max(checkpoint_size, kept_size) &&
         (!tree_kept_at || absl::FromChrono(std::chrono::steady_clock::now() -
                                            *tree_kept_at) >= within);
}

absl::Status Ledger::Impl::KeepTheTreeSigned() {
  const uint64_t n = frontier.size();
  if (n <= std::max(checkpoint_size, kept_size)) return absl::OkStatus();
  // Tried once per interval, failing or not: a folder the writer cannot
  // write is not tried again at every group.
  tree_kept_at = std::chrono::steady_clock::now();
  if (!options.sync) {
    // The kept file must sign nothing a power loss can take.
    SyncCheckpoint();
    absl::MutexLock lock(&mu);
    if (!poisoned.ok()) return poisoned;
  }
  CASELEDGER_ASSIGN_OR_RETURN(std::string note, SignTree(n, frontier.Root()));
  return Keep(note, n);
}

absl::Status Ledger::Impl::Keep(const std::string& note, uint64_t size) {
  const std::filesystem::path folder(dir);
  CASELEDGER_RETURN_IF_ERROR(store->ReplaceFile(
      (folder / internal::kKeptCheckpointFile).string(),
      (folder / internal::kKeptCheckpointTempFile).string(), note));
  kept_size = size;
  kept_at = clock->Now();
  return absl::OkStatus();
}

absl::Status Ledger::Impl::KeepLatestCheckpoint(bool now) {
  if (!has_checkpoint || kept_size >= checkpoint_size) return absl::OkStatus();
  if (!now && clock->Now() - kept_at < internal::kKeptCheckpointEvery) {
    return absl::OkStatus();
  }
  CASELEDGER_ASSIGN_OR_RETURN(
      std::optional<std::string> note,
      store->Get(Family::kCheckpoints, EncodeU64(checkpoint_size)));
  if (!note) {
    return absl::DataLossError(absl::StrCat("the checkpoint of size ",
                                            checkpoint_size, " is not stored"));
  }
  return Keep(*note, checkpoint_size);
}

absl::Status Ledger::Impl::CheckTail() {
  CASELEDGER_ASSIGN_OR_RETURN(auto last,
                              store->LastWithPrefix(Family::kCheckpoints, ""));
  uint64_t from = 1;
  // The tree of the last checkpoint, then of every entry after it.
  merkle::MerkleFrontier tree;
  if (last) {
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t key_size, DecodeU64(last->first));
    CASELEDGER_ASSIGN_OR_RETURN(::caseledger::Checkpoint c,
                                ParseCheckpointBody(last->second));
    if (key) {
      CASELEDGER_ASSIGN_OR_RETURN(VerifierKey verifier,
                                  ParseVerifierKey(key->VerifierKey()));
      absl::Status signed_ok =
          VerifyCheckpoint(last->second, verifier).status();
      if (!signed_ok.ok()) {
        return absl::DataLossError(absl::StrCat(
            "checkpoint of size ", key_size,
            " does not verify with the ledger's key: ", signed_ok.message()));
      }
    }
    if (c.tree_size != key_size || c.origin != origin) {
      return absl::DataLossError(
          absl::StrCat("checkpoint stored under size ", key_size, " says size ",
                       c.tree_size, " and origin ", c.origin));
    }
    if (c.tree_size > size) {
      return Tampered(
          size.load() + 1,
          absl::StrCat("missing: a checkpoint of size ", c.tree_size,
                       " was signed but the ledger "
                       "has ",
                       size.load(), " entries; entries were removed"));
    }
    CASELEDGER_ASSIGN_OR_RETURN(
        tree, merkle::MerkleFrontier::Load(c.tree_size, Nodes()));
    if (tree.Root() != c.root_hash) {
      return absl::DataLossError(absl::StrCat(
          "the stored tree of size ", c.tree_size, " has root ",
          HashHex(tree.Root()), ", but its signed checkpoint says ",
          HashHex(c.root_hash)));
    }
    checkpoint_size = c.tree_size;
    checkpoint_root = c.root_hash;
    has_checkpoint = true;
    checkpoint_time = clock->Now();
    from = c.tree_size + 1;
  }
  // Entries written since the checkpoint: their digests, and every Merkle
  // node they complete, recomputed from them. The writer's tree goes on
  // from these nodes, and the next checkpoint signs their root; the signed
  // root vouches only for the nodes the checkpoint's tree ends in.
  for (uint64_t p = from; p <= size; ++p) {
    CASELEDGER_ASSIGN_OR_RETURN(RecordedEvent e, ReadAt(p));
    v1::LedgerEntry entry;
    entry.ParseFromString(e.entry_bytes);
    if (entry.event_digest() != DigestBytes(Sha256(e.salt, e.event_bytes))) {
      return Tampered(p, "event bytes do not match the entry's digest");
    }
    for (const auto& node : tree.Append(merkle::LeafHash(e.entry_bytes))) {
      CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash stored,
                                  Nodes()(node.level, node.index));
      if (stored != node.hash) {
        return Tampered(p, absl::StrCat("the stored Merkle node (level ",
                                        node.level, ", index ", node.index,
                                        ") does not match the entries"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Ledger::Impl::CheckKeptCheckpoint(
    const std::optional<std::string>& kept) {
  if (!kept) return absl::OkStatus();
  const std::string file =
      (std::filesystem::path(dir) / internal::kKeptCheckpointFile).string();
  auto damaged = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat(
        "the checkpoint kept in ", file, " ", std::string(why),
        "; if the store is whole (verify --checkpoint with a checkpoint "
        "kept elsewhere), move the file away and open again"));
  };
  absl::StatusOr<::caseledger::Checkpoint> c = ParseCheckpointBody(*kept);
  if (!c.ok()) {
    return damaged(absl::StrCat("does not parse: ", c.status().message()));
  }
  if (key) {
    CASELEDGER_ASSIGN_OR_RETURN(VerifierKey verifier,
                                ParseVerifierKey(key->VerifierKey()));
    absl::Status signed_ok = VerifyCheckpoint(*kept, verifier).status();
    if (!signed_ok.ok()) {
      return damaged(absl::StrCat("does not verify with the ledger's key: ",
                                  signed_ok.message()));
    }
  }
  if (c->origin != origin) {
    return damaged(absl::StrCat("is one of ", c->origin, ", not of ", origin));
  }
  if (absl::Status one_signature = AsSigned(c->tree_size, *kept).status();
      !one_signature.ok()) {
    return damaged(std::string(one_signature.message()));
  }
  if (c->tree_size > size) {
    // What the file signs is lost for sure; what came after it, unknown.
    const uint64_t first_lost = size.load() + 1;
    return Tampered(
        first_lost,
        absl::StrCat(
            "missing: the store holds ", size.load(),
            " entries, but the checkpoint kept in ", file, " signs ",
            c->tree_size,
            ": the store lost its last entries (a log file removed "
            "or cut short) or is an older copy put in its place "
            "(a rollback), and with it ",
            first_lost == c->tree_size
                ? absl::StrCat("entry ", first_lost)
                : absl::StrCat("entries ", first_lost, " to ", c->tree_size),
            " (and any appended after ", c->tree_size, "); ",
            internal::kRestoreIntoANewFolder,
            key ? ""
                : " (its signature was not checked: without the "
                  "ledger's key it may be another ledger's file)"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash root,
                              merkle::RootAt(c->tree_size, Nodes()));
  if (root != c->root_hash) {
    return damaged(absl::StrCat("says root ", HashHex(c->root_hash),
                                " for size ", c->tree_size,
                                ", but the stored tree has ", HashHex(root)));
  }
  kept_size = c->tree_size;
  if (!has_checkpoint || c->tree_size > checkpoint_size) {
    // A power loss took the store's copy of an automatic checkpoint, which
    // had not been synced yet, and left its entries: the writer stores the
    // note again, so that the store holds every checkpoint it signed.
    if (!options.read_only && key) {
      Batch batch(*store);
      batch.Put(Family::kCheckpoints, EncodeU64(c->tree_size), *kept);
      CASELEDGER_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
    }
    checkpoint_size = c->tree_size;
    checkpoint_root = c->root_hash;
    has_checkpoint = true;
    checkpoint_time = clock->Now();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Ledger::VerifierKeyText() const {
  if (!impl_->key) {
    return absl::FailedPreconditionError(
        "the ledger's key file could not be read");
  }
  return impl_->key->VerifierKey();
}

namespace {

// `proof` when `check` (its verification against the stored roots) passed.
absl::StatusOr<std::vector<merkle::Hash>> CheckedProof(
    std::vector<merkle::Hash> proof, const absl::Status& check,
    const std::string& what) {
  if (check.ok()) return proof;
  return absl::DataLossError(absl::StrCat(
      what, " that the stored tree gives does not hold (", check.message(),
      "): a stored Merkle node or entry was altered or damaged (caseledger "
      "verify finds it)"));
}

}  // namespace

absl::StatusOr<merkle::Hash> Ledger::RootAt(uint64_t size) const {
  if (size > Size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--size ", size, " is larger than the ledger (", Size(), ")"));
  }
  return merkle::RootAt(size, impl_->Nodes());
}

absl::StatusOr<std::vector<merkle::Hash>> Ledger::InclusionProof(
    uint64_t position, uint64_t size) const {
  if (position < 1 || position > size || size > Size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("an inclusion proof needs 1 <= position (", position,
                     ") <= size (", size, ") <= ledger size (", Size(), ")"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(
      std::vector<merkle::Hash> proof,
      merkle::InclusionProof(position - 1, size, impl_->Nodes()));
  CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash root, RootAt(size));
  // The leaf is the entry's bytes alone: its event need not be read.
  CASELEDGER_ASSIGN_OR_RETURN(
      std::optional<std::string> entry,
      impl_->store->Get(Family::kEntries, EncodeU64(position)));
  if (!entry) {
    return absl::DataLossError(
        absl::StrCat("position ", position, ": the entry is missing"));
  }
  const absl::Status check = merkle::VerifyInclusion(
      merkle::LeafHash(*entry), position - 1, size, proof, root);
  return CheckedProof(std::move(proof), check,
                      absl::StrCat("the inclusion proof of position ", position,
                                   " at tree size ", size));
}

absl::StatusOr<std::vector<merkle::Hash>> Ledger::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  if (old_size < 1 || old_size > new_size || new_size > Size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a consistency proof needs 1 <= from-size (", old_size, ") <= size (",
        new_size, ") <= ledger size (", Size(), ")"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(
      std::vector<merkle::Hash> proof,
      merkle::ConsistencyProof(old_size, new_size, impl_->Nodes()));
  CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash old_root, RootAt(old_size));
  CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash new_root, RootAt(new_size));
  const absl::Status check =
      merkle::VerifyConsistency(old_size, new_size, old_root, new_root, proof);
  return CheckedProof(std::move(proof), check,
                      absl::StrCat("the consistency proof from tree size ",
                                   old_size, " to ", new_size));
}

absl::StatusOr<std::string> Ledger::SignCheckpoint() {
  if (impl_->options.read_only) {
    return absl::FailedPreconditionError(
        "the ledger is open read-only; signing needs the writer");
  }
  internal::Outcome<absl::StatusOr<std::string>> done;
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopping) return absl::UnavailableError("the ledger is closing");
    impl_->checkpoint_waiters.push_back(&done);
  }
  return done.Take();
}

absl::StatusOr<std::string> Ledger::SignNote(std::string_view body) const {
  if (!impl_->key) {
    return absl::FailedPreconditionError(
        "the ledger's key file could not be read");
  }
  return caseledger::SignNote(body, *impl_->key);
}

absl::StatusOr<std::string> Ledger::LatestCheckpoint() const {
  auto note = LatestCheckpointWithin(std::numeric_limits<uint64_t>::max());
  if (absl::IsNotFound(note.status())) {
    return absl::NotFoundError("no checkpoint has been signed yet");
  }
  return note;
}

absl::StatusOr<std::string> Ledger::LatestCheckpointWithin(
    uint64_t size) const {
  CASELEDGER_ASSIGN_OR_RETURN(
      auto last,
      impl_->store->LastAtMost(Family::kCheckpoints, EncodeU64(size)));
  if (!last) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint was signed at a tree size up to ", size));
  }
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t found, DecodeU64(last->first));
  return AsSigned(found, std::move(last->second));
}

absl::StatusOr<std::string> Ledger::CheckpointAt(uint64_t size) const {
  CASELEDGER_ASSIGN_OR_RETURN(
      auto note, impl_->store->Get(Family::kCheckpoints, EncodeU64(size)));
  if (!note) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint was signed at tree size ", size));
  }
  return AsSigned(size, *std::move(note));
}

absl::StatusOr<std::vector<uint64_t>> Ledger::CheckpointSizes() const {
  std::vector<uint64_t> sizes;
  CASELEDGER_RETURN_IF_ERROR(impl_->store->Scan(
      Family::kCheckpoints, "", "",
      [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
        CASELEDGER_ASSIGN_OR_RETURN(uint64_t s, DecodeU64(key));
        sizes.push_back(s);
        return true;
      }));
  return sizes;
}

namespace {

// What Verify compares between the log and the stored indexes, as multisets.
// The event-id index's records (event id -> position || SHA-256 of the
// event) are compared in two halves, so that the index thread, which reads
// the events (or their copies in the case index), can do the hashing: ids
// against positions, and positions against digests. Since the log has one event
// per position, the two halves agreeing means every record does.
enum class Tallied {
  kCaseIndex,     // case_id 0x00 version -> position, entry, event
  kRequests,      // case_id 0x00 request_id -> position
  kMerkle,        // level index -> node hash
  kIdPositions,   // event id -> position
  kIdDigests,     // position -> SHA-256(event bytes)
  kEventDigests,  // position -> SHA-256(salt || event bytes)
};
constexpr size_t kTalliedCount = 6;
constexpr Tallied kAllTallied[] = {Tallied::kCaseIndex, Tallied::kRequests,
                                   Tallied::kMerkle,    Tallied::kIdPositions,
                                   Tallied::kIdDigests, Tallied::kEventDigests};

const char* TalliedName(Tallied t) {
  switch (t) {
    case Tallied::kCaseIndex:
      return "case index";
    case Tallied::kRequests:
      return "request index";
    case Tallied::kMerkle:
      return "Merkle node family";
    case Tallied::kIdPositions:
      return "event-id index";
    case Tallied::kIdDigests:
      return "event-id index's digests";
    case Tallied::kEventDigests:
      return "entries' event digests";
  }
  return "";
}

// One key and value that an index must hold for the log to be intact.
struct IndexItem {
  Family family;
  std::string key;
  std::string value;
};

// The items of one entry. Reused from entry to entry, so that the walk
// writes into strings it already has instead of allocating new ones.
class EntryIndexItems {
 public:
  void Clear() { used_ = 0; }
  // A new item of `family`, its key and value empty.
  IndexItem& Add(Family family) {
    if (used_ == items_.size()) items_.emplace_back();
    IndexItem& item = items_[used_++];
    item.family = family;
    item.key.clear();
    item.value.clear();
    return item;
  }
  const IndexItem* begin() const { return items_.data(); }
  const IndexItem* end() const { return items_.data() + used_; }

 private:
  std::vector<IndexItem> items_;
  size_t used_ = 0;
};

// Whether the log's entry at `position` is of the case and version the case
// index key `case_key` names, and says it stands at `position` (bytes of
// another entry copied there do not make the version held twice; found by a
// review).
bool HoldsTheSameVersion(const internal::Store& store, uint64_t position,
                         std::string_view case_key) {
  char pos[8];
  EncodeU64(position, pos);
  auto bytes = store.Get(Family::kEntries, std::string_view(pos, sizeof pos));
  v1::LedgerEntry entry;
  if (!bytes.ok() || !bytes->has_value() || !entry.ParseFromString(**bytes) ||
      entry.position() != position) {
    return false;
  }
  std::string key;
  AppendCaseKey(entry.case_id(), entry.case_version(), key);
  return key == case_key;
}

// "the case index entry for case C version V", and the like.
std::string DescribeIndexItem(Family family, std::string_view key) {
  const size_t nul = key.find('\0');
  switch (family) {
    case Family::kCaseIndex: {
      auto version = DecodeU64(key.substr(nul == key.npos ? 0 : nul + 1));
      if (nul == key.npos || !version.ok()) break;
      return absl::StrCat("the case index entry for case ",
                          std::string(key.substr(0, nul)), " version ",
                          *version);
    }
    case Family::kRequests:
      if (nul == key.npos) break;
      return absl::StrCat("the request index entry for case ",
                          std::string(key.substr(0, nul)), " request ",
                          std::string(key.substr(nul + 1)));
    case Family::kMerkle: {
      auto index = DecodeU64(key.substr(1));
      if (key.size() != 9 || !index.ok()) break;
      return absl::StrCat("the stored Merkle node (level ",
                          static_cast<int>(key[0]), ", index ", *index, ")");
    }
    case Family::kEventIds:
      return absl::StrCat("the event-id index entry for ", std::string(key));
    default:
      break;
  }
  return absl::StrCat("a key ", ToHex(key));
}

// A multiset of (key, value) pairs summarised without keeping it: per kind,
// the count and the wrapping sum of SipHash over each pair under a key
// drawn for this run. Equal multisets give equal tallies; different ones
// differ except with probability about 2^-63, and an attacker who edited
// the store before the run cannot know the key to aim for that. So Verify
// reads each index once, in key order, instead of looking up every entry's
// keys at random. Tallies of the same key add up (Merge).
class IndexTally {
 public:
  explicit IndexTally(const internal::SipHashKey& key) : key_(key) {}

  void Add(Tallied kind, std::string_view key, std::string_view value) {
    AddPieces(kind, key, [&](auto&& piece) { piece(value); });
  }
  // The same for a value given in pieces: `value_pieces(piece)` calls
  // piece with each, in order.
  template <typename Pieces>
  void AddPieces(Tallied kind, std::string_view key, Pieces&& value_pieces) {
    // The key's length first, so no two (key, value) pairs share bytes.
    char length[8];
    EncodeU64(key.size(), length);
    internal::SipHasher hasher(key_);
    hasher.Update(std::string_view(length, sizeof length));
    hasher.Update(key);
    value_pieces([&](std::string_view piece) { hasher.Update(piece); });
    const size_t slot = static_cast<size_t>(kind);
    ++count_[slot];
    sum_[slot] += hasher.Finish();
  }
  void Merge(const IndexTally& other) {
    for (size_t i = 0; i < kTalliedCount; ++i) {
      count_[i] += other.count_[i];
      sum_[i] += other.sum_[i];
    }
  }
  uint64_t Count(Tallied kind) const {
    return count_[static_cast<size_t>(kind)];
  }
  bool Agrees(const IndexTally& other, Tallied kind) const {
    const size_t slot = static_cast<size_t>(kind);
    return count_[slot] == other.count_[slot] && sum_[slot] == other.sum_[slot];
  }

 private:
  internal::SipHashKey key_;
  std::array<uint64_t, kTalliedCount> count_{};
  std::array<uint64_t, kTalliedCount> sum_{};
};

// A format-1 ledger's case-index values that hold more than a position
// were written by an upgrade stopped before its last batch, and copy the
// log. Reads ignore them, and the next writable open writes them again, but
// a changed byte is reported wherever it is. Their first 8 bytes were
// checked with the rest of the index. Read after the walk, outside its
// snapshot: a writer beside it writes a value and its log entry in one
// batch, so it cannot make them differ. The first bad value in case-key
// order is named. (Until 2026-12-05 they were not read: a format_version
// set back from 2 to 1 let every copy be changed and verify pass; found by
// an adversarial reading.)
absl::Status CheckCopiesOfAStoppedUpgrade(internal::Store& store) {
  std::string expected;
  return store.Scan(
      Family::kCaseIndex, "", "",
      [&](std::string_view key,
          std::string_view value) -> absl::StatusOr<bool> {
        if (value.size() <= 8) return true;
        CASELEDGER_ASSIGN_OR_RETURN(uint64_t position,
                                    DecodeU64(value.substr(0, 8)));
        const std::string pos_key(value.substr(0, 8));
        CASELEDGER_ASSIGN_OR_RETURN(auto entry,
                                    store.Get(Family::kEntries, pos_key));
        CASELEDGER_ASSIGN_OR_RETURN(auto event,
                                    store.Get(Family::kEvents, pos_key));
        expected.clear();
        if (entry && event) {
          AppendCaseIndexValue(pos_key, *entry, *event, expected);
        }
        if (value != expected) {
          return Tampered(
              position,
              absl::StrCat(DescribeIndexItem(Family::kCaseIndex, key),
                           " holds copies of the entry and event that differ "
                           "from the log's: they were changed, or the "
                           "ledger's format_version was set back from 2 to "
                           "1 (format 1 reads ignore the copies)"));
        }
        return true;
      });
}

// What a walk over the log computed.
struct LogWalk {
  uint64_t entries = 0;
  uint64_t cases = 0;
  uint64_t nodes = 0;
};

// Checks each stored checkpoint against the root the walk computes at its
// size, reading the notes from a cursor in the walk's snapshot as the walk
// reaches them: verify holds one note at a time, however many were signed
// (one a minute is half a million a year; `--checkpoint-every 1` under a
// steady trickle, thirty million). The first checkpoint that fails is kept
// and reported after the log and its indexes are checked: their damage
// explains a wrong root better than the root does.
class CheckpointComparison {
 public:
  CheckpointComparison(internal::Cursor& cursor, const VerifierKey* verifier,
                       std::string_view origin)
      : cursor_(cursor), verifier_(verifier), origin_(origin) {}

  // Before the walk: every key must decode. One that does not is reported
  // before anything the walk finds, as when the sizes were read first (the
  // notes are read twice for it, not held).
  absl::Status Start() {
    for (cursor_.Seek(""); cursor_.Valid(); cursor_.Next()) {
      CASELEDGER_RETURN_IF_ERROR(DecodeU64(cursor_.key()).status());
    }
    CASELEDGER_RETURN_IF_ERROR(cursor_.status());
    cursor_.Seek("");
    return absl::OkStatus();
  }

  // Whether a tree of `size` entries has reached the next checkpoint: its
  // root is wanted (computing it at every size would cost the walk).
  bool Reached(uint64_t size) const { return size >= next_size_; }

  // The walk's tree has `size` entries and root `root`. Fails only when the
  // checkpoints cannot be read; a checkpoint that does not hold is kept for
  // FirstFailure.
  absl::Status At(uint64_t size, const merkle::Hash& root) {
    while (cursor_.Valid()) {
      CASELEDGER_ASSIGN_OR_RETURN(next_size_, DecodeU64(cursor_.key()));
      if (next_size_ > size) return absl::OkStatus();
      // Below `size` only at 0: the walk reports every size from 1 on.
      Compare(next_size_, next_size_ == size ? root : merkle::EmptyRoot());
      cursor_.Next();
    }
    next_size_ = std::numeric_limits<uint64_t>::max();
    return cursor_.status();
  }

  // After a walk of `entries` entries: a checkpoint beyond them says the
  // tail was cut off, the most direct account of a truncated log (whose
  // indexes then disagree too).
  absl::Status CheckNoneBeyond(uint64_t entries) {
    if (entries == 0) CASELEDGER_RETURN_IF_ERROR(At(0, merkle::EmptyRoot()));
    if (!cursor_.Valid()) return cursor_.status();
    uint64_t last = next_size_;
    for (; cursor_.Valid(); cursor_.Next()) {
      CASELEDGER_ASSIGN_OR_RETURN(last, DecodeU64(cursor_.key()));
    }
    CASELEDGER_RETURN_IF_ERROR(cursor_.status());
    return Tampered(entries + 1,
                    absl::StrCat("missing: a checkpoint of size ", last,
                                 " was signed but the ledger has only ",
                                 entries, " entries; entries were removed"));
  }

  const absl::Status& FirstFailure() const { return first_failure_; }
  uint64_t checked() const { return checked_; }
  uint64_t last_size() const { return last_size_; }

 private:
  void Compare(uint64_t size, const merkle::Hash& root) {
    if (!first_failure_.ok()) return;
    first_failure_ = Check(size, root, cursor_.value());
    if (!first_failure_.ok()) return;
    ++checked_;
    last_size_ = size;
  }

  absl::Status Check(uint64_t size, const merkle::Hash& root,
                     std::string_view note) const {
    auto parsed = verifier_ ? VerifyCheckpoint(note, *verifier_)
                            : ParseCheckpointBody(note);
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat("checkpoint of size ", size, ": ",
                                              parsed.status().message()));
    }
    if (parsed->tree_size != size || parsed->origin != origin_) {
      return absl::DataLossError(
          absl::StrCat("checkpoint stored under size ", size, " is for size ",
                       parsed->tree_size, " of ", parsed->origin));
    }
    if (parsed->root_hash != root) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint of size ", size, " signs root ",
          HashHex(parsed->root_hash), " but the entries give ", HashHex(root)));
    }
    return AsSigned(size, std::string(note)).status();
  }

  internal::Cursor& cursor_;
  const VerifierKey* verifier_;
  std::string_view origin_;
  uint64_t next_size_ = 0;
  absl::Status first_failure_;
  uint64_t checked_ = 0;
  uint64_t last_size_ = 0;
};

using IndexItemCheck =
    std::function<absl::Status(uint64_t position, const EntryIndexItems&)>;

// What of a stored index value the log must account for: all of it, except
// in a format-1 ledger's case index, whose reads use only a value's first 8
// bytes (the position; an upgrade stopped part way writes more after them).
std::string_view ComparedPart(Family family, std::string_view stored,
                              bool case_index_holds_copies) {
  if (family == Family::kCaseIndex && !case_index_holds_copies) {
    return stored.substr(0, 8);
  }
  return stored;
}

// Walks entries and events in position order and checks what needs no
// index: dense positions, each event's case and type, recorded_at never
// decreasing; computes every leaf and the tree nodes each entry completes.
// What the indexes and digests must then be goes one of two ways:
// - `expected` (the fast walk): each item is tallied, and the hashing of the
//   events is left to the index thread (see Verify);
// - `exact` (the walk that names a position): each event digest is
//   recomputed here, and each entry's index items (case index, event id
//   with its digest, request, Merkle nodes) are handed to `exact`.
// The first problem is kDataLoss "position P: ...".
absl::StatusOr<LogWalk> WalkLog(
    internal::Cursor& entries, internal::Cursor& events,
    CheckpointComparison* checkpoints, uint64_t total,
    bool case_index_holds_copies, IndexTally* expected,
    const IndexItemCheck* exact,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  LogWalk walk;
  entries.Seek("");
  events.Seek("");
  merkle::MerkleFrontier tree;
  absl::Time last_recorded = absl::InfinitePast();
  // Reused across entries: parsing into a used message keeps its buffers.
  v1::LedgerEntry entry;
  v1::Event scratch;
  EntryIndexItems items;
  std::string pos_key, case_key;
  uint64_t p = 0;
  for (; entries.Valid(); entries.Next(), events.Next()) {
    ++p;
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t key, DecodeU64(entries.key()));
    if (key != p) {
      return Tampered(p, absl::StrCat("entry missing: the next stored entry "
                                      "is at position ",
                                      key));
    }
    // A read error is reported as itself, not as missing bytes.
    CASELEDGER_RETURN_IF_ERROR(events.status());
    if (!events.Valid() || events.key() != entries.key()) {
      return Tampered(p, "the event bytes are missing");
    }
    std::string_view entry_bytes = entries.value();
    if (!entry.ParseFromArray(entry_bytes.data(),
                              static_cast<int>(entry_bytes.size()))) {
      return Tampered(p, "the stored entry does not parse");
    }
    if (entry.position() != p) {
      return Tampered(
          p, absl::StrCat("the entry says position ", entry.position()));
    }
    std::string_view value = events.value();
    if (value.size() < kSaltSize) return Tampered(p, "event bytes truncated");
    std::string_view salt = value.substr(0, kSaltSize);
    std::string_view event_bytes = value.substr(kSaltSize);
    if (exact != nullptr) {
      const Sha256Digest digest = Sha256(salt, event_bytes);
      if (entry.event_digest() != DigestBytes(digest)) {
        return Tampered(
            p, absl::StrCat("SHA-256(salt || event bytes) is ", ToHex(digest),
                            " but the entry commits to ",
                            ToHex(entry.event_digest())));
      }
    }
    // Only what the indexes are built from is read of the event: its bytes
    // are bound to the entry by their digest, which finds any change.
    std::optional<internal::EventSummary> event =
        internal::SummarizeEvent(event_bytes, scratch);
    if (!event) return Tampered(p, "the event bytes do not parse");
    if (event->case_id != entry.case_id() ||
        EventType(event->payload) != entry.event_type()) {
      return Tampered(p, "the event's case or type differs from its entry");
    }
    absl::Time recorded = FromTimestamp(entry.recorded_at());
    if (recorded < last_recorded) {
      return Tampered(p, "recorded_at decreases");
    }
    last_recorded = recorded;
    if (entry.case_version() == 1) ++walk.cases;

    pos_key.clear();
    AppendU64(p, pos_key);
    items.Clear();
    if (exact != nullptr) {
      IndexItem& by_case = items.Add(Family::kCaseIndex);
      AppendCaseKey(entry.case_id(), entry.case_version(), by_case.key);
      if (case_index_holds_copies) {
        AppendCaseIndexValue(pos_key, entry_bytes, value, by_case.value);
      } else {
        by_case.value = pos_key;
      }
    } else {
      // Tallied from its pieces: a format-2 value copies the entry and the
      // event, which need not be copied once more to be hashed.
      case_key.clear();
      AppendCaseKey(entry.case_id(), entry.case_version(), case_key);
      expected->AddPieces(Tallied::kCaseIndex, case_key, [&](auto&& piece) {
        if (case_index_holds_copies) {
          internal::ForEachCaseIndexValuePiece(pos_key, entry_bytes, value,
                                               piece);
        } else {
          piece(pos_key);
        }
      });
    }
    IndexItem& by_id = items.Add(Family::kEventIds);
    by_id.key.append(event->event_id);
    by_id.value = pos_key;
    if (exact != nullptr) {
      const Sha256Digest content = Sha256(event_bytes);
      by_id.value.append(reinterpret_cast<const char*>(content.data()),
                         content.size());
    }
    if (event->payload == v1::Event::kDocumentRequestSent) {
      IndexItem& by_request = items.Add(Family::kRequests);
      AppendRequestKey(entry.case_id(), event->request_id, by_request.key);
      by_request.value = pos_key;
    }
    for (const auto& node : tree.Append(merkle::LeafHash(entry_bytes))) {
      IndexItem& stored_node = items.Add(Family::kMerkle);
      AppendMerkleKey(node.level, node.index, stored_node.key);
      stored_node.value.append(reinterpret_cast<const char*>(node.hash.data()),
                               node.hash.size());
      ++walk.nodes;
    }
    if (exact != nullptr) {
      CASELEDGER_RETURN_IF_ERROR((*exact)(p, items));
    } else {
      expected->Add(Tallied::kEventDigests, pos_key, entry.event_digest());
      for (const IndexItem& item : items) {
        switch (item.family) {
          case Family::kEventIds:
            expected->Add(Tallied::kIdPositions, item.key, item.value);
            break;
          case Family::kRequests:
            expected->Add(Tallied::kRequests, item.key, item.value);
            break;
          default:
            expected->Add(Tallied::kMerkle, item.key, item.value);
            break;
        }
      }
    }
    if (checkpoints != nullptr && checkpoints->Reached(p)) {
      CASELEDGER_RETURN_IF_ERROR(checkpoints->At(p, tree.Root()));
    }
    if (progress && p % 100000 == 0) progress(p, total);
  }
  CASELEDGER_RETURN_IF_ERROR(entries.status());
  CASELEDGER_RETURN_IF_ERROR(events.status());
  if (events.Valid()) {
    return Tampered(p + 1, "event bytes stored beyond the last entry");
  }
  walk.entries = p;
  return walk;
}

// What the index thread read and computed.
struct IndexScan {
  explicit IndexScan(const internal::SipHashKey& key)
      : stored(key), derived(key) {}
  // The stored side: the index families, and each event's salted digest as
  // recomputed from its bytes (against the digests the entries commit to).
  IndexTally stored;
  // The log's side, computed here rather than in the walk: each event's
  // content digest (against the event-id index's).
  IndexTally derived;
  // A read error, which ends the scan.
  absl::Status read;
  // The first case whose index versions are not 1, 2, ... at increasing
  // positions. The tally proves the index is exactly what the entries say,
  // so this is a check of the entries' case versions too.
  absl::Status case_versions;
  // The first event id in upper case when the meta record says every id is
  // stored in lower case: then a retry of that event would be looked up in
  // lower case, missed, and appended again. The tally compares ids as
  // stored, which the meta record does not touch (found by an adversarial
  // reading: the flag flipped, verify passed).
  absl::Status id_spelling;
};

void CheckCaseIndexKey(std::string_view key, std::string_view value,
                       std::string& last_case, uint64_t& last_version,
                       uint64_t& last_position, absl::Status& problem) {
  // case_id 0x00 version(8) -> position(8) ...; case ids never hold 0x00.
  // The rest of the value is the tally's to check.
  auto version = DecodeU64(key.size() >= 9 ? key.substr(key.size() - 8) : "");
  auto position = DecodeU64(value);
  if (key.size() < 10 || key[key.size() - 9] != '\0' || !version.ok() ||
      !position.ok()) {
    problem = absl::DataLossError(
        absl::StrCat("the case index holds a malformed key ", ToHex(key)));
    return;
  }
  std::string_view case_id = key.substr(0, key.size() - 9);
  const bool same_case = case_id == last_case;
  if (*version != (same_case ? last_version + 1 : 1) ||
      (same_case && *position <= last_position)) {
    problem = absl::DataLossError(
        absl::StrCat("the case index gives case ", Printable(case_id),
                     " version ", *version, " at position ", *position,
                     same_case ? absl::StrCat(" after version ", last_version,
                                              " at position ", last_position)
                               : std::string(" as its first version")));
    return;
  }
  if (!same_case) last_case.assign(case_id.data(), case_id.size());
  last_version = *version;
  last_position = *position;
}

// The index thread's work: one pass over the events (both digests of each)
// and one over each index family, with the cursors made by Verify. Stops
// early when `stop` is set (the walk already failed).
void ScanIndexes(internal::Cursor& events, internal::Cursor& case_index,
                 internal::Cursor& event_ids, internal::Cursor& requests,
                 internal::Cursor& merkle_nodes, bool case_index_holds_copies,
                 bool ids_in_lower_case, const std::atomic<bool>& stop,
                 IndexScan& scan) {
  uint64_t n = 0;
  auto stopped = [&] {
    return ++n % 4096 == 0 && stop.load(std::memory_order_relaxed);
  };
  auto failed = [&](internal::Cursor& cursor) {
    scan.read = cursor.status();
    return !scan.read.ok();
  };
  // Both digests of the event at `position` (its 8-byte key), from its
  // stored value (salt || event bytes).
  auto digest_event = [&](std::string_view position, std::string_view value) {
    // A short value fails the walk, which reports it.
    if (value.size() < kSaltSize) return;
    std::string_view salt = value.substr(0, kSaltSize);
    std::string_view event_bytes = value.substr(kSaltSize);
    const Sha256Digest salted = Sha256(salt, event_bytes);
    const Sha256Digest content = Sha256(event_bytes);
    scan.stored.Add(
        Tallied::kEventDigests, position,
        {reinterpret_cast<const char*>(salted.data()), salted.size()});
    scan.derived.Add(
        Tallied::kIdDigests, position,
        {reinterpret_cast<const char*>(content.data()), content.size()});
  };
  // A format-2 case index holds a copy of every event, which the case
  // index's tally proves identical to the event the log holds at that
  // position; the digests are taken from the copies, sparing a second read
  // of the events (the walk reads them too).
  if (!case_index_holds_copies) {
    for (events.Seek(""); events.Valid(); events.Next()) {
      if (stopped()) return;
      digest_event(events.key(), events.value());
    }
    if (failed(events)) return;
  }

  std::string last_case;
  uint64_t last_version = 0;
  uint64_t last_position = 0;
  for (case_index.Seek(""); case_index.Valid(); case_index.Next()) {
    if (stopped()) return;
    const std::string_view value = case_index.value();
    scan.stored.Add(
        Tallied::kCaseIndex, case_index.key(),
        ComparedPart(Family::kCaseIndex, value, case_index_holds_copies));
    if (case_index_holds_copies) {
      // A malformed value already fails the case index's tally.
      if (auto copy = internal::ParseCaseIndexValue(value); copy.ok()) {
        digest_event(value.substr(0, 8), copy->event_value);
      }
    }
    if (scan.case_versions.ok()) {
      CheckCaseIndexKey(case_index.key(), value, last_case, last_version,
                        last_position, scan.case_versions);
    }
  }
  if (failed(case_index)) return;

  for (event_ids.Seek(""); event_ids.Valid(); event_ids.Next()) {
    if (stopped()) return;
    // position(8) || SHA-256(event bytes), compared in two halves; a record
    // of any other length cannot match both.
    std::string_view record = event_ids.value();
    if (ids_in_lower_case && scan.id_spelling.ok() &&
        absl::c_any_of(event_ids.key(), [](char c) {
          return absl::ascii_isupper(static_cast<unsigned char>(c));
        })) {
      scan.id_spelling = absl::DataLossError(absl::StrCat(
          "the event-id index holds ", Printable(event_ids.key()),
          " in upper case, though the ledger's meta record says every id is "
          "stored in lower case (event_id_spelling): a retry of that event "
          "would be appended again; the meta record was altered"));
    }
    const size_t split = std::min<size_t>(8, record.size());
    scan.stored.Add(Tallied::kIdPositions, event_ids.key(),
                    record.substr(0, split));
    scan.stored.Add(Tallied::kIdDigests, record.substr(0, split),
                    record.substr(split));
  }
  if (failed(event_ids)) return;

  for (auto [cursor, kind] : {std::pair{&requests, Tallied::kRequests},
                              std::pair{&merkle_nodes, Tallied::kMerkle}}) {
    for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
      if (stopped()) return;
      scan.stored.Add(kind, cursor->key(), cursor->value());
    }
    if (failed(*cursor)) return;
  }
}

}  // namespace

absl::StatusOr<Ledger::VerifyReport> Ledger::Verify(
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  std::optional<VerifierKey> own;
  if (impl_->key) {
    CASELEDGER_ASSIGN_OR_RETURN(own,
                                ParseVerifierKey(impl_->key->VerifierKey()));
  }
  return impl_->Verify(own ? &*own : nullptr, progress);
}

absl::StatusOr<Ledger::VerifyReport> Ledger::Verify(
    const VerifierKey& verifier,
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  return impl_->Verify(&verifier, progress);
}

absl::StatusOr<Ledger::VerifyReport> Ledger::Impl::Verify(
    const VerifierKey* verifier,
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  absl::StatusOr<VerifyReport> report = VerifyWalk(verifier, progress);
  if (absl::IsDataLoss(report.status())) {
    return BlameDamagedTable(report.status());
  }
  return report;
}

absl::StatusOr<Ledger::VerifyReport> Ledger::Impl::VerifyWalk(
    const VerifierKey* verifier,
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  VerifyReport report;
  report.signatures_checked = verifier != nullptr;

  internal::SipHashKey tally_key;
  if (RAND_bytes(tally_key.data(), static_cast<int>(tally_key.size())) != 1) {
    return absl::InternalError("cannot draw a random key for verify");
  }
  // One snapshot for the walk and for the index thread beside it, which
  // hashes the events and reads the index families: each reads its
  // families once, in key order (the index thread reads the events only
  // in a format-1 ledger, whose case index holds no copies of them).
  auto cursors = store->NewCursors({Family::kEntries, Family::kEvents,
                                    Family::kEvents, Family::kCaseIndex,
                                    Family::kEventIds, Family::kRequests,
                                    Family::kMerkle, Family::kCheckpoints});
  CheckpointComparison checkpoints(*cursors[7], verifier, origin);
  CASELEDGER_RETURN_IF_ERROR(checkpoints.Start());
  IndexScan scan(tally_key);
  std::atomic<bool> stop_scan{false};
  std::thread scanner([&] {
    ScanIndexes(*cursors[2], *cursors[3], *cursors[4], *cursors[5], *cursors[6],
                case_index_holds_copies, !ids_may_be_upper_case, stop_scan,
                scan);
  });
  IndexTally expected(tally_key);
  const uint64_t total = size.load();
  auto walk = WalkLog(*cursors[0], *cursors[1], &checkpoints, total,
                      case_index_holds_copies, &expected,
                      /*exact=*/nullptr, progress);
  if (!walk.ok()) stop_scan = true;
  scanner.join();
  expected.Merge(scan.derived);

  if (walk.ok()) {
    CASELEDGER_RETURN_IF_ERROR(checkpoints.CheckNoneBeyond(walk->entries));
  }

  bool all_agree = walk.ok() && scan.read.ok() && scan.case_versions.ok();
  for (Tallied kind : kAllTallied) {
    all_agree = all_agree && expected.Agrees(scan.stored, kind);
  }
  if (!all_agree) {
    // The first position whose bytes, digests or index items are wrong:
    // the fast walk leaves the digests to the tallies, so a problem it
    // stopped at may come after one they caught. Recomputing each digest
    // and looking each item up is slow, but only for a ledger that fails.
    auto again = store->NewCursors({Family::kEntries, Family::kEvents});
    const IndexItemCheck look_up =
        [&](uint64_t position, const EntryIndexItems& items) -> absl::Status {
      for (const IndexItem& item : items) {
        CASELEDGER_ASSIGN_OR_RETURN(auto stored,
                                    store->Get(item.family, item.key));
        if (!stored || ComparedPart(item.family, *stored,
                                    case_index_holds_copies) != item.value) {
          // Rows deleted, then an append: the writer gave their versions
          // again, and the log holds one version twice, which no rebuild
          // mends ("differs" named derived data; found by an adversarial
          // reading).
          if (auto other = stored && item.family == Family::kCaseIndex &&
                                   stored->size() >= 8
                               ? DecodeU64(stored->substr(0, 8))
                               : absl::StatusOr<uint64_t>(0);
              other.ok() && *other != 0 && *other != position &&
              HoldsTheSameVersion(*store, *other, item.key)) {
            return Tampered(
                position,
                absl::StrCat(DescribeIndexItem(item.family, item.key),
                             " gives position ", *other,
                             ", which holds that version of the case too: "
                             "the log holds it twice (rows of the case "
                             "index were deleted, and later appends were "
                             "given their versions again); the log itself "
                             "records it, and 'caseledger rebuild' cannot "
                             "mend it"));
          }
          return Tampered(position,
                          absl::StrCat(DescribeIndexItem(item.family, item.key),
                                       stored ? " differs" : " is missing"));
        }
      }
      return absl::OkStatus();
    };
    CASELEDGER_RETURN_IF_ERROR(WalkLog(*again[0], *again[1],
                                       /*checkpoints=*/nullptr, total,
                                       case_index_holds_copies,
                                       /*expected=*/nullptr, &look_up, nullptr)
                                   .status());
    CASELEDGER_RETURN_IF_ERROR(walk.status());
    CASELEDGER_RETURN_IF_ERROR(scan.read);
    // Every digest holds and every item the log needs is there; so an
    // index holds more.
    CASELEDGER_RETURN_IF_ERROR(scan.case_versions);
    for (Tallied kind : kAllTallied) {
      if (!expected.Agrees(scan.stored, kind)) {
        return Tampered(
            walk->entries,
            absl::StrCat(
                "the ", TalliedName(kind), " holds ", scan.stored.Count(kind),
                " keys where the log accounts for ", expected.Count(kind),
                ": keys were added, or the tail was truncated"));
      }
    }
  }
  CASELEDGER_RETURN_IF_ERROR(scan.id_spelling);
  if (!case_index_holds_copies) {
    CASELEDGER_RETURN_IF_ERROR(CheckCopiesOfAStoppedUpgrade(*store));
  }
  const uint64_t p = walk->entries;
  report.entries = p;
  report.cases = walk->cases;
  report.nodes = walk->nodes;

  CASELEDGER_RETURN_IF_ERROR(checkpoints.FirstFailure());
  report.checkpoints = checkpoints.checked();
  report.last_signed_size = checkpoints.last_size();
  // The kept checkpoint, whose root the open compared with the stored nodes;
  // those are now shown to be the entries', so with its signature checked
  // it vouches for its entries as a stored one does.
  CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::string> kept,
                              internal::ReadKeptCheckpoint(dir));
  if (kept && verifier) {
    auto c = VerifyCheckpoint(*kept, *verifier);
    if (c.ok() && c->origin == origin && c->tree_size <= p) {
      CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash root,
                                  merkle::RootAt(c->tree_size, Nodes()));
      if (root == c->root_hash) report.kept_signed_size = c->tree_size;
    }
  }
  // The messages are the proof of what was sent: a key names the bytes, so
  // bytes that no longer hash to it were altered (a block checksum, which
  // VerifyFiles checks, is recomputed by whoever rewrites the block).
  CASELEDGER_RETURN_IF_ERROR(store->Scan(
      Family::kBlobs, "", "",
      [&](std::string_view key,
          std::string_view value) -> absl::StatusOr<bool> {
        std::optional<Sha256Digest> named = DigestFromBytes(key);
        if (!named) {
          return absl::DataLossError(
              absl::StrCat("a stored message is kept under a key of ",
                           key.size(), " bytes, not a SHA-256: ", ToHex(key)));
        }
        if (Sha256(value) != *named) {
          return absl::DataLossError(absl::StrCat(
              "stored message ", ToHex(key), " (", value.size(),
              " bytes) no longer has that SHA-256: it was altered"));
        }
        ++report.messages;
        return true;
      }));
  if (progress) progress(p, total);
  return report;
}

}  // namespace caseledger
