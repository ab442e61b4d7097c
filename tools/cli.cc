#include "tools/cli.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"

namespace caseledger::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return kExitConflict;
    case absl::StatusCode::kDataLoss:
      return kExitCheckFailed;
    default:
      return kExitInternal;
  }
}

std::string Args::Get(const std::string& flag,
                      const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second;
}

absl::Status EmptyFlagValue(std::string_view flag,
                            std::string_view value_name) {
  return absl::InvalidArgumentError(absl::StrCat("--", AbslView(flag),
                                                 ": the value is empty; give ",
                                                 AbslView(value_name)));
}

absl::Status FlagGivenTwice(std::string_view flag, std::string_view first,
                            std::string_view second) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", AbslView(flag), " is given twice ('", AbslView(first),
                   "' and '", AbslView(second), "'); give it once"));
}

absl::StatusOr<Args> Args::Parse(const VerbSpec& spec,
                                 const std::vector<std::string>& argv) {
  Args args;
  auto find = [&](const std::string& name) -> const FlagSpec* {
    for (const FlagSpec& f : spec.flags) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || a == "-" || !absl::StartsWith(a, "--")) {
      args.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* f = find(name);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name,
                                                     " (see 'caseledger ",
                                                     spec.name, " --help')"));
    }
    if (f->value_name.empty()) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      args.values_[name] = "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", f->value_name, ")"));
      }
      value = argv[++i];
    }
    // No flag takes an empty value, and some read one as no flag at all
    // (a server took `deadlines --case ''` for every case).
    if (value.empty()) return EmptyFlagValue(name, f->value_name);
    // Which of two values was meant cannot be known: an export of the
    // wrong case must not follow from a retyped command line.
    if (auto [it, first] = args.values_.try_emplace(name, value);
        !first && it->second != value) {
      return FlagGivenTwice(name, it->second, value);
    }
  }
  int n = static_cast<int>(args.positional_.size());
  if (n < spec.min_args || n > spec.max_args) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage: caseledger ", spec.synopsis));
  }
  return args;
}

std::string DbDir(const Args& args) {
  if (args.Has("db")) return args.Get("db");
  const char* env = std::getenv("CASELEDGER_DB");
  return env != nullptr ? env : "";
}

namespace {
// '-' where a folder is named (`source`: "--db", "CASELEDGER_DB") would
// quietly make or open one called '-'.
absl::Status DashIsNoFolder(std::string_view source) {
  return absl::InvalidArgumentError(absl::StrCat(
      AbslView(source),
      ": '-' would name a folder called '-', not standard input or output; "
      "give the folder (./- if that is its name)"));
}
}  // namespace

absl::StatusOr<std::string> RequireDb(const Args& args) {
  std::string dir = DbDir(args);
  if (dir.empty()) {
    return absl::InvalidArgumentError(
        "--db DIR is required (or set CASELEDGER_DB)");
  }
  // As for --db - (DashUsedAsMeant), which checks the flag alone.
  if (dir == "-") return DashIsNoFolder("CASELEDGER_DB");
  return dir;
}

