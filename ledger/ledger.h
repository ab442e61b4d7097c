// The ledger: an append-only, durable, tamper-evident log of case events
// on RocksDB. Guarantees and byte formats: ../../shared/spec/architecture.md,
// docs/storage.md.
//
// Appends are sequenced by one thread at a time, in arrival order: the
// sequencer thread, or an appender that finds the ledger idle and
// sequences its own call (sparing a lone appender two thread hand-offs).
// Events are validated in the caller's thread (and a second one for large
// calls); the sequencing thread writes everything queued since its last
// write as one RocksDB WriteBatch, synced once (group commit), and only
// then acknowledges each caller. A call appends all of its events or none.
//
// Thread safety: a Ledger may be used from many threads at once.
// One process may open a ledger for writing (RocksDB's lock enforces it);
// others open it read-only and see what was durable when they opened it.
#ifndef CASELEDGER_LEDGER_LEDGER_H_
#define CASELEDGER_LEDGER_LEDGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/ledger.pb.h"
#include "ledger/checkpoint.h"
#include "ledger/clock.h"
#include "ledger/merkle.h"
#include "ledger/recorded_event.h"
#include "ledger/sha256.h"

namespace caseledger {

namespace internal {
class FaultInjection;  // ledger/internal/fault_injection.h
}  // namespace internal

// What the caller expects of the case before its events are appended.
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;  // only for kExact

