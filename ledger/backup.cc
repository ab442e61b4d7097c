// Backup, restore and the storage checksum walk of Ledger. A backup is a
// ledger folder: `store/` (a RocksDB checkpoint) and the signing key, so
// that `caseledger verify --db BACKUP` and VerifyBackup read it in place.
// Procedure and guarantees: docs/reliability.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ledger/file_sync.h"
#include "ledger/internal/folder_lock.h"
#include "ledger/internal/kept_checkpoint.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"

namespace caseledger {

using internal::FolderLock;
using internal::kKeyFile;
using internal::kKeyTempFile;
using internal::kPartialStoreDir;
using internal::kStoreDir;
using internal::kUncheckedRestoreMark;
using internal::kUnfinishedCopyMark;

namespace {

namespace fs = std::filesystem;

absl::Status IoError(std::string_view what, const fs::path& path,
                     const std::error_code& ec) {
  return absl::UnavailableError(
      absl::StrCat(std::string(what), " ", path.string(), ": ", ec.message()));
}

// Syncs every file and folder under `root`, and `root` itself.
absl::Status SyncTree(const fs::path& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; it != end;
       it.increment(ec)) {
    if (ec) return IoError("cannot list", root, ec);
    CASELEDGER_RETURN_IF_ERROR(SyncPath(it->path()));
  }
  if (ec) return IoError("cannot list", root, ec);
  return SyncPath(root);
}

// The entries of the folder `dir`. A range-for over a directory_iterator,
// or an entry's type asked without an error code, throws on an error (a
// link loop, a folder removed meanwhile), and nothing above catches it: the
// program died with exit 134 (found by a review).
absl::StatusOr<std::vector<fs::directory_entry>> EntriesOf(
    const fs::path& dir) {
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    entries.push_back(*it);
  }
  if (ec) return IoError("cannot list", dir, ec);
  return entries;
}

// Copies the bytes of `from` to `to` (replaced, with `from`'s permission
// bits unless `mode` is given), and keeps the OS's reason when a write fails:
// std::filesystem's copy takes a short write (a full disk, `ulimit -f`) for
// "Input/output error", which sent an operator looking for a failing device
// (found by an audit).
absl::Status CopyFile(const fs::path& from, const fs::path& to,
                      std::optional<mode_t> mode = std::nullopt) {
  const std::string what = absl::StrCat("cannot copy ", from.string(), " to");
  auto failed = [&](int error) {
    return IoError(what, to, std::error_code(error, std::generic_category()));
  };
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return failed(errno);
  absl::Cleanup close_in = [in] { ::close(in); };
  struct stat source;
  if (::fstat(in, &source) != 0) return failed(errno);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                         mode.value_or(source.st_mode & 07777));
  if (out < 0) return failed(errno);
  absl::Cleanup close_out = [out] { ::close(out); };
  std::vector<char> buffer(1 << 20);
  while (true) {
    const ssize_t got = ::read(in, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return failed(errno);
    if (got == 0) {
      // Checked: on a network file system close is where a write's error
      // may first be told, and the sync after it may not tell it again
      // (found by an audit).
      std::move(close_out).Cancel();
      if (::close(out) != 0) return failed(errno);
      return absl::OkStatus();
    }
    for (ssize_t done = 0; done < got;) {
      const ssize_t put = ::write(out, buffer.data() + done, got - done);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return failed(errno);
      done += put;
    }
  }
}

// Copies the folder `from` into the new folder `to`, file by file as
// CopyFile does, each copy writable by its owner: restored from a backup
// made read-only (chmod -R a-w), a ledger could not be appended to, RocksDB
// opening its LOCK file for writing (found by a review).
absl::Status CopyFolder(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directory(to, ec);
  if (ec) return IoError("cannot create", to, ec);
  CASELEDGER_ASSIGN_OR_RETURN(const std::vector<fs::directory_entry> entries,
                              EntriesOf(from));
  for (const fs::directory_entry& e : entries) {
    const fs::path target = to / e.path().filename();
    const fs::file_status status = e.status(ec);
    if (ec) return IoError("cannot read", e.path(), ec);
    CASELEDGER_RETURN_IF_ERROR(
        fs::is_directory(status)
            ? CopyFolder(e.path(), target)
            : CopyFile(e.path(), target,
                       static_cast<mode_t>(status.permissions()) | S_IWUSR));
  }
  return absl::OkStatus();
}