absl::StatusOr<std::unique_ptr<Ledger>> OpenForWrite(
    const Args& args, Io& io, std::optional<absl::Duration> checkpoint_every,
    std::function<void(const absl::Status&)> on_appends_refused) {
  auto dir = RequireDb(args);
  if (!dir.ok()) return dir.status();
  LedgerOptions options;
  if (checkpoint_every) options.checkpoint_every = *checkpoint_every;
  // A one-time rewrite that can take a while on a large ledger: say so
  // rather than seem to hang (docs/storage.md, "Upgrading").
  options.upgrade_progress = [&io, dir = *dir, started = false](
                                 uint64_t done, uint64_t total) mutable {
    if (!started) {
      started = true;
      io.err << "caseledger: upgrading " << dir
             << " to storage format 2 (once; about 4 s per million events)\n";
    } else if (done < total) {
      io.err << "upgrade: " << done << " of " << total << " events\n";
    } else {
      io.err << "upgrade: done, " << total << " events\n";
    }
  };
  // A writer's own checkpoints and its kept copy failed unseen until the
  // next open or `checkpoint` (found by an audit of the notes).
  options.on_background_problem = [&io, on_appends_refused](
                                      std::string_view task,
                                      const absl::Status& status) {
    if (status.GetPayload(kAppendsRefusedPayload)) {
      // A one-shot verb's next append meets the refusal and reports it;
      // printed here too, it said the same twice, or, at close, that
      // appends are refused to a verb whose appends were all synced (found
      // by a review).
      if (on_appends_refused) {
        on_appends_refused(status);
      } else {
        io.appends_refused_unmet = status;
      }
    } else if (status.ok()) {
      io.err << "caseledger: " << task << " works again" << std::endl;
    } else {
      io.err << "caseledger: warning: " << task << " failed ("
             << ForTerminal(std::string(status.message()))
             << "); appends go on, durable, and it is tried again" << std::endl;
    }
  };
  auto ledger = Ledger::Open(*dir, options);
  if (ledger.ok()) {
    if (absl::Status key = (*ledger)->CheckKeyIsPrivate(); !key.ok()) {
      io.err << "caseledger: warning: "
             << ForTerminal(std::string(key.message())) << "\n";
    }
  }
  return ledger;
}

absl::StatusOr<std::unique_ptr<Ledger>> OpenForRead(const Args& args,
                                                    LedgerOptions options) {
  auto dir = RequireDb(args);
  if (!dir.ok()) return dir.status();
  options.read_only = true;
  return Ledger::Open(*dir, options);
}

int Fail(Io& io, const std::string& verb, const absl::Status& status) {
  io.err << "caseledger " << verb << ": "
         << ForTerminal(std::string(status.message())) << "\n";
  return ExitCodeFor(status);
}

