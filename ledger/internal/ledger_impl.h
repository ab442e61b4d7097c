// Internals of Ledger shared by its implementation files (ledger.cc: the
// append path and reads; tamper_evidence.cc: checkpoints, proofs, verify).
// Not part of the public API.
#ifndef CASELEDGER_LEDGER_INTERNAL_LEDGER_IMPL_H_
#define CASELEDGER_LEDGER_INTERNAL_LEDGER_IMPL_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "caseledger/v1/ledger.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ledger/internal/outcome.h"
#include "ledger/internal/parallel_loop.h"
#include "ledger/internal/store.h"
#include "ledger/ledger.h"

namespace caseledger {
namespace internal {

// docs/storage.md, "Format version". Format 1 held only the position under
// each case-index key; a build reads it as it is and upgrades it at the
// first writable open.
constexpr char kFormatVersion[] = "2";
constexpr char kFormatVersionPositionsOnly[] = "1";
constexpr char kMetaFormatVersion[] = "format_version";
constexpr char kMetaOrigin[] = "origin";
// How the event-id index spells the UUIDs it holds: "lower", every one in
// lower case, as builds since 2026-12-01 store them; "as-given", some in
// the case their appender gave, as earlier builds stored them. Absent in a
// ledger no build has looked at yet (docs/storage.md, "Event ids").
constexpr char kMetaEventIdSpelling[] = "event_id_spelling";
constexpr char kEventIdsInLowerCase[] = "lower";
constexpr char kEventIdsAsGiven[] = "as-given";
constexpr char kStoreDir[] = "store";
// Where init and a restore into an existing folder build the store before
// renaming it to kStoreDir: a folder is a ledger once store/ exists.
constexpr char kPartialStoreDir[] = "store.partial";
constexpr char kKeyFile[] = "signing-key.pem";
// What a damaged or missing store's message says to do: restore refuses a
// folder that holds a ledger's files, so a restore goes to a new one (the
// advice said only 'restore', and restore then refused the folder; found by
// an outside reading).
constexpr char kRestoreIntoANewFolder[] =
    "restore a backup into a new folder ('caseledger restore --from BACKUP "
    "--db NEW'), keeping this one as it is for inspection";
// Where init writes the key before renaming it to kKeyFile.
constexpr char kKeyTempFile[] = "signing-key.pem.tmp";
// The file a backup or restore writes first into a folder it makes for a
// copy, and removes last, once the folder is renamed into place
// (backup.cc).
constexpr char kUnfinishedCopyMark[] = "unfinished-copy";
// The file a restore writes into its ledger folder before renaming
// store.partial/ to store/, and removes once the restored ledger has passed
// its last check: a restore killed in between left a ledger every verb used
// though nothing had checked it (found by an outside test).
constexpr char kUncheckedRestoreMark[] = "restore-unchecked";
// How an append refused after a failed write begins (ledger.cc).
constexpr char kAppendNotWritten[] = "append not written: ";
// kFailedPrecondition when `dir` holds a store with kUncheckedRestoreMark
// beside it, or, for a writer (`read_only` false), when it is a backup's
// copy in progress or left unfinished (NAME.partial holding
// kUnfinishedCopyMark): appends there were erased, unsaid, by the next
// backup to NAME (found by an outside test). A folder that cannot be
// looked into is CannotLookInto's error, a mark that cannot be looked for
// PathExists's: either may hide a mark.
absl::Status RefuseUnfinishedCopy(const std::filesystem::path& dir,
                                  bool read_only);
// kPermissionDenied "cannot look into DIR: WHY": a ledger may be in a
// folder this user cannot search, so it is not said to hold none.
absl::Status CannotLookInto(const std::string& dir, const std::error_code& ec);

// Whether every entry of `dir`, which holds no store/, is one that init or
// a restore writes into a ledger folder before renaming store.partial/ to
// store/ (backup.cc): a folder that may be filled from scratch. True for an
// empty folder.
bool HoldsOnlyLedgerFiles(const std::filesystem::path& dir);
// Whether `dir` holds what an init or a restore into it left when it
// stopped before renaming store.partial/ to store/: store.partial/ and
// nothing but ledger files.
bool LeftUnfinished(const std::filesystem::path& dir);
constexpr size_t kSaltSize = 16;
constexpr char kEventIndexPayload[] = "caseledger.dev/event-index";
// How many cases (and, separately, requests) the sequencer remembers the
// durable state of before it starts over; about 100 bytes each.
constexpr size_t kDurableCacheLimit = 1 << 16;
// At most this much of the log is left to replay at the next open when the
// writer closes (about 0.1 s of a reader's open); more is flushed to tables.
constexpr uint64_t kReplayBytesAtOpen = 8 << 20;
// While appends go on, the kept checkpoint (kept_checkpoint.h) is written
// at most this often: each write syncs a file and its folder (0.7 ms), and
// an automatic checkpoint every 1,000 entries would pay that each time.
constexpr absl::Duration kKeptCheckpointEvery = absl::Seconds(1);

// Case ids cannot hold 0x00, so "case_id 0x00" is a prefix of that case's
// keys only.
inline std::string CasePrefix(std::string_view case_id) {
  std::string key(case_id);
  key.push_back('\0');
  return key;
}
// The Append forms write into a string the caller reuses (Verify's walk).
inline void AppendCaseKey(std::string_view case_id, uint64_t version,
                          std::string& out) {
  out.append(case_id).push_back('\0');
  AppendU64(version, out);
}
inline std::string CaseKey(std::string_view case_id, uint64_t version) {
  std::string key;
  AppendCaseKey(case_id, version, key);
  return key;
}

// A case-index value (format 2): the position, then copies of the entry
// and of the stored event, so that a case reads as one run of adjacent
// keys instead of two random reads per event (docs/storage.md).
//   position (u64) || entry length (u32) || entry bytes || salt || event
// Hands `piece` the value's bytes in order, in four pieces, so that the
// value can be hashed without being built.
template <typename Piece>
void ForEachCaseIndexValuePiece(std::string_view position_key,
                                std::string_view entry_bytes,
                                std::string_view event_value, Piece&& piece) {
  char length[4];
  EncodeU32(static_cast<uint32_t>(entry_bytes.size()), length);
  piece(position_key);
  piece(std::string_view(length, sizeof length));
  piece(entry_bytes);
  piece(event_value);
}
inline void AppendCaseIndexValue(std::string_view position_key,
                                 std::string_view entry_bytes,
                                 std::string_view event_value,
                                 std::string& out) {
  ForEachCaseIndexValuePiece(position_key, entry_bytes, event_value,
                             [&](std::string_view p) { out.append(p); });
}
struct CaseIndexValue {
  uint64_t position = 0;
  std::string_view entry_bytes;
  std::string_view event_value;  // salt || event bytes
};
// The parts of a format-2 value, viewing `value`; kDataLoss if its lengths
// do not add up.
absl::StatusOr<CaseIndexValue> ParseCaseIndexValue(std::string_view value);

inline void AppendRequestKey(std::string_view case_id, std::string_view request,
                             std::string& out) {
  out.append(case_id).push_back('\0');
  out.append(request);
}
inline std::string RequestKey(std::string_view case_id,
                              std::string_view request) {
  std::string key;
  AppendRequestKey(case_id, request, key);
  return key;
}
inline void AppendMerkleKey(int level, uint64_t index, std::string& out) {
  out.push_back(static_cast<char>(level));
  AppendU64(index, out);
}
inline std::string MerkleKey(int level, uint64_t index) {
  std::string key;
  AppendMerkleKey(level, index, key);
  return key;
}

// Appends the deterministic serialization of `m` (whose sizes are cached:
// ByteSizeLong was called since its last change) to `out`.
inline void AppendSerialized(const google::protobuf::MessageLite& m,
                             std::string& out) {
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeWithCachedSizes(&coded);
}

// What the ledger knows of an event id: where it is and what it holds.
struct IdRecord {
  uint64_t position = 0;
  uint64_t case_version = 0;
  Sha256Digest content{};
};

// An event made ready for the sequencer in the caller's thread, so the
// sequencer only does what needs the ledger's state.
struct PreparedEvent {
  // The caller's event, or `with_id` when the ledger gave it its id.
  const v1::Event* event = nullptr;
  v1::Event with_id;
  std::string stored;           // salt || event bytes: the events value
  Sha256Digest content_digest;  // SHA-256(event bytes): idempotency
  Sha256Digest event_digest;    // SHA-256(salt || event bytes): the entry
  // EventType and RequestIdOf of `*event`, referred to rather than copied.
  const std::string* type = nullptr;
  const std::string* request_id = nullptr;
  // The event id looked up in the store before sequencing, and the count
  // of the ledger's writes before that look-up: still the answer if no
  // write has happened since (only the sequencer writes event ids). Unset
  // if the look-up failed; the sequencer then looks again.
  std::optional<uint64_t> id_probed_after_writes;
  std::optional<IdRecord> stored_id;
};

struct PendingAppend {
  std::vector<PreparedEvent> events;
  ExpectedVersion expected;
  // Set when the call is sequenced while its events are still being
  // prepared: waits until event i is prepared and returns how that went.
  std::function<absl::Status(size_t)> await_prepared;
  Outcome<absl::StatusOr<AppendResult>> done;
  AppendResult result;
};

// State that the appends of one group have changed but not yet written.
struct Overlay {
  absl::flat_hash_map<std::string, uint64_t> case_versions;
  absl::flat_hash_map<std::string, IdRecord> event_ids;
  absl::flat_hash_set<std::string> requests;