  static ExpectedVersion Any() { return {}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion StreamExists() { return {Kind::kStreamExists, 0}; }
  static ExpectedVersion Exactly(uint64_t v) { return {Kind::kExact, v}; }
  // Parses "any", "no-stream", "exists" or a version number.
  static absl::StatusOr<ExpectedVersion> Parse(std::string_view text);
  std::string ToString() const;
};

struct LedgerOptions {
  // Where recorded_at comes from. Default: SystemClock(). Not owned.
  Clock* clock = nullptr;
  // Sync the WAL before acknowledging an append. Turning this off loses
  // acknowledged events on power failure; only for bulk loads that are
  // re-run from their source on failure. Default: true.
  bool sync = true;
  // Open without the write lock; Append fails with kFailedPrecondition.
  // Default: false.
  bool read_only = false;
  // A read-only open goes on without the signing key when signing-key.pem
  // is missing or does not parse: reads need no key, and Verify then leaves
  // checkpoint signatures unchecked. With this set it fails instead, naming
  // the file, as opens for writing always do (e.g. to print the public key).
  // Default: false.
  bool require_key = false;
  // Sign and store a checkpoint after every this many entries (0: only on
  // the timer of `checkpoint_every`, or when asked). Default: 1000.
  uint64_t checkpoint_every_entries = 1000;
  // Also sign one when this much time has passed since the last. Default: 60 s.
  absl::Duration checkpoint_every = absl::Seconds(60);
  // Entries that no checkpoint signs yet are signed within about this long
  // of their append (at most once per this interval), in a note kept
  // beside the store (the kept checkpoint, latest-checkpoint) but not in it
  // (zero: never): an open then finds them lost if a log is cut or zeroed
  // back past them, where it would read them as never appended, while the
  // store gains no note (a trickle of appends seconds apart would add one
  // per append). The next writable open stores the note if the store's own
  // checkpoints are older. Under 10 ms is taken as 10 ms. Default: 1 s.
  absl::Duration keep_signed_within = absl::Seconds(1);
  // Called while a writable open upgrades a ledger of an older storage
  // format (docs/storage.md, about 4 s per 1M events): with done = 0 first,
  // then every 100,000 events, then with done = total. Default: none.
  std::function<void(uint64_t done, uint64_t total)> upgrade_progress;
  // Told when a task the writer runs by itself fails, and when it works
  // again (`status` OK): `task` is "the automatic checkpoint" or "the kept
  // checkpoint (latest-checkpoint)". Appends go on either way, durable, and
  // the task is tried again; but signatures, or the copy of the latest one
  // beside the store, fall behind until it works. Also told, once, when a
  // write or sync of the log the writer makes by itself fails on the disk
  // (an automatic checkpoint stored, the log synced before the tree is
  // signed into the kept file or once appends pause), or a write beside the
  // appends (StoreMessage, WriteProjection, DropProjection): `task` "appends",
  // `status` carrying kAppendsRefusedPayload; nothing more is appended or
  // signed until the ledger is reopened. Called on the sequencer's thread, or
  // for a write beside the appends on its caller's, once per change. Default:
  // none.
  std::function<void(std::string_view task, const absl::Status& status)>
      on_background_problem;
  // Tests only: storage faults to inject (failed writes and syncs, lost
  // unsynced data). Default: none.
  std::shared_ptr<internal::FaultInjection> faults;
};

// The outcome of one Append call, in the caller's order.
struct AppendResult {
  struct Appended {
    std::string event_id;
    uint64_t position = 0;
    uint64_t case_version = 0;
    // True when the event was already stored with identical content and
    // nothing was written for it.
    bool duplicate = false;
  };
  std::vector<Appended> events;
  // Ledger size after the call.
  uint64_t tree_size = 0;
};

// For an Append error about one event (bad input or a conflict): its
// 0-based index in the call. Such errors' messages start with
// "event <index>: "; a store error never names an event.
std::optional<size_t> FailedEventIndex(const absl::Status& status);
// `status`, about the event at 0-based `index` of an Append, as
// FailedEventIndex reads it: its message prefixed "event <index>: ".
absl::Status AboutEvent(const absl::Status& status, size_t index);

// The status payload of an Append whose write failed: the call's event ids
// in order, one per line (the gRPC service passes payloads on).
inline constexpr char kEventIdsPayload[] = "caseledger.dev/event-ids";
// The status payload of an Append refused, unwritten, because an earlier
// write failed (see AcceptsAppends): retrying it before the ledger is
// reopened is pointless.
inline constexpr char kAppendsRefusedPayload[] =
    "caseledger.dev/appends-refused";
// The status payload of ReadMessage's kDataLoss when the bytes stored under
// a digest no longer have it, told apart from a store that could not be
// read (also kDataLoss, naming the damaged file).
inline constexpr char kAlteredMessagePayload[] =
    "caseledger.dev/altered-message";
// The events of one case its readers that need not hold it whole (the
// projections, `read --case`) ask ReadCase for at a time: a case may hold
// hundreds of thousands.
inline constexpr uint64_t kCasePageEvents = 4'096;

class Ledger {
 public:
  // Creates a new ledger in `dir` (which must not hold one) named `origin`,
  // with a fresh Ed25519 signing key (private key file mode 0600).
  static absl::StatusOr<std::unique_ptr<Ledger>> Create(
      const std::string& dir, const std::string& origin,
      LedgerOptions options = {});
  // OK when Create may make a ledger in `dir`: it does not exist, is empty,
  // or holds only what an init or restore stopped part way left; else
  // Create's refusal. For a caller that makes something beside the ledger
  // first (the demo's evidence folder).
  static absl::Status CanCreateIn(const std::string& dir);
  // Opens an existing ledger. kNotFound when `dir` holds none.
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(
      const std::string& dir, LedgerOptions options = {});

  // Stops the sequencer after the appends already queued; closes the store.
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends `events` atomically. Events without event_id get a fresh UUID,
  // and a UUID given in upper case is stored in lower case (in the ledger's
  // copy: `events` are read, not changed or kept, so the caller may reuse
  // or free them once Append returns). Idempotency comes first: an event
  // whose id is stored is a duplicate or a conflict, valid or not.
  // Errors (nothing is written for the first three):
  //   kInvalidArgument: an event fails validation; the message starts with
  //     "event <i>: " (0-based index in `events`) and names the field.
  //   kFailedPrecondition: `expected` does not hold; message holds both the
  //     expected and the actual version.
  //   kAlreadyExists: an event_id is stored with other content.
  //   any other: the store failed. When the write itself failed, its
  //     outcome is unknown (the events may be found after a reopen, all of
  //     them or none): the status carries the call's event ids, generated
  //     ones included, in the kEventIdsPayload payload, one per line, so
  //     that a retry with them appends each event once. After a failed
  //     write every later Append fails until the ledger is reopened.
  // `expected` other than Any() requires every event to be of one case.
  absl::StatusOr<AppendResult> Append(absl::Span<const v1::Event> events,
                                      ExpectedVersion expected = {});
  // The same for events as a request message holds them (the gRPC
  // service's), read where they are rather than copied into a vector.
  absl::StatusOr<AppendResult> Append(
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      ExpectedVersion expected = {});