namespace {

volatile std::sig_atomic_t stop_signal = 0;
// When the first stop signal came, in milliseconds of CLOCK_MONOTONIC.
std::atomic<int64_t> first_stop_ms{0};
static_assert(std::atomic<int64_t>::is_always_lock_free,
              "a signal handler may only use lock-free atomics");

// A later signal is the user insisting, and ends the process. One sent
// twice at once is not: `timeout` signals the process and then its group,
// and the second copy, caught by another thread, ended with exit 143 an
// append already stored and printed (found by an outside reading).
constexpr int64_t kInsistingAfterMs = 500;

int64_t MonotonicMs() {
  struct timespec now {};
  ::clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

// What the first signal says (SayWhenCaught), one line for each signal,
// written whole by the handler with write(2), which is async-signal-safe.
struct CaughtLine {
  char text[512];
  std::atomic<size_t> length{0};  // 0: nothing to say
};
CaughtLine caught_int, caught_term, caught_again;

void Say(const CaughtLine& line) {
  if (const size_t length = line.length.load(); length > 0) {
    const ssize_t written = ::write(STDERR_FILENO, line.text, length);
    (void)written;  // nothing to be done about a failed write here
  }
}

void CatchStopSignal(int signal_number) {
  const int64_t now = MonotonicMs();
  // Two threads may catch the two copies at once: one of them is first.
  int64_t first = 0;
  if (first_stop_ms.compare_exchange_strong(first, now)) {
    stop_signal = signal_number;
    Say(signal_number == SIGTERM ? caught_term : caught_int);
    return;
  }
  if (now - first < kInsistingAfterMs) return;
  Say(caught_again);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

}  // namespace

StopSignals::StopSignals() {
  stop_signal = 0;
  first_stop_ms = 0;
  caught_int.length = 0;
  caught_term.length = 0;
  caught_again.length = 0;
  struct sigaction catching {};
  catching.sa_handler = CatchStopSignal;
  sigemptyset(&catching.sa_mask);
  // Reads and syncs in progress carry on rather than fail with EINTR.
  catching.sa_flags = SA_RESTART;
  // A signal ignored on entry stays ignored: a shell starts background
  // jobs so, that Ctrl-C meant for the foreground spares them.
  for (auto [signal_number, previous] :
       {std::pair{SIGINT, &previous_int_}, {SIGTERM, &previous_term_}}) {
    sigaction(signal_number, nullptr, previous);
    if (previous->sa_handler != SIG_IGN) {
      sigaction(signal_number, &catching, nullptr);
    }
  }
}

StopSignals::~StopSignals() {
  if (hold_until_exit_) return;
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

int StopSignals::received() const { return stop_signal; }

void StopSignals::SayWhenCaught(std::string_view verb, std::string_view doing,
                                std::string_view left) {
  auto keep = [](CaughtLine& line, const std::string& text) {
    line.length = 0;
    const size_t length = std::min(text.size(), sizeof(line.text));
    std::memcpy(line.text, text.data(), length);
    line.length = length;
  };
  for (auto [line, name] :
       {std::pair{&caught_int, "SIGINT"}, std::pair{&caught_term, "SIGTERM"}}) {
    keep(*line, absl::StrCat("caseledger ", AbslView(verb), ": ", name,
                             " received; ", AbslView(doing), "\n"));
  }
  keep(caught_again,
       absl::StrCat("caseledger ", AbslView(verb),
                    ": ended by a second stop signal; ", AbslView(left), "\n"));
}

std::string StopSignals::received_name() const {
  return received() == SIGTERM ? "SIGTERM" : "SIGINT";
}

int UsageError(Io& io, const std::string& verb, const std::string& message) {
  io.err << "caseledger " << verb << ": " << ForTerminal(message) << "\n";
  return kExitUsage;
}

absl::StatusOr<bool> WantsJson(const Args& args) {
  std::string f = args.Get("format", "text");
  if (f == "json") return true;
  if (f == "text") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: '", f, "' is not json or text"));
}

namespace {

absl::StatusOr<std::string> ReadFlagPath(const std::string& flag,
                                         const std::string& path, Io& io) {
  auto text = ReadInput(path, io);
  if (!text.ok()) {
    return absl::Status(
        text.status().code(),
        absl::StrCat("--", flag, ": ", text.status().message()));
  }
  return text;
}

}  // namespace

absl::StatusOr<std::string> ReadFlagFile(const Args& args,
                                         const std::string& flag, Io& io) {
  return ReadFlagPath(flag, args.Get(flag), io);
}

namespace {

// The refusal of an empty file given to --flag at `path`, which must hold
// `what`.
absl::Status EmptyFlagFile(const std::string& flag, const std::string& path,
                           std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", path == "-" ? "standard input" : path,
                   " is empty; it must hold ", AbslView(what)));
}

}  // namespace

absl::StatusOr<std::string> ReadPemFile(const std::string& flag,
                                        const std::string& path, Io& io) {
  auto text = ReadFlagPath(flag, path, io);
  if (!text.ok()) return text.status();
  // An empty certificate or CA file left TLS, or the client's check, off
  // without a word, and a client sent its token in the clear (found by an
  // adversarial test).
  if (text->empty()) {
    return EmptyFlagFile(flag, path,
                         "PEM text (TLS is not left off for an empty file)");
  }
  return text;
}

absl::StatusOr<VerifierKey> PubkeyFlag(const Args& args, Io& io) {
  CASELEDGER_ASSIGN_OR_RETURN(std::string text,
                              ReadFlagFile(args, "pubkey", io));
  // An empty file was "not <name>+<key id>+<base64 key>", which did not say
  // that nothing was there (found by an outside test).
  if (absl::StripAsciiWhitespace(text).empty()) {
    return EmptyFlagFile(
        "pubkey", args.Get("pubkey"),
        "the ledger's verifier key, the line 'caseledger key' prints");
  }
  auto key = ParseVerifierKey(text);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("--pubkey: ", key.status().message()));
  }
  return key;
}

absl::StatusOr<std::optional<VerifierKey>> PubkeyFlagIfGiven(const Args& args,
                                                             Io& io) {
  if (!args.Has("pubkey")) return std::nullopt;
  CASELEDGER_ASSIGN_OR_RETURN(VerifierKey key, PubkeyFlag(args, io));
  return std::optional<VerifierKey>(std::move(key));
}

