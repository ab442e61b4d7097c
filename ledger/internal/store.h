// The one wrapper around RocksDB: column families, batches, reads, and the
// conversion of RocksDB statuses to absl::Status. The ledger's other code
// reaches RocksDB only through it; info_log.* and fault_injection.cc also
// include RocksDB headers, to implement its Logger and FileSystem
// interfaces. Layout and key encodings: docs/storage.md.
//
// Thread safety: Store is thread-safe (as rocksdb::DB is); a Batch is not.
#ifndef CASELEDGER_LEDGER_INTERNAL_STORE_H_
#define CASELEDGER_LEDGER_INTERNAL_STORE_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace caseledger::internal {

// Column families, in the order they are created. Never reorder: the names
// are stored; the enum only indexes them.
enum class Family {
  kMeta = 0,     // "default": format version, origin, event id spelling
  kEntries,      // position → LedgerEntry bytes
  kEvents,       // position → salt(16) || Event bytes
  kCaseIndex,    // case_id 0x00 version → position (format 2: || copies of
                 // the entry and the event, ledger_impl.h)
  kEventIds,     // event_id → position || SHA-256(event bytes)
  kRequests,     // case_id 0x00 request_id → position of the send
  kMerkle,       // level(1) index → node hash (complete subtrees)
  kCheckpoints,  // tree size → signed note
  kBlobs,        // SHA-256 (32 bytes) → message bytes
  kProjections,  // projection name 0x00 key → state
  kCount,
};

// Big-endian fixed-width encoding, so that keys sort numerically.
std::string EncodeU64(uint64_t v);
void EncodeU64(uint64_t v, char (&out)[8]);
void AppendU64(uint64_t v, std::string& out);
// Decodes the first 8 bytes; kDataLoss when shorter.
absl::StatusOr<uint64_t> DecodeU64(std::string_view bytes);
// The same in 4 bytes, for lengths inside values.
void EncodeU32(uint32_t v, char (&out)[4]);
absl::StatusOr<uint32_t> DecodeU32(std::string_view bytes);

class Store;

// Writes collected for one atomic Store::Write.
class Batch {
 public:
  explicit Batch(const Store& store);
  ~Batch();
  void Put(Family family, std::string_view key, std::string_view value);
  void Delete(Family family, std::string_view key);
  // Deletes every key in [begin, end) of `family` with one range tombstone,
  // however many keys there are. A family whose batch holds one keeps its
  // writes in the order given, so a later put in the range survives. Only
  // Family::kProjections takes one: the other families' scans leave range
  // deletions out, and Store::Write refuses the batch.
  void DeleteRange(Family family, std::string_view begin, std::string_view end);
  // Marks a point to roll back to, so a failed step leaves earlier steps.
  void SetSavePoint();
  void RollbackToSavePoint();
  size_t Count() const;
  // Empties the batch, keeping its buffers for the next writes unless they
  // grew past 1 MiB.
  void Clear();

 private:
  friend class Store;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

class FaultInjection;  // fault_injection.h

// The process that holds the store folder `store` open for writing, as
// "process N: ARGV", or empty when none does (or it cannot be told). RocksDB
// locks store/LOCK with fcntl, whose F_GETLK names the holder. A restore
// still checking the store it put there holds it too, and is named as such.
std::string WriterOf(const std::string& store);

struct StoreOptions {
  bool create_if_missing = false;
  bool read_only = false;
  // Tests only: RocksDB runs on this wrapper's Env. Default: none.
  std::shared_ptr<FaultInjection> faults;
};

// How much of a table a cursor reads from its file at a time. Larger reads
// cost more than they save: every table a scan has open holds a buffer of
// this size, filled into fresh pages, and a case read (~100 KiB of adjacent
// keys) read 2 MiB. 64 KiB against 2 MiB on the same 1M-event ledger: a
// replay 1.45 -> 0.97 s, verify 2.7 -> 2.2 s and its peak memory 212 -> 57
// MiB; with the page cache dropped, verify was no slower (the kernel reads
// ahead on its own). docs/performance.md.
inline constexpr size_t kCursorReadahead = 64 << 10;

// A forward cursor over one family, reading a consistent snapshot.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // The error that ended the scan, if any.
  virtual absl::Status status() const = 0;
};

