#include "ledger/internal/fault_injection.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace caseledger::internal {
namespace {

bool Matches(FaultInjection::Files files, std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  switch (files) {
    case FaultInjection::Files::kAny:
      return true;
    case FaultInjection::Files::kWal:
      return base.ends_with(".log");
    case FaultInjection::Files::kTable:
      return base.ends_with(".sst");
    case FaultInjection::Files::kManifest:
      return base.starts_with("MANIFEST-");
    case FaultInjection::Files::kInfoLog:
      return base == "LOG";
  }
  return false;
}

const char* OpName(FaultInjection::Op op) {
  switch (op) {
    case FaultInjection::Op::kCreate:
      return "create";
    case FaultInjection::Op::kWrite:
      return "write";
    case FaultInjection::Op::kSync:
      return "sync";
    case FaultInjection::Op::kRead:
      return "read";
  }
  return "?";
}

}  // namespace

struct FaultInjection::Rep {
  struct RuleState {
    Rule rule;
    uint64_t seen = 0;   // matching operations so far
    int64_t failed = 0;  // of which failed
  };
  // What the wrapper knows of a file it opened for writing.
  struct FileState {
    uint64_t size = 0;    // bytes written
    uint64_t synced = 0;  // bytes durable after the last successful sync
  };

  absl::Mutex mu;
  std::vector<RuleState> rules ABSL_GUARDED_BY(mu);
  std::map<std::string, FileState> files ABSL_GUARDED_BY(mu);
  std::vector<std::pair<Files, std::function<void()>>> before_read
      ABSL_GUARDED_BY(mu);
  std::atomic<uint64_t> injected{0};
  std::atomic<uint64_t> wal_syncs{0};
  // Set by Crash(): operations succeed without reaching the disk.
  std::atomic<bool> crashed{false};
  std::unique_ptr<rocksdb::Env> env;

  // The injected failure for `op` on `path`, or OK to let it through.
  rocksdb::IOStatus Check(Op op, const std::string& path) {
    absl::MutexLock lock(&mu);
    for (RuleState& r : rules) {
      if (r.rule.op != op || !Matches(r.rule.files, path)) continue;
      if (r.seen++ < r.rule.skip) return rocksdb::IOStatus::OK();
      if (r.rule.count >= 0 && r.failed >= r.rule.count) continue;
      ++r.failed;
      injected.fetch_add(1);
      std::string what =
          absl::StrCat("injected fault: ", OpName(op), " of ", path);
      return r.rule.error == Error::kNoSpace ? rocksdb::IOStatus::NoSpace(what)
                                             : rocksdb::IOStatus::IOError(what);
    }
    return rocksdb::IOStatus::OK();
  }

  // Runs, outside the lock, the first action waiting for a read of `path`.
  void BeforeRead(const std::string& path) {
    std::function<void()> action;
    {
      absl::MutexLock lock(&mu);
      auto it =
          std::find_if(before_read.begin(), before_read.end(),
                       [&](const auto& f) { return Matches(f.first, path); });
      if (it == before_read.end()) return;
      action = std::move(it->second);
      before_read.erase(it);
    }
    action();
  }

  void Track(const std::string& path, uint64_t existing) {
    absl::MutexLock lock(&mu);
    files[path] = {existing, existing};
  }
  void Wrote(const std::string& path, uint64_t end) {
    absl::MutexLock lock(&mu);
    FileState& f = files[path];
    f.size = std::max(f.size, end);
  }
  void Truncated(const std::string& path, uint64_t size) {
    absl::MutexLock lock(&mu);
    FileState& f = files[path];
    f.size = size;
    f.synced = std::min(f.synced, size);
  }
  void Synced(const std::string& path) {
    {
      absl::MutexLock lock(&mu);
      FileState& f = files[path];
      f.synced = f.size;
    }
    if (Matches(Files::kWal, path)) wal_syncs.fetch_add(1);
  }
  uint64_t Size(const std::string& path) {
    absl::MutexLock lock(&mu);
    return files[path].size;
  }
};