absl::StatusOr<Checkpoint> CheckpointSignedBy(std::string_view note,
                                              const VerifierKey& key) {
  auto body = VerifyNote(note, key);
  if (!body.ok()) {
    // Keeps the code: a signature that does not verify (kDataLoss) is a
    // failed check, a note that does not parse is bad input.
    return absl::Status(body.status().code(),
                        absl::StrCat("not a checkpoint signed by ", key.name,
                                     ": ", body.status().message()));
  }
  // Past the signature the text is the key's word: one that is not a
  // checkpoint is a failed check like a signature that does not verify (it
  // said "bad input", exit 2, where a forged checkpoint of another ledger
  // said exit 1; found by an audit).
  auto checkpoint = ParseCheckpointBody(*body);
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat(
        "signed by ", key.name,
        ", yet not a checkpoint: ", checkpoint.status().message()));
  }
  return checkpoint;
}

// A backup stopped before its copy was renamed leaves NAME.partial, which
// verifies once its store and key are copied, though what is copied after
// them may be missing; nothing said so (found by an outside reading, and in
// `verify` by an adversarial test).
std::string UnfinishedCopyNote(const std::string& dir) {
  if (!Ledger::NamedAsUnfinishedCopy(dir)) return "";
  return absl::StrCat(
      "NOTE ", dir,
      " is named as the unfinished copy of a backup that stopped before it "
      "was renamed: the access log, copied after the store and key, may be "
      "missing from it; a finished backup is the better record\n");
}

std::string UnsignedEntriesNote(uint64_t signed_size, uint64_t entries) {
  if (signed_size >= entries) return "";
  return absl::StrCat(
      "NOTE entries ", signed_size + 1, " to ", entries,
      " come after the last signed checkpoint",
      signed_size == 0 ? "" : absl::StrCat(" (size ", signed_size, ")"));
}

namespace {

// kInvalidArgument unless `path` names something this process may read
// that is not a folder. A folder opens as a stream that reads as empty,
// which would pass for an empty file. Nothing is opened: a named pipe
// opened only to check it would block, or lose what its writer sent.
absl::Status CheckReadable(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": it is a folder"));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadInput(const std::string& path, Io& io,
                                      uint64_t max_bytes, std::string_view over,
                                      const InputStart& start) {
  std::ifstream file;
  std::istream* in = &io.in;
  if (path != "-") {
    CASELEDGER_RETURN_IF_ERROR(CheckReadable(path));
    file.open(path, std::ios::binary);
    if (!file) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    in = &file;
  }
  auto too_large = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(path == "-" ? "standard input" : path, ": more than ",
                     max_bytes, " bytes", std::string(over)));
  };
  std::string text;
  // A file's size is known: one too large is refused before it is read (up
  // to the bound first: a 300 MB message took 0.5 s and 308 MB to refuse;
  // found by an audit), and room for one that is not is made at once, where
  // growing by doubling held up to twice its size while reading (a 200 MB
  // bundle failed to be read under a 600 MB memory limit; an adversarial
  // reading).
  std::error_code ec;
  if (path != "-" && std::filesystem::is_regular_file(path, ec)) {
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > max_bytes) return too_large();
    if (!ec) text.reserve(size);
  }
  if (start.check) {
    text.resize(std::min<uint64_t>(start.bytes, max_bytes));
    in->read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in->gcount()));
    if (!in->bad()) CASELEDGER_RETURN_IF_ERROR(start.check(text));
  }
  char chunk[1 << 16];
  while (*in) {
    in->read(chunk, sizeof chunk);
    const size_t got = static_cast<size_t>(in->gcount());
    // Refused before the bytes past the bound are kept: the string would
    // double its room to take them (2 GiB held for a 1 GiB bound; found by
    // an outside reading).
    if (text.size() + got > max_bytes) return too_large();
    text.append(chunk, got);
  }
  if (in->bad()) {
    return absl::InvalidArgumentError(absl::StrCat("error reading ", path));
  }
  return text;
}

