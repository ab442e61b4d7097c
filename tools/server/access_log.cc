#include "tools/server/access_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/algorithm/container.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/file_sync.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/untrusted_text.h"

namespace caseledger::server {
namespace {

const std::string kZeroHash(64, '0');

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

std::string FormatRecordTime(absl::Time t) {
  return absl::FormatTime("%E4Y-%m-%d%ET%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// The value of `"seq": N` at the start of a record line, or nullopt.
std::optional<uint64_t> SeqOf(const std::string& line) {
  constexpr char kPrefix[] = "{\"seq\": ";
  if (line.rfind(kPrefix, 0) != 0) return std::nullopt;
  size_t start = sizeof(kPrefix) - 1;
  size_t end = line.find(',', start);
  uint64_t seq;
  if (end == std::string::npos ||
      !absl::SimpleAtoi(line.substr(start, end - start), &seq)) {
    return std::nullopt;
  }
  return seq;
}

// The value of the final `"prev": "HEX"}` of a record line, or "".
std::string PrevOf(const std::string& line) {
  constexpr char kKey[] = "\"prev\": \"";
  size_t at = line.rfind(kKey);
  if (at == std::string::npos) return "";
  return line.substr(at + sizeof(kKey) - 1, 64);
}

// Whether `line` has a record's frame: it starts with its seq and ends with
// its prev (64 lowercase hex digits), as Record writes them. A line cut
// short, or stripped of its prev, has not.
bool IsRecord(const std::string& line) {
  constexpr absl::string_view kEnd = "\"}";
  const std::string prev = PrevOf(line);
  return SeqOf(line).has_value() && prev.size() == 64 &&
         absl::c_all_of(prev,
                        [](char c) {
                          return absl::ascii_isdigit(c) ||
                                 (c >= 'a' && c <= 'f');
                        }) &&
         absl::EndsWith(line, absl::StrCat(prev, kEnd));
}

// A request holds at most 8 MiB, and the longest record quotes one with each
// byte as a 6-byte \u escape: a longer line is none, and holding it whole
// would take any amount of memory (found by an outside reading).
constexpr size_t kMostRecordBytes = size_t{64} << 20;

struct LinesRead {
  uint64_t lines = 0;        // ended by a newline
  uint64_t whole_bytes = 0;  // up to the last line's newline, included
  uint64_t bytes = 0;        // all that was read
};

// Reads the file open at `fd` from its start, through that descriptor,
// calling `on_line` with each line ended by a newline (the newline left off)
// and its number from 1. A read that fails is an error, never an end: the
// server's start once took an unreadable log for an empty one and cut it
// to nothing.
absl::StatusOr<LinesRead> ReadLines(
    int fd, const std::string& path,
    absl::FunctionRef<absl::Status(const std::string& line, uint64_t number)>
        on_line) {
  LinesRead read;
  std::string line;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t got =
        ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(read.bytes));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read access log ", path, ": ", std::strerror(errno)));
    }
    if (got == 0) return read;
    read.bytes += static_cast<uint64_t>(got);
    std::string_view rest(chunk, static_cast<size_t>(got));
    while (!rest.empty()) {
      const size_t end = rest.find('\n');
      line.append(
          rest.substr(0, end == std::string_view::npos ? rest.size() : end));
      if (line.size() > kMostRecordBytes) {
        return absl::DataLossError(absl::StrCat(
            "access log ", path, " line ", read.lines + 1, ": more than ",
            kMostRecordBytes, " bytes, longer than any record"));
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
      ++read.lines;
      read.whole_bytes = read.bytes - rest.size();
      CASELEDGER_RETURN_IF_ERROR(on_line(line, read.lines));
      line.clear();
    }
  }
}

// Only a file keeps records and gives back the last one: reading /dev/full
// for it never ended, the start hung, growing, with nothing said (found by
// an audit).
absl::Status NotAFile(const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat(
      "access log ", path,
      " is not a regular file (a device, a pipe or a socket keeps no "
      "record to continue the chain from); give a file"));
}

absl::Status CannotOpen(const std::string& path, int error) {
  std::string what =
      absl::StrCat("cannot open access log ", path, ": ", std::strerror(error));
  if (error == EACCES) {
    absl::StrAppend(&what,
                    " (the server reads the log to continue its chain, and "
                    "writes it: it needs to read and write the file, and to "
                    "read, write and search its folder)");
  }
  // A path that names no writable file is the caller's input to mend
  // (exit 2); anything else is the machine's (exit 4).
  const bool bad_path = error == ENOENT || error == ENOTDIR ||
                        error == EISDIR || error == EACCES || error == EROFS ||
                        error == ENXIO;
  return bad_path ? absl::InvalidArgumentError(what)
                  : absl::InternalError(what);
}

// Asked before opening, which fails for a pipe nobody reads and for a
// socket with a reason that says neither ("No such device or address").
bool NeitherFileNorFolder(const std::string& path) {
  struct stat kind;
  return ::stat(path.c_str(), &kind) == 0 && !S_ISREG(kind.st_mode) &&
         !S_ISDIR(kind.st_mode);
}

}  // namespace

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    const int32_t r = DecodeUtf8(text, i, &len);
    if (r < 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (r == '\n') {
      out += "\\n";
    } else if (r == '\r') {
      out += "\\r";
    } else if (r == '\t') {
      out += "\\t";
    } else if (IsLayoutControl(r) || IsInvisible(r)) {
      absl::StrAppendFormat(&out, "\\u%04x", r);
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out + "\"";
}

absl::Status AccessLog::CheckPath(const std::string& path) {
  struct stat kind;
  if (::stat(path.c_str(), &kind) == 0) {
    if (S_ISDIR(kind.st_mode)) return CannotOpen(path, EISDIR);
    if (!S_ISREG(kind.st_mode)) return NotAFile(path);
    const int fd =
        ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return CannotOpen(path, errno);
    ::close(fd);
    return absl::OkStatus();
  }
  if (errno != ENOENT) return CannotOpen(path, errno);
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  if (::stat(folder.c_str(), &kind) != 0) return CannotOpen(path, errno);
  if (!S_ISDIR(kind.st_mode)) return CannotOpen(path, ENOTDIR);
  // Read too: Open syncs the folder, through a descriptor opened to read.
  if (::access(folder.c_str(), R_OK | W_OK | X_OK) != 0) {
    return CannotOpen(path, errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(
    const std::string& path, Clock* clock) {
  if (NeitherFileNorFolder(path)) return NotAFile(path);
  // Not blocking: a FIFO nobody reads would hold the start for good. (On the
  // regular file kept below, O_NONBLOCK changes nothing.)
  // Read through the descriptor that is locked and written: a log the
  // server may write but not read is refused here, not taken for empty.
  int fd = ::open(path.c_str(),
                  O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
  if (fd < 0) return CannotOpen(path, errno);
  // Checked again on what was opened: the path may have changed between.
  struct stat kind;
  if (::fstat(fd, &kind) != 0 || !S_ISREG(kind.st_mode)) {
    ::close(fd);
    return NotAFile(path);
  }
  // One server per log: two servers given one file (--access-log naming
  // another ledger's) wrote two interleaved chains, which verify then
  // failed for good (found by an adversarial test). Held until the log is
  // closed: flock's lock belongs to this open file, not the process, so a
  // descriptor opened and closed elsewhere (VerifyAccessLog's) does not
  // drop it, as a POSIX record lock would be.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat(
          "access log ", path,
          " is kept by another running server; each server keeps its own "
          "(--access-log FILE)"));
    }
    return CannotOpen(path, error);
  }
  // Continue the chain from the last complete line. A last line without
  // its newline is a record whose write a crash cut short: Record had not
  // returned, so the access it records was never granted, and it goes, as
  // it would have had the write failed.
  std::string last;
  absl::StatusOr<LinesRead> read =
      ReadLines(fd, path, [&last](const std::string& line, uint64_t) {
        if (!line.empty()) last = line;
        return absl::OkStatus();
      });
  if (!read.ok()) {
    ::close(fd);
    return read.status();
  }
  const uint64_t complete = read->whole_bytes;
  uint64_t seq = 0;
  std::string prev = kZeroHash;
  if (!last.empty()) {
    std::optional<uint64_t> s = SeqOf(last);
    // One cut short with its newline kept, or without its prev, would have
    // every later record chained to a line no check passes.
    if (!s || !IsRecord(last)) {
      ::close(fd);
      return absl::DataLossError(absl::StrCat(
          "access log ", path, ": the last line is not a record: ", last));
    }
    seq = *s;
    prev = ToHex(Sha256(last));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 ||
      (static_cast<uint64_t>(st.st_size) > complete &&
       ::ftruncate(fd, static_cast<off_t>(complete)) != 0)) {
    absl::Status error = ErrnoError(absl::StrCat(
        "cannot cut the unfinished last record off access log ", path));
    ::close(fd);
    return error;
  }
  // Each record is synced, but a power loss keeps the log's name only once
  // its folder is synced too: a first start's log, its records "on record",
  // could vanish whole (found by durable_names_test). Synced at every start,
  // since a start that made the log may have ended before it got here.
  if (absl::Status synced = SyncFolderOf(path); !synced.ok()) {
    ::close(fd);
    return absl::Status(synced.code(), absl::StrCat("access log ", path, ": ",
                                                    synced.message()));
  }
  return std::unique_ptr<AccessLog>(
      new AccessLog(path, fd, clock, seq, std::move(prev), complete,
                    std::max<uint64_t>(st.st_size, complete) - complete));
}

AccessLog::AccessLog(std::string path, int fd, Clock* clock, uint64_t seq,
                     std::string prev, uint64_t size, uint64_t cut_at_open)
    : path_(std::move(path)),
      fd_(fd),
      clock_(clock),
      cut_at_open_(cut_at_open),
      seq_(seq),
      prev_(std::move(prev)),
      size_(size) {}

AccessLog::~AccessLog() { ::close(fd_); }

absl::Status AccessLog::Record(const AccessRecord& r) {
  absl::MutexLock lock(&mu_);
  std::string line = absl::StrCat(
      "{\"seq\": ", seq_ + 1,
      ", \"time\": ", JsonQuote(FormatRecordTime(clock_->Now())),
      ", \"who\": ", JsonQuote(r.who), ", \"role\": ", JsonQuote(r.role),
      ", \"peer\": ", JsonQuote(r.peer), ", \"rpc\": ", JsonQuote(r.rpc),
      ", \"what\": ", JsonQuote(r.what),
      ", \"outcome\": ", JsonQuote(r.outcome), ", \"events\": ", r.events,
      ", \"prev\": \"", prev_, "\"}");
  if (!damaged_.ok()) return damaged_;
  std::string bytes = line + "\n";
  // O_APPEND makes the one write land whole at the end of the file.
  ssize_t written = ::write(fd_, bytes.data(), bytes.size());
  absl::Status failed;
  if (written < 0) {
    return ErrnoError(absl::StrCat("cannot write access log ", path_));
  } else if (static_cast<size_t>(written) != bytes.size()) {
    failed = absl::ResourceExhaustedError(
        absl::StrCat("cannot write access log ", path_, ": wrote only ",
                     written, " of ", bytes.size(), " bytes"));
  } else if (::fdatasync(fd_) != 0) {
    failed = ErrnoError(absl::StrCat("cannot sync access log ", path_));
  }
  if (!failed.ok()) {
    // The record is not on record, so its bytes go: left in place, a
    // partial line would run into the next record, and a whole one would
    // share its seq, breaking the chain for good.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      damaged_ = absl::DataLossError(absl::StrCat(
          "access log ", path_,
          " ends in a record that was not written "
          "whole and could not be cut off (",
          std::strerror(errno), "); remove the bytes after offset ", size_,
          " and restart the server"));
    }
    return failed;
  }
  size_ += bytes.size();
  ++seq_;
  prev_ = ToHex(Sha256(line));
  return absl::OkStatus();
}

