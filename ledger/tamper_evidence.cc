// The Ledger's tamper evidence: signed checkpoints, proofs from the stored
// Merkle nodes, the tail check at open, and the full verify walk.
// Formats: docs/formats.md.
#include <map>

#include "absl/strings/str_cat.h"
#include "ledger/event_validation.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/status_macros.h"

namespace caseledger {

using internal::Batch;
using internal::CaseKey;
using internal::DecodeU64;
using internal::EncodeU64;
using internal::Family;
using internal::FromProto;
using internal::kSaltSize;
using internal::MerkleKey;
using internal::RequestKey;

namespace {

absl::Status Tampered(uint64_t position, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("position ", position, ": ", std::string(what)));
}

std::string HashHex(const merkle::Hash& h) { return ToHex(h); }

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

absl::StatusOr<std::string> Ledger::Impl::Checkpoint() {
  {
    absl::MutexLock lock(&mu);
    if (!poisoned.ok()) return poisoned;
  }
  uint64_t n = frontier.size();
  if (has_checkpoint && n == checkpoint_size) {
    CASELEDGER_ASSIGN_OR_RETURN(auto note,
                                store->Get(Family::kCheckpoints, EncodeU64(n)));
    if (note) return *note;
  }
  merkle::Hash root = frontier.Root();
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
  CASELEDGER_ASSIGN_OR_RETURN(
      std::string note, caseledger::SignCheckpoint({origin, n, root}, *key));
  Batch batch(*store);
  batch.Put(Family::kCheckpoints, EncodeU64(n), note);
  CASELEDGER_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  checkpoint_size = n;
  checkpoint_root = root;
  has_checkpoint = true;
  checkpoint_time = clock->Now();
  return note;
}

absl::Status Ledger::Impl::CheckTail() {
  CASELEDGER_ASSIGN_OR_RETURN(auto last,
                              store->LastWithPrefix(Family::kCheckpoints, ""));
  uint64_t from = 1;
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
    CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash root,
                                merkle::RootAt(c.tree_size, Nodes()));
    if (root != c.root_hash) {
      return absl::DataLossError(absl::StrCat(
          "the stored tree of size ", c.tree_size, " has root ", HashHex(root),
          ", but its signed checkpoint says ", HashHex(c.root_hash)));
    }
    checkpoint_size = c.tree_size;
    checkpoint_root = c.root_hash;
    has_checkpoint = true;
    checkpoint_time = clock->Now();
    from = c.tree_size + 1;
  }
  // Entries written since the checkpoint: their leaves and digests.
  for (uint64_t p = from; p <= size; ++p) {
    CASELEDGER_ASSIGN_OR_RETURN(RecordedEvent e, ReadAt(p));
    v1::LedgerEntry entry;
    entry.ParseFromString(e.entry_bytes);
    if (entry.event_digest() != DigestBytes(Sha256(e.salt, e.event_bytes))) {
      return Tampered(p, "event bytes do not match the entry's digest");
    }
    CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash leaf, Nodes()(0, p - 1));
    if (leaf != merkle::LeafHash(e.entry_bytes)) {
      return Tampered(p, "stored leaf hash does not match the entry");
    }
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
  return merkle::InclusionProof(position - 1, size, impl_->Nodes());
}

absl::StatusOr<std::vector<merkle::Hash>> Ledger::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  if (old_size < 1 || old_size > new_size || new_size > Size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a consistency proof needs 1 <= from-size (", old_size, ") <= size (",
        new_size, ") <= ledger size (", Size(), ")"));
  }
  return merkle::ConsistencyProof(old_size, new_size, impl_->Nodes());
}

absl::StatusOr<std::string> Ledger::SignCheckpoint() {
  if (impl_->options.read_only) {
    return absl::FailedPreconditionError(
        "the ledger is open read-only; signing needs the writer");
  }
  std::promise<absl::StatusOr<std::string>> done;
  auto future = done.get_future();
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopping) return absl::UnavailableError("the ledger is closing");
    impl_->checkpoint_waiters.push_back(&done);
  }
  return future.get();
}

absl::StatusOr<std::string> Ledger::SignNote(std::string_view body) const {
  if (!impl_->key) {
    return absl::FailedPreconditionError(
        "the ledger's key file could not be read");
  }
  return caseledger::SignNote(body, *impl_->key);
}