// RocksDB hard-links table files into a checkpoint on the same file system.
// A backup must not share an inode with the ledger (damage to one would be
// damage to both), so each link becomes a copy of its own.
absl::Status BreakHardLinks(const fs::path& dir) {
  std::error_code ec;
  CASELEDGER_ASSIGN_OR_RETURN(const std::vector<fs::directory_entry> entries,
                              EntriesOf(dir));
  for (const fs::directory_entry& e : entries) {
    const bool file = e.is_regular_file(ec);
    const uintmax_t links = file ? e.hard_link_count(ec) : 1;
    if (ec) return IoError("cannot read", e.path(), ec);
    if (links <= 1) continue;
    fs::path copy = e.path();
    copy += ".copy";
    CASELEDGER_RETURN_IF_ERROR(CopyFile(e.path(), copy));
    fs::rename(copy, e.path(), ec);
    if (ec) return IoError("cannot replace", e.path(), ec);
  }
  return absl::OkStatus();
}

// Copies the signing key with mode 0600 from the start (given to open(2):
// the process's umask, which a server's other threads share, is left as it
// is).
absl::Status CopyKey(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::exists(from, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the signing key ", from.string(), " is missing"));
  }
  CASELEDGER_RETURN_IF_ERROR(CopyFile(from, to, 0600));
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace, ec);
  if (ec) return IoError("cannot restrict", to, ec);
  return absl::OkStatus();
}

// The server's access log (docs/service.md) lives beside the store; it is
// part of the record, so a backup carries it when there is one.
constexpr char kAccessLog[] = "access-log.jsonl";

// Only a log that is not there is left out: one that cannot be read (a link
// to nowhere, no permission) fails the copy, which was made without it and
// reported made (found by a review).
absl::Status CopyIfPresent(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::symlink_status(from, ec).type() == fs::file_type::not_found) {
    return absl::OkStatus();
  }
  return CopyFile(from, to);
}

// `dir` as a folder's name: "B/" and "R/." name B and R, whose partial
// copies are B.partial and R.partial beside them, not inside.
fs::path FolderName(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p;
}

// Without a working folder to resolve against (it was removed), `dir` as
// given: std::filesystem would throw.
fs::path Absolute(const fs::path& dir) {
  std::error_code ec;
  fs::path absolute = fs::absolute(dir, ec);
  return ec ? dir : absolute;
}

fs::path FolderPath(const std::string& dir) {
  return FolderName(Absolute(dir));
}

// True when `path` is `folder` or lies inside it, links resolved.
bool Within(const fs::path& path, const fs::path& folder) {
  std::error_code ec;
  auto resolved = [&](const fs::path& p) {
    fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
    if (!r.has_filename() && r.has_parent_path()) r = r.parent_path();
    return r;
  };
  const fs::path inner = resolved(path), outer = resolved(folder);
  if (ec) return false;
  if (std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end())
          .first == outer.end()) {
    return true;
  }
  // A bind mount shows the folder under another name, which no path
  // comparison sees (found by an outside reading); it is the same folder on
  // the same device. Only the folders that exist on the way can be it.
  struct stat folder_stat;
  if (::stat(outer.c_str(), &folder_stat) != 0) return false;
  for (fs::path p = inner; !p.empty(); p = p.parent_path()) {
    struct stat s;
    if (::stat(p.c_str(), &s) == 0 && s.st_dev == folder_stat.st_dev &&
        s.st_ino == folder_stat.st_ino) {
      return true;
    }
    if (p == p.parent_path()) break;
  }
  return false;
}

fs::path Partial(const fs::path& dir) {
  fs::path p = dir;
  p += ".partial";
  return p;
}