  // Number of entries (the tree size).
  uint64_t Size() const;

  // OK while the ledger takes appends. After a failed write or sync it
  // refuses them until reopened (RocksDB's state is then unknown); this is
  // the error every append gets, for a server's health check.
  absl::Status AcceptsAppends() const;

  // Blocks until the ledger holds more than `known_size` entries, `deadline`
  // passes, or the ledger closes; returns the size then. For live
  // subscriptions: read up to the returned size, then wait again.
  uint64_t AwaitSize(uint64_t known_size, absl::Time deadline) const;

  // Counters since open, for tests and benchmarks: how well appends share
  // syncs.
  struct Stats {
    uint64_t writes = 0;   // WriteBatches written (synced unless sync=false)
    uint64_t appends = 0;  // Append calls acknowledged
    uint64_t events = 0;   // events written (duplicates excluded)
  };
  Stats GetStats() const;
  // The ledger's name (checkpoint origin).
  const std::string& origin() const;

  // Events of a case with case_version >= from_version, at most `limit`
  // (0: no limit), in version order. Empty when the case does not exist.
  // kDataLoss when the case index skips a version or files an event of
  // another case or version (the index is not covered by the Merkle tree;
  // a row removed after the case's last event is found only by Verify).
  absl::StatusOr<std::vector<RecordedEvent>> ReadCase(std::string_view case_id,
                                                      uint64_t from_version = 1,
                                                      uint64_t limit = 0) const;
  // Events with position >= from_position, at most `limit` (0: no limit).
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(uint64_t from_position,
                                                     uint64_t limit) const;
  // Calls `visit` for each event from `from_position` on, in order, without
  // holding them all in memory; stops at the first error `visit` returns.
  absl::Status ForEach(
      uint64_t from_position,
      const std::function<absl::Status(const RecordedEvent&)>& visit) const;
  // ForEach for the events whose payload is one of `payloads` (all of them
  // when it is empty); the others are passed over unparsed, their positions
  // checked from their keys. Parsing is most of a walk's cost, and a
  // projection that folds a few kinds of event (the deadline index: two of
  // 24) need not pay it for all.
  absl::Status ForEachOf(
      absl::Span<const v1::Event::PayloadCase> payloads, uint64_t from_position,
      const std::function<absl::Status(const RecordedEvent&)>& visit) const;
  // Calls `visit` with each stored entry from `from_position` on, in order,
  // reading the entries alone: a walk that needs only whose each position
  // is (an entry names its case and version, and its digest binds the
  // event) costs a fraction of one that reads and parses the events.
  absl::Status ForEachEntry(
      uint64_t from_position,
      const std::function<absl::Status(const v1::LedgerEntry&)>& visit) const;
  // One event by id (a UUID in either case); kNotFound when absent.
  absl::StatusOr<RecordedEvent> ReadEvent(std::string_view event_id) const;
  // The case's current version (0 when the case does not exist).
  absl::StatusOr<uint64_t> CaseVersion(std::string_view case_id) const;
  // The case's version as the ledger stood at `size` entries: how many of
  // its events are at positions up to `size`. Found by halving over its
  // versions, whose positions rise, a one-event ReadCase each.
  absl::StatusOr<uint64_t> CaseVersionAt(std::string_view case_id,
                                         uint64_t size) const;

  // Calls `visit` with each case id in order, from the first id >= `from`;
  // stops when `visit` returns false or an error.
  absl::Status ForEachCase(
      std::string_view from,
      const std::function<absl::StatusOr<bool>(const std::string&)>& visit)
      const;

