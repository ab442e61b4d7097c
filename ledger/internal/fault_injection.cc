#include "ledger/internal/fault_injection.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ledger/status_macros.h"
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

  // A folder by its device and inode, not its path: a folder renamed (as a
  // RocksDB checkpoint renames its temporary one) is synced under its new
  // name, and that sync makes the names made under the old one durable.
  using FolderId = std::pair<dev_t, ino_t>;

  // A change to a folder's names that no fsync of the folder has made
  // durable yet. POSIX promises a new, renamed or removed name only once
  // its folder is synced, so a power loss undoes every such change, the
  // latest first (the most it may take).
  struct NameChange {
    enum class Kind { kMade, kRenamed, kDeleted };
    Kind kind = Kind::kMade;
    FolderId folder{};  // the folder naming `path`
    std::string path;   // the file or folder made or deleted; a rename's new
                        // name
    std::string from;   // a rename's old name
    // A link to the file that a rename replaced or a delete removed, so that
    // the power loss can bring it back; empty when there was none.
    std::string kept;
    std::optional<FileState> kept_state;  // what was known of that file
  };

  ~Rep() {
    std::error_code ec;
    if (!keep_dir.empty()) std::filesystem::remove_all(keep_dir, ec);
  }

  absl::Mutex mu;
  std::vector<RuleState> rules ABSL_GUARDED_BY(mu);
  std::map<std::string, FileState> files ABSL_GUARDED_BY(mu);
  std::vector<NameChange> unsynced_names ABSL_GUARDED_BY(mu);
  std::string keep_dir ABSL_GUARDED_BY(mu);  // made when first needed
  uint64_t kept_files ABSL_GUARDED_BY(mu) = 0;
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

  static std::optional<FolderId> IdOf(const std::filesystem::path& folder) {
    struct stat st;
    if (::stat(folder.empty() ? "." : folder.c_str(), &st) != 0) {
      return std::nullopt;
    }
    return FolderId(st.st_dev, st.st_ino);
  }

  // Before `path` is replaced or removed: a link to the file it names, for a
  // power loss to bring back. Nothing for a folder or a missing name.
  NameChange Keeping(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    namespace fs = std::filesystem;
    NameChange change;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return change;
    if (keep_dir.empty()) {
      std::string pattern =
          (fs::temp_directory_path(ec) / "caseledger-faults-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) return change;
      keep_dir = pattern;
    }
    const std::string kept =
        (fs::path(keep_dir) / absl::StrCat(kept_files++)).string();
    fs::create_hard_link(path, kept, ec);
    if (ec) fs::copy_file(path, kept, ec);  // another file system
    if (ec) return change;
    change.kept = kept;
    auto known = files.find(path);
    if (known != files.end()) change.kept_state = known->second;
    return change;
  }

  // Records a change to the names of `path`'s folder.
  void Changed(NameChange change, NameChange::Kind kind,
               const std::string& path, const std::string& from = "")
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::optional<FolderId> folder =
        IdOf(std::filesystem::path(path).parent_path());
    if (!folder.has_value()) return;  // its folder is gone as well
    change.kind = kind;
    change.folder = *folder;
    change.path = path;
    change.from = from;
    unsynced_names.push_back(std::move(change));
  }

  // What the wrapper knows of `from` and the files under it, now `to`.
  void Moved(const std::string& from, const std::string& to)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::map<std::string, FileState> moved;
    for (auto it = files.begin(); it != files.end();) {
      if (it->first == from || it->first.starts_with(from + "/")) {
        moved[to + it->first.substr(from.size())] = it->second;
        it = files.erase(it);
      } else {
        ++it;
      }
    }
    files.erase(to);  // replaced, when it was not moved
    files.merge(moved);
  }

  void FolderSynced(const FolderId& folder) {
    absl::MutexLock lock(&mu);
    std::erase_if(unsynced_names, [&](const NameChange& change) {
      if (change.folder != folder) return false;
      std::error_code ec;
      if (!change.kept.empty()) std::filesystem::remove(change.kept, ec);
      return true;
    });
  }

  // Undoes every change no folder sync made durable, the latest first.
  absl::Status UndoUnsyncedNames() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    namespace fs = std::filesystem;
    for (auto it = unsynced_names.rbegin(); it != unsynced_names.rend(); ++it) {
      std::error_code ec;
      const NameChange& change = *it;
      switch (change.kind) {
        case NameChange::Kind::kMade:
          fs::remove_all(change.path, ec);
          files.erase(change.path);
          std::erase_if(files, [&](const auto& f) {
            return f.first.starts_with(change.path + "/");
          });
          break;
        case NameChange::Kind::kRenamed:
          fs::rename(change.path, change.from, ec);
          if (!ec) Moved(change.path, change.from);
          break;
        case NameChange::Kind::kDeleted:
          break;
      }
      if (ec) {
        return absl::InternalError(
            absl::StrCat("cannot undo the unsynced change to ", change.path,
                         ": ", ec.message()));
      }
      if (change.kept.empty()) continue;
      fs::rename(change.kept, change.path, ec);
      if (ec) {
        fs::copy_file(change.kept, change.path,
                      fs::copy_options::overwrite_existing, ec);
      }
      if (ec) {
        return absl::InternalError(absl::StrCat(
            "cannot bring back ", change.path, ": ", ec.message()));
      }
      if (change.kept_state.has_value())
        files[change.path] = *change.kept_state;
    }
    unsynced_names.clear();
    return absl::OkStatus();
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
using Kind = FaultInjection::Rep::NameChange::Kind;

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