fs::path ParentOf(const fs::path& dir) {
  fs::path parent = Absolute(dir).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// What init and restore write into a ledger folder before its store.
constexpr const char* kWrittenBeforeTheStore[] = {
    kKeyFile, kKeyTempFile, kAccessLog, kUncheckedRestoreMark};

// A folder is emptied as a copy left unfinished only when it holds
// kUnfinishedCopyMark: a ledger named `B.partial`, even one being written,
// holds nothing else a copy does not, and a backup to B emptied it, key
// included (found by a review).

// An empty folder, or one a backup or restore left: its mark, and what it
// writes after it (the store, RocksDB's staging folder for its checkpoint,
// the key, the access log, and the checkpoint a backup's copy signs, kept
// beside its store).
bool LeftByACopy(const fs::path& dir) {
  static const std::string kStaging = absl::StrCat(kStoreDir, ".tmp");
  absl::StatusOr<std::vector<fs::directory_entry>> entries = EntriesOf(dir);
  if (!entries.ok()) return false;
  bool marked = false;
  for (const fs::directory_entry& e : *entries) {
    const std::string name = e.path().filename().string();
    if (name == kUnfinishedCopyMark) {
      marked = true;
    } else if (name != kStoreDir && name != kStaging && name != kKeyFile &&
               name != kAccessLog && name != internal::kKeptCheckpointFile &&
               name != internal::kKeptCheckpointTempFile) {
      return false;
    }
  }
  return marked || entries->empty();
}

constexpr char kUnfinishedCopyText[] =
    "Written first into a copy that caseledger backup or restore makes, and "
    "removed once the copy is in place. In a backup's NAME.partial, or a "
    "restore's store.partial: an unfinished copy, which the next backup to "
    "NAME, or restore into that folder, replaces. Anywhere else: a copy put "
    "in place, this file left behind (a crash, a failed removal); it means "
    "nothing more.\n";
constexpr char kUncheckedRestoreText[] =
    "Written by caseledger restore before it put this ledger's store in "
    "place, and removed once the restored ledger passed its last check (the "
    "backup's size and root). While it is here no command opens the ledger: "
    "the restore stopped before that check. Run the same restore again, "
    "which replaces the copy.\n";

// Writes `text` to the file `mark`, durably (the file and its folder).
absl::Status WriteMark(const fs::path& mark, const char* text) {
  {
    std::ofstream out(mark, std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      return IoError("cannot write", mark,
                     std::error_code(errno, std::generic_category()));
    }
  }
  CASELEDGER_RETURN_IF_ERROR(SyncPath(mark));
  return SyncPath(ParentOf(mark));
}

// Makes `partial` (a folder for a new copy, `shown` in messages) private and
// empty, and locks it for as long as the returned lock lives. A partial copy
// left by a run that died (killed, or stopped by a signal) holds nothing that
// is not still in its source, and is started over; one still being written is
// refused.
absl::StatusOr<FolderLock> StartPartial(const fs::path& partial,
                                        const fs::path& shown) {
  const std::string busy =
      absl::StrCat("another backup or restore is writing ", shown.string(),
                   "; wait for it to finish");
  std::error_code ec;
  FolderLock lock;
  // A link to nowhere takes its name too: a copy renamed onto it fails only
  // after the whole copy. A failed look reads as free here and below: the
  // folder's making or the rename that follows reports what is wrong.
  if (NameTaken(partial).value_or(false)) {
    // Left by an earlier run, or being written by one running now.
    if (!fs::is_directory(fs::symlink_status(partial, ec)) ||
        !LeftByACopy(partial)) {
      return absl::FailedPreconditionError(absl::StrCat(
          shown.string(),
          " exists and is not a copy a backup or restore left (a link, a file, "
          "or a folder without the '",
          kUnfinishedCopyMark,
          "' file those write first, or holding other files); it is not "
          "removed: move it away and try again"));
    }
    CASELEDGER_ASSIGN_OR_RETURN(lock, FolderLock::Take(partial, busy));
    // Looked at again under the lock: a run that held it may have finished
    // meanwhile, and someone else's folder taken this name.
    if (!LeftByACopy(partial)) return absl::FailedPreconditionError(busy);
    CASELEDGER_ASSIGN_OR_RETURN(const std::vector<fs::directory_entry> left,
                                EntriesOf(partial));
    for (const fs::directory_entry& e : left) {
      if (e.path().filename() == kUnfinishedCopyMark) continue;
      fs::remove_all(e.path(), ec);
      if (ec) return IoError("cannot remove", e.path(), ec);
    }
  } else {
    CASELEDGER_RETURN_IF_ERROR(
        CreateFoldersDurably(partial.parent_path()).status());
    // Created by another run since the look above: that run is writing it.
    if (!fs::create_directory(partial, ec) && !ec) {
      return absl::FailedPreconditionError(busy);
    }
    if (ec) return CannotCreateFolder(partial, ec);
    CASELEDGER_ASSIGN_OR_RETURN(lock, FolderLock::Take(partial, busy));
  }
  fs::permissions(partial, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return IoError("cannot restrict", partial, ec);
  CASELEDGER_RETURN_IF_ERROR(
      WriteMark(partial / kUnfinishedCopyMark, kUnfinishedCopyText));
  return lock;
}

// Removes what LeftUnfinished found, store.partial/ last, so that a removal
// that stops part way leaves a folder LeftUnfinished still recognises.
absl::Status RemoveUnfinished(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : kWrittenBeforeTheStore) {
    fs::remove(dir / name, ec);
    if (ec) return IoError("cannot remove", dir / name, ec);
  }
  CASELEDGER_RETURN_IF_ERROR(SyncPath(dir));
  fs::remove_all(dir / kPartialStoreDir, ec);
  if (ec) return IoError("cannot remove", dir / kPartialStoreDir, ec);
  return SyncPath(dir);
}

// What copying `from` (a backup) takes on disk: each file of its store, the
// key and the access log, in whole 4 KiB blocks.
absl::StatusOr<uintmax_t> SpaceToCopy(const fs::path& from) {
  constexpr uintmax_t kBlock = 4096;
  uintmax_t total = 0;
  std::error_code ec;
  auto add = [&](const fs::path& file) {
    const uintmax_t size = fs::file_size(file, ec);
    if (!ec) total += (size + kBlock - 1) / kBlock * kBlock;
  };
  for (fs::recursive_directory_iterator it(from / kStoreDir, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) add(it->path());
  }
  if (ec) return IoError("cannot list", from / kStoreDir, ec);
  for (const fs::path& file : {from / kKeyFile, from / kAccessLog}) {
    if (fs::exists(file, ec)) add(file);
  }
  return total;
}

// The bytes free on the disk of `dir`; nullopt when that is unknown.
std::optional<uintmax_t> FreeBytesOn(const fs::path& dir) {
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  if (ec) return std::nullopt;
  return space.available;
}

// Locks the store `store`'s LOCK file as RocksDB's writer does, so that no
// writer opens it until the returned descriptor is closed: `Open` takes no
// folder lock, and a writer that opened a restored ledger before its last
// check appended to a copy the check then removed or set aside (found by a
// review). A read lock, which the writer's lock conflicts with as much,
// needs no permission to write; an open file description's, rather than a
// process-associated one, since WriterOf closes a descriptor of that file,
// which would drop a lock of this process's.
absl::StatusOr<int> KeepWritersOut(const fs::path& store) {
  const fs::path lock_file = store / "LOCK";
  const int fd =
      ::open(lock_file.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return IoError("cannot open", lock_file,
                   std::error_code(errno, std::generic_category()));
  }
  struct flock lock = {};
  lock.l_type = F_RDLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    const int error = errno;
    ::close(fd);
    return IoError("cannot lock", lock_file,
                   std::error_code(error, std::generic_category()));
  }
  return fd;
}