  // ---- Projection storage (projections/ keeps derived state here) ----
  // Derived state lives in its own column family, keyed by projection name,
  // and never touches the log or its proofs. Each projection stores its
  // state and the last position it applied in one batch, so after a crash it
  // resumes from a position that matches its state.

  // A change to a projection's state: a value to put, or nullopt to delete.
  using ProjectionChange = std::pair<std::string, std::optional<std::string>>;
  // Writes `changes` and `applied_position` atomically (synced).
  absl::Status WriteProjection(std::string_view name,
                               const std::vector<ProjectionChange>& changes,
                               uint64_t applied_position);
  // The last position applied by projection `name` (0 when none).
  absl::StatusOr<uint64_t> ProjectionPosition(std::string_view name) const;
  // Visits the projection's keys >= `from` that start with `prefix`, in
  // order, while `visit` returns true.
  absl::Status ScanProjection(
      std::string_view name, std::string_view from, std::string_view prefix,
      const std::function<absl::StatusOr<bool>(
          std::string_view key, std::string_view value)>& visit) const;
  // The value projection `name` holds under `key`, or nullopt when none: a
  // point read, where a scan from `key` would read ahead a whole window of
  // the table for one key.
  absl::StatusOr<std::optional<std::string>> ReadProjection(
      std::string_view name, std::string_view key) const;
  // Removes every key of projection `name` and its position.
  absl::Status DropProjection(std::string_view name);

  // ---- Tamper evidence (docs/formats.md) ----

  // The ledger's public key as C2SP verifier-key text (one line).
  absl::StatusOr<std::string> VerifierKeyText() const;
  // The Merkle root of the first `size` entries (RFC 9162 §2.1.1).
  absl::StatusOr<merkle::Hash> RootAt(uint64_t size) const;
  // Inclusion proof of the entry at `position` in the tree of `size`.
  // kInvalidArgument unless 1 <= position <= size <= Size(). Each proof is
  // checked before it is given, from the entry's bytes to RootAt(size):
  // kDataLoss when a stored node is altered or damaged, rather than a proof
  // that fails in a verifier's hands (or a bundle signed around it).
  absl::StatusOr<std::vector<merkle::Hash>> InclusionProof(uint64_t position,
                                                           uint64_t size) const;
  // Consistency proof between tree sizes; kInvalidArgument unless
  // 1 <= old_size <= new_size <= Size(). Checked as InclusionProof is,
  // between RootAt(old_size) and RootAt(new_size).
  absl::StatusOr<std::vector<merkle::Hash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;
  // Signs, stores and returns a checkpoint (signed note) of the current
  // tree, after the appends already queued. Refuses (kDataLoss) when the
  // stored tree is not consistent with the last checkpoint it signed.
  // Returns the stored note when nothing was appended since.
  absl::StatusOr<std::string> SignCheckpoint();
  // Signs `body` as a C2SP signed note with the ledger's key (e.g. an
  // evidence bundle's manifest statement); see checkpoint.h SignNote.
  absl::StatusOr<std::string> SignNote(std::string_view body) const;
  // The newest stored checkpoint; kNotFound when none was signed yet.
  absl::StatusOr<std::string> LatestCheckpoint() const;
  // The newest stored checkpoint of a tree of at most `size` entries;
  // kNotFound when none.
  absl::StatusOr<std::string> LatestCheckpointWithin(uint64_t size) const;
  // The stored checkpoint of exactly `size`; kNotFound when none.
  absl::StatusOr<std::string> CheckpointAt(uint64_t size) const;
  // Sizes of every stored checkpoint, ascending.
  absl::StatusOr<std::vector<uint64_t>> CheckpointSizes() const;

