// The caseledger command line: verbs, their flags, and the exit codes of
// domain.md §6. Thin by design: each verb parses flags, calls the library,
// prints. Verbs live in verbs_*.cc and register in the table of cli.cc.
#ifndef CASELEDGER_TOOLS_CLI_H_
#define CASELEDGER_TOOLS_CLI_H_

#include <signal.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"

namespace caseledger::cli {

// Exit codes (domain.md §6, docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConflict = 3;
inline constexpr int kExitInternal = 4;

// The exit code for a library error: bad input 2, conflict 3, check failed
// (data loss) 1, anything else 4.
int ExitCodeFor(const absl::Status& status);

struct FlagSpec {
  std::string name;        // without "--"
  std::string value_name;  // empty for a boolean flag
  std::string help;
  // A FILE the verb writes: '-' there is no standard input to share.
  bool written = false;
};

struct VerbSpec {
  std::string name;
  std::string synopsis;  // e.g. "append FILE|-"
  std::string summary;
  std::vector<FlagSpec> flags;
  int min_args = 0;
  int max_args = 0;
  // Empty for a verb that opens a ledger. Otherwise why `--db` goes unused:
  // domain.md gives every verb `--db`, but taken in silence it would let a
  // user believe that ledger was used, so the verb says so on stderr.
  std::string opens_no_ledger = "";
};

// The refusals of a flag given an empty value, or two different values,
// worded alike for a verb's flags and the client's (kInvalidArgument).
absl::Status EmptyFlagValue(std::string_view flag, std::string_view value_name);
absl::Status FlagGivenTwice(std::string_view flag, std::string_view first,
                            std::string_view second);

// Parsed flags and positional arguments of one verb.
class Args {
 public:
  bool Has(const std::string& flag) const { return values_.count(flag) > 0; }
  // The flag's value, or `fallback` when absent.
  std::string Get(const std::string& flag,
                  const std::string& fallback = "") const;
  const std::vector<std::string>& positional() const { return positional_; }