// Renames `from` to `to`, which must not exist: rename(2) would replace an
// empty folder made at `to` meanwhile. Network file systems (NFS, SMB) take
// no flags, and get a look first, as close as they allow.
absl::Status RenameNoReplace(const fs::path& from, const fs::path& to) {
  int renamed = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                            RENAME_NOREPLACE);
  if (renamed != 0 && errno == EINVAL) {
    // A file system without RENAME_NOREPLACE: renamed only onto a name
    // surely free, so a failed look counts as taken (the checks before a
    // copy read it as free, since the step after them reports it).
    if (NameTaken(to).value_or(true)) {
      errno = EEXIST;
    } else {
      renamed = ::rename(from.c_str(), to.c_str());
    }
  }
  if (renamed != 0) {
    return IoError(absl::StrCat("cannot rename ", from.string(), " to"), to,
                   std::error_code(errno, std::generic_category()));
  }
  return absl::OkStatus();
}

// Renames the finished `partial` to `dir` durably, then removes its mark,
// as far as it can: a mark left in a copy in place (a crash between, a
// failed removal) is read by nothing and says so itself; the mark removed
// first left a finished copy that no run took or started over, and a
// failed removal reported a copy in place as failed (found by reviews).
absl::Status Finish(const fs::path& partial, const fs::path& dir) {
  CASELEDGER_RETURN_IF_ERROR(RenameNoReplace(partial, dir));
  CASELEDGER_RETURN_IF_ERROR(SyncPath(ParentOf(dir)));
  std::error_code ec;
  if (fs::remove(dir / kUnfinishedCopyMark, ec)) {
    SyncPath(dir).IgnoreError();
  }
  return absl::OkStatus();
}

}  // namespace

// An unfinished store, and the files written before it (the key, the key
// being written, the access log). A folder holding only these never was a
// ledger, and nothing in it is the only copy of anything: the store never
// held an appended event, and its key signed nothing outside it.
bool internal::HoldsOnlyLedgerFiles(const fs::path& dir) {
  absl::StatusOr<std::vector<fs::directory_entry>> entries = EntriesOf(dir);
  if (!entries.ok()) return false;
  return absl::c_all_of(*entries, [](const fs::directory_entry& e) {
    const fs::path name = e.path().filename();
    return name == kPartialStoreDir ||
           absl::c_any_of(kWrittenBeforeTheStore,
                          [&](const char* file) { return name == file; });
  });
}

bool internal::LeftUnfinished(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / kPartialStoreDir, ec) &&
         HoldsOnlyLedgerFiles(dir);
}

