// Verbs that write and read the log itself: init, attach, append, read.
#include <deque>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/base64.h"
#include "ledger/event_json.h"
#include "ledger/import.h"
#include "ledger/status_macros.h"
#include "projections/evaluation.h"
#include "tools/cli.h"
#include "tools/output.h"

namespace caseledger::cli {

int RunDemo(const Args& args, Io& io);

namespace {

const FlagSpec kFormatFlag{"format", "json|text",
                           "output format (default: text)"};

int Init(const Args& args, Io& io) {
  absl::StatusOr<std::string> dir = RequireDb(args);
  if (!dir.ok())
    return UsageError(io, "init", std::string(dir.status().message()));
  std::string name = args.Get("name", "caseledger.local/ledger");
  auto ledger = Ledger::Create(*dir, name);
  if (!ledger.ok()) return Fail(io, "init", ledger.status());
  io.out << "created ledger " << name << " in " << *dir << "\n";
  return kExitOk;
}

int Attach(const Args& args, Io& io) {
  if (absl::Status files = CheckFilesToAttach(args); !files.ok()) {
    return Fail(io, "attach", files);
  }
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "attach", ledger.status());
  // AttachFiles stores the files in the order it checked them.
  std::deque<Ledger::CheckedMessage> checked;
  return AttachFiles(
      args, io,
      [&](std::string_view bytes) -> absl::Status {
        CASELEDGER_ASSIGN_OR_RETURN(auto message,
                                    (*ledger)->CheckMessage(bytes));
        checked.push_back(message);
        return absl::OkStatus();
      },
      [&](std::string_view bytes) -> absl::StatusOr<std::string> {
        // AttachFiles stores no file it did not check; were it ever to,
        // the message would be checked as it is stored, never unchecked.
        if (checked.empty()) return (*ledger)->StoreMessage(bytes);
        auto sha256 = (*ledger)->StoreMessage(bytes, checked.front());
        checked.pop_front();
        return sha256;
      });
}

int Append(const Args& args, Io& io) {
  auto input = ReadAppendInput(args, io);
  if (!input.ok()) return Fail(io, "append", input.status());
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "append", ledger.status());
  bool appended = false;
  return FinishingFirst(
      io, "append", "appending",
      [&] {
        auto result = (*ledger)->Append(input->Events(), input->expected);
        if (!result.ok()) {
          return AppendFailure(io, result.status(), input->lines);
        }
        io.out << AppendResultOutput(*result, input->json);
        WarnOfEventsDatedAhead(*input, *result, "append", io);
        appended = true;
        return kExitOk;
      },
      [&](bool stopped) {
        // Asked to stop: the index catches up at the next write or read.
        if (appended && !stopped) {
          CatchUpDeadlineIndex(**ledger, "append", io);
        }
        ledger->reset();
      });
}

int Import(const Args& args, Io& io) {
  const std::string& path = args.positional()[0];
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "import", ledger.status());
  absl::Time start = SystemClock().Now();
  ImportOptions options;
  options.checked = [&](uint64_t lines, bool done) {
    io.err << "import: " << Counted(lines, "line", "lines") << " checked"
           << (done ? ", every one well formed; appending" : "") << "\n";
    // The rate counts appends only.
    if (done) start = SystemClock().Now();
  };
  absl::Time last_said = absl::InfinitePast();
  options.progress = [&](const ImportProgress& p) {
    // At most a line a second, and the last: a batch of 1,000 lines takes
    // a fraction of one, and 200 lines of progress hid the rest.
    const absl::Time now = SystemClock().Now();
    if (now - last_said < absl::Seconds(1) && p.lines < p.total_lines) return;
    last_said = now;
    const double seconds = std::max(absl::ToDoubleSeconds(now - start), 1e-3);
    const double per_second = (p.appended + p.duplicates) / seconds;
    // How far, and how long to go at the rate so far (found by an outside
    // reading: a count alone told neither).
    io.err << "import: line " << p.lines << " of " << p.total_lines << " ("
           << p.lines * 100 / std::max<uint64_t>(p.total_lines, 1) << "%), "
           << p.appended << " appended, " << p.duplicates << " already stored; "
           << static_cast<uint64_t>(seconds) << " s, "
           << static_cast<uint64_t>(per_second) << " events/s, about "
           << static_cast<uint64_t>((p.total_lines - p.lines) /
                                    std::max(per_second, 1.0))
           << " s left\n";
  };
  EventsDatedAhead ahead("import", io);
  options.appended = [&ahead](uint64_t line, const v1::Event& event) {
    ahead.Appended(line, event);
  };
  // Between batches, a stop signal ends the import with what is stored
  // said; each batch is atomic, so none is cut. Held off until the ledger
  // is closed: once the last batch is in, a signal does not turn the
  // import's success into exit 130 or 143 (found by an audit).
  StopSignals stop;
  stop.HoldUntilExit();
  options.stop_requested = [&stop] { return stop.received() != 0; };
  absl::StatusOr<ImportProgress> result =
      ImportEventLines(**ledger, path, options);
  if (stop.received() != 0 && absl::IsCancelled(result.status())) {
    io.err << "caseledger import: " << stop.received_name() << " received; "
           << result.status().message() << "\n";
    return stop.exit_code();
  }
  const bool stopped = stop.received() != 0;
  ahead.Finish();
  if (!result.ok()) return Fail(io, "import", result.status());
  io.out << "imported " << Counted(result->appended, "event", "events") << " ("
         << result->duplicates << " already stored, skipped) from "
         << Counted(result->lines, "line", "lines") << "; ledger size "
         << (*ledger)->Size() << "\n";
  io.out.flush();
  if (!stopped) CatchUpDeadlineIndex(**ledger, "import", io);
  ledger->reset();
  if (stop.received() != 0) {
    io.err << "caseledger import: " << stop.received_name()
           << (stopped ? " received while the last batch was appended"
                       : " received once every line was in")
           << "; the import was finished first\n";
  }
  return kExitOk;
}