absl::StatusOr<std::string> Ledger::LatestCheckpoint() const {
  CASELEDGER_ASSIGN_OR_RETURN(
      auto last, impl_->store->LastWithPrefix(Family::kCheckpoints, ""));
  if (!last) return absl::NotFoundError("no checkpoint has been signed yet");
  return last->second;
}

absl::StatusOr<std::string> Ledger::CheckpointAt(uint64_t size) const {
  CASELEDGER_ASSIGN_OR_RETURN(
      auto note, impl_->store->Get(Family::kCheckpoints, EncodeU64(size)));
  if (!note) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint was signed at tree size ", size));
  }
  return *note;
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

absl::StatusOr<Ledger::VerifyReport> Ledger::Verify(
    const std::function<void(uint64_t, uint64_t)>& progress) const {
  const Impl& impl = *impl_;
  const internal::Store& store = *impl.store;
  VerifyReport report;

  // Checkpoints first (few): their sizes tell the walk where to note roots.
  std::map<uint64_t, std::string> notes;
  CASELEDGER_RETURN_IF_ERROR(
      store.Scan(Family::kCheckpoints, "", "",
                 [&](std::string_view key,
                     std::string_view value) -> absl::StatusOr<bool> {
                   CASELEDGER_ASSIGN_OR_RETURN(uint64_t s, DecodeU64(key));
                   notes[s] = std::string(value);
                   return true;
                 }));
  std::optional<VerifierKey> verifier;
  if (impl.key) {
    CASELEDGER_ASSIGN_OR_RETURN(verifier,
                                ParseVerifierKey(impl.key->VerifierKey()));
  }
  std::map<uint64_t, merkle::Hash> roots;  // size -> root computed by walk

  auto cursors = store.NewCursors({Family::kEntries, Family::kEvents});
  internal::Cursor& entries = *cursors[0];
  internal::Cursor& events = *cursors[1];
  entries.Seek("");
  events.Seek("");
  merkle::MerkleFrontier tree;
  absl::Time last_recorded = absl::InfinitePast();
  uint64_t total = impl.size.load();
  uint64_t p = 0;
  for (; entries.Valid(); entries.Next(), events.Next()) {
    ++p;
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t key, DecodeU64(entries.key()));
    if (key != p) {
      return Tampered(p, absl::StrCat("entry missing: the next stored entry "
                                      "is at position ",
                                      key));
    }
    if (!events.Valid() || events.key() != entries.key()) {
      return Tampered(p, "the event bytes are missing");
    }
    v1::LedgerEntry entry;
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
    if (entry.event_digest() != DigestBytes(Sha256(salt, event_bytes))) {
      return Tampered(p, absl::StrCat("SHA-256(salt || event bytes) is ",
                                      ToHex(Sha256(salt, event_bytes)),
                                      " but the entry commits to ",
                                      ToHex(entry.event_digest())));
    }
    v1::Event event;
    if (!event.ParseFromArray(event_bytes.data(),
                              static_cast<int>(event_bytes.size()))) {
      return Tampered(p, "the event bytes do not parse");
    }
    if (event.case_id() != entry.case_id() ||
        EventType(event) != entry.event_type()) {
      return Tampered(p, "the event's case or type differs from its entry");
    }
    absl::Time recorded = FromProto(entry.recorded_at());
    if (recorded < last_recorded) {
      return Tampered(p, "recorded_at decreases");
    }
    last_recorded = recorded;

    // Indexes agree with the entry.
    std::string pos_key = EncodeU64(p);
    CASELEDGER_ASSIGN_OR_RETURN(
        auto indexed,
        store.Get(Family::kCaseIndex,
                  CaseKey(entry.case_id(), entry.case_version())));
    if (!indexed || *indexed != pos_key) {
      return Tampered(
          p, absl::StrCat("the case index does not map ", entry.case_id(),
                          " version ", entry.case_version(), " here"));
    }
    if (entry.case_version() > 1) {
      CASELEDGER_ASSIGN_OR_RETURN(
          auto previous,
          store.Get(Family::kCaseIndex,
                    CaseKey(entry.case_id(), entry.case_version() - 1)));
      if (!previous) {
        return Tampered(
            p, absl::StrCat("case ", entry.case_id(), " version ",
                            entry.case_version(), " has no earlier version"));
      }
      CASELEDGER_ASSIGN_OR_RETURN(uint64_t prev_pos, DecodeU64(*previous));
      if (prev_pos >= p) {
        return Tampered(p, absl::StrCat("case ", entry.case_id(), " version ",
                                        entry.case_version() - 1,
                                        " is not before this one"));
      }
    } else {
      ++report.cases;
    }
    CASELEDGER_ASSIGN_OR_RETURN(auto id_record,
                                store.Get(Family::kEventIds, event.event_id()));
    if (!id_record ||
        *id_record != absl::StrCat(pos_key, DigestBytes(Sha256(event_bytes)))) {
      return Tampered(p, absl::StrCat("the event-id index entry for ",
                                      event.event_id(), " does not match"));
    }
    if (event.has_document_request_sent()) {
      CASELEDGER_ASSIGN_OR_RETURN(
          auto request,
          store.Get(Family::kRequests,
                    RequestKey(entry.case_id(), RequestIdOf(event))));
      if (!request || *request != pos_key) {
        return Tampered(p, "the request index does not point here");
      }
    }

    // Leaves and every stored node the tree completes here.
    for (const auto& node : tree.Append(merkle::LeafHash(entry_bytes))) {
      CASELEDGER_ASSIGN_OR_RETURN(
          auto stored,
          store.Get(Family::kMerkle, MerkleKey(node.level, node.index)));
      if (!stored || *stored != DigestBytes(node.hash)) {
        return Tampered(
            p,
            absl::StrCat("stored Merkle node (level ", node.level, ", index ",
                         node.index, ") ", stored ? "differs" : "is missing"));
      }
      ++report.nodes;
    }
    if (notes.count(p)) roots[p] = tree.Root();
    if (progress && p % 100000 == 0) progress(p, total);
  }
  CASELEDGER_RETURN_IF_ERROR(entries.status());
  CASELEDGER_RETURN_IF_ERROR(events.status());
  if (events.Valid()) {
    return Tampered(p + 1, "event bytes stored beyond the last entry");
  }
  report.entries = p;

  // Nothing extra in the indexes: each holds exactly one key per entry.
  auto count = [&](Family f) -> absl::StatusOr<uint64_t> {
    uint64_t n = 0;
    CASELEDGER_RETURN_IF_ERROR(
        store.Scan(f, "", "", [&](std::string_view, std::string_view) {
          ++n;
          return absl::StatusOr<bool>(true);
        }));
    return n;
  };
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t case_keys, count(Family::kCaseIndex));
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t id_keys, count(Family::kEventIds));
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t node_keys, count(Family::kMerkle));
  if (case_keys != p || id_keys != p || node_keys != report.nodes) {
    return Tampered(
        p,
        absl::StrCat("the indexes hold entries for events that are not "
                     "in the log (case index ",
                     case_keys, ", event ids ", id_keys, ", Merkle nodes ",
                     node_keys, "; expected ", p, ", ", p, ", ", report.nodes,
                     "): the tail was truncated or keys were added"));
  }

  for (const auto& [size, note] : notes) {
    if (size > p) {
      return Tampered(p + 1,
                      absl::StrCat("missing: a checkpoint of size ", size,
                                   " was signed but the ledger "
                                   "has only ",
                                   p, " entries; entries were removed"));
    }
    auto parsed = verifier ? VerifyCheckpoint(note, *verifier)
                           : ParseCheckpointBody(note);
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat("checkpoint of size ", size, ": ",
                                              parsed.status().message()));
    }
    if (parsed->tree_size != size || parsed->origin != impl.origin) {
      return absl::DataLossError(
          absl::StrCat("checkpoint stored under size ", size, " is for size ",
                       parsed->tree_size, " of ", parsed->origin));
    }
    merkle::Hash root = size == 0 ? merkle::EmptyRoot() : roots.at(size);
    if (parsed->root_hash != root) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint of size ", size, " signs root ",
          HashHex(parsed->root_hash), " but the entries give ", HashHex(root)));
    }
    ++report.checkpoints;
  }
  if (progress) progress(p, total);
  return report;
}

}  // namespace caseledger