absl::Status internal::RefuseUnfinishedCopy(const fs::path& dir,
                                            bool read_only) {
  // The folder itself first: a mark's look fails too in one that cannot be
  // looked into, and the folder is what to name. ("dir/." is resolved
  // through dir, as the marks are.)
  std::error_code ec;
  if (fs::status(dir / ".", ec).type() == fs::file_type::none) {
    return internal::CannotLookInto(dir.string(), ec);
  }
  CASELEDGER_ASSIGN_OR_RETURN(const bool unchecked,
                              PathExists(dir / kUncheckedRestoreMark));
  bool store = false;
  if (unchecked) {
    CASELEDGER_ASSIGN_OR_RETURN(store, PathExists(dir / kStoreDir));
  }
  if (store) {
    // The restore holds the store's lock until its check ends.
    if (const std::string holder = WriterOf((dir / kStoreDir).string());
        !holder.empty()) {
      return absl::UnavailableError(absl::StrCat(
          dir.string(), ": another process has this ledger open for writing: ",
          holder, "; wait for it to finish"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        dir.string(),
        " holds a restore that stopped before its last check (the file ",
        kUncheckedRestoreMark,
        " is there): no command opens it; run the same restore again, which "
        "replaces the copy"));
  }
  // By the folder's own name: a link to it, or `--db .` inside it, took
  // appends that the next backup erased (found by an outside test).
  fs::path real = fs::weakly_canonical(Absolute(dir), ec);
  if (ec) real = FolderName(dir);
  bool unfinished = false;
  if (!read_only && Ledger::NamedAsUnfinishedCopy(real.string())) {
    CASELEDGER_ASSIGN_OR_RETURN(unfinished,
                                PathExists(real / kUnfinishedCopyMark));
  }
  if (unfinished) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir.string(),
        " is a backup's copy in progress or left unfinished (it holds ",
        kUnfinishedCopyMark,
        "), which the next backup to its name starts over: it is not written "
        "to; restore it into a new folder to use it"));
  }
  return absl::OkStatus();
}

using internal::LeftUnfinished;

absl::Status Ledger::VerifyFiles() const {
  return impl_->store->VerifyChecksums();
}

bool Ledger::NamedAsUnfinishedCopy(const std::string& dir) {
  return absl::EndsWith(AbslView(FolderName(dir).filename().string()),
                        ".partial");
}

absl::Status Ledger::CheckOutsideLedger(const std::string& path,
                                        const std::string& ledger_dir,
                                        std::string_view why) {
  if (!Within(path, ledger_dir)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("'", path, "' is inside the ledger folder ", ledger_dir,
                   "; ", std::string(why)));
}

absl::StatusOr<Ledger::BackupSummary> Ledger::Backup(const std::string& dir) {
  if (impl_->options.read_only) {
    return absl::FailedPreconditionError(
        "a backup needs the ledger open for writing (a read-only open cannot "
        "take a consistent copy)");
  }
  const fs::path target = FolderPath(dir);
  // Its copy would be NAME.partial.partial, and the finished backup read as
  // an unfinished one (found by a review).
  if (NamedAsUnfinishedCopy(dir)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", dir,
                     "' ends in '.partial', the mark of a copy in progress; "
                     "a backup goes to a folder named otherwise"));
  }
  if (NameTaken(target).value_or(false)) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " already exists; a backup goes to a new folder"));
  }
  CASELEDGER_RETURN_IF_ERROR(CheckOutsideLedger(dir, impl_->dir));
  // The folders on the way are not made: those of a backup disk that came
  // unmounted were made on the disk below it, and the backup reported made
  // where nobody looks for it (found by an outside reading). A file on the
  // way is found by the creation below, as restore's is; a link to a
  // folder gone is a folder gone.
  std::error_code ec;
  if (const fs::path holder = target.parent_path();
      fs::status(holder, ec).type() == fs::file_type::not_found) {
    const fs::path target_of_link =
        fs::is_symlink(holder, ec) ? fs::read_symlink(holder, ec) : fs::path();
    return absl::FailedPreconditionError(absl::StrCat(
        "the folder ", holder.string(),
        target_of_link.empty()
            ? ""
            : absl::StrCat(" (a link to ", target_of_link.string(), ")"),
        " that would hold the backup does not exist: create it (or mount the "
        "disk it is on), then back up again"));
  }
  const fs::path partial = Partial(target);
  if (Within(impl_->dir, partial)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a backup to ", dir, " is written in ",
                     Partial(FolderName(dir)).string(),
                     " before it is renamed, and the ledger is there (",
                     impl_->dir, "); back up to another name"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(const FolderLock writing,
                              StartPartial(partial, Partial(FolderName(dir))));
  absl::Status copied = [&]() -> absl::Status {
    // A signed root of the tree as it is now; appends that race the copy
    // land after it, and the next open signs them.
    CASELEDGER_RETURN_IF_ERROR(SignCheckpoint().status());
    CASELEDGER_RETURN_IF_ERROR(
        impl_->store->Backup((partial / kStoreDir).string()));
    CASELEDGER_RETURN_IF_ERROR(BreakHardLinks(partial / kStoreDir));
    CASELEDGER_RETURN_IF_ERROR(
        CopyKey(fs::path(impl_->dir) / kKeyFile, partial / kKeyFile));
    CASELEDGER_RETURN_IF_ERROR(
        CopyIfPresent(fs::path(impl_->dir) / kAccessLog, partial / kAccessLog));
    // Appends acknowledged between the signing above and the copy are in the
    // copy after that checkpoint (an audit saw 292 entries and a checkpoint
    // of 252). The copy signs its own size, as this ledger would sign the
    // same tree with the same key, so that a signature it carries covers
    // every entry it holds.
    {
      LedgerOptions options;
      options.clock = impl_->options.clock;
      CASELEDGER_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> copy,
                                  OpenCopy(partial.string(), options));
      CASELEDGER_RETURN_IF_ERROR(copy->SignCheckpoint().status());
    }
    return SyncTree(partial);
  }();
  if (!copied.ok()) {
    // A copy that failed (a full disk, say) is nobody's: left behind, it
    // would only refuse the next backup to this name.
    std::error_code ec;
    fs::remove_all(partial, ec);
    return copied;
  }
  auto info = VerifyCopy(partial.string());
  if (!info.ok()) {
    // Left in place for inspection (the name says it is unfinished) until
    // the next backup to this name starts it over.
    return absl::Status(
        info.status().code(),
        absl::StrCat("the copy in ", partial.string(),
                     " does not verify: ", info.status().message()));
  }
  CASELEDGER_RETURN_IF_ERROR(Finish(partial, target));
  return info;
}