// A folder opened to be synced: a successful sync makes the changes to its
// names durable. After the simulated crash a sync changes nothing.
class FaultFolder final : public rocksdb::FSDirectoryWrapper {
 public:
  FaultFolder(std::unique_ptr<rocksdb::FSDirectory> target,
              FaultInjection::Rep::FolderId id, FaultInjection::Rep* rep)
      : FSDirectoryWrapper(std::move(target)), id_(id), rep_(rep) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (rep_->crashed) return IOStatus::OK();
    return Synced(FSDirectoryWrapper::Fsync(options, dbg));
  }
  IOStatus FsyncWithDirOptions(
      const IOOptions& options, IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_options) override {
    if (rep_->crashed) return IOStatus::OK();
    return Synced(
        FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options));
  }

 private:
  IOStatus Synced(IOStatus s) {
    if (s.ok()) rep_->FolderSynced(id_);
    return s;
  }

  const FaultInjection::Rep::FolderId id_;
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
        result, &old_path);
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
    absl::MutexLock lock(&rep_->mu);
    FaultInjection::Rep::NameChange replaced = rep_->Keeping(to);
    IOStatus s = target()->RenameFile(from, to, options, dbg);
    if (s.ok()) {
      rep_->Moved(from, to);
      rep_->Changed(std::move(replaced), Kind::kRenamed, to, from);
    }
    return s;
  }
  IOStatus LinkFile(const std::string& from, const std::string& to,
                    const IOOptions& options, IODebugContext* dbg) override {
    if (rep_->crashed) return IOStatus::OK();
    absl::MutexLock lock(&rep_->mu);
    IOStatus s = target()->LinkFile(from, to, options, dbg);
    if (s.ok()) rep_->Changed({}, Kind::kMade, to);
    return s;
  }
  IOStatus DeleteFile(const std::string& path, const IOOptions& options,
                      IODebugContext* dbg) override {
    if (rep_->crashed) return IOStatus::OK();
    absl::MutexLock lock(&rep_->mu);
    FaultInjection::Rep::NameChange removed = rep_->Keeping(path);
    IOStatus s = target()->DeleteFile(path, options, dbg);
    if (s.ok()) {
      rep_->files.erase(path);
      rep_->Changed(std::move(removed), Kind::kDeleted, path);
    }
    return s;
  }
  IOStatus CreateDir(const std::string& path, const IOOptions& options,
                     IODebugContext* dbg) override {
    return MadeFolder(path,
                      [&] { return target()->CreateDir(path, options, dbg); });
  }
  IOStatus CreateDirIfMissing(const std::string& path, const IOOptions& options,
                              IODebugContext* dbg) override {
    return MadeFolder(
        path, [&] { return target()->CreateDirIfMissing(path, options, dbg); });
  }
  IOStatus NewDirectory(const std::string& path, const IOOptions& options,
                        std::unique_ptr<rocksdb::FSDirectory>* result,
                        IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSDirectory> folder;
    IOStatus s = target()->NewDirectory(path, options, &folder, dbg);
    if (!s.ok()) return s;
    std::optional<FaultInjection::Rep::FolderId> id =
        FaultInjection::Rep::IdOf(path);
    if (!id.has_value()) return IOStatus::IOError("cannot stat folder ", path);
    *result = std::make_unique<FaultFolder>(std::move(folder), *id, rep_);
    return s;
  }

 private:
  // An injected failure of creating `path` fails the call before it
  // reaches the file system. Otherwise `open` opens the real file, which is
  // handed back wrapped, its size tracked from what it holds already when
  // it `keeps_contents`, else from empty. A name it makes is recorded: a
  // new file, or `renamed_from` given its new name.
  template <typename Open>
  IOStatus Opened(const std::string& path, bool keeps_contents,
                  const Open& open, std::unique_ptr<FSWritableFile>* result,
                  const std::string* renamed_from = nullptr) {
    IOStatus s = rep_->Check(FaultInjection::Op::kCreate, path);
    if (!s.ok()) return s;
    std::unique_ptr<FSWritableFile> file;
    {
      absl::MutexLock lock(&rep_->mu);
      std::error_code ec;
      const bool existed = std::filesystem::exists(path, ec);
      FaultInjection::Rep::NameChange replaced;
      if (renamed_from != nullptr) replaced = rep_->Keeping(path);
      s = open(&file);
      if (!s.ok()) return s;
      if (renamed_from != nullptr) {
        rep_->Moved(*renamed_from, path);
        rep_->Changed(std::move(replaced), Kind::kRenamed, path, *renamed_from);
      } else if (!existed) {
        rep_->Changed({}, Kind::kMade, path);
      }
    }
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

  // Makes a folder through `make`, and records it as a name of its parent
  // when it was not there before.
  template <typename Make>
  IOStatus MadeFolder(const std::string& path, const Make& make) {
    if (rep_->crashed) return IOStatus::OK();
    absl::MutexLock lock(&rep_->mu);
    std::error_code ec;
    const bool existed = std::filesystem::exists(path, ec);
    IOStatus s = make();
    if (s.ok() && !existed) rep_->Changed({}, Kind::kMade, path);
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
  CASELEDGER_RETURN_IF_ERROR(rep_->UndoUnsyncedNames());
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
