#include "tools/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ledger/base64.h"
#include "ledger/clock.h"
#include "ledger/file_sync.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/case_model.h"
#include "projections/deadline_index.h"
#include "projections/evaluation.h"

namespace caseledger::cli {

std::string Counted(uint64_t n, std::string_view one, std::string_view many) {
  return absl::StrCat(n, " ", std::string(n == 1 ? one : many));
}

void TellExportStep(Io& io, std::string_view step) {
  io.err << "export: " << step << "\n";
}

std::string ExportedLine(const v1::BundleSummary& summary,
                         const std::string& out) {
  return absl::StrCat("exported case ", summary.case_id(), " for ",
                      v1::BundlePurpose::Value_Name(summary.purpose()),
                      " at tree size ", summary.tree_size(), ": ", out, " (",
                      Counted(summary.events(), "event", "events"), ", ",
                      Counted(summary.members(), "file", "files"), ", ",
                      Counted(summary.bytes(), "byte", "bytes"), ", sha256 ",
                      summary.sha256(), "); recorded as position ",
                      summary.audit_position(), "\n");
}

namespace {
// `text` as a whole number written in digits alone (no sign, no spaces);
// nullopt otherwise, or past 2^64 - 1.
std::optional<uint64_t> WholeNumber(std::string_view text) {
  // Digits only: SimpleAtoi alone would also take a sign and spaces.
  uint64_t v;
  if (text.empty() ||
      text.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(AbslView(text), &v)) {
    return std::nullopt;
  }
  return v;
}
}  // namespace

absl::StatusOr<uint64_t> CountFlag(const Args& args, const std::string& flag,
                                   std::optional<uint64_t> fallback) {
  if (!args.Has(flag)) {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  const std::string& text = args.Get(flag);
  std::optional<uint64_t> v = WholeNumber(text);
  if (!v) {
    // Digits beyond 64 bits are a whole number all the same (found by an
    // audit: "'18446744073709551616' is not a whole number").
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") ==
                                             std::string::npos;
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": '", text, "' ",
        digits ? "is more than 18446744073709551615, the largest this flag "
                 "takes"
               : "is not a whole number"));
  }
  return *v;
}

absl::Status CheckProveFlags(const Args& args) {
  if (args.Has("position") == args.Has("from-size")) {
    return absl::InvalidArgumentError(
        "give exactly one of --position P (inclusion) or --from-size A "
        "(consistency)");
  }
  if (args.Has("format") && args.Get("format") != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format: '", Printable(args.Get("format")),
                     "': a proof is printed as JSON only (--format json)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ProofSizeFlag(const Args& args) {
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t size, CountFlag(args, "size", 0));
  if (args.Has("size") && size == 0) {
    return absl::InvalidArgumentError(
        "--size 0: a proof needs a tree of at least one entry");
  }
  return size;
}

std::vector<v1::Event> AppendInput::Events() const {
  std::vector<v1::Event> events;
  events.reserve(lines.size());
  for (const EventLine& l : lines) events.push_back(l.event);
  return events;
}

absl::StatusOr<AppendInput> ReadAppendInput(const Args& args, Io& io) {
  AppendInput input;
  auto json = WantsJson(args);
  if (!json.ok()) return json.status();
  input.json = *json;
  if (args.Has("expected-version")) {
    auto parsed = ExpectedVersion::Parse(args.Get("expected-version"));
    if (!parsed.ok()) return parsed.status();
    input.expected = *parsed;
  }
  auto text = ReadInput(args.positional()[0], io, kMaxAppendInputBytes,
                        "; append writes one atomic batch: give larger "
                        "inputs to `caseledger import`, which streams them");
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  auto lines = ReadEventLines(in);
  if (!lines.ok()) return lines.status();
  if (lines->empty()) {
    return absl::InvalidArgumentError("the input holds no events");
  }
  input.lines = *std::move(lines);
  return input;
}

