// Flag parsing and output shared by the local verbs and client mode, so the
// two print the same bytes for the same answer.
#ifndef CASELEDGER_TOOLS_OUTPUT_H_
#define CASELEDGER_TOOLS_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/service.pb.h"
#include "ledger/event_json.h"
#include "ledger/import.h"
#include "ledger/ledger.h"
#include "projections/bundle/bundle.h"
#include "projections/deadlines.h"
#include "projections/policy.h"
#include "projections/queries.h"
#include "tools/cli.h"

namespace caseledger::cli {

// "1 entry", "2 entries": `n` and the noun that agrees with it.
std::string Counted(uint64_t n, std::string_view one, std::string_view many);

// A step of a large case's export, on err ("export: STEP"), told as the
// bundle is built, locally and in client mode.
void TellExportStep(Io& io, std::string_view step);
// What `export` prints of a bundle written to `out`, locally and in client
// mode.
std::string ExportedLine(const v1::BundleSummary& summary,
                         const std::string& out);

// A whole-number flag; `fallback` when absent, or kInvalidArgument "--flag
// is required" when there is none.
absl::StatusOr<uint64_t> CountFlag(const Args& args, const std::string& flag,
                                   std::optional<uint64_t> fallback);

// prove's flags other than the numbers: exactly one of --position and
// --from-size, and --format json if any (a proof is data for programs,
// printed as JSON only).
absl::Status CheckProveFlags(const Args& args);
// prove's --size: 0 when absent (the current size, as on the wire), else at
// least 1 (a proof is against a tree of at least one entry).
absl::StatusOr<uint64_t> ProofSizeFlag(const Args& args);

// What `append` takes: its flags and its JSON Lines input, read and parsed.
struct AppendInput {
  bool json = false;
  ExpectedVersion expected;
  std::vector<EventLine> lines;
  std::vector<v1::Event> Events() const;
};
// kInvalidArgument naming the flag or the input line; an input without
// events is refused.
absl::StatusOr<AppendInput> ReadAppendInput(const Args& args, Io& io);

// Warns on err, naming `verb` and the input lines, of events dated after
// the moment they were appended: each counts in no projection until its
// date, and a bundle exported before then leaves it out, so its date is
// most likely a wrong clock or time zone where it was entered (found by an
// audit). Names at most five lines; Finish() counts the rest.
class EventsDatedAhead {
 public:
  EventsDatedAhead(std::string verb, Io& io)
      : verb_(std::move(verb)), io_(io) {}
  // Call once `event`, from input line `line`, is appended.
  void Appended(uint64_t line, const v1::Event& event);
  void Finish();

