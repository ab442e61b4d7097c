// Verbs that write and read the log itself: init, attach, append, read.
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/base64.h"
#include "ledger/event_json.h"
#include "ledger/import.h"
#include "projections/deadline_index.h"
#include "projections/evaluation.h"
#include "tools/cli.h"

namespace caseledger::cli {

int RunDemo(const Args& args, Io& io);

namespace {

const FlagSpec kFormatFlag{"format", "json|text",
                           "output format (default: text)"};

int Init(const Args& args, Io& io) {
  std::string dir = DbDir(args);
  if (dir.empty()) return UsageError(io, "init", "--db DIR is required");
  std::string name = args.Get("name", "caseledger.local/ledger");
  auto ledger = Ledger::Create(dir, name);
  if (!ledger.ok()) return Fail(io, "init", ledger.status());
  io.out << "created ledger " << name << " in " << dir << "\n";
  return kExitOk;
}

int Attach(const Args& args, Io& io) {
  const std::string& path = args.positional()[0];
  auto bytes = ReadInput(path, io);
  if (!bytes.ok()) return Fail(io, "attach", bytes.status());
  if (bytes->empty()) {
    return UsageError(io, "attach", absl::StrCat(path, " is empty"));
  }
  auto ledger = OpenForWrite(args);
  if (!ledger.ok()) return Fail(io, "attach", ledger.status());
  auto hex = (*ledger)->PutBlob(*bytes);
  if (!hex.ok()) return Fail(io, "attach", hex.status());
  io.out << *hex << "\n";
  return kExitOk;
}

// Turns "event 3: field: problem" from the ledger into "line 7: field:
// problem" for the user, who knows lines, not indices.
int AppendFailure(Io& io, const absl::Status& status,
                  const std::vector<EventLine>& lines) {
  std::optional<size_t> index = FailedEventIndex(status);
  if (!index || *index >= lines.size()) return Fail(io, "append", status);
  absl::string_view message = status.message();
  absl::ConsumePrefix(&message, absl::StrCat("event ", *index, ": "));
  return Fail(
      io, "append",
      absl::Status(status.code(),
                   absl::StrCat("line ", lines[*index].line, ": ", message)));
}

int Append(const Args& args, Io& io) {
  auto json = WantsJson(args);
  if (!json.ok()) return Fail(io, "append", json.status());
  ExpectedVersion expected;
  if (args.Has("expected-version")) {
    auto parsed = ExpectedVersion::Parse(args.Get("expected-version"));
    if (!parsed.ok()) return Fail(io, "append", parsed.status());
    expected = *parsed;
  }
  auto text = ReadInput(args.positional()[0], io);
  if (!text.ok()) return Fail(io, "append", text.status());
  std::istringstream in(*text);
  auto lines = ReadEventLines(in);
  if (!lines.ok()) return Fail(io, "append", lines.status());
  if (lines->empty())
    return UsageError(io, "append", "the input holds no events");
  auto ledger = OpenForWrite(args);
  if (!ledger.ok()) return Fail(io, "append", ledger.status());
  std::vector<v1::Event> events;
  events.reserve(lines->size());
  for (const EventLine& l : *lines) events.push_back(l.event);
  auto result = (*ledger)->Append(std::move(events), expected);
  if (!result.ok()) return AppendFailure(io, result.status(), *lines);
  // The appended events are durable; a lagging index only costs readers a
  // longer tail to fold, so a failure here is a warning, not a failed append.
  if (auto indexed = projections::DeadlineIndex::CatchUp(**ledger);
      !indexed.ok()) {
    io.err << "caseledger append: warning: deadline index not updated: "
           << indexed.status().message() << " (run 'caseledger rebuild')\n";
  }
  size_t duplicates = 0;
  for (const auto& e : result->events) duplicates += e.duplicate ? 1 : 0;
  if (*json) {
    io.out << "{\"tree_size\": " << result->tree_size << ", \"events\": [";
    for (size_t i = 0; i < result->events.size(); ++i) {
      const auto& e = result->events[i];
      io.out << (i ? ", " : "") << "{\"event_id\": \"" << e.event_id
             << "\", \"position\": " << e.position
             << ", \"case_version\": " << e.case_version
             << ", \"duplicate\": " << (e.duplicate ? "true" : "false") << "}";
    }
    io.out << "]}\n";
  } else {
    const auto& first = result->events.front();
    const auto& last = result->events.back();
    io.out << "appended " << result->events.size() - duplicates << " event"
           << (result->events.size() - duplicates == 1 ? "" : "s");
    if (duplicates > 0) {
      io.out << " (" << duplicates << " already stored, skipped)";
    }
    io.out << "; positions " << first.position << ".." << last.position
           << "; ledger size " << result->tree_size << "\n";
  }
  return kExitOk;
}

int Import(const Args& args, Io& io) {
  const std::string& path = args.positional()[0];
  auto ledger = OpenForWrite(args);
  if (!ledger.ok()) return Fail(io, "import", ledger.status());
  absl::Time start = SystemClock().Now();
  ImportOptions options;
  options.progress = [&](const ImportProgress& p) {
    double seconds = absl::ToDoubleSeconds(SystemClock().Now() - start);
    io.err << "import: line " << p.lines << ", " << p.appended << " appended, "
           << p.duplicates << " already stored ("
           << static_cast<uint64_t>((p.appended + p.duplicates) /
                                    std::max(seconds, 1e-3))
           << " events/s)\n";
  };
  auto result = ImportEventLines(**ledger, path, options);
  if (!result.ok()) return Fail(io, "import", result.status());
  if (auto indexed = projections::DeadlineIndex::CatchUp(**ledger);
      !indexed.ok()) {
    io.err << "caseledger import: warning: deadline index not updated: "
           << indexed.status().message() << " (run 'caseledger rebuild')\n";
  }
  io.out << "imported " << result->appended << " events (" << result->duplicates
         << " already stored, skipped) from " << result->lines
         << " lines; ledger size " << (*ledger)->Size() << "\n";
  return kExitOk;
}

std::string ReadRowJson(const RecordedEvent& e) {
  return absl::StrCat(
      "{\"position\": ", e.position, ", \"case_version\": ", e.case_version,
      ", \"recorded_at\": \"", projections::FormatUtc(e.recorded_at),
      "\", \"event\": ", EventToJson(e.event), ", \"entry\": \"",
      Base64Encode(e.entry_bytes), "\"}");
}

std::string ReadRowText(const RecordedEvent& e) {
  absl::Time occurred = absl::FromUnixSeconds(e.event.occurred_at().seconds()) +
                        absl::Nanoseconds(e.event.occurred_at().nanos());
  return absl::StrCat(
      "#", e.position, " ", e.event.case_id(), " v", e.case_version, " ",
      projections::FormatUtc(occurred), " ", EventType(e.event), " by ",
      v1::ActorKind::Value_Name(e.event.actor().kind()), ":",
      e.event.actor().id(), " (recorded ",
      projections::FormatUtc(e.recorded_at), ", id ", e.event.event_id(), ")");
}

absl::StatusOr<uint64_t> ParseCount(const Args& args, const std::string& flag,
                                    uint64_t fallback) {
  if (!args.Has(flag)) return fallback;
  uint64_t v;
  if (!absl::SimpleAtoi(args.Get(flag), &v)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": '", args.Get(flag), "' is not a whole number"));
  }
  return v;
}