  void MergeFrom(Overlay&& other) {
    if (case_versions.empty() && event_ids.empty() && requests.empty()) {
      *this = std::move(other);  // a group's first append: nothing to merge
      return;
    }
    for (auto& [k, v] : other.case_versions) case_versions[k] = v;
    for (auto& [k, v] : other.event_ids) event_ids[k] = v;
    for (auto& k : other.requests) requests.insert(k);
  }
};

}  // namespace internal

struct Ledger::Impl {
  // This object among every ledger opened in the process, from 1: what a
  // CheckedMessage names (a pointer may be reused by the next one opened;
  // found by a review).
  const uint64_t instance = [] {
    static std::atomic<uint64_t> opened{0};
    return ++opened;
  }();
  using Overlay = internal::Overlay;
  using PendingAppend = internal::PendingAppend;
  using IdRecord = internal::IdRecord;
  using Batch = internal::Batch;
  using Store = internal::Store;
  std::string dir;
  std::string origin;
  LedgerOptions options;
  Clock* clock = nullptr;
  std::unique_ptr<Store> store;
  std::optional<SigningKey> key;

  std::atomic<uint64_t> size{0};
  std::atomic<uint64_t> writes{0}, appends{0}, events_written{0};

  // Touched only by the thread that holds `sequencing` (the sequencer
  // thread, or an appender sequencing its own append), and by Open before
  // the sequencer starts; so is the last signed checkpoint below.
  merkle::MerkleFrontier frontier;
  absl::Time last_recorded = absl::InfinitePast();
  // Every field of an entry is set for every event, so one message and its
  // buffers serve every append instead of being made and freed for each.
  v1::LedgerEntry entry_scratch;
  std::string entry_bytes_scratch, case_value_scratch, id_value_scratch;
  // A group's writes, kept for the next group: its ~1 KiB per event was
  // allocated anew for every group (docs/performance.md).
  std::unique_ptr<Batch> group_batch;
  // What is durable about recently appended cases: their version, and the
  // requests sent in them, so that the sequencer does not read them back
  // from RocksDB for every event (docs/performance.md). Holds only what was
  // read from the store or written by a successful write; only the
  // sequencer writes cases and requests, so an entry stays true until the
  // sequencer itself writes again, and then it is updated. Starts over past
  // kDurableCacheLimit entries.
  absl::flat_hash_map<std::string, uint64_t> durable_case_versions;
  absl::flat_hash_set<std::string> durable_requests;
  void RememberCaseVersion(const std::string& case_id, uint64_t version) {
    if (durable_case_versions.size() >= internal::kDurableCacheLimit) {
      durable_case_versions.clear();
    }
    durable_case_versions[case_id] = version;
  }
  void RememberRequest(const std::string& request_key) {
    if (durable_requests.size() >= internal::kDurableCacheLimit) {
      durable_requests.clear();
    }
    durable_requests.insert(request_key);
  }