absl::Status CheckFilesToAttach(const Args& args) {
  const std::vector<std::string>& paths = args.positional();
  for (const std::string& path : paths) {
    if (path == "-") {
      if (paths.size() > 1) {
        return absl::InvalidArgumentError(
            "- (standard input) can only be attached alone");
      }
      continue;
    }
    // Devices and pipes (/dev/stdin, <(...)) are read once, later.
    CASELEDGER_RETURN_IF_ERROR(CheckReadable(path));
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::is_regular_file(status) &&
        std::filesystem::file_size(path, ec) == 0 && !ec) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is empty"));
    }
  }
  return absl::OkStatus();
}

int AttachFiles(
    const Args& args, Io& io,
    const std::function<absl::Status(std::string_view bytes)>& check,
    const std::function<absl::StatusOr<std::string>(std::string_view bytes)>&
        store) {
  const std::vector<std::string>& paths = args.positional();
  // "PATH: problem" when there are several files, to say which one.
  auto named = [&](const std::string& path, const absl::Status& status) {
    return paths.size() == 1
               ? status
               : absl::Status(status.code(),
                              absl::StrCat(path, ": ", status.message()));
  };
  // Every file is read and checked before any is stored, so that a refused
  // one leaves nothing stored (a device read empty, or the ledger's key, was
  // found only after the files before it were stored: an outside reading).
  // A file is read again to be stored, and must not have changed: what
  // can be read only once (standard input, a pipe, a device) is held, up to
  // kMaxAttachedBytesInAll in all, so that memory holds one file, not all.
  auto read = [&](const std::string& path) {
    return ReadInput(path, io, kMaxAttachedMessageBytes,
                     "; a message stored beside the log holds at most 256 "
                     "MiB");
  };
  struct Checked {
    std::optional<Sha256Digest> file_digest;  // a file, to be read again
    std::string held;                         // what is read only once
  };
  std::vector<Checked> checked(paths.size());
  uint64_t held = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    absl::StatusOr<std::string> bytes = read(path);
    if (!bytes.ok()) return Fail(io, "attach", bytes.status());
    if (bytes->empty()) {
      return Fail(io, "attach",
                  absl::InvalidArgumentError(absl::StrCat(path, " is empty")));
    }
    if (absl::Status ok = check(*bytes); !ok.ok()) {
      return Fail(io, "attach", named(path, ok));
    }
    // The last file is kept as read: holding it costs no more than reading
    // it again would.
    std::error_code ec;
    const bool file = path != "-" && std::filesystem::is_regular_file(path, ec);
    if (file && i + 1 < paths.size()) {
      checked[i].file_digest = Sha256(*bytes);
      continue;
    }
    if (!file) held += bytes->size();
    if (held > kMaxAttachedBytesInAll) {
      return Fail(io, "attach",
                  absl::InvalidArgumentError(absl::StrCat(
                      "the pipes and devices up to ", path,
                      " come to more than ", kMaxAttachedBytesInAll,
                      " bytes, more than one attach holds in memory (files "
                      "are read again, not held): attach them in several "
                      "calls")));
    }
    checked[i].held = *std::move(bytes);
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    absl::StatusOr<std::string> sha256 = [&]() -> absl::StatusOr<std::string> {
      if (!checked[i].file_digest) return store(checked[i].held);
      CASELEDGER_ASSIGN_OR_RETURN(std::string bytes, read(path));
      if (Sha256(bytes) != *checked[i].file_digest) {
        return absl::FailedPreconditionError(
            "the file changed between its check and its storing; attach it "
            "again once nothing writes it");
      }
      return store(bytes);
    }();
    // Only what no check before could see: a server's refusal, a failed
    // write, a file changed meanwhile.
    if (!sha256.ok()) {
      absl::Status failed = named(path, sha256.status());
      return Fail(io, "attach",
                  i == 0 ? failed
                         : absl::Status(
                               failed.code(),
                               absl::StrCat(
                                   failed.message(),
                                   i == 1 ? " (the file before it is stored)"
                                          : absl::StrCat(" (the ", i,
                                                         " files before it are "
                                                         "stored)"))));
    }
    std::string().swap(checked[i].held);
    if (paths.size() == 1) {
      io.out << *sha256 << "\n";
      continue;
    }
    // As sha256sum writes a name holding a line break or a backslash (which
    // would otherwise forge a line of the list): escaped, the line marked by
    // a leading backslash.
    std::string name;
    for (char c : path) {
      if (c == '\n') {
        name += "\\n";
      } else if (c == '\r') {
        name += "\\r";
      } else if (c == '\\') {
        name += "\\\\";
      } else {
        name += c;
      }
    }
    io.out << (name.size() == path.size() ? "" : "\\") << *sha256 << "  "
           << name << "\n";
  }
  return kExitOk;
}