absl::StatusOr<Ledger::BackupSummary> Ledger::VerifyBackup(
    const std::string& dir, const VerifierKey* trusted) {
  CASELEDGER_RETURN_IF_ERROR(
      internal::RefuseUnfinishedCopy(dir, /*read_only=*/true));
  return VerifyCopy(dir, trusted);
}

absl::StatusOr<Ledger::BackupSummary> Ledger::VerifyCopy(
    const std::string& dir, const VerifierKey* trusted) {
  // Open's own word for a folder without a ledger suggests init, which is
  // no answer for a backup that is not where it was looked for.
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / kStoreDir, ec) &&
      !fs::exists(fs::path(dir) / kKeyFile, ec) && !LeftUnfinished(dir)) {
    // A file was called a missing folder (found by an outside reading).
    const fs::file_type type = fs::status(dir, ec).type();
    return absl::NotFoundError(absl::StrCat(
        "no backup at ", dir,
        type == fs::file_type::directory   ? ": the folder holds no ledger"
        : type == fs::file_type::not_found ? ": no such folder"
        : type == fs::file_type::regular
            ? ": it is a file, not a folder (a backup is a ledger folder)"
            : ": it is not a folder (a backup is a ledger folder)"));
  }
  LedgerOptions options;
  options.read_only = true;
  CASELEDGER_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger,
                              OpenCopy(dir, options));
  if (!ledger->impl_->key) {
    return absl::DataLossError(
        absl::StrCat(dir, " holds no readable signing key (", kKeyFile,
                     "); a restored ledger could not sign checkpoints"));
  }
  // The key the copy signs with must be the one trusted: a ledger with no
  // checkpoint to check was restored as signing "with the key you trusted"
  // with another (found by an outside test).
  if (trusted != nullptr) {
    CASELEDGER_ASSIGN_OR_RETURN(
        const VerifierKey own,
        ParseVerifierKey(ledger->impl_->key->VerifierKey()));
    if (own.name != trusted->name || own.key_id != trusted->key_id ||
        own.public_key != trusted->public_key) {
      return absl::DataLossError(absl::StrCat(
          "the signing key in ", dir, " (", kKeyFile, ") is ", own.name,
          " (key id ", absl::Hex(own.key_id, absl::kZeroPad8),
          "), not the key given (", trusted->name, ", key id ",
          absl::Hex(trusted->key_id, absl::kZeroPad8),
          "): a ledger restored from it would sign with another key"));
    }
  }
  CASELEDGER_ASSIGN_OR_RETURN(
      const VerifyReport report,
      trusted != nullptr ? ledger->Verify(*trusted) : ledger->Verify());
  // A signature is what a folder cannot make for itself (a forged backup
  // re-signed with a key of the same name passed; found by an outside
  // test), and a store with none shows nothing.
  if (trusted != nullptr && report.entries > 0 && report.checkpoints == 0 &&
      report.kept_signed_size == 0) {
    return absl::DataLossError(
        absl::StrCat("no checkpoint in ", dir, " is signed by ", trusted->name,
                     ": nothing shows that its ", report.entries,
                     " entries are the ledger that key signs"));
  }
  CASELEDGER_RETURN_IF_ERROR(ledger->VerifyFiles());
  BackupSummary info;
  info.origin = ledger->origin();
  info.tree_size = ledger->Size();
  CASELEDGER_ASSIGN_OR_RETURN(info.root, ledger->RootAt(info.tree_size));
  CASELEDGER_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes,
                              ledger->CheckpointSizes());
  if (!sizes.empty()) info.checkpoint_size = sizes.back();
  info.signed_size = std::max(report.last_signed_size, report.kept_signed_size);
  return info;
}