class Store {
 public:
  // Opens the RocksDB database in `path`. kNotFound when it does not exist
  // and !create_if_missing; kFailedPrecondition ("locked") when another
  // process holds it for writing.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     StoreOptions options);
  ~Store();

  // Writes the batch atomically; with `sync`, fsyncs the WAL first (all of
  // it: earlier unsynced writes become durable too).
  absl::Status Write(Batch& batch, bool sync);
  // Fsyncs the WAL: every write so far is durable. After a write or sync of
  // the log that failed on an I/O error, not tried: that failure.
  absl::Status SyncLog();
  // That failure, once a write or sync of the log failed on an I/O error
  // (every write, sync, flush and backup after it is refused); OK before.
  absl::Status LogFailure() const;
  // Replaces the file `path` (outside the store, beside it) with `bytes`
  // through the store's file system, so that a test's simulated power loss
  // covers it: written to `temp`, synced, renamed, its folder synced. After
  // a power loss the file holds its old bytes or the new ones, whole.
  absl::Status ReplaceFile(const std::string& path, const std::string& temp,
                           std::string_view bytes);
  // The value at `key`; nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(Family family,
                                                 std::string_view key) const;
  // Whether a value is at `key`, read where it lies rather than copied out
  // (a stored message may be hundreds of megabytes).
  absl::StatusOr<bool> Holds(Family family, std::string_view key) const;
  // Looks every key up in each of `families` in one batched read, then
  // calls `visit(i, found)` for each key in order: found[f] is key i's
  // value in the f-th family, nullopt when absent, and lasts only for the
  // call (the values are not copied). Keys given in ascending order share
  // the search of their blocks. Stops at the first error.
  absl::Status MultiGet(
      std::initializer_list<Family> families,
      const std::vector<std::string>& keys,
      const std::function<absl::Status(
          size_t i, const std::vector<std::optional<std::string_view>>& found)>&
          visit) const;
  // The last key/value whose key is at most `key` (the family's last when
  // `key` is nullopt); nullopt when none.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> LastAtMost(
      Family family, std::optional<std::string_view> key) const;
  // The last key/value whose key starts with `prefix` (the whole family when
  // `prefix` is empty); nullopt when none.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
  LastWithPrefix(Family family, std::string_view prefix) const;
  // Visits keys >= `from` in order while they start with `prefix` and
  // `visit` returns true. Stops at the first error; a block of the range it
  // cannot read is one (kDataLoss naming the table), never an early end.
  absl::Status Scan(
      Family family, std::string_view from, std::string_view prefix,
      const std::function<absl::StatusOr<bool>(
          std::string_view key, std::string_view value)>& visit) const;
  // A cursor over `family`; cursors made by one call to NewCursors share a
  // snapshot, so they see the same writes. A cursor over the projections
  // only fails (kInternal): Scan reads them.
  std::vector<std::unique_ptr<Cursor>> NewCursors(
      std::initializer_list<Family> families) const;
  // Writes the memtables to table files when together they hold more than
  // `threshold` bytes, so that the next open, a reader's included, replays
  // at most that much of the log. Called by the writer as it closes.
  absl::Status FlushIfOver(uint64_t threshold);
  // Tests only: compacts every family into its last level, the layout a
  // long-lived store reaches by itself, whose files a scan reads through
  // one level iterator (a damaged block there is gone past without an
  // error: Ledger::Impl::BlameDamagedTable).
  absl::Status CompactAll();
  // Writes an openable copy of the store as of one instant to `dir` (which
  // must not exist) while writes go on (a RocksDB checkpoint: table files
  // are hard-linked when `dir` is on the same file system, the rest is
  // copied). Needs the writer: a read-only store cannot do it.
  absl::Status Backup(const std::string& dir);
  // Reads every block of every table file and checks its checksum, the
  // family that Ledger::Verify's walk does not read (projections)
  // included. kDataLoss naming the file on a mismatch.
  absl::Status VerifyChecksums() const;

 private:
  friend class Batch;
  struct Rep;
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_STORE_H_