namespace {

std::vector<Verb> AllVerbs() {
  std::vector<Verb> verbs = LedgerVerbs();
  for (auto* more : {&ProjectionVerbs, &EvidenceVerbs, &BundleVerbs,
                     &BackupVerbs, &ServiceVerbs}) {
    for (Verb& v : more()) verbs.push_back(std::move(v));
  }
  return verbs;
}

void PrintVerbHelp(const VerbSpec& spec, std::ostream& out) {
  out << "usage: caseledger " << spec.synopsis << "\n\n"
      << spec.summary << "\n";
  if (!spec.flags.empty()) out << "\nflags:\n";
  for (const FlagSpec& f : spec.flags) {
    std::string left = absl::StrCat(
        "  --", f.name, f.value_name.empty() ? "" : " ", f.value_name);
    out << left << std::string(left.size() < 28 ? 28 - left.size() : 1, ' ')
        << f.help << "\n";
  }
  out << "\nexit codes: 0 ok, 1 check failed, 2 bad usage or input, "
         "3 conflict, 4 internal or storage error\n";
}

// The summary's first sentence, on one line.
std::string Brief(std::string summary) {
  std::replace(summary.begin(), summary.end(), '\n', ' ');
  size_t end = summary.find(". ");
  return end == std::string::npos ? summary : summary.substr(0, end + 1);
}

void PrintHelp(const std::vector<Verb>& verbs, std::ostream& out) {
  out << "caseledger: the audit ledger of email communications of "
         "immigration case files\n\n"
         "usage: caseledger <verb> [flags] [args]   (caseledger <verb> "
         "--help for details)\n\nverbs:\n";
  for (const Verb& v : verbs) {
    std::string left = absl::StrCat("  ", v.spec.name);
    out << left << std::string(left.size() < 16 ? 16 - left.size() : 1, ' ')
        << Brief(v.spec.summary) << "\n";
  }
  out << "\nEvery verb takes --db DIR, the ledger folder (default: "
         "$CASELEDGER_DB; demo makes\na new folder unless given --db). "
         "verify-bundle and token open no ledger.\n";
  out << "Client mode (docs/service.md): caseledger --server HOST:PORT "
         "--token-file FILE\n[--tls-ca FILE [--tls-cert FILE --tls-key FILE]] "
         "VERB ... runs attach, append, import,\nread, timeline, state, "
         "deadlines, findings, export, checkpoint, prove or backup\nagainst a "
         "server.\n";
}

// The least address space (ulimit -v) a verb is started with. RocksDB and
// the allocator reserve address space for each thread and cache, and a
// thread RocksDB cannot start ends the process (std::system_error, exit
// 134) wherever it is, after "appended" was printed or before (found by an
// audit). On a small ledger read, verify and append need ~230 MiB and
// export ~345 MiB; larger ledgers need more.
constexpr rlim_t kLeastAddressSpace = rlim_t{512} << 20;

// kResourceExhausted when ulimit -v is below kLeastAddressSpace.
absl::Status CheckAddressSpace() {
  struct rlimit space;
  if (::getrlimit(RLIMIT_AS, &space) != 0 || space.rlim_cur == RLIM_INFINITY ||
      space.rlim_cur >= kLeastAddressSpace) {
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "the address-space limit (ulimit -v) is ", space.rlim_cur >> 20,
      " MiB; caseledger needs at least ", kLeastAddressSpace >> 20,
      " MiB (its storage engine reserves address space for threads and "
      "caches, and a thread it cannot start ends the process mid-command); "
      "nothing was done: raise the limit"));
}