absl::StatusOr<Ledger::BackupSummary> Ledger::Restore(
    const std::string& from, const std::string& to,
    const VerifierKey* trusted) {
  const fs::path source(from), target = FolderPath(to);
  std::error_code ec;
  if (NameTaken(target).value_or(false) && !fs::is_directory(target, ec)) {
    return absl::AlreadyExistsError(absl::StrCat(
        to, " is ",
        fs::is_symlink(fs::symlink_status(target, ec)) ? "a link to nowhere"
                                                       : "a file",
        ", not a folder; restore into a new folder"));
  }
  if (Within(target, source)) {
    return absl::InvalidArgumentError(absl::StrCat(
        to, " is inside the backup ", from, "; restore outside it"));
  }
  // A backup's copy still being written changes as it is read: the restore
  // failed on a file that went or a key not yet there, a different reason
  // each time (found by an outside test).
  if (NamedAsUnfinishedCopy(from) && fs::is_directory(source, ec)) {
    CASELEDGER_RETURN_IF_ERROR(
        FolderLock::Take(source, absl::StrCat("a backup is writing ", from,
                                              "; wait for it to finish, then "
                                              "restore the finished backup"))
            .status());
  }
  // A ledger in use changes as it is copied: the copy would fail its last
  // check, yet stand in place as a second ledger with the same key (found by
  // an audit).
  if (const std::string writer =
          internal::WriterOf((source / kStoreDir).string());
      !writer.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        from, " is a ledger in use, not a backup (", writer,
        " has it open for writing); take a backup of it ('caseledger backup', "
        "or the server's Backup) and restore that"));
  }
  // The folder is filled in place under its lock, as init fills one, and
  // every look at what it holds is made under that lock: a restore that
  // decided on a look taken before it, then verified the backup, copied its
  // key over the key of a ledger that an init or another restore finished
  // meanwhile (found by an audit).
  CASELEDGER_RETURN_IF_ERROR(CreateFoldersDurably(ParentOf(target)).status());
  CASELEDGER_ASSIGN_OR_RETURN(const bool made, CreateFoldersDurably(target));
  CASELEDGER_ASSIGN_OR_RETURN(
      const FolderLock lock,
      FolderLock::Take(target, absl::StrCat("another init or restore into ", to,
                                            " is running; wait for it "
                                            "to finish")));
  // A folder this run made goes again unless the restore succeeds; in one
  // that was there, restore again replaces what a failure leaves.
  absl::Cleanup unmake = [&] {
    if (made) fs::remove_all(target, ec);
  };
  // It is private, as the key it will hold.
  if (made) {
    fs::permissions(target, fs::perms::owner_all, fs::perm_options::replace,
                    ec);
    if (ec) return IoError("cannot restrict", target, ec);
  }
  if (fs::exists(target / kStoreDir, ec)) {
    if (!fs::exists(target / kUncheckedRestoreMark, ec)) {
      return absl::AlreadyExistsError(absl::StrCat(
          to, " already holds a ledger; restore into a new folder"));
    }
    // A restore stopped before its last check: its copy, which no verb
    // opens, is set aside as unfinished and replaced below.
    CASELEDGER_RETURN_IF_ERROR(
        RenameNoReplace(target / kStoreDir, target / kPartialStoreDir));
    CASELEDGER_RETURN_IF_ERROR(SyncPath(target));
  }
  // A restore or init into this folder that stopped part way is replaced,
  // as init replaces its own; anything else is someone's data.
  const bool unfinished = LeftUnfinished(target);
  if (!fs::is_empty(target, ec) && !unfinished) {
    return absl::AlreadyExistsError(
        absl::StrCat(to, " is not empty; restore into a new folder"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(const BackupSummary backup,
                              VerifyBackup(from, trusted));
  if (unfinished) CASELEDGER_RETURN_IF_ERROR(RemoveUnfinished(target));
  // A copy that cannot fit is refused before it starts, rather than failing
  // part way.
  CASELEDGER_ASSIGN_OR_RETURN(const uintmax_t needed, SpaceToCopy(source));
  const std::optional<uintmax_t> available = FreeBytesOn(target);
  if (available && *available < needed) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the backup needs ", needed, " bytes on the disk of ",
                     target.string(), ", which has ", *available,
                     " free; free some space or restore elsewhere"));
  }
  // The store is copied under another name and renamed last: the folder is
  // a ledger once `store/` exists, and not before.
  const fs::path store = target / kPartialStoreDir;
  // Held from before that rename to the end of the last check.
  int held_from_writers = -1;
  absl::Status renamed;
  absl::Cleanup release = [&] {
    if (held_from_writers >= 0) ::close(held_from_writers);
  };
  {
    CASELEDGER_ASSIGN_OR_RETURN(
        const FolderLock writing,
        StartPartial(store, FolderName(to) / kPartialStoreDir));
    if (absl::Status copied = CopyFolder(source / kStoreDir, store);
        !copied.ok()) {
      const std::optional<uintmax_t> left = FreeBytesOn(target);
      return absl::Status(
          copied.code(),
          absl::StrCat(
              "cannot copy the backup into ", store.string(), ": ",
              copied.message(),
              left ? absl::StrCat(" (", *left, " bytes free on the disk of ",
                                  target.string(), ")")
                   : ""));
    }
    CASELEDGER_RETURN_IF_ERROR(CopyKey(source / kKeyFile, target / kKeyFile));
    CASELEDGER_RETURN_IF_ERROR(
        CopyIfPresent(source / kAccessLog, target / kAccessLog));
    CASELEDGER_RETURN_IF_ERROR(SyncTree(target));
    CASELEDGER_ASSIGN_OR_RETURN(held_from_writers, KeepWritersOut(store));
    CASELEDGER_RETURN_IF_ERROR(
        WriteMark(target / kUncheckedRestoreMark, kUncheckedRestoreText));
    renamed = Finish(store, target / kStoreDir);
    // Not renamed, the copy is still an unfinished one.
    if (!renamed.ok() && !fs::exists(target / kStoreDir, ec)) return renamed;
  }
  absl::StatusOr<BackupSummary> restored =
      renamed.ok() ? VerifyCopy(to) : renamed;
  if (restored.ok() && (restored->tree_size != backup.tree_size ||
                        restored->root != backup.root)) {
    restored = absl::DataLossError(absl::StrCat(
        "the restored ledger has ", restored->tree_size, " entries with root ",
        ToHex(restored->root), " but the backup has ", backup.tree_size,
        " with root ", ToHex(backup.root)));
  }
  if (restored.ok()) {
    fs::remove(target / kUncheckedRestoreMark, ec);
    absl::Status unmarked =
        ec ? IoError("cannot remove", target / kUncheckedRestoreMark, ec)
           : SyncPath(target);
    if (!unmarked.ok()) {
      std::move(unmake).Cancel();
      return absl::Status(
          unmarked.code(),
          absl::StrCat("the restored ledger in ", to,
                       " passed its check, but its mark could not be taken "
                       "away: ",
                       unmarked.message(), "; remove ", to, "/",
                       kUncheckedRestoreMark, " yourself to use it"));
    }
  }
  std::move(unmake).Cancel();
  if (restored.ok()) return restored;
  // Set back to an unfinished copy, which no command opens as a ledger and
  // the next restore here replaces, or removed with the folder this run
  // made: kept as `store/`, a copy that failed its check stood as a second
  // ledger with the backup's key (found by a review).
  auto failed = [&](std::string_view then) {
    return absl::Status(
        restored.status().code(),
        absl::StrCat(restored.status().message(), "; ", AbslView(then)));
  };
  if (made) {
    fs::remove_all(target, ec);
    if (ec) {
      return failed(absl::StrCat(target.string(),
                                 ", made by this restore, could not be "
                                 "removed (",
                                 ec.message(),
                                 "): do not use it; remove it, then restore "
                                 "again"));
    }
    return failed(absl::StrCat(
        target.string(), ", made by this restore, was removed: restore again"));
  }
  const fs::path set_aside = target / kPartialStoreDir;
  absl::Status aside = RenameNoReplace(target / kStoreDir, set_aside);
  if (!aside.ok()) {
    return failed(absl::StrCat(
        "the copy in ", target.string(),
        " could not be set aside as unfinished (", aside.message(),
        "): do not use it; remove its store, key and access log (", kStoreDir,
        ", ", kKeyFile, ", ", kAccessLog, "), then restore again"));
  }
  if (absl::Status synced = SyncPath(target); !synced.ok()) {
    return failed(absl::StrCat("the copy was set aside as unfinished (",
                               set_aside.string(), ") but not synced (",
                               synced.message(), "): restore again"));
  }
  return failed(absl::StrCat("the copy was set aside as unfinished (",
                             set_aside.string(), "): restore again"));
}

}  // namespace caseledger