int AppendFailure(Io& io, const absl::Status& status,
                  const std::vector<EventLine>& lines) {
  if (auto ids = status.GetPayload(kEventIdsPayload)) {
    // The write may have landed. A line without an event_id was given one
    // here; rerunning the file would give it another and store it twice.
    int code = Fail(io, "append", status);
    io.err << "caseledger append: to retry, give each line its event_id:\n";
    std::vector<std::string> given =
        absl::StrSplit(std::string(*ids), '\n', absl::SkipEmpty());
    for (size_t i = 0; i < given.size() && i < lines.size(); ++i) {
      io.err << "  line " << lines[i].line << ": " << given[i] << "\n";
    }
    return code;
  }
  std::optional<size_t> index = FailedEventIndex(status);
  if (!index || *index >= lines.size()) return Fail(io, "append", status);
  absl::string_view message = status.message();
  absl::ConsumePrefix(&message, absl::StrCat("event ", *index, ": "));
  return Fail(
      io, "append",
      absl::Status(status.code(),
                   absl::StrCat("line ", lines[*index].line, ": ", message)));
}

std::string AppendResultOutput(const AppendResult& result, bool json) {
  if (json) {
    std::string out =
        absl::StrCat("{\"tree_size\": ", result.tree_size, ", \"events\": [");
    for (size_t i = 0; i < result.events.size(); ++i) {
      const auto& e = result.events[i];
      absl::StrAppend(&out, i ? ", " : "", "{\"event_id\": \"", e.event_id,
                      "\", \"position\": ", e.position,
                      ", \"case_version\": ", e.case_version,
                      ", \"duplicate\": ", e.duplicate ? "true" : "false", "}");
    }
    return out + "]}\n";
  }
  size_t duplicates = 0;
  for (const auto& e : result.events) duplicates += e.duplicate ? 1 : 0;
  size_t appended = result.events.size() - duplicates;
  std::string out =
      absl::StrCat("appended ", Counted(appended, "event", "events"));
  if (duplicates > 0) {
    absl::StrAppend(&out, " (", duplicates, " already stored, skipped)");
  }
  if (!result.events.empty()) {
    absl::StrAppend(&out, "; positions ", result.events.front().position, "..",
                    result.events.back().position);
  }
  return absl::StrCat(out, "; ledger size ", result.tree_size, "\n");
}

std::string ReadRow(const RecordedEvent& e, bool json) {
  if (json) {
    return absl::StrCat(
        "{\"position\": ", e.position, ", \"case_version\": ", e.case_version,
        ", \"recorded_at\": \"", projections::FormatUtc(e.recorded_at),
        "\", \"event\": ", EventToJson(e.event), ", \"entry\": \"",
        Base64Encode(e.entry_bytes), "\"}");
  }
  absl::Time occurred = absl::FromUnixSeconds(e.event.occurred_at().seconds()) +
                        absl::Nanoseconds(e.event.occurred_at().nanos());
  return absl::StrCat(
      "#", e.position, " ", e.event.case_id(), " v", e.case_version, " ",
      projections::FormatUtc(occurred), " ", EventType(e.event), " by ",
      v1::ActorKind::Value_Name(e.event.actor().kind()), ":",
      // Validation takes any actor id; a line break in it would forge a row.
      Printable(e.event.actor().id(), std::string::npos, Quotes::kKeep),
      " (recorded ", projections::FormatUtc(e.recorded_at), ", id ",
      e.event.event_id(), ")");
}

absl::StatusOr<ReadFlags> ParseReadFlags(const Args& args) {
  ReadFlags flags;
  CASELEDGER_ASSIGN_OR_RETURN(flags.json, WantsJson(args));
  CASELEDGER_ASSIGN_OR_RETURN(flags.from, CountFlag(args, "from", 1));
  if (flags.from == 0) {
    return absl::InvalidArgumentError(
        "--from 0: positions and case versions start at 1");
  }
  CASELEDGER_ASSIGN_OR_RETURN(flags.limit, CountFlag(args, "limit", 0));
  // 0 means "no limit" to the ledger and the service; as a flag it would
  // read as "none" and print everything.
  if (args.Has("limit") && flags.limit == 0) {
    return absl::InvalidArgumentError(
        "--limit 0: give at least 1, or leave --limit out to read every event");
  }
  return flags;
}

