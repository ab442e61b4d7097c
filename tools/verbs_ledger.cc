// Verbs that write and read the log itself: init, attach, append, read.
#include <algorithm>
#include <deque>

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
      io, "append", "appending", kAppendLeftUnknown,
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
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "import", ledger.status());
  return ImportLines(args.positional()[0], IntoLedger(**ledger), 0, io,
                     [&](bool stopped) {
                       // Asked to stop: the index catches up at the next write
                       // or read.
                       if (!stopped)
                         CatchUpDeadlineIndex(**ledger, "import", io);
                       ledger->reset();
                     });
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
    // --from counts case versions when reading one case. A page at a time,
    // printed as it comes: a case of 225,004 events was held whole, 404 MB
    // before its first line (found by an audit).
    const std::string case_id = args.Get("case");
    uint64_t printed = 0;
    for (uint64_t next = std::max<uint64_t>(read->from, 1);;) {
      const uint64_t wanted =
          read->limit == 0 ? kCasePageEvents
                           : std::min(kCasePageEvents, read->limit - printed);
      auto page = (*ledger)->ReadCase(case_id, next, wanted);
      if (!page.ok()) return Fail(io, "read", page.status());
      for (const auto& e : *page) print(e);
      printed += page->size();
      next += page->size();
      if (page->size() < wanted || printed == read->limit) break;
    }
    // Past a case's last version there is nothing to print; a case the
    // ledger does not hold is an error whatever --from says.
    if (printed == 0) {
      auto first = (*ledger)->ReadCase(case_id, 1, 1);
      if (!first.ok()) return Fail(io, "read", first.status());
      if (first->empty()) return Fail(io, "read", NoSuchCase(case_id));
    }
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
        1},
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
        "verified\naddress, request, bounce, re-verification, resend, another "
        "channel\nconsidered, documents received), store the sent messages, "
        "and print the\ncase back. Then verify the ledger, export the case's "
        "evidence bundle into\nDIR-evidence/ beside it with the ledger's "
        "public key, verify the bundle, and\nshow that a copy with one byte "
        "changed fails. Ctrl-C stops it between two\nsteps (exit 130), "
        "leaving a whole ledger.",
        {},
        0,
        0},
       RunDemo},
  };
}

}  // namespace caseledger::cli
