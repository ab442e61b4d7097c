// Storage fault injection for tests: a RocksDB FileSystem wrapper that fails
// file creation, writes, syncs and table reads on demand (ENOSPC, EIO),
// counts what it saw, and simulates a power loss: after Crash() nothing
// reaches the disk, and DropUnsyncedData() cuts every file it wrote back to
// the length it had at its last sync (as LevelDB's fault_injection_test
// does) and undoes every name that no sync of its folder made durable.
//
// Tests hand one to the ledger through LedgerOptions::faults; the store opens
// RocksDB on env(). Nothing but tests uses it. docs/reliability.md says what
// the ledger guarantees under these faults.
//
// Thread safety: every method is thread-safe; RocksDB calls the wrapper from
// its own threads.
#ifndef CASELEDGER_LEDGER_INTERNAL_FAULT_INJECTION_H_
#define CASELEDGER_LEDGER_INTERNAL_FAULT_INJECTION_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace caseledger::internal {

class FaultInjection {
 public:
  // The file operations a rule can fail.
  enum class Op {
    kCreate,  // opening a file for writing (new, reopened or reused)
    kWrite,   // appending to a file (RocksDB flushes its buffers here)
    kSync,    // Sync / Fsync of a file: the durability point
    kRead,    // reading blocks of a file opened for random access (tables)
  };
  // What a failed operation returns: RocksDB IOError with subcode NoSpace
  // (as for ENOSPC), or a plain IOError (as for EIO).
  enum class Error { kNoSpace, kIoError };
  // Which files a rule applies to, by RocksDB's file names.
  enum class Files {
    kAny,
    kWal,       // *.log: the write-ahead log
    kTable,     // *.sst
    kManifest,  // MANIFEST-*
    kInfoLog,   // LOG: RocksDB's info log
  };

  // Once `skip` matching operations have passed, the next `count` fail
  // (every later one when `count` < 0).
  struct Rule {
    Op op = Op::kSync;
    Error error = Error::kIoError;
    Files files = Files::kAny;
    uint64_t skip = 0;
    int64_t count = 1;
  };

  FaultInjection();
  ~FaultInjection();
  FaultInjection(const FaultInjection&) = delete;
  FaultInjection& operator=(const FaultInjection&) = delete;

  // Adds a rule; rules are checked in the order added, the first that
  // matches decides.
  void Add(const Rule& rule);
  // Removes every rule: operations succeed again.
  void Clear();

  // Runs `action` once, on the opening thread, just before the next file
  // matching `files` is opened for reading (a table, a log, the MANIFEST):
  // lets a test change the store at a chosen point of an open.
  void BeforeNextRead(Files files, std::function<void()> action);

  // Operations failed so far by a rule.
  uint64_t injected() const;
  // Successful syncs of WAL files so far.
  uint64_t wal_syncs() const;

  // Simulates the machine stopping now: from here on writes, syncs,
  // renames and deletes succeed without effect, so that closing the store
  // afterwards (which may write and sync) changes nothing on disk.
  void Crash();
  // Completes a simulated power loss, with no store open on env(). First
  // the names: every change made through env() to a folder's names since
  // that folder was last synced (through a directory env() opened) is
  // undone, the latest first: a file or folder made is removed, a rename
  // reversed (bringing back the file it replaced), a deleted file brought
  // back. Then every file written through env() since this object was made
  // is cut back to the length it had at its last successful sync (to
  // nothing when it was never synced). Operations then reach the disk
  // again. Folders are known by inode, so a folder renamed is still the
  // one its names were made in; names changed by other means than env()
  // are not seen.
  absl::Status DropUnsyncedData();

  // The Env to open RocksDB with; owned by this object, which must outlive
  // every store opened on it.
  rocksdb::Env* env();

  // The wrapper's state; defined in fault_injection.cc.
  struct Rep;

 private:
  std::shared_ptr<Rep> rep_;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_FAULT_INJECTION_H_