  mutable absl::Mutex mu;
  std::deque<PendingAppend*> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  // True while one thread owns the sequencing state: the sequencer thread,
  // or an appender that found the ledger idle and sequences its own append
  // in its own thread, which saves the two thread switches of a hand-off
  // (docs/performance.md).
  bool sequencing ABSL_GUARDED_BY(mu) = false;
  // Such an appender found an automatic checkpoint due; the sequencer
  // thread signs it before it sequences anything else.
  bool checkpoint_requested ABSL_GUARDED_BY(mu) = false;
  // Set when a write failed: nothing more is appended until reopened,
  // because RocksDB's state after a failed sync is unknown.
  absl::Status poisoned ABSL_GUARDED_BY(mu);
  std::thread sequencer;
  // The last outcome of each task the sequencer runs by itself, and how it
  // tells LedgerOptions::on_background_problem of a change. A task stopped
  // because the ledger refuses appends is no failure of its own: that
  // refusal is told by SyncCheckpoint, or to the append that met it.
  absl::Status automatic_checkpoint_problem, kept_checkpoint_problem;
  void TellBackground(absl::Status& last, std::string_view task,
                      absl::Status now);
  // The second core's share of work one caller would otherwise do alone:
  // preparing a large append, parsing a long case read. Started by the
  // first such call.
  internal::ParallelLoop& SecondThread() const;
  mutable std::once_flag second_thread_started;
  mutable std::unique_ptr<internal::ParallelLoop> second_thread;
  // Callers of SignCheckpoint waiting for the sequencer.
  std::vector<internal::Outcome<absl::StatusOr<std::string>>*>
      checkpoint_waiters ABSL_GUARDED_BY(mu);