namespace {

using rocksdb::DataVerificationInfo;
using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

class FaultFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<FSWritableFile> target, std::string path,
            FaultInjection::Rep* rep)
      : FSWritableFileOwnerWrapper(std::move(target)),
        path_(std::move(path)),
        rep_(rep) {}

  IOStatus Append(const Slice& data, const IOOptions& options,
                  IODebugContext* dbg) override {
    const uint64_t end = rep_->Size(path_) + data.size();
    return Injected(
        FaultInjection::Op::kWrite,
        [&] { return target()->Append(data, options, dbg); },
        [&] { rep_->Wrote(path_, end); });
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    const uint64_t end = rep_->Size(path_) + data.size();
    return Injected(
        FaultInjection::Op::kWrite,
        [&] { return target()->Append(data, options, info, dbg); },
        [&] { rep_->Wrote(path_, end); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            IODebugContext* dbg) override {
    return Injected(
        FaultInjection::Op::kWrite,
        [&] { return target()->PositionedAppend(data, offset, options, dbg); },
        [&] { rep_->Wrote(path_, offset + data.size()); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            const DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return Injected(
        FaultInjection::Op::kWrite,
        [&] {
          return target()->PositionedAppend(data, offset, options, info, dbg);
        },
        [&] { rep_->Wrote(path_, offset + data.size()); });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    if (rep_->crashed) return IOStatus::OK();
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) rep_->Truncated(path_, size);
    return s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return Injected(
        FaultInjection::Op::kSync, [&] { return target()->Sync(options, dbg); },
        [&] { rep_->Synced(path_); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Injected(
        FaultInjection::Op::kSync,
        [&] { return target()->Fsync(options, dbg); },
        [&] { rep_->Synced(path_); });
  }

 private:
  // An injected failure of `op` fails the call before it reaches the file;
  // after the simulated crash, calls pretend to succeed and change nothing.
  // Otherwise `io` runs on the real file and, when it succeeds, `record`
  // notes what the file now holds.
  template <typename Io, typename Record>
  IOStatus Injected(FaultInjection::Op op, const Io& io, const Record& record) {
    IOStatus s = rep_->Check(op, path_);
    if (!s.ok()) return s;
    if (rep_->crashed) return IOStatus::OK();
    s = io();
    if (s.ok()) record();
    return s;
  }

  const std::string path_;
  FaultInjection::Rep* const rep_;
};

// Reads of a table file. RocksDB reads a table's footer, index and filters
// when it opens the table, so a rule added once the store is open fails the
// data block reads of look-ups and scans that miss the block cache.
class FaultReadFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultReadFile(std::unique_ptr<rocksdb::FSRandomAccessFile> target,
                std::string path, FaultInjection::Rep* rep)
      : FSRandomAccessFileOwnerWrapper(std::move(target)),
        path_(std::move(path)),
        rep_(rep) {}

  IOStatus Read(uint64_t offset, size_t n, const IOOptions& options,
                Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    IOStatus s = rep_->Check(FaultInjection::Op::kRead, path_);
    if (!s.ok()) return s;
    return target()->Read(offset, n, options, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs,
                     const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = rep_->Check(FaultInjection::Op::kRead, path_);
    if (!s.ok()) return s;
    return target()->MultiRead(reqs, num_reqs, options, dbg);
  }

 private:
  const std::string path_;
  FaultInjection::Rep* const rep_;
};

class FaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target,
                  FaultInjection::Rep* rep)
      : FileSystemWrapper(target), rep_(rep) {}

  const char* Name() const override { return "CaseledgerFaultInjection"; }

  IOStatus NewWritableFile(const std::string& path, const FileOptions& options,
                           std::unique_ptr<FSWritableFile>* result,
                           IODebugContext* dbg) override {
    return Opened(
        path, /*keeps_contents=*/false,
        [&](auto* file) {
          return target()->NewWritableFile(path, options, file, dbg);
        },
        result);
  }
  IOStatus ReopenWritableFile(const std::string& path,
                              const FileOptions& options,
                              std::unique_ptr<FSWritableFile>* result,
                              IODebugContext* dbg) override {
    return Opened(
        path, /*keeps_contents=*/true,
        [&](auto* file) {
          return target()->ReopenWritableFile(path, options, file, dbg);
        },
        result);
  }
  IOStatus ReuseWritableFile(const std::string& path,
                             const std::string& old_path,
                             const FileOptions& options,
                             std::unique_ptr<FSWritableFile>* result,
                             IODebugContext* dbg) override {
    return Opened(
        path, /*keeps_contents=*/false,
        [&](auto* file) {
          return target()->ReuseWritableFile(path, old_path, options, file,
                                             dbg);
        },
        result);
  }
  IOStatus NewRandomAccessFile(
      const std::string& path, const FileOptions& options,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      IODebugContext* dbg) override {
    rep_->BeforeRead(path);
    std::unique_ptr<rocksdb::FSRandomAccessFile> file;
    IOStatus s = target()->NewRandomAccessFile(path, options, &file, dbg);
    if (!s.ok()) return s;
    *result = std::make_unique<FaultReadFile>(std::move(file), path, rep_);
    return s;
  }
  IOStatus NewSequentialFile(const std::string& path,
                             const FileOptions& options,
                             std::unique_ptr<rocksdb::FSSequentialFile>* result,
                             IODebugContext* dbg) override {
    rep_->BeforeRead(path);
    return target()->NewSequentialFile(path, options, result, dbg);
  }
  IOStatus RenameFile(const std::string& from, const std::string& to,
                      const IOOptions& options, IODebugContext* dbg) override {
    if (rep_->crashed) return IOStatus::OK();
    IOStatus s = target()->RenameFile(from, to, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&rep_->mu);
      auto it = rep_->files.find(from);
      if (it != rep_->files.end()) {
        rep_->files[to] = it->second;
        rep_->files.erase(from);
      } else {
        rep_->files.erase(to);  // replaced by a file we did not write
      }
    }
    return s;
  }
  IOStatus DeleteFile(const std::string& path, const IOOptions& options,
                      IODebugContext* dbg) override {
    if (rep_->crashed) return IOStatus::OK();
    IOStatus s = target()->DeleteFile(path, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&rep_->mu);
      rep_->files.erase(path);
    }
    return s;
  }

 private:
  // An injected failure of creating `path` fails the call before it
  // reaches the file system. Otherwise `open` opens the real file, which is
  // handed back wrapped, its size tracked from what it holds already when
  // it `keeps_contents`, else from empty.
  template <typename Open>
  IOStatus Opened(const std::string& path, bool keeps_contents,
                  const Open& open, std::unique_ptr<FSWritableFile>* result) {
    IOStatus s = rep_->Check(FaultInjection::Op::kCreate, path);
    if (!s.ok()) return s;
    std::unique_ptr<FSWritableFile> file;
    s = open(&file);
    if (!s.ok()) return s;
    uint64_t existing = 0;
    if (keeps_contents) {
      std::error_code ec;
      existing = std::filesystem::file_size(path, ec);
      if (ec) existing = 0;
    }
    rep_->Track(path, existing);
    *result = std::make_unique<FaultFile>(std::move(file), path, rep_);
    return s;
  }

  FaultInjection::Rep* const rep_;
};

}  // namespace

