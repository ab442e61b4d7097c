// Verbs of the network service: serve and token (docs/service.md).
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "ledger/file_sync.h"
#include "ledger/untrusted_text.h"
#include "projections/deadline_index.h"
#include "tools/cli.h"
#include "tools/output.h"
#include "tools/server/access_log.h"
#include "tools/server/bundles.h"
#include "tools/server/projections.h"
#include "tools/server/server.h"
#include "tools/server/tokens.h"

namespace caseledger::cli {

namespace {

constexpr char kDefaultListen[] = "127.0.0.1:7420";

absl::StatusOr<std::string> ReadPem(const Args& args, const std::string& flag,
                                    Io& io) {
  if (!args.Has(flag)) return std::string();
  return ReadPemFile(flag, args.Get(flag), io);
}

// File descriptors below which serve warns: the ledger's table files take
// a few dozen to a few hundred, and each connection and stream one more.
constexpr rlim_t kFewFileDescriptors = 1024;

// gRPC 1.51 stops accepting connections for good once an accept fails for
// want of a file descriptor (found by an audit under ulimit -n 64): warns
// when the descriptors the hard limit allows, which main() takes, are few.
void WarnOfFewFileDescriptors(Io& io) {
  struct rlimit files;
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  if (files.rlim_cur < kFewFileDescriptors) {
    io.err << "caseledger serve: warning: only " << files.rlim_cur
           << " file descriptors (ulimit -n); each connection takes one, and "
              "once they run out the server may accept no more connections "
              "until restarted\n";
  }
}

// --backup-dir: an existing folder outside the ledger's, so that a backup
// survives the loss of the ledger folder. "" when the flag is not given.
absl::StatusOr<std::string> BackupDir(const Args& args) {
  namespace fs = std::filesystem;
  if (!args.Has("backup-dir")) return std::string();
  const std::string dir = args.Get("backup-dir");
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--backup-dir: '", dir, "' is not a folder; create it first"));
  }
  if (absl::Status outside = Ledger::CheckOutsideLedger(dir, DbDir(args));
      !outside.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backup-dir: ", outside.message()));
  }
  return dir;
}

// A flag counting seconds: a finite number, at least `least`; `fallback`
// when the flag is absent.
absl::StatusOr<absl::Duration> SecondsFlag(const Args& args, const char* flag,
                                           double fallback, double least) {
  double seconds = fallback;
  if (args.Has(flag) && (!absl::SimpleAtod(args.Get(flag), &seconds) ||
                         !std::isfinite(seconds) || seconds < least)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": '", args.Get(flag), "' is not ",
        least >= 1  ? absl::StrCat("a number of seconds from ", least)
        : least > 0 ? "a positive number of seconds"
                    : "a number of seconds"));
  }
  return absl::Seconds(seconds);
}

// The server appends without advancing the stored deadline index, so
// "every request overdue on D" folds in the events past it: left to the
// stop, that tail grew with every call of a run of months (found by an
// audit). This takes it up every `every` while the server runs.
class DeadlineIndexTakesUpAppends {
 public:
  // `warned`: the failure of a catch-up just before was said already.
  DeadlineIndexTakesUpAppends(Ledger& ledger, absl::Duration every, Io& io,
                              bool warned)
      : thread_([this, &ledger, every, &io, warned]() mutable {
          while (!stop_.WaitForNotificationWithTimeout(every)) {
            auto indexed = projections::DeadlineIndex::CatchUp(ledger);
            // Once per spell of failures (a ledger refusing writes fails
            // every time), not every `every`.
            if (indexed.ok()) {
              warned = false;
            } else if (!warned) {
              warned = true;
              io.err << "caseledger serve: warning: deadline index not "
                        "updated: "
                     << indexed.status().message()
                     << " (tried again while the server runs and as it stops"
                     << (absl::StrContains(indexed.status().message(),
                                           "caseledger rebuild")
                             ? ")"
                             : "; 'caseledger rebuild' mends it)")
                     << std::endl;
            }
          }
        }) {}
  ~DeadlineIndexTakesUpAppends() {
    stop_.Notify();
    thread_.join();
  }