  // The last signed checkpoint. After open, written only by the sequencer
  // thread while it holds `sequencing`; read by it, or by an appender
  // holding `sequencing` (CheckpointDue).
  uint64_t checkpoint_size = 0;
  merkle::Hash checkpoint_root{};
  bool has_checkpoint = false;
  absl::Time checkpoint_time = absl::InfinitePast();

  // Signs and stores a checkpoint of the current tree (sequencer thread).
  // Without `sync` the note is durable once the log is next synced.
  absl::StatusOr<std::string> SignAndStoreCheckpoint(bool sync);
  // An automatic checkpoint was stored without a sync of its own: the next
  // synced append makes it durable (RocksDB syncs its log in order), or the
  // sequencer syncs the log once appends pause. Written by the thread that
  // holds `sequencing`; atomic so that the idle sequencer may look.
  std::atomic<bool> checkpoint_unsynced{false};
  // Syncs the log for such a checkpoint, or before the tree is signed into
  // the kept file; a failure poisons the ledger, as a failed append does.
  void SyncCheckpoint();
  // Poisons the ledger after a write or sync of its own failed, one no
  // append meets, and tells LedgerOptions::on_background_problem ("appends")
  // once. Returns the refusal appends now get (an earlier one if poisoned).
  absl::Status RefuseAppends(absl::StatusCode code, const std::string& message);
  // Writes `batch`, a write beside the appends' (a stored message, a
  // projection written or dropped); a failure poisons the ledger as a failed
  // append's does, and is told as RefuseAppends tells.
  absl::Status WriteBesideAppends(internal::Batch& batch);
  // Whether an automatic checkpoint is due.
  bool CheckpointDue(absl::Time now) const;
  // Loads the last checkpoint and checks the tail written after it.
  absl::Status CheckTail();
  // Checks the store against the checkpoint kept beside it (`kept`, read
  // before the store was opened), and takes it as the last signed one
  // when the store's own is older: kDataLoss when the store holds fewer
  // entries than it signs, or another tree (internal/kept_checkpoint.h).
  absl::Status CheckKeptCheckpoint(const std::optional<std::string>& kept);
  // The size of the checkpoint in the kept file, and when it was written.
  // Sequencer thread only after open.
  uint64_t kept_size = 0;
  absl::Time kept_at = absl::InfinitePast();
  // Writes the last signed checkpoint to the kept file if the file is
  // behind it and `now`, or kKeptCheckpointEvery has passed since the last
  // write. The sequencer writes it once appends pause, at the latest
  // kKeptCheckpointEvery later, and at close (a ledger written before the
  // file existed gets one within that time of its first writable open).
  absl::Status KeepLatestCheckpoint(bool now);
  // The note signing the tree as it stands, `n` entries with root `root`,
  // once the stored nodes give that root and it extends the last stored
  // checkpoint: a ledger never signs two checkpoints inconsistent with each
  // other.
  absl::StatusOr<std::string> SignTree(uint64_t n, const merkle::Hash& root);
  // LedgerOptions::keep_signed_within, at least 10 ms (zero: never):
  // shorter, an idle writer would spin on its wakes.
  absl::Duration KeepSignedWithin() const;
  // Whether the tree as it stands is due to be signed in the kept file: it
  // holds entries neither the last checkpoint nor the kept file signs, and
  // KeepSignedWithin() has passed since the last time it was, by a clock
  // that is not set back (the clock of `recorded_at` may be).
  bool TreeKeepDue() const;
  std::optional<std::chrono::steady_clock::time_point> tree_kept_at;
  // Signs the tree as it stands and writes the note to the kept file alone,
  // its entries made durable first.
  absl::Status KeepTheTreeSigned();
  // Replaces the kept file with `note`, which signs `size` entries.
  absl::Status Keep(const std::string& note, uint64_t size);
  // Ledger::Verify, checking checkpoint signatures with `verifier` when
  // given (tamper_evidence.cc).
  absl::StatusOr<VerifyReport> Verify(
      const VerifierKey* verifier,
      const std::function<void(uint64_t, uint64_t)>& progress) const;
  // Verify's walk, its damage not yet blamed on a table.
  absl::StatusOr<VerifyReport> VerifyWalk(
      const VerifierKey* verifier,
      const std::function<void(uint64_t, uint64_t)>& progress) const;
  // What a scan of the store found wrong (`found`, kDataLoss), blamed on a
  // damaged table when a check of every table's checksums fails. RocksDB
  // (7.8) goes on past a block it cannot read with its status OK, so a
  // damaged block read as entries or event bytes missing, at a position
  // and "next stored entry" that were not so (found by an outside test).
  absl::Status BlameDamagedTable(absl::Status found) const;