  // Parses argv for `spec`; kInvalidArgument on an unknown flag, a missing
  // value, a flag given twice with different values or a wrong number of
  // arguments.
  static absl::StatusOr<Args> Parse(const VerbSpec& spec,
                                    const std::vector<std::string>& argv);

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Where a verb writes. Tests pass string streams.
struct Io {
  Io(std::istream& in, std::ostream& out, std::ostream& err)
      : in(in), out(out), err(err) {}
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Set when a one-shot verb's writer came to refuse appends by itself (a
  // sync of its log failed after the verb's last append, or at close),
  // which no append of the verb met to report; Main warns of it.
  std::optional<absl::Status> appends_refused_unmet;
};

using VerbFn = std::function<int(const Args&, Io&)>;

struct Verb {
  VerbSpec spec;
  VerbFn run;
};

// Runs the CLI; returns the exit code.
int Main(const std::vector<std::string>& argv, Io& io);

// Helpers shared by verbs.
std::string DbDir(const Args& args);  // --db, else $CASELEDGER_DB
// DbDir, or kInvalidArgument when it is empty or '-'.
absl::StatusOr<std::string> RequireDb(const Args& args);
// For writing; says on err when the open upgrades an older storage format,
// and when a task the writer runs by itself fails or works again.
// `checkpoint_every`, when given, replaces LedgerOptions' (serve's
// --checkpoint-every). `on_appends_refused`, when given, is told when the
// writer comes to refuse appends by itself (a failed sync of its log
// outside any append); otherwise the verb's next append meets the refusal,
// or, none coming, Main warns of it (Io::appends_refused_unmet).
absl::StatusOr<std::unique_ptr<Ledger>> OpenForWrite(
    const Args& args, Io& io,
    std::optional<absl::Duration> checkpoint_every = std::nullopt,
    std::function<void(const absl::Status&)> on_appends_refused = nullptr);
// Read-only, with `options` otherwise.
absl::StatusOr<std::unique_ptr<Ledger>> OpenForRead(const Args& args,
                                                    LedgerOptions options = {});
// Prints "caseledger <verb>: <message>" to err; returns the exit code.
int Fail(Io& io, const std::string& verb, const absl::Status& status);
int UsageError(Io& io, const std::string& verb, const std::string& message);
// --format json|text (default text).
absl::StatusOr<bool> WantsJson(const Args& args);
// The most ReadInput takes by default: a key, a checkpoint, a policy, a
// certificate. Inputs that may be large say their own bound.
inline constexpr uint64_t kMaxSmallInputBytes = 1 << 20;
// One append's input: an atomic batch (import streams larger inputs).
inline constexpr uint64_t kMaxAppendInputBytes = 64 << 20;
// One message `attach` stores (the server takes at most 64 MiB of one).
inline constexpr uint64_t kMaxAttachedMessageBytes = 256 << 20;
// Reads a whole file ("-" is standard input, which Main lets one input of
// a verb name) of at most `max_bytes`; more is kInvalidArgument "PATH:
// more than N bytes" followed by `over`, having read at most 64 KiB past
// the bound (an endless /dev/zero or pipe ran the process out of memory;
// found by an audit).
//
// With `start.check`, the input's first `start.bytes` (fewer when it ends
// sooner) are given to it before the rest is read, and an error from it
// ends the read: an input plainly not what is asked for is refused without
// waiting for its end, which a pipe may never reach.
struct InputStart {
  size_t bytes = 0;
  std::function<absl::Status(std::string_view first_bytes)> check;
};
absl::StatusOr<std::string> ReadInput(const std::string& path, Io& io,
                                      uint64_t max_bytes = kMaxSmallInputBytes,
                                      std::string_view over = "",
                                      const InputStart& start = {});
// ReadInput of the file `--flag` names; its errors begin "--flag: ".
absl::StatusOr<std::string> ReadFlagFile(const Args& args,
                                         const std::string& flag, Io& io);
// The same for TLS material (PEM) at `path`, given to `--flag`, in serve or
// client mode. An empty file is refused (kInvalidArgument): to gRPC's
// options and ours, empty text is TLS not asked for.
absl::StatusOr<std::string> ReadPemFile(const std::string& flag,
                                        const std::string& path, Io& io);
// The verifier key the file --pubkey names holds (verify, verify-bundle);
// errors begin "--pubkey: ".
absl::StatusOr<VerifierKey> PubkeyFlag(const Args& args, Io& io);
// The same when --pubkey is given, nullopt when not (verify, backup --verify,
// restore: a key obtained out of band instead of the folder's own).
absl::StatusOr<std::optional<VerifierKey>> PubkeyFlagIfGiven(const Args& args,
                                                             Io& io);
// The checkpoint a kept note (a --checkpoint file) holds, as `key` signed it
// (verify, verify-bundle): kInvalidArgument when the text is not a signed
// note, bad input; kDataLoss when no signature by `key` verifies over it,
// or what it signs is not a checkpoint (the key's word): a check that
// failed, since it may be another ledger's note, or one altered.
absl::StatusOr<Checkpoint> CheckpointSignedBy(std::string_view note,
                                              const VerifierKey& key);
// "NOTE entries A to B come after the last signed checkpoint (size C)" for
// the entries past `signed_size` of `entries`; "" when none is.
std::string UnsignedEntriesNote(uint64_t signed_size, uint64_t entries);
// "NOTE DIR is named as the unfinished copy of a backup ...\n" when `dir`
// is named NAME.partial; "" otherwise (verify, backup --verify, restore).
std::string UnfinishedCopyNote(const std::string& dir);
// attach: checks that each file named on the command line can be read and
// is not empty, before a ledger is opened or anything stored (storing a
// thousand messages took a thousand processes, found by an audit: a wrong
// name among them is found first). "-" (standard input) must be alone.
absl::Status CheckFilesToAttach(const Args& args);
// At most this many bytes of what attach reads only once (standard input,
// pipes, devices), held in memory until every input is checked.
inline constexpr uint64_t kMaxAttachedBytesInAll = uint64_t{1} << 30;
// attach: reads every file named on the command line and checks each with
// `check`, then stores each with `store`, in order (one `store` per file
// `check` took, in the same order), and prints its SHA-256
// (followed by two spaces and the file's name when there are several, as
// sha256sum does). A file that cannot be read, is empty or fails `check`
// stops the verb before anything is stored; one that `store` refuses, or a
// file that changed since its check (files are read again to be stored,
// not held), stops it there, with the files before it stored and printed.
int AttachFiles(
    const Args& args, Io& io,
    const std::function<absl::Status(std::string_view bytes)>& check,
    const std::function<absl::StatusOr<std::string>(std::string_view bytes)>&
        store);
// "N entries of ORIGIN, root B64, last checkpoint at size K": what backup,
// backup --verify and restore print of a backup.
std::string DescribeBackup(const Ledger::BackupSummary& info);
// Checks the stored deadline index against the log, progress on err. On
// success sets `ok_line` to the line to print ("" when the index has applied
// nothing) and returns kExitOk; otherwise prints a FAIL line (a missing
// deadline) or the error, and returns the exit code.
int CheckDeadlineIndex(const Ledger& ledger, const std::string& verb, Io& io,
                       std::string* ok_line);
// Checks the hash chain and sequence of the server's access log: the file
// `given` names (--access-log; a missing one is an error), or else the one
// in the ledger folder `dir`, where a ledger never served has none and
// `ok_line` stays empty. Returns as CheckDeadlineIndex does.
int CheckAccessLog(const std::string& dir, const std::string& given,
                   const std::string& verb, Io& io, std::string* ok_line);
// The FAIL line of an access log whose check found `problem` (as
// VerifyAccessLog words it).
std::string AccessLogFailLine(std::string_view problem);
// After a backup or restore into `dir` whose copied `part` ("access log",
// "deadline index") failed its check (its FAIL line printed): says on err
// that the store verifies all the same, then `then`: what became of the
// part (kKeptAsItIs) or how to mend it (kRebuildThenBackUpAgain). Returns
// kExitCheckFailed.
extern const char kKeptAsItIs[];
extern const char kRebuildThenBackUpAgain[];
int KeptBrokenPart(const std::string& dir, const std::string& verb,
                   std::string_view part, std::string_view then, Io& io);

// Catches SIGINT and SIGTERM while it lives, so that a verb can finish the
// write in hand and say what is stored instead of dying mid-way; a second
// signal ends the process as usual. One at a time.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal caught, or 0.
  int received() const;
  // "SIGINT" or "SIGTERM".
  std::string received_name() const;
  // 128 + the signal: what a shell reports for a process it ended.
  int exit_code() const { return 128 + received(); }
  // Keeps catching (one signal noted, a second one ending the process) past
  // this object, to the process's exit: once a write's outcome is printed,
  // the rest (closing the ledger, the process's teardown) must not end
  // with 130 or 143 what was reported done (found by an audit).
  void HoldUntilExit() { hold_until_exit_ = true; }
  // Has the first signal said at once on standard error, from its handler:
  // "caseledger VERB: SIGTERM received; DOING". A stop that waits for a call
  // in flight, up to its deadline (a minute, against a server that hangs),
  // said nothing meanwhile (found by an adversarial test). The second,
  // which ends the process, says "caseledger VERB: ended by a second stop
  // signal; LEFT": what the user is left to check.
  void SayWhenCaught(std::string_view verb, std::string_view doing,
                     std::string_view left);

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
  bool hold_until_exit_ = false;
};

// Verb tables of each verbs_*.cc.
std::vector<Verb> LedgerVerbs();
std::vector<Verb> EvidenceVerbs();
std::vector<Verb> BackupVerbs();   // backup, restore (verbs_backup.cc)
std::vector<Verb> ServiceVerbs();  // serve, token (verbs_serve.cc)

// Client mode (client_verbs.cc, docs/service.md): the global flags
// --server ADDR, --token-file F, --tls-ca F, --tls-cert F, --tls-key F run a
// data verb against a server instead of a local --db.
struct RemoteFlags {
  std::string server, token_file, tls_ca, tls_cert, tls_key;
  bool active() const { return !server.empty(); }
};
// Why --db is refused in client mode, wherever it stands.
inline constexpr char kDbWithServer[] =
    "--db and --server exclude each other: the server has the ledger";
// Removes the client-mode flags from `argv` (before any "--"), filling
// `flags`; kInvalidArgument for a flag without its value. After the verb
// (looked up in `verbs`), a flag the verb declares itself stays in argv for
// it: `serve --tls-cert F --tls-key F` configures the server's TLS.
absl::StatusOr<std::vector<std::string>> TakeRemoteFlags(
    const std::vector<std::string>& argv, const std::vector<Verb>& verbs,
    RemoteFlags* flags);
// How `verb` runs against the server; empty for verbs without client mode,
// which are refused before their arguments are read.
using ClientMode = std::function<int(const RemoteFlags&, const Args&, Io&)>;
ClientMode ClientModeOf(const std::string& verb);
std::vector<Verb> ProjectionVerbs();
std::vector<Verb> BundleVerbs();  // export, verify-bundle (verbs_bundle.cc)

}  // namespace caseledger::cli

#endif  // CASELEDGER_TOOLS_CLI_H_
