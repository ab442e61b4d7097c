// Bulk import of JSON Lines (caseledger import): streamed, in batches,
// resumable.
//
// Unlike Append, an import is not one atomic call: a file of millions of
// events is appended in batches, each atomic and synced. It is made safe to
// re-run instead: every line is parsed and validated on its own before
// anything is written (what needs the ledger is checked batch by batch),
// and events without an event_id get one derived from the event's bytes and
// the number of identical lines before it in the file, so running the same
// file again skips what is already stored and continues after it, even
// after lines were added, removed or moved to fix it (removing a line that
// repeats a later one exactly gives the later one its id: bad-input.md §2).
#ifndef CASELEDGER_LEDGER_IMPORT_H_
#define CASELEDGER_LEDGER_IMPORT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/ledger.h"

namespace caseledger {

struct ImportProgress {
  uint64_t lines = 0;        // input lines read so far
  uint64_t total_lines = 0;  // lines in the input (known once it is checked)
  uint64_t appended = 0;     // events newly written
  uint64_t duplicates = 0;   // events already stored, skipped
  uint64_t ledger_size = 0;  // the ledger's size after the last batch
};

// Where an import appends: a ledger opened here, or a server that holds one
// (client mode, whose calls carry at most 8 MiB).
struct ImportTarget {
  // Appends one batch atomically, every event with its event_id given.
  std::function<absl::StatusOr<AppendResult>(absl::Span<const v1::Event>)>
      append;
  // Whether an event with this id is stored. Null where that cannot be
  // asked: a malformed line is then refused whether or not its id is
  // stored.
  std::function<bool(const std::string& event_id)> stores;
  // Asked once, before the input is checked: an error (a server that
  // cannot be reached, a token that may not append) ends the import with
  // nothing read or written, where it came only after a whole file's
  // check. May be null.
  std::function<absl::Status()> ready;
  // Asked of each well-formed event as the input is checked: an error is
  // that line's refusal, for an event the target refuses whatever the
  // ledger holds (a server takes no evidence_bundle_exported from a
  // caller), so that nothing is written. May be null.
  std::function<absl::Status(const v1::Event& event)> refuses;
};

// `ledger` as an import's target.
ImportTarget IntoLedger(Ledger& ledger);

struct ImportOptions {
  // Events per Append call. Default: 1000.
  size_t batch_size = 1000;
  // A batch is cut before an event that would take its events (serialized)
  // past this many bytes; 0: no limit. One event is never cut.
  size_t batch_bytes = 0;
  // Called after each batch. May be null.
  std::function<void(const ImportProgress&)> progress;
  // Called while the input is checked, before anything is written: every
  // 100,000 lines, and once at the end with every line checked. May be
  // null.
  std::function<void(uint64_t lines_checked, bool done)> checked;
  // Called for each event a batch newly wrote, once the batch is written,
  // with its input line (not for one found stored already). May be null.
  std::function<void(uint64_t line, const v1::Event& event)> appended;
  // Asked before each line is checked and before each batch is appended;
  // once it returns true the import stops there with kCancelled, saying
  // which lines are imported, so that a stop signal never leaves a user
  // guessing. May be null.
  std::function<bool()> stop_requested;
};

// Imports the JSON Lines file at `path`. Errors name the line: malformed
// lines (kInvalidArgument), and lines giving the event_id of an earlier line
// with other content (kAlreadyExists when there are only those; each named,
// up to 20), stop the import before anything is written, except a malformed one
// whose event_id is stored (idempotency comes first: it is skipped if
// identical, else a conflict); a line the ledger refuses (e.g. a request never
// sent, an id stored with other content) stops it at that line's batch, with
// every earlier batch durable (re-run after fixing the line).
absl::StatusOr<ImportProgress> ImportEventLines(const ImportTarget& target,
                                                const std::string& path,
                                                const ImportOptions& options);
// The same into `ledger`.
absl::StatusOr<ImportProgress> ImportEventLines(Ledger& ledger,
                                                const std::string& path,
                                                const ImportOptions& options);

// The event_id an import gives an event without one: a UUID (version 8,
// RFC 9562) from SHA-256("import occurrence " k "\n" || event bytes without
// the id), where k counts the identical events (bytes without the id)
// before it in the input, from 0. Two identical lines stay two events, and
// a line keeps its id wherever it moves in the file.
std::string DerivedEventId(uint64_t occurrence, const v1::Event& event);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_IMPORT_H_