  absl::Status Load();
  // False for a format-1 ledger (positions only in the case index) until
  // UpgradeCaseIndex has run.
  bool case_index_holds_copies = true;
  // Writes each case-index value in format 2 from the log, then records
  // format 2 in the last, synced batch. Until then the ledger stays format
  // 1, whose reads use only a value's first 8 bytes, so an upgrade stopped
  // part way leaves a ledger that reads and verifies as before, and the
  // next writable open starts it over.
  absl::Status UpgradeCaseIndex();
  // True while the event-id index may hold UUIDs in upper case (written by
  // a build before 2026-12-01): StoredId then also looks an id up in upper
  // case, so that an event stored then is still found when given again.
  bool ids_may_be_upper_case = true;
  // Looks through the event-id index once and records in the store whether
  // any UUID in it is in upper case (kMetaEventIdSpelling).
  absl::Status LearnEventIdSpelling();
  // Validates `given` (giving a copy of it an id if it has none) and makes
  // `out` refer to it, with its stored bytes and digests: the part of an
  // append that needs no ledger state, done in the appender's thread.
  absl::Status Prepare(const v1::Event& given, const ExpectedVersion& expected,
                       const std::string& first_case,
                       internal::PreparedEvent& out) const;
  void RunSequencer();
  void SequenceGroup(std::vector<PendingAppend*>& group);
  absl::Status Sequence(PendingAppend& p, Overlay& group, Batch& batch,
                        merkle::MerkleFrontier& frontier, absl::Time recorded);