 private:
  absl::Notification stop_;
  std::thread thread_;
};

int Serve(const Args& args, Io& io) {
  // Block the stop signals before any thread starts (the ledger's
  // sequencer, gRPC's pollers), so that only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // The terminal it ran in closing: a stop like any other, not an end
  // without the drain, the index's take-up and the final checkpoint (it
  // exited 129 at once; found by an audit).
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (!args.Has("tokens")) {
    return UsageError(io, "serve", "--tokens FILE is required");
  }
  WarnOfFewFileDescriptors(io);
  auto tokens = server::TokenTable::Load(args.Get("tokens"));
  if (!tokens.ok()) return Fail(io, "serve", tokens.status());
  if (tokens->size() == 0) {
    io.err << "caseledger serve: warning: " << args.Get("tokens")
           << " lists no tokens; every call will be refused\n";
  }
  server::ServerOptions options;
  options.listen = args.Get("listen", kDefaultListen);
  for (auto [flag, pem, named] :
       {std::tuple{"tls-cert", &options.tls_cert_pem, &options.tls_cert_named},
        std::tuple{"tls-key", &options.tls_key_pem, &options.tls_key_named},
        std::tuple{"client-ca", &options.tls_client_ca_pem,
                   &options.tls_client_ca_named}}) {
    auto text = ReadPem(args, flag, io);
    if (!text.ok()) return Fail(io, "serve", text.status());
    *pem = *text;
    if (args.Has(flag)) *named = absl::StrCat("--", flag, " ", args.Get(flag));
  }
  auto grace = SecondsFlag(args, "grace", 30, 0);
  if (!grace.ok()) {
    return UsageError(io, "serve", std::string(grace.status().message()));
  }
  auto index_every = SecondsFlag(args, "index-every", 10, 0.001);
  if (!index_every.ok()) {
    return UsageError(io, "serve", std::string(index_every.status().message()));
  }
  // At most one a second: each is a note the store keeps and verify reads.
  auto checkpoint_every = SecondsFlag(args, "checkpoint-every", 60, 1);
  if (!checkpoint_every.ok()) {
    return UsageError(io, "serve",
                      std::string(checkpoint_every.status().message()));
  }

  // Bad flags are refused before the ledger and its access log are opened,
  // so that they leave nothing behind.
  if (absl::Status s = server::Server::CheckListenOptions(options); !s.ok()) {
    return Fail(io, "serve", s);
  }
  auto backup_dir = BackupDir(args);
  if (!backup_dir.ok()) return Fail(io, "serve", backup_dir.status());
  options.service.backup_dir = *backup_dir;
  if (args.Has("access-log")) {
    if (absl::Status s = server::AccessLog::CheckPath(args.Get("access-log"));
        !s.ok()) {
      return Fail(io, "serve", s);
    }
  }
  // The ledger may come to refuse appends outside any call (its own sync of
  // the log failed): the health service says so then, not at the next
  // append. Before the server starts, Start reads it from the ledger.
  std::atomic<server::Server*> serving{nullptr};
  auto ledger = OpenForWrite(args, io, *checkpoint_every,
                             [&serving](const absl::Status& why) {
                               if (server::Server* s = serving.load()) {
                                 s->AppendsRefused(why);
                               }
                             });
  if (!ledger.ok()) return Fail(io, "serve", ledger.status());
  // The server appends without advancing the deadline index (readers fold
  // in the events past it); a server killed before its own catch-up below
  // leaves that tail, which this one takes up before serving.
  const bool indexed = CatchUpDeadlineIndex(**ledger, "serve", io);
  std::string log_path = args.Get(
      "access-log",
      (std::filesystem::path(DbDir(args)) / server::kAccessLogFile).string());
  // A failed start removes only a log it made. A failed look, and a link
  // that leads nowhere yet (the open makes its target), count as one there
  // before: read as "none", both had the name removed (found by an audit).
  const bool log_existed = NameTaken(log_path).value_or(true);
  auto access_log = server::AccessLog::Open(log_path, &SystemClock());
  if (!access_log.ok()) return Fail(io, "serve", access_log.status());
  if (const uint64_t cut = (*access_log)->BytesCutAtOpen(); cut > 0) {
    io.err << "caseledger serve: access log " << log_path << " ended with "
           << Counted(cut, "byte", "bytes")
           << " of a record that a crash or kill cut short (its access was "
              "never granted); they were cut off"
           << std::endl;
  }

  options.service.ledger = ledger->get();
  options.service.tokens = &*tokens;
  options.service.access_log = access_log->get();
  options.service.clock = &SystemClock();
  auto projections = server::NewProjectionRenderer(&SystemClock());
  options.service.projections = projections.get();
  auto bundles = server::NewBundleExporter(&SystemClock());
  options.service.bundles = bundles.get();
  std::once_flag told_refusal;  // outlives the server, as io does
  options.service.on_appends_refused =
      [&io, &told_refusal](const absl::Status& why) {
        std::call_once(told_refusal, [&] {
          io.err << "caseledger serve: the ledger refuses appends until the "
                    "server is restarted (health: NOT_SERVING): "
                 << why.message() << std::endl;
        });
      };
  // Said at each change: while the log fails, reads are refused and
  // refusals go unrecorded, which only the clients' errors showed (found by
  // an audit).
  options.service.on_access_log = [&io](const absl::Status& now) {
    if (now.ok()) {
      io.err << "caseledger serve: the access log takes records again"
             << std::endl;
    } else {
      io.err << "caseledger serve: the access log cannot be written ("
             << now.message()
             << "): reads, exports and backups are refused, and refusals go "
                "unrecorded, until it can"
             << std::endl;
    }
  };
  // Said, so that TLS left off by mistake shows (found by an adversarial
  // test: nothing told the modes apart).
  const char* transport = options.tls_cert_pem.empty() ? "plaintext (no TLS)"
                          : options.tls_client_ca_pem.empty()
                              ? "TLS"
                              : "mutual TLS (client certificates "
                                "required)";
  auto server = server::Server::Start(std::move(options));
  if (!server.ok()) {
    // Nothing was served: a log this start created records nothing.
    access_log->reset();
    std::error_code ec;
    if (!log_existed) std::filesystem::remove(log_path, ec);
    return Fail(io, "serve", server.status());
  }
  serving.store(server->get());
  // Refused between Start's look and the line above, it was told nowhere.
  if (absl::Status refused = (*ledger)->AcceptsAppends(); !refused.ok()) {
    (*server)->AppendsRefused(refused);
  }
  io.err << "caseledger serve: ledger " << DbDir(args) << " ("
         << Counted((*ledger)->Size(), "entry", "entries") << "), "
         << Counted(tokens->size(), "token", "tokens") << ", access log "
         << log_path << ", " << transport << "\n";
  std::optional<DeadlineIndexTakesUpAppends> index_keeps_up;
  // Said once at the start, not again at the first tick (found by an
  // adversarial test).
  index_keeps_up.emplace(**ledger, *index_every, io, /*warned=*/!indexed);
  io.out << "listening on " << (*server)->address() << std::endl;
  // What waits for that line (a script, a supervisor) would wait forever
  // for a server that runs (found by an adversarial test).
  if (!io.out) {
    io.err << "caseledger serve: standard output could not be written; "
              "listening on "
           << (*server)->address() << std::endl;
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  io.err << "caseledger serve: "
         << (signal_number == SIGTERM  ? "SIGTERM"
             : signal_number == SIGHUP ? "SIGHUP"
                                       : "SIGINT")
         << ": no new calls; finishing the calls in flight\n";
  (*server)->Shutdown(*grace);
  // What the ledger's close meets is not the stopped server's to tell.
  serving.store(nullptr);
  // What the last calls appended, once no call can append more.
  index_keeps_up.reset();
  CatchUpDeadlineIndex(**ledger, "serve", io);
  uint64_t size = (*ledger)->Size();
  const absl::Status accepts = (*ledger)->AcceptsAppends();
  // Closing the ledger drains the sequencer (every acknowledged append was
  // synced before its acknowledgment) and signs a final checkpoint.
  ledger->reset();
  io.err << "caseledger serve: stopped; ledger size " << size << "\n";
  // A server whose ledger refused appends since a failed write (its folder
  // removed under it, a full disk) stopped in that state: exit 0 told a
  // service manager all was well (found by an outside reading).
  if (!accepts.ok()) {
    io.err << "caseledger serve: the ledger refused appends when it stopped: "
           << ForTerminal(std::string(accepts.message())) << "\n";
    return ExitCodeFor(accepts);
  }
  return kExitOk;
}

int Token(const Args& args, Io& io) {
  if (!args.Has("role") || !args.Has("name")) {
    return UsageError(io, "token", "--role ROLE and --name NAME are required");
  }
  auto role = server::ParseRole(args.Get("role"));
  if (!role.ok()) return Fail(io, "token", role.status());
  std::string name = args.Get("name");
  if (absl::Status word = server::CheckHolderName(name); !word.ok()) {
    return UsageError(io, "token", absl::StrCat("--name: ", word.message()));
  }
  auto token = server::NewToken();
  if (!token.ok()) return Fail(io, "token", token.status());
  io.out << *token << "\n"
         << server::TokenFileLine(*role, name, *token) << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Verb> ServiceVerbs() {
  return {
      {{"serve",
        "serve --db DIR --tokens FILE [--listen HOST:PORT] [--backup-dir DIR] "
        "[--tls-cert F --tls-key F [--client-ca F]] [--access-log FILE] "
        "[--grace SECONDS] [--index-every SECONDS] "
        "[--checkpoint-every SECONDS]",
        "Run the network service (gRPC caseledger.v1.Ledger and the standard "
        "health\nservice) until SIGTERM, SIGINT or SIGHUP; prints 'listening "
        "on "
        "HOST:PORT' once ready.\nOn a stop signal: no new calls, calls in "
        "flight finish, the ledger is synced\nand closed, exit 0. See "
        "docs/service.md.",
        {{"listen", "HOST:PORT",
          "address to listen on; port 0 picks a free one (default: "
          "127.0.0.1:7420)"},
         {"tokens", "FILE", "bearer tokens and roles: 'ROLE NAME sha256:HEX'"},
         {"tls-cert", "FILE", "the server's certificate chain (PEM)"},
         {"tls-key", "FILE", "the server's private key (PEM)"},
         {"client-ca", "FILE",
          "require client certificates signed by these CAs (mutual TLS)"},
         {"access-log", "FILE",
          "where reads, exports and backups are recorded (default: "
          "DIR/access-log.jsonl)",
          /*written=*/true},
         {"backup-dir", "DIR",
          "an existing folder outside the ledger's where an admin's "
          "'backup --to NAME' writes (default: none; backups over the "
          "network are refused)"},
         {"grace", "SECONDS",
          "how long calls in flight may take to finish on stop (default: "
          "30)"},
         {"index-every", "SECONDS",
          "how often the deadline index takes up what was appended "
          "(default: 10)"},
         {"checkpoint-every", "SECONDS",
          "sign a checkpoint over new appends at most this long after the "
          "last, and keep it beside the store (default: 60; at least 1)"}},
        0,
        0},
       Serve},
      {{"token",
        "token --role appender|reader|exporter|admin --name NAME",
        "Print a new random bearer token on line 1 and its tokens-file line "
        "on line 2.\nGive the token to the client (its token file holds the "
        "token alone); add line 2\nto the server's tokens file.",
        {{"role", "ROLE", "appender, reader, exporter or admin"},
         {"name", "NAME", "who holds the token (one word; in the access log)"}},
        0,
        0,
        "a token is made without a ledger; the server that opens the ledger "
        "reads it from its --tokens file"},
       Token},
  };
}

}  // namespace caseledger::cli