int Read(const Args& args, Io& io) {
  auto read = ParseReadFlags(args);
  if (!read.ok()) return Fail(io, "read", read.status());
  auto ledger = OpenForRead(args);
  if (!ledger.ok()) return Fail(io, "read", ledger.status());
  auto print = [&](const RecordedEvent& e) {
    io.out << ReadRow(e, read->json) << "\n";
  };
  if (args.Has("case")) {
    // --from counts case versions when reading one case.
    auto events =
        (*ledger)->ReadCase(args.Get("case"), read->from, read->limit);
    if (!events.ok()) return Fail(io, "read", events.status());
    // Past a case's last version there is nothing to print; a case the
    // ledger does not hold is an error whatever --from says.
    if (events->empty()) {
      auto first = (*ledger)->ReadCase(args.Get("case"), 1, 1);
      if (!first.ok()) return Fail(io, "read", first.status());
      if (first->empty()) return Fail(io, "read", NoSuchCase(args.Get("case")));
    }
    for (const auto& e : *events) print(e);
    return kExitOk;
  }
  uint64_t printed = 0;
  bool enough = false;  // our own stop, not a kCancelled of the scan
  absl::Status s = (*ledger)->ForEach(read->from, [&](const RecordedEvent& e) {
    if (read->limit != 0 && printed >= read->limit) {
      enough = true;
      return absl::CancelledError();
    }
    print(e);
    ++printed;
    return absl::OkStatus();
  });
  if (!s.ok() && !enough) return Fail(io, "read", s);
  return kExitOk;
}

}  // namespace

std::vector<Verb> LedgerVerbs() {
  return {
      {{"init",
        "init --db DIR [--name NAME]",
        "Create a ledger and its Ed25519 signing key in DIR.",
        {{"name", "NAME",
          "the ledger's name: checkpoint origin and key name "
          "(default: caseledger.local/ledger)"}},
        0,
        0},
       Init},
      {{"attach",
        "attach --db DIR FILE...|-",
        "Store a sent message or delivery notice (RFC 5322 .eml) as a blob;\n"
        "prints its SHA-256 in lowercase hex, to quote as body_sha256 or "
        "notice_sha256.\nThe file is kept byte for byte and not parsed: "
        "any non-empty file is stored,\nand - reads standard input. Several "
        "files print one line each, the SHA-256,\ntwo spaces and the file's "
        "name (as sha256sum does); each is checked first.",
        {},
        1,
        1 << 20},
       Attach},
      {{"append",
        "append --db DIR FILE|- [--expected-version N|any|no-stream|exists] "
        "[--format json|text]",
        "Append JSON Lines events atomically: all of the file or nothing.\n"
        "An event whose event_id is already stored with identical content is "
        "skipped;\nan event_id reused with other content is a conflict (exit "
        "3). An event\nwithout event_id gets a new random one, so appending "
        "its file again stores it\nagain: give event_ids to retry safely, or "
        "use import, which derives them from\nthe content. At most 64 MiB of "
        "input (larger files: import). A stop signal\nduring the write waits "
        "for it, so that its result is printed.",
        {{"expected-version", "N|any|no-stream|exists",
          "the case's version before the append (N, no-stream, exists: "
          "single-case input only; any, the default, checks nothing)"},
         kFormatFlag},
        1,
        1},
       Append},
      {{"import",
        "import --db DIR FILE",
        "Bulk-append a large JSON Lines file in batches, with progress. Every "
        "line is\nvalidated on its own, and an event_id given on two lines "
        "must name the same\nevent, before anything is written (each refused "
        "line is named, up to 20); what\nneeds the ledger (the case exists, "
        "the request was sent) is checked batch by\nbatch, and a line refused "
        "then stops the import with the batches before it\nstored. Events "
        "without "
        "an event_id get one derived from their content (and how\nmany "
        "identical "
        "lines come before them), so running the same file again, even\nwith "
        "lines added or moved to fix it, skips what is stored and resumes "
        "after "
        "it\n(a line changed once it is stored is a new event, stored too). "
        "FILE must be a\nregular file, read once to check and once to append: "
        "a pipe is refused (use\nappend), and a file that grows or shrinks "
        "meanwhile stops the import. SIGINT\n(Ctrl-C) or SIGTERM stops it "
        "between "
        "batches, saying which lines are stored\n(exit 130 or 143).",
        {},
        1,
        1,
        "",
        "send the events through the server with append, at most 8 MiB of "
        "them per call"},
       Import},
      {{"read",
        "read --db DIR [--case C] [--from N] [--limit N] [--format json|text]",
        "Print events in order: the whole ledger from position --from, or one "
        "case\nfrom case version --from.",
        {{"case", "C", "only this case"},
         {"from", "N",
          "first position (or case version with --case); default 1"},
         {"limit", "N", "at most N events (default: all)"},
         kFormatFlag},
        0,
        0},
       Read},
      {{"demo",
        "demo [--db DIR]",
        "Create a ledger in a new folder, record a realistic case (consent, "
        "verified\naddress, request, bounce, re-verification, resend, "
        "documents received),\nstore the sent messages, and print the case "
        "back. Then verify the ledger,\nexport the case's evidence bundle "
        "into DIR-evidence/ beside it with the\nledger's public key, verify "
        "the bundle, and show that a copy with one byte\nchanged fails.",
        {},
        0,
        0},
       RunDemo},
  };
}

}  // namespace caseledger::cli