 private:
  static constexpr size_t kNamed = 5;
  std::string verb_;
  Io& io_;
  size_t ahead_ = 0;
};
// Appended() for every line of `input` that `result` newly stored, then
// Finish(). One found stored already was warned of when it was stored: a
// run again warned anew, with its own time for when it was recorded.
void WarnOfEventsDatedAhead(const AppendInput& input,
                            const AppendResult& result, const std::string& verb,
                            Io& io);

// Brings the stored deadline index up to the ledger's size, after a write or
// around a server's run; a failure is a warning on err naming `verb` (the
// written events are durable, and a lagging index only costs readers a
// longer tail to fold). Whether it is up to date.
bool CatchUpDeadlineIndex(Ledger& ledger, const std::string& verb, Io& io);

// import's run in both modes: the JSON Lines file at `path` into `target`
// in batches (of at most `batch_bytes` bytes of events, 0: no limit), with
// progress on err, the warning of events dated ahead, and SIGINT or SIGTERM
// stopping it between batches (exit 130 or 143, saying which lines are
// stored); prints its outcome. Once the import succeeded, runs `then`, told
// whether a stop signal came while its last batch was appended (the local
// verb catches up the deadline index and closes the ledger). Returns the
// exit code.
int ImportLines(const std::string& path, const ImportTarget& target,
                size_t batch_bytes, Io& io,
                const std::function<void(bool stopped)>& then);

// Reports an Append error, turning the ledger's "event 3: ..." into the
// user's "line 7: ...". When the outcome is unknown (kEventIdsPayload) it
// also lists each line's event id, for a retry that stores each event once.
// Returns the exit code.
int AppendFailure(Io& io, const absl::Status& status,
                  const std::vector<EventLine>& lines);
// Runs `work` (an append or an export, and the printing of its outcome)
// with SIGINT and SIGTERM held off to the process's exit, so that the
// outcome is printed rather than lost with the process; a second signal
// ends the process at once. Then runs `then`, told whether a signal came:
// the rest of the verb's work (closing the ledger), so that a signal there
// does not end with exit 130 or 143 a write already reported done (found
// by an audit).
// Says on err when one came: "caseledger VERB: SIGTERM received while
// DOING; the VERB was finished first"; a second signal, ending the process,
// says LEFT, what it leaves unknown (kAppendLeftUnknown, kExportLeftUnknown).
// When a stop signal came during work done to its end anyway, says so on
// err: "caseledger VERB: SIGTERM received while DOING; the VERB was finished
// first".
void SayFinishedFirst(Io& io, std::string_view verb, std::string_view doing,
                      const StopSignals& stop);
template <typename Work, typename Then>
auto FinishingFirst(Io& io, std::string_view verb, std::string_view doing,
                    std::string_view left, const Work& work, const Then& then) {
  StopSignals stop;
  stop.HoldUntilExit();
  stop.SayWhenCaught(verb,
                     "finishing the " + std::string(verb) +
                         " first (a second signal ends it at once)",
                     left);
  auto result = work();
  io.out.flush();
  then(stop.received() != 0);
  SayFinishedFirst(io, verb, doing, stop);
  io.err.flush();
  return result;
}
template <typename Work>
auto FinishingFirst(Io& io, std::string_view verb, std::string_view doing,
                    std::string_view left, const Work& work) {
  return FinishingFirst(io, verb, doing, left, work, [](bool) {});
}
inline constexpr char kAppendLeftUnknown[] =
    "whether the append was written is unknown: read the case to see";
inline constexpr char kExportLeftUnknown[] =
    "the export may be recorded with no bundle written: read the case to see";
// What `append` prints for a result (text or JSON), newline included.
std::string AppendResultOutput(const AppendResult& result, bool json);
// One row of `read`, without the newline.
std::string ReadRow(const RecordedEvent& event, bool json);
// The flags of `read`, in both modes: --json, --from (positions, or case
// versions with --case; 1 when absent) and --limit (0: no limit).
struct ReadFlags {
  bool json = false;
  uint64_t from = 1;
  uint64_t limit = 0;
};
absl::StatusOr<ReadFlags> ParseReadFlags(const Args& args);
// The error of `read --case C` that finds no event from the first version.
absl::Status NoSuchCase(const std::string& case_id);
// A projection's document as printed: text with the control and
// bidirectional characters of free text (a note, a reason) escaped
// (ForTerminal), so that what an applicant or officer wrote cannot show a
// verdict or an id as another on the reader's terminal (found by an audit);
// JSON as it is, for programs: its strings escape C0 controls only, and
// carry DEL, C1 and bidirectional controls as the characters themselves,
// byte for byte what a bundle holds (docs/cli.md).
std::string ShownAs(std::string_view document,
                    projections::OutputFormat format);
// The flags every projection verb takes.
struct QueryFlags {
  bool json = false;
  std::optional<absl::Time> as_of;
  std::optional<absl::Time> known_at;
  // The --policy file's text, already parsed into `policy`.
  std::optional<std::string> policy_json;
  projections::DeadlinePolicy policy = projections::DefaultPolicy();
};
absl::StatusOr<QueryFlags> ParseQueryFlags(const Args& args, Io& io);
// The `--status S` of `deadlines`, if given.
absl::StatusOr<std::optional<projections::DeadlineState>> DeadlineStatusFlag(
    const Args& args);

// What `export` takes from its flags, checked in the same order in both
// modes: --case, --purpose and --out required, then --tree-size,
// --since-checkpoint, --policy, --as-of, --known-at and
// --include-after-decision. `policy_text` receives the --policy file as
// read (client mode sends it as is). kInvalidArgument naming the flag; a
// file that cannot be read, as ReadInput says.
absl::StatusOr<bundle::ExportRequest> ReadExportFlags(const Args& args, Io& io,
                                                      std::string* policy_text);

// Where a bundle goes: a new file, written as PATH.partial beside it, opened
// before the export (so that a bad --out fails before anything is
// recorded) and renamed into place once complete and synced (so that no
// reader sees half a bundle), the rename then synced with its folder. Removed
// unless committed. Never overwrites: PATH must not exist, PATH.partial is
// created anew and never followed as a link, and the rename does not replace a
// PATH that appeared meanwhile. A bundle written over a file (the ledger's own
// key, another bundle) would be a loss no message can undo.
class OutputFile {
 public:
  explicit OutputFile(std::string path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // kInvalidArgument for an empty PATH, a folder, or a file that cannot be
  // created; kAlreadyExists when PATH exists, or PATH.partial does (another
  // export writing it, or one interrupted).
  absl::Status Open();
  // Allocates `size` bytes for the file, so that writing them cannot run out
  // of space (or past ulimit -f). kResourceExhausted when the disk lacks
  // them, naming the file and the size.
  absl::Status Reserve(uint64_t size);
  // False once a write failed; Commit then says so, as WriteError does.
  bool Write(std::string_view bytes);
  // kInternal "error writing PATH.partial: ..." once a write failed, else OK.
  absl::Status WriteError() const;
  absl::Status Commit();

 private:
  std::string path_, partial_;
  int fd_ = -1;
  int write_error_ = 0;  // errno of the first failed write
  bool created_ = false;
  bool done_ = false;
};

}  // namespace caseledger::cli

#endif  // CASELEDGER_TOOLS_OUTPUT_H_