  struct VerifyReport {
    uint64_t entries = 0;
    uint64_t cases = 0;
    uint64_t checkpoints = 0;
    // The tree size of the largest stored checkpoint (0: none). Entries
    // after it are vouched for by the store alone until one is signed.
    uint64_t last_signed_size = 0;
    // The size the checkpoint kept beside the store (latest-checkpoint)
    // signs, when its signature was checked and holds and its root is the
    // entries' (0 otherwise). It outlives a stored checkpoint lost with a
    // log file of the store.
    uint64_t kept_signed_size = 0;
    uint64_t nodes = 0;
    uint64_t messages = 0;  // stored messages (StoreMessage), each rehashed
    // False when no key was at hand to check checkpoint signatures with (a
    // reader whose signing-key.pem is missing or damaged, and no verifier
    // key given): their roots were checked, their signatures were not.
    bool signatures_checked = false;
  };
  // Walks the whole ledger: recomputes every event digest from the stored
  // bytes and salt, every leaf and stored Merkle node, every checkpoint's
  // root and signature (with the ledger's own key, when loaded); checks that
  // positions and case versions are dense and that the case, request and
  // event-id indexes hold exactly what the entries say, nothing missing,
  // altered or added; that every stored message still has the SHA-256 it is
  // kept under. The first problem is kDataLoss "position P: <what
  // differed>" (or naming the checkpoint or message). Uses a second thread to
  // read the indexes. `progress` (may be null) is called now and then with
  // (done, total).
  absl::StatusOr<VerifyReport> Verify(
      const std::function<void(uint64_t, uint64_t)>& progress = nullptr) const;
  // The same, checking checkpoint signatures with `verifier`, a key obtained
  // out of band (as `key` printed it), rather than the ledger's own.
  absl::StatusOr<VerifyReport> Verify(
      const VerifierKey& verifier,
      const std::function<void(uint64_t, uint64_t)>& progress = nullptr) const;
  // kFailedPrecondition, naming the file and its mode, when the signing
  // key's file lets others than its owner read or write it (a copy made
  // with loose modes): whoever can read it can sign checkpoints as this
  // ledger. OK when it is private or there is none. Nothing is refused for
  // it, since some file systems keep no Unix modes; callers warn.
  absl::Status CheckKeyIsPrivate() const;
  // Checks the checksum of every block of every RocksDB table file, the
  // family that Verify does not read (projections) included. kDataLoss naming
  // the file on a mismatch.
  absl::Status VerifyFiles() const;

  // ---- Backup and restore (docs/reliability.md) ----

  // What a backup holds.
  struct BackupSummary {
    std::string origin;
    uint64_t tree_size = 0;        // entries
    merkle::Hash root{};           // the Merkle root of those entries
    uint64_t checkpoint_size = 0;  // the newest signed checkpoint in it
    // The entries a checkpoint signature checked covers (stored, or kept
    // beside the store); entries past it only the store vouches for.
    uint64_t signed_size = 0;
  };
  // Writes a consistent copy of the ledger to `dir` (which must not exist)
  // while appends go on: signs a checkpoint, copies the store as of one
  // instant (sharing no file with the ledger) and the signing key (mode
  // 0600), then checks the copy as VerifyBackup does. The copy is built in
  // `dir`.partial and renamed to `dir` only once verified. Needs the writer:
  // kFailedPrecondition when open read-only.
  // kInvalidArgument when Backup writes into the ledger folder, directly
  // or not. A copy that fails is removed; one that does not verify is left
  // in `dir`.partial for inspection. `dir`.partial is locked while it is
  // written: another backup or restore into it is kFailedPrecondition, and
  // one left by a run that died is started over (docs/reliability.md); a
  // `dir`.partial that holds anything else is kFailedPrecondition too, and
  // left as it is.
  absl::StatusOr<BackupSummary> Backup(const std::string& dir);
  // Whether the folder `dir` ("B/" and "B/." name B) is named as the copy a
  // Backup or Restore builds before renaming it: NAME.partial.
  static bool NamedAsUnfinishedCopy(const std::string& dir);
  // kInvalidArgument when `path` is the ledger folder `ledger_dir` or lies
  // inside it (links resolved), saying `why` it may not: by default that a
  // backup there is lost with the ledger.
  static absl::Status CheckOutsideLedger(
      const std::string& path, const std::string& ledger_dir,
      std::string_view why = "a backup there is lost with it");
  // Checks a backup, or any ledger folder, without restoring it: opens it
  // read-only and runs Verify and VerifyFiles; requires the signing key.
  // kDataLoss on any damage. With `trusted` (a key obtained out of band),
  // checkpoint signatures are checked with it rather than the key the
  // folder holds, and a backup with entries but no checkpoint it signed is
  // kDataLoss: anyone can make a folder whose own key vouches for it.
  static absl::StatusOr<BackupSummary> VerifyBackup(
      const std::string& dir, const VerifierKey* trusted = nullptr);
  // Restores the backup in `from` into `to`, which must not exist or be
  // empty: verifies the backup, copies it, and verifies that the copy has
  // the backup's size and root. A new `to` is built as `to`.partial and
  // renamed; an empty one (a mount point, say) is kept, and filled as init
  // fills a ledger folder, its store renamed from store.partial last. What
  // an init or restore into `to` left when it stopped before that rename
  // (store.partial, the key, the access log, nothing else) is replaced.
  // kInvalidArgument when `to` lies inside `from`; kAlreadyExists when it is
  // a file or a link to nowhere. A new folder's failed copy is removed; one
  // left by a run that died is started over, as Backup's is.
  // `trusted`, when given, checks the backup as VerifyBackup does.
  static absl::StatusOr<BackupSummary> Restore(
      const std::string& from, const std::string& to,
      const VerifierKey* trusted = nullptr);