// kInvalidArgument when '-' is given where it cannot stand for a standard
// stream: as a folder (--db -, backup --to -) it would quietly make or open
// one named '-'; for two inputs of one verb (--pubkey - --checkpoint -) the
// first would read standard input whole and the second blame its own empty
// input. Said before anything is read or made.
absl::Status DashUsedAsMeant(const VerbSpec& spec, const Args& args,
                             const RemoteFlags& remote) {
  std::vector<std::string> readers;
  for (const auto& [flag, value] :
       {std::pair{"--token-file", &remote.token_file},
        std::pair{"--tls-ca", &remote.tls_ca},
        std::pair{"--tls-cert", &remote.tls_cert},
        std::pair{"--tls-key", &remote.tls_key}}) {
    if (*value == "-") readers.push_back(flag);
  }
  if (absl::c_linear_search(args.positional(), "-")) readers.push_back("FILE");
  for (const FlagSpec& flag : spec.flags) {
    if (args.Get(flag.name) != "-") continue;
    if (flag.value_name == "DIR" || flag.value_name == "BACKUP") {
      return DashIsNoFolder(absl::StrCat("--", flag.name));
    }
    if (absl::EndsWith(flag.value_name, "FILE") && !flag.written) {
      readers.push_back(absl::StrCat("--", flag.name));
    }
  }
  if (readers.size() < 2) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "'-' (standard input) is given for ", absl::StrJoin(readers, " and "),
      ", and it can be read only once: give all but one as files"));
}

// `code`, unless what the verb printed did not all reach standard output
// (a full disk under `read > file`, /dev/full): then says so and fails, so
// that a script does not take a cut-short listing or document for the whole
// of it. The ledger's side of the command is done by then either way; what
// `opened_ledger` says is whether there was one.
int WithOutputChecked(Io& io, const std::string& verb, int code,
                      bool opened_ledger) {
  io.out.flush();
  if (io.out.good()) return code;
  // No reason is given: errno holds it only when the last write failed, and
  // a write past C's 4 KiB buffer fails in the middle of the verb.
  io.err << "caseledger " << verb
         << ": standard output could not be written; what this command "
            "printed is cut short"
         << (opened_ledger ? " (what it did to the ledger stands)" : "")
         << "\n";
  return code == kExitOk ? kExitInternal : code;
}

// NAME for a `word` that is `--NAME` or `--NAME=VALUE`; empty otherwise.
std::string_view FlagName(std::string_view word) {
  if (!word.starts_with("--")) return "";
  return word.substr(2, word.find('=') - 2);
}

// Whether `name` names a flag some verb takes.
bool IsAVerbsFlag(const std::vector<Verb>& verbs, std::string_view name) {
  if (name.empty()) return false;
  if (name == "db") return true;
  return absl::c_any_of(verbs, [&](const Verb& verb) {
    return absl::c_any_of(verb.spec.flags,
                          [&](const auto& flag) { return flag.name == name; });
  });
}

}  // namespace