  // The writer decides on an index's word (the case's last version, whether
  // an id or a request is stored), so each answer is checked against the
  // event the index names: a key planted in an index would otherwise make
  // an append misnumber a case, skip an event as a repeat, or take a
  // request as sent. kDataLoss when they disagree.
  absl::StatusOr<uint64_t> StoredCaseVersion(std::string_view case_id) const;
  // `id` is in its stored spelling (CanonicalEventId). The record's content
  // digest is that of the stored event under that spelling, to compare with
  // the digest of an event given again.
  absl::StatusOr<std::optional<IdRecord>> StoredId(std::string_view id) const;
  // Where request `request_id` of case `case_id` was sent, or nullopt.
  absl::StatusOr<std::optional<RecordedEvent>> StoredSend(
      std::string_view case_id, std::string_view request_id) const;
  // The event at the position `value` begins with (an index's value), its
  // bytes checked against its entry's digest; kDataLoss saying that the
  // index said `says` but the log disagrees.
  absl::StatusOr<RecordedEvent> ReadIndexed(std::string_view value,
                                            const std::string& says) const;
  // Decode into `out`, reusing its buffers and `entry`'s (a replay decodes
  // millions of events; allocating each anew was a third of its cost):
  // CopyStored then ParseStored. A case read copies all its events out of
  // RocksDB first, then parses them all, on two threads when there are
  // many, which is faster than alternating (docs/performance.md).
  static absl::Status DecodeInto(std::string_view entry_bytes,
                                 std::string_view event_value,
                                 v1::LedgerEntry& entry, RecordedEvent& out);
  // Only copies the stored bytes into `out`'s entry_bytes, salt and
  // event_bytes (a value shorter than a salt all into salt).
  static void CopyStored(std::string_view entry_bytes,
                         std::string_view event_value, RecordedEvent& out);
  // Parses the bytes CopyStored left in `out` into its other fields.
  static absl::Status ParseStored(v1::LedgerEntry& entry, RecordedEvent& out);
  // ParseStored, and kDataLoss if the entry names another position.
  static absl::Status ParseStoredAt(uint64_t position, v1::LedgerEntry& entry,
                                    RecordedEvent& out);
  absl::StatusOr<RecordedEvent> ReadAt(uint64_t position) const;
  // The event at `position` from what a read found there, decoded into
  // `out` as DecodeInto does; kDataLoss naming the part that is missing, or
  // an entry that names another position.
  static absl::Status DecodeFound(uint64_t position,
                                  std::optional<std::string_view> entry_bytes,
                                  std::optional<std::string_view> event_value,
                                  v1::LedgerEntry& entry, RecordedEvent& out);
  merkle::NodeSource Nodes() const;
};

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_INTERNAL_LEDGER_IMPL_H_