  // Stores a message or notice; returns its SHA-256 in lowercase hex.
  // Storing the same bytes twice is harmless. Refuses what CheckMessage does.
  absl::StatusOr<std::string> StoreMessage(std::string_view bytes);
  // A message this ledger has checked: its SHA-256, so that storing the
  // same bytes does not search them for the key again (a second search of
  // 100 MB of base64 took a second; found on re-reading attach). Only the
  // ledger object that made it takes it.
  class CheckedMessage {
   private:
    friend class Ledger;
    CheckedMessage(uint64_t ledger, const Sha256Digest& sha256)
        : ledger_(ledger), sha256_(sha256) {}
    uint64_t ledger_;  // Impl::instance of the ledger that checked
    Sha256Digest sha256_;
  };
  // Whether StoreMessage would take `bytes`: kInvalidArgument when they hold
  // this ledger's private signing key. For checking several messages before
  // storing any.
  absl::StatusOr<CheckedMessage> CheckMessage(std::string_view bytes) const;
  // StoreMessage of bytes CheckMessage has taken; bytes other than those
  // checked (or checked by another ledger) are checked as StoreMessage does.
  absl::StatusOr<std::string> StoreMessage(std::string_view bytes,
                                           const CheckedMessage& checked);
  // The stored bytes with that SHA-256; kNotFound when absent, kDataLoss
  // with kAlteredMessagePayload when the bytes stored under it no longer
  // have it.
  absl::StatusOr<std::string> ReadMessage(std::string_view sha256_hex) const;
  absl::StatusOr<bool> HasMessage(std::string_view sha256_hex) const;

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  // ForEachOf's scan, `size` the entries the ledger held before it began.
  absl::Status ScanFrom(
      absl::Span<const v1::Event::PayloadCase> payloads, uint64_t from_position,
      uint64_t size,
      const std::function<absl::Status(const RecordedEvent&)>& visit) const;
  // Open and VerifyBackup without their refusal of an unfinished copy: for
  // Backup, which signs its copy's size in NAME.partial and checks it
  // there, and Restore, which checks the ledger it restored before taking
  // its mark away.
  static absl::StatusOr<std::unique_ptr<Ledger>> OpenCopy(
      const std::string& dir, LedgerOptions options);
  static absl::StatusOr<BackupSummary> VerifyCopy(
      const std::string& dir, const VerifierKey* trusted = nullptr);
  // kInvalidArgument when `bytes` hold this ledger's private signing key.
  absl::Status CheckForKey(std::string_view bytes) const;
  // Both Appends: `n` events, the i-th read through `event`.
  absl::StatusOr<AppendResult> AppendEvents(
      size_t n, absl::FunctionRef<const v1::Event&(size_t)> event,
      ExpectedVersion expected);
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_LEDGER_H_