FaultInjection::FaultInjection() : rep_(std::make_shared<Rep>()) {
  rep_->env = rocksdb::NewCompositeEnv(std::make_shared<FaultFileSystem>(
      rocksdb::FileSystem::Default(), rep_.get()));
}

FaultInjection::~FaultInjection() = default;

void FaultInjection::Add(const Rule& rule) {
  absl::MutexLock lock(&rep_->mu);
  rep_->rules.push_back({rule});
}

void FaultInjection::BeforeNextRead(Files files, std::function<void()> action) {
  absl::MutexLock lock(&rep_->mu);
  rep_->before_read.emplace_back(files, std::move(action));
}

void FaultInjection::Clear() {
  absl::MutexLock lock(&rep_->mu);
  rep_->rules.clear();
}

uint64_t FaultInjection::injected() const { return rep_->injected.load(); }

uint64_t FaultInjection::wal_syncs() const { return rep_->wal_syncs.load(); }

void FaultInjection::Crash() { rep_->crashed = true; }

absl::Status FaultInjection::DropUnsyncedData() {
  absl::MutexLock lock(&rep_->mu);
  for (auto& [path, state] : rep_->files) {
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) continue;  // deleted behind our back: nothing to cut
    if (size > state.synced) {
      std::filesystem::resize_file(path, state.synced, ec);
      if (ec) {
        return absl::InternalError(absl::StrCat("cannot cut ", path, " to ",
                                                state.synced,
                                                " bytes: ", ec.message()));
      }
    }
    state.size = state.synced;
  }
  rep_->crashed = false;
  return absl::OkStatus();
}

rocksdb::Env* FaultInjection::env() { return rep_->env.get(); }

}  // namespace caseledger::internal
