// RocksDB's info log (store/LOG), written by the ledger rather than by
// RocksDB's own logger: in Debian's build, RocksDB's logger aborts the
// process on an assertion when a write to the file fails, as on a full disk,
// where the ledger must report the error and exit. This one drops lines it
// cannot write. The log only helps to debug RocksDB, so losing lines is
// better than losing the process.
#ifndef CASELEDGER_LEDGER_INTERNAL_INFO_LOG_H_
#define CASELEDGER_LEDGER_INTERNAL_INFO_LOG_H_

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace caseledger::internal {

class InfoLog final : public rocksdb::Logger {
 public:
  // The size past which the log starts over: a server that runs for months
  // keeps at most twice this on disk (the log and `LOG.old`).
  static constexpr uint64_t kDefaultLimit = 16 << 20;

  // Appends to the file at `path` on `fs`, one file across opens. Whenever
  // it would grow past `limit` bytes, it is renamed to `path`.old (replacing
  // the one before) and started afresh. With no file (none could be opened,
  // or `path` is empty) every line is dropped.
  InfoLog(rocksdb::FileSystem* fs, std::string path,
          uint64_t limit = kDefaultLimit);

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;

 private:
  rocksdb::Status CloseImpl() override;
  // Renames the full log to `path_`.old and opens an empty one at `path_`.
  void StartOver() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Open() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes the open log, if any; nothing is written after.
  void CloseFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  rocksdb::FileSystem* const fs_;
  const std::string path_;
  const uint64_t limit_;
  absl::Mutex mu_;
  std::unique_ptr<rocksdb::FSWritableFile> file_ ABSL_GUARDED_BY(mu_);
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_INFO_LOG_H_
