// The access log: an append-only, hash-chained record of who read which case
// data and who exported what, through the server (docs/service.md, "Access
// log"). Every refused call is recorded too, whatever its RPC.
//
// Format: JSON Lines, one object per record:
//   {"seq": N, "time": RFC 3339 UTC, "who": token name, "role": role,
//    "peer": gRPC peer, "rpc": method, "what": what was asked,
//    "outcome": "granted" | gRPC code name ("OK" once done), "events": count,
//    "prev": hex SHA-256 of the previous line's bytes (64 zeros for the first)}
// so that deleting or editing a line breaks the chain at the next one.
// Each record is written with one write(2) to a file opened O_APPEND, then
// fdatasync'ed before Record() returns: a read is on record before its data
// leaves the server.
//
// Thread safety: Record() may be called from many threads.
#ifndef CASELEDGER_TOOLS_SERVER_ACCESS_LOG_H_
#define CASELEDGER_TOOLS_SERVER_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ledger/clock.h"

namespace caseledger::server {

// Where serve keeps the access log unless told otherwise: in the ledger
// folder, beside store/.
inline constexpr char kAccessLogFile[] = "access-log.jsonl";

struct AccessRecord {
  std::string who;   // the token's NAME; "-" when unauthenticated
  std::string role;  // "-" when unauthenticated
  std::string peer;  // e.g. "ipv4:127.0.0.1:53422", plus the TLS identity
  std::string rpc;   // e.g. "ReadCase"
  std::string what;  // e.g. "case_id=DEMO-1 from_version=1 limit=0"
  std::string outcome;
  uint64_t events = 0;
};

class AccessLog {
 public:
  // Opens (creating with mode 0600 if needed) the log at `path`, reading it
  // to continue the sequence and the hash chain, and syncs the folder
  // holding it, so that its name survives a power loss as its records do.
  // `clock` is not owned and must outlive the log.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(
      const std::string& path, Clock* clock);
  // What Open would refuse of `path` alone, with its errors, writing
  // nothing: a server asks before it opens its ledger, whose open writes a
  // new log file and MANIFEST (found by an outside reading).
  static absl::Status CheckPath(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Bytes after the log's last newline that Open cut off: a record a crash
  // or kill cut short, whose access was never granted; 0 when none. The
  // server says so, since an audit log that lost bytes without a word
  // looks like an edit (found by an outside test).
  uint64_t BytesCutAtOpen() const { return cut_at_open_; }

  // Appends one record and syncs it. An error means the record is not on
  // record; callers refuse the access then. What a failed write left in the
  // file is cut off, so the chain goes on from the last record; when that
  // fails too, every later call fails with kDataLoss.
  absl::Status Record(const AccessRecord& record);

 private:
  AccessLog(std::string path, int fd, Clock* clock, uint64_t seq,
            std::string prev, uint64_t size, uint64_t cut_at_open);

  const std::string path_;
  const int fd_;
  Clock* const clock_;
  const uint64_t cut_at_open_;
  absl::Mutex mu_;
  uint64_t seq_ ABSL_GUARDED_BY(mu_);
  std::string prev_ ABSL_GUARDED_BY(mu_);  // hex SHA-256 of the last line
  uint64_t size_ ABSL_GUARDED_BY(mu_);     // bytes up to the last record's end
  absl::Status damaged_ ABSL_GUARDED_BY(mu_);
};

// What VerifyAccessLog found.
struct AccessLogCheck {
  uint64_t records = 0;
  // Bytes after the last newline: a record being written, or one a crash
  // cut short (which the server cuts off when it starts again); not checked.
  uint64_t unfinished_bytes = 0;
};

// Checks a whole access log's hash chain and sequence; kDataLoss naming the
// first line that breaks it.
absl::StatusOr<AccessLogCheck> VerifyAccessLog(const std::string& path);

// `text` as a JSON string literal, quotes included. Layout controls and
// invisible characters (ledger/untrusted_text.h) are written as \u escapes,
// so that the log shows in a terminal or a pager as a JSON reader reads it
// (a U+202E in a requested case id would turn the rest of its line around);
// a byte that is not UTF-8, which no JSON reader takes, as \ufffd.
std::string JsonQuote(std::string_view text);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_ACCESS_LOG_H_