absl::StatusOr<AccessLogCheck> VerifyAccessLog(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot read access log ", path,
                                            ": ", std::strerror(errno)));
  }
  std::string prev = kZeroHash;
  absl::StatusOr<LinesRead> read = ReadLines(
      fd, path, [&](const std::string& line, uint64_t n) -> absl::Status {
        auto damaged = [&](absl::string_view what) {
          return absl::DataLossError(
              absl::StrCat("access log ", path, " line ", n, ": ", what));
        };
        if (!line.empty() && line.back() == '\r') {
          return damaged(
              "ends with a carriage return: the file's line ends were "
              "changed");
        }
        std::optional<uint64_t> seq = SeqOf(line);
        if (!seq || !IsRecord(line)) {
          return damaged("not an access-log record");
        }
        if (*seq != n) {
          return damaged(absl::StrCat("seq ", *seq, " where ", n, " belongs"));
        }
        if (PrevOf(line) != prev) {
          return damaged(
              absl::StrCat("prev does not match the SHA-256 of line ", n - 1));
        }
        prev = ToHex(Sha256(line));
        return absl::OkStatus();
      });
  ::close(fd);
  if (!read.ok()) return read.status();
  return AccessLogCheck{read->lines, read->bytes - read->whole_bytes};
}

}  // namespace caseledger::server