std::string ShownAs(std::string_view document,
                    projections::OutputFormat format) {
  return format == projections::OutputFormat::kJson ? std::string(document)
                                                    : ForTerminal(document);
}

absl::Status NoSuchCase(const std::string& case_id) {
  return absl::NotFoundError(absl::StrCat("no case ", Printable(case_id)));
}

namespace {
// The file --policy names, read into `text` and parsed; errors name the flag.
absl::StatusOr<projections::DeadlinePolicy> PolicyFlag(const Args& args, Io& io,
                                                       std::string* text) {
  CASELEDGER_ASSIGN_OR_RETURN(*text, ReadFlagFile(args, "policy", io));
  auto policy = projections::ParseGivenPolicy(*text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--policy ", args.Get("policy"), ": ", policy.status().message()));
  }
  return policy;
}
}  // namespace

absl::StatusOr<QueryFlags> ParseQueryFlags(const Args& args, Io& io) {
  QueryFlags flags;
  auto json = WantsJson(args);
  if (!json.ok()) return json.status();
  flags.json = *json;
  for (const char* flag : {"as-of", "known-at"}) {
    if (!args.Has(flag)) continue;
    auto t = projections::ParseEvaluationTime(args.Get(flag),
                                              absl::StrCat("--", flag));
    if (!t.ok()) return t.status();
    (std::string(flag) == "as-of" ? flags.as_of : flags.known_at) = *t;
  }
  if (args.Has("policy")) {
    std::string text;
    CASELEDGER_ASSIGN_OR_RETURN(flags.policy, PolicyFlag(args, io, &text));
    flags.policy_json = std::move(text);
  }
  return flags;
}

absl::StatusOr<std::optional<projections::DeadlineState>> DeadlineStatusFlag(
    const Args& args) {
  if (!args.Has("status")) return std::nullopt;
  return projections::ParseDeadlineState(args.Get("status"), "--status");
}

absl::StatusOr<bundle::ExportRequest> ReadExportFlags(
    const Args& args, Io& io, std::string* policy_text) {
  for (const char* flag : {"case", "purpose", "out"}) {
    if (!args.Has(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag,
                       " is required (usage: caseledger export --case C "
                       "--purpose P --out FILE.zip)"));
    }
  }
  bundle::ExportRequest request;
  request.case_id = args.Get("case");
  CASELEDGER_ASSIGN_OR_RETURN(request.purpose,
                              bundle::ParsePurpose(args.Get("purpose")));
  if (args.Has("tree-size")) {
    // Beyond 64 bits was "not a tree size (1 or more)" (found by an
    // adversarial test): CountFlag says it is too large.
    CASELEDGER_ASSIGN_OR_RETURN(request.tree_size,
                                CountFlag(args, "tree-size", std::nullopt));
    if (request.tree_size == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tree-size: '", args.Get("tree-size"),
                       "' is not a tree size (1 or more)"));
    }
  }
  if (args.Has("since-checkpoint")) {
    CASELEDGER_ASSIGN_OR_RETURN(request.since_checkpoint,
                                ReadFlagFile(args, "since-checkpoint", io));
  }
  if (args.Has("policy")) {
    CASELEDGER_ASSIGN_OR_RETURN(request.policy,
                                PolicyFlag(args, io, policy_text));
  }
  for (const char* flag : {"as-of", "known-at"}) {
    if (!args.Has(flag)) continue;
    CASELEDGER_ASSIGN_OR_RETURN(
        (std::string(flag) == "as-of" ? request.as_of : request.known_at),
        projections::ParseEvaluationTime(args.Get(flag),
                                         absl::StrCat("--", flag)));
  }
  request.include_after_decision = args.Has("include-after-decision");
  return request;
}