int Read(const Args& args, Io& io) {
  auto json = WantsJson(args);
  if (!json.ok()) return Fail(io, "read", json.status());
  auto from = ParseCount(args, "from", 1);
  if (!from.ok()) return Fail(io, "read", from.status());
  auto limit = ParseCount(args, "limit", 0);
  if (!limit.ok()) return Fail(io, "read", limit.status());
  auto ledger = OpenForRead(args);
  if (!ledger.ok()) return Fail(io, "read", ledger.status());
  auto print = [&](const RecordedEvent& e) {
    io.out << (*json ? ReadRowJson(e) : ReadRowText(e)) << "\n";
  };
  if (args.Has("case")) {
    // --from counts case versions when reading one case.
    auto events = (*ledger)->ReadCase(args.Get("case"), *from, *limit);
    if (!events.ok()) return Fail(io, "read", events.status());
    if (events->empty() && *from <= 1) {
      return Fail(
          io, "read",
          absl::NotFoundError(absl::StrCat("no case ", args.Get("case"))));
    }
    for (const auto& e : *events) print(e);
    return kExitOk;
  }
  uint64_t printed = 0;
  absl::Status s = (*ledger)->ForEach(*from, [&](const RecordedEvent& e) {
    if (*limit != 0 && printed >= *limit) return absl::CancelledError();
    print(e);
    ++printed;
    return absl::OkStatus();
  });
  if (!s.ok() && !absl::IsCancelled(s)) return Fail(io, "read", s);
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
        "attach --db DIR FILE",
        "Store a sent message or delivery notice (RFC 5322 .eml) as a blob;\n"
        "prints its SHA-256 in lowercase hex, to quote as body_sha256 or "
        "notice_sha256.",
        {},
        1,
        1},
       Attach},
      {{"append",
        "append --db DIR FILE|- [--expected-version N|any|no-stream|exists]",
        "Append JSON Lines events atomically: all of the file or nothing.\n"
        "Events already stored with identical content are skipped; an "
        "event_id reused\nwith other content is a conflict (exit 3).",
        {{"expected-version", "N|any|no-stream|exists",
          "the case's version before the append (single-case input only)"},
         kFormatFlag},
        1,
        1},
       Append},
      {{"import",
        "import --db DIR FILE",
        "Bulk-append a large JSON Lines file in batches, with progress. Every "
        "line is\nvalidated before anything is written; events without an "
        "event_id get one\nderived from the line and its content, so running "
        "the same file again skips\nwhat is stored and resumes after it.",
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
        "verified\naddress, request, bounce, re-verification, resend, "
        "documents received),\nstore the sent message, and print the case "
        "back.",
        {},
        0,
        0},
       RunDemo},
  };
}

}  // namespace caseledger::cli