int Main(const std::vector<std::string>& all_argv, Io& io) {
  std::vector<Verb> verbs = AllVerbs();
  RemoteFlags remote;
  auto remote_argv = TakeRemoteFlags(all_argv, verbs, &remote);
  if (!remote_argv.ok()) {
    io.err << "caseledger: "
           << ForTerminal(std::string(remote_argv.status().message())) << "\n";
    return kExitUsage;
  }
  const std::vector<std::string>& argv = *remote_argv;
  if (argv.empty()) {
    PrintHelp(verbs, io.err);
    return kExitUsage;
  }
  if (argv[0] == "--version") {
    io.out << "caseledger " << CASELEDGER_VERSION << "\n";
    return WithOutputChecked(io, "--version", kExitOk, false);
  }
  if (argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    // `caseledger help VERB` is how git and go ask for a verb's help.
    if (argv.size() > 1 && argv[0] == "help") {
      auto verb = absl::c_find_if(
          verbs, [&](const Verb& v) { return v.spec.name == argv[1]; });
      if (verb == verbs.end()) {
        io.err << "caseledger help: no verb named '" << ForTerminal(argv[1])
               << "' (caseledger help lists them)\n";
        return kExitUsage;
      }
      if (argv.size() > 2) {
        io.err << "caseledger help: give one verb, not " << ForTerminal(argv[2])
               << " too\n";
        return kExitUsage;
      }
      PrintVerbHelp(verb->spec, io.out);
      return WithOutputChecked(io, verb->spec.name, kExitOk, false);
    }
    PrintHelp(verbs, io.out);
    return WithOutputChecked(io, "--help", kExitOk, false);
  }
  for (Verb& verb : verbs) {
    if (verb.spec.name != argv[0]) continue;
    std::vector<std::string> rest(argv.begin() + 1, argv.end());
    for (const std::string& a : rest) {
      if (a == "--help" || a == "-h") {
        PrintVerbHelp(verb.spec, io.out);
        return WithOutputChecked(io, verb.spec.name, kExitOk, false);
      }
    }
    // A verb that cannot run here is refused before its arguments are
    // read: its usage would only mislead.
    ClientMode client_mode;
    if (remote.active()) {
      // "has no client mode: run it where the ledger is" misled for a verb
      // that reads no ledger anywhere.
      if (!verb.spec.opens_no_ledger.empty()) {
        return UsageError(
            io, verb.spec.name,
            absl::StrCat("reads no ledger, so it runs without --server: ",
                         verb.spec.opens_no_ledger));
      }
      client_mode = ClientModeOf(verb.spec.name);
      if (!client_mode) {
        return UsageError(
            io, verb.spec.name,
            "has no client mode: run it where the ledger is, without "
            "--server");
      }
    }
    verb.spec.flags.push_back(
        {"db", "DIR", "the ledger folder (default: $CASELEDGER_DB)"});
    auto args = Args::Parse(verb.spec, rest);
    if (!args.ok()) {
      return UsageError(io, verb.spec.name,
                        std::string(args.status().message()));
    }
    if (args->Has("db") && !verb.spec.opens_no_ledger.empty()) {
      io.err << "caseledger " << verb.spec.name
             << ": --db is not used: " << verb.spec.opens_no_ledger << "\n";
    }
    if (absl::Status dash = DashUsedAsMeant(verb.spec, *args, remote);
        !dash.ok()) {
      return UsageError(io, verb.spec.name, std::string(dash.message()));
    }
    if (absl::Status space = CheckAddressSpace(); !space.ok()) {
      return Fail(io, verb.spec.name, space);
    }
    const int code =
        client_mode ? client_mode(remote, *args, io) : verb.run(*args, io);
    // A verb that failed reported the refusal, or failed before it; one
    // that succeeded said nothing of a disk that failed it at the end.
    if (code == kExitOk && io.appends_refused_unmet) {
      io.err << "caseledger " << verb.spec.name
             << ": warning: a write failed after this command's work was "
                "stored: "
             << ForTerminal(std::string(io.appends_refused_unmet->message()))
             << "; its work is durable, and the next open takes the ledger "
                "as it is, but check the disk\n";
    }
    return WithOutputChecked(io, verb.spec.name, code,
                             verb.spec.opens_no_ledger.empty());
  }
  const std::string_view flag = FlagName(argv[0]);
  if (remote.active() && flag == "db") {
    // Moved after the verb, it would be refused for this reason anyway.
    io.err << "caseledger: " << kDbWithServer << "\n";
    return kExitUsage;
  }
  if (IsAVerbsFlag(verbs, flag)) {
    // `caseledger --db DIR state` read as a verb named "--db" said nothing
    // of where the flag belongs.
    io.err << "caseledger: " << ForTerminal(argv[0])
           << " comes after the verb (caseledger VERB " << ForTerminal(argv[0])
           << " ...); before it come only the client flags --server, "
              "--token-file, --tls-ca, --tls-cert and --tls-key "
              "(caseledger --help)\n";
    return kExitUsage;
  }
  io.err << "caseledger: unknown verb '" << ForTerminal(argv[0])
         << "' (caseledger --help lists them)\n";
  return kExitUsage;
}

}  // namespace caseledger::cli