void EventsDatedAhead::Appended(uint64_t line, const v1::Event& event) {
  const absl::Time occurred = FromTimestamp(event.occurred_at());
  const absl::Time appended_by = SystemClock().Now();
  if (occurred <= appended_by || ++ahead_ > kNamed) return;
  io_.err << "caseledger " << verb_ << ": warning: line " << line
          << ": occurred_at " << projections::FormatUtc(occurred)
          << " is after the ledger recorded it ("
          << projections::FormatUtc(appended_by)
          << " or before); it counts in no projection until then, and the "
             "report of a bundle exported before then leaves it out: check "
             "the clock or time zone where it was entered\n";
}

void EventsDatedAhead::Finish() {
  if (ahead_ > kNamed) {
    io_.err << "caseledger " << verb_ << ": warning: " << ahead_ - kNamed
            << " more lines are dated after the ledger recorded them\n";
  }
}

void WarnOfEventsDatedAhead(const AppendInput& input,
                            const AppendResult& result, const std::string& verb,
                            Io& io) {
  EventsDatedAhead ahead(verb, io);
  for (size_t i = 0; i < input.lines.size(); ++i) {
    if (i < result.events.size() && result.events[i].duplicate) continue;
    ahead.Appended(input.lines[i].line, input.lines[i].event);
  }
  ahead.Finish();
}

int ImportLines(const std::string& path, const ImportTarget& target,
                size_t batch_bytes, Io& io,
                const std::function<void(bool stopped)>& then) {
  absl::Time start = SystemClock().Now();
  ImportOptions options;
  options.batch_bytes = batch_bytes;
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
  stop.SayWhenCaught("import",
                     "stopping where nothing is cut, between lines checked or "
                     "once the batch in hand is appended (a second signal "
                     "ends it at once)",
                     "each batch is stored whole or not at all: run the same "
                     "import again to resume (it stores each line once)");
  options.stop_requested = [&stop] { return stop.received() != 0; };
  absl::StatusOr<ImportProgress> result =
      ImportEventLines(target, path, options);
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
         << result->ledger_size << "\n";
  io.out.flush();
  then(stopped);
  if (stop.received() != 0) {
    io.err << "caseledger import: " << stop.received_name()
           << (stopped ? " received while the last batch was appended"
                       : " received once every line was in")
           << "; the import was finished first\n";
  }
  return kExitOk;
}

bool CatchUpDeadlineIndex(Ledger& ledger, const std::string& verb, Io& io) {
  // Printed first, so that a stop signal during the catch-up cannot hide
  // what was written.
  io.out << std::flush;
  if (auto indexed = projections::DeadlineIndex::CatchUp(ledger);
      !indexed.ok()) {
    io.err << "caseledger " << verb << ": warning: deadline index not updated: "
           << indexed.status().message()
           << (absl::StrContains(indexed.status().message(),
                                 "caseledger rebuild")
                   ? ""
                   : " (run 'caseledger rebuild')")
           << "\n";
    return false;
  }
  return true;
}

OutputFile::OutputFile(std::string path)
    : path_(std::move(path)), partial_(absl::StrCat(path_, ".partial")) {}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (created_ && !done_) ::unlink(partial_.c_str());
}

absl::Status OutputFile::Open() {
  if (path_.empty()) {
    return absl::InvalidArgumentError(
        "--out: give the name of the file to write");
  }
  // Where verbs read, '-' is standard input; here it would quietly name a
  // file, and a bundle is not written to a stream: it must be whole and
  // synced before the export is reported.
  if (path_ == "-") {
    return absl::InvalidArgumentError(
        "--out: '-' is not standard output here: a bundle is written to a "
        "file, whole and synced, before the export is reported (write ./- "
        "for a file of that name)");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--out: ", path_, " is a folder; give the name of a new file"));
  }
  if (std::filesystem::exists(std::filesystem::symlink_status(path_, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat("--out: ", path_,
                     " already exists; a bundle goes to a new file, so that "
                     "nothing is overwritten (choose another name, or remove "
                     "it first)"));
  }
  // O_EXCL: not a file already there, nor through a link planted there.
  fd_ = ::open(partial_.c_str(),
               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd_ < 0 && errno == EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat(
        "--out: ", partial_,
        " exists: another export is writing it, or one was interrupted. If "
        "none is running and its SHA-256 is the bundle_sha256 of the case's "
        "last evidence_bundle_exported event, that export was stopped just "
        "before its rename: rename it to ",
        path_,
        " (it is the bundle on record); otherwise remove it and try "
        "again"));
  }
  if (fd_ < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--out: cannot write ", partial_, ": ", std::strerror(errno)));
  }
  created_ = true;
  return absl::OkStatus();
}

absl::Status OutputFile::Reserve(uint64_t size) {
  if (size == 0) return absl::OkStatus();
  const int error = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
  if (error == 0) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("--out: no room for the ", size, "-byte bundle in ",
                   partial_, ": ", std::strerror(error),
                   "; nothing was recorded or written (free some space or "
                   "choose another place, and export again)"));
}

bool OutputFile::Write(std::string_view bytes) {
  while (write_error_ == 0 && !bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_error_ = n < 0 ? errno : EIO;
      break;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return write_error_ == 0;
}

namespace {
// The rename is durable only once the folder holding PATH is synced; until
// then a power loss can take the bundle's name away while its export stays
// on record.
absl::Status SyncTheBundlesName(const std::string& path) {
  absl::Status synced = caseledger::SyncFolderOf(path);
  if (synced.ok()) return synced;
  return absl::Status(
      synced.code(),
      absl::StrCat(synced.message(), "; the bundle is written as ", path,
                   ", but a power loss now could still lose its name"));
}
}  // namespace

absl::Status OutputFile::WriteError() const {
  if (write_error_ == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("error writing ", partial_, ": ",
                                          std::strerror(write_error_)));
}

absl::Status OutputFile::Commit() {
  if (write_error_ == 0 && ::fdatasync(fd_) != 0) write_error_ = errno;
  if (::close(fd_) != 0 && write_error_ == 0) write_error_ = errno;
  fd_ = -1;
  CASELEDGER_RETURN_IF_ERROR(WriteError());
  // Not over a PATH that appeared while the bundle was written.
  if (::renameat2(AT_FDCWD, partial_.c_str(), AT_FDCWD, path_.c_str(),
                  RENAME_NOREPLACE) != 0) {
    int error = errno;
    // A file system without RENAME_NOREPLACE: PATH checked free (a failed
    // look is not), then a rename that a file appearing in between would
    // lose to.
    if (error == EINVAL && !NameTaken(path_).value_or(true)) {
      if (std::rename(partial_.c_str(), path_.c_str()) == 0) {
        done_ = true;
        return SyncTheBundlesName(path_);
      }
      error = errno;
    } else if (error == EINVAL) {
      error = EEXIST;
    }
    if (error == EEXIST) {
      done_ = true;  // keep the bundle: its export is already recorded
      return absl::AlreadyExistsError(
          absl::StrCat("--out: ", path_,
                       " appeared while the bundle was written; the "
                       "bundle is kept as ",
                       partial_));
    }
    return absl::InternalError(absl::StrCat("cannot rename ", partial_, " to ",
                                            path_, ": ", std::strerror(error)));
  }
  done_ = true;
  return SyncTheBundlesName(path_);
}

void SayFinishedFirst(Io& io, std::string_view verb, std::string_view doing,
                      const StopSignals& stop) {
  if (stop.received() == 0) return;
  io.err << "caseledger " << verb << ": " << stop.received_name()
         << " received while " << doing << "; the " << verb
         << " was finished first\n";
}

}  // namespace caseledger::cli
