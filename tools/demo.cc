// `caseledger demo`: a realistic case on a real embedded ledger, start to end.
#include <filesystem>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "ledger/event_json.h"
#include "ledger/file_sync.h"
#include "projections/bundle/verify.h"
#include "projections/deadline_index.h"
#include "projections/evaluation.h"
#include "projections/queries.h"
#include "tools/cli.h"
#include "tools/output.h"

namespace caseledger::cli {
namespace {

constexpr char kRequestMessage[] =
    "From: visa-office@office.example\r\n"
    "To: amina.diallo@mail.example\r\n"
    "Subject: Request {REQ} for case DEMO-2011-0042\r\n"
    "Date: {DATE}\r\n"
    "Message-ID: <{REQ}.DEMO-2011-0042@office.example>\r\n"
    "\r\n"
    "Please send a police certificate and six months of bank statements\r\n"
    "by {DEADLINE}. Failure to provide the requested documents may result\r\n"
    "in the refusal of your application.\r\n";

constexpr char kBounceNotice[] =
    "From: MAILER-DAEMON@office.example\r\n"
    "To: visa-office@office.example\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"b\"\r\n"
    "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Final-Recipient: rfc822; amina.diallo@mail.example\r\n"
    "Action: failed\r\nStatus: 5.2.2\r\n"
    "Diagnostic-Code: smtp; 552 mailbox full\r\n--b--\r\n";

// The case, one JSON line per event; {SHA_*} are filled in with the digests
// of the stored messages.
constexpr char kCase[] =
    R"({"case_id": "DEMO-2011-0042", "occurred_at": "2011-02-01T09:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "case_opened": {"program": "TRV", "office_id": "VO-DAKAR", "office_mailbox": "visa-office@office.example", "applicant_country": "SN", "language": "fr"}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-02-01T09:05:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "email_consent_recorded": {"party": "APPLICANT", "address": "amina.diallo@mail.example", "basis": "APPLICATION_FORM", "evidence_ref": "IMM 5257 p.1, contact section"}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-03-01T14:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "recipient_address_verified": {"request_id": "DOC-1", "address": "amina.diallo@mail.example", "matches_address_on_file": true}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-03-01T14:02:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "document_request_sent": {"request_id": "DOC-1", "channel": "EMAIL", "to": ["amina.diallo@mail.example"], "from_mailbox": "visa-office@office.example", "organizational_mailbox": true, "deadline": "2011-04-15T23:59:59Z", "items": ["police certificate", "bank statements"], "refusal_warning_included": true, "message_id": "<DOC-1.DEMO-2011-0042@office.example>", "subject": "Request DOC-1 for case DEMO-2011-0042", "body_sha256": "{SHA_DOC1}"}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-03-01T14:03:10Z", "actor": {"kind": "SYSTEM", "id": "mailbox-monitor"}, "source": "demo", "delivery_notice_received": {"request_id": "DOC-1", "message_id": "<DOC-1.DEMO-2011-0042@office.example>", "action": "FAILED", "recipient": "amina.diallo@mail.example", "status_code": "5.2.2", "diagnostic": "552 mailbox full", "notice_sha256": "{SHA_BOUNCE}"}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-03-02T09:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "recipient_address_verified": {"request_id": "DOC-2", "address": "amina.diallo@mail.example", "matches_address_on_file": true}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-03-02T09:01:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "document_request_sent": {"request_id": "DOC-2", "channel": "EMAIL", "to": ["amina.diallo@mail.example"], "from_mailbox": "visa-office@office.example", "organizational_mailbox": true, "deadline": "2011-04-16T23:59:59Z", "items": ["police certificate", "bank statements"], "refusal_warning_included": true, "message_id": "<DOC-2.DEMO-2011-0042@office.example>", "subject": "Request DOC-2 for case DEMO-2011-0042", "body_sha256": "{SHA_DOC2}", "resend_of": "DOC-1"}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-03-02T09:05:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "demo", "alternative_channel_considered": {"request_id": "DOC-1", "channel": "COURIER", "used": true, "rationale": "Copy of the request sent by courier to the address on the form."}}
{"case_id": "DEMO-2011-0042", "occurred_at": "2011-04-04T11:00:00Z", "actor": {"kind": "APPLICANT", "id": "applicant"}, "source": "demo", "documents_received": {"request_id": "DOC-2", "items": ["police certificate", "bank statements"], "complete": true, "channel": "EMAIL"}}
)";

std::string RequestMessage(const std::string& request, const std::string& date,
                           const std::string& deadline) {
  return absl::StrReplaceAll(
      kRequestMessage,
      {{"{REQ}", request}, {"{DATE}", date}, {"{DEADLINE}", deadline}});
}

// The program as the user can run it from here: not on PATH after a build,
// so "caseledger ..." would not be found.
std::string ThisProgram() {
  std::error_code ec;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "caseledger";
  const std::filesystem::path here = std::filesystem::relative(exe, ec);
  if (ec || here.empty() || *here.begin() == "..") return exe.string();
  return "./" + here.string();
}

absl::Status WriteDemoFile(const std::string& path, std::string_view bytes) {
  OutputFile file(path);
  if (absl::Status s = file.Open(); !s.ok()) return s;
  file.Write(bytes);
  return file.Commit();
}

// The folder `given` names, as a name its evidence folder can be put
// beside: "slash/" put "slash/-evidence" inside the ledger, and "." a
// hidden ".-evidence", which the export then refused part way (found by an
// outside test).
std::string FolderNamed(const std::string& given) {
  std::filesystem::path folder(given);
  while (!folder.has_filename() && folder.has_relative_path()) {
    folder = folder.parent_path();
  }
  if (folder.empty() || folder.filename() == "." || folder.filename() == "..") {
    std::error_code ec;
    folder = std::filesystem::absolute(folder, ec).lexically_normal();
    if (!folder.has_filename()) folder = folder.parent_path();
  }
  return folder.string();
}

// `word` as a shell reads it back: quoted when it holds anything but
// letters, digits and `_./:=@%+-`, so that a line the demo shows can be
// copied and run whatever its folder is called (found by an outside test:
// a folder with a space).
std::string ShellWord(const std::string& word) {
  const bool plain = !word.empty() && absl::c_all_of(word, [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_./:=@%+-").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

}  // namespace

int RunDemo(const Args& args, Io& io) {
  // A stop signal ends the demo between its steps, each whole: one during
  // the export let it go on and exit 0, and one while the ledger was made
  // left a folder that `read` called an init or restore stopped part way
  // (found by an outside test).
  StopSignals stop;
  auto say_when_caught = [&stop] {
    stop.SayWhenCaught("demo",
                       "stopping once this step is done (a second signal "
                       "ends it at once)",
                       "what it made may be unfinished: run demo again for a "
                       "new ledger");
  };
  say_when_caught();
  std::error_code ec;
  std::string dir = FolderNamed(args.Get("db"));
  if (!args.Has("db")) {
    // Named by the second it starts, then -2, -3, ... when that name is
    // taken: a second demo within the same second was refused (found by a
    // reading of the docs, which promise a new folder).
    const std::string base = absl::StrCat(
        "caseledger-demo-",
        absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()));
    dir = base;
    for (int n = 2; std::filesystem::exists(dir, ec) ||
                    std::filesystem::exists(dir + "-evidence", ec);
         ++n) {
      dir = absl::StrCat(base, "-", n);
    }
  }
  // The bundle and the key to check it with go beside the ledger: a bundle
  // inside its folder would be taken for one of its files.
  const std::string evidence = dir + "-evidence";
  // The folder is checked before the evidence folder is made, and both are
  // named when neither is free: only the second was, and one holding files
  // was told to "init a new or empty folder" (found by an outside test).
  const bool evidence_taken = std::filesystem::exists(evidence, ec);
  if (absl::Status free = Ledger::CanCreateIn(dir); !free.ok()) {
    if (evidence_taken) {
      free = absl::Status(free.code(), absl::StrCat(free.message(), " (and ",
                                                    evidence, " exists)"));
    }
    return Fail(io, "demo", free);
  }
  if (evidence_taken) {
    return Fail(io, "demo",
                absl::AlreadyExistsError(absl::StrCat(
                    evidence, " exists; remove it or give another --db")));
  }
  // Made first, and taken away if the ledger cannot be: a folder whose
  // parent cannot be written to left a ledger without its evidence folder,
  // which a second run refused to make over (found by an outside test).
  std::error_code made;
  std::filesystem::create_directory(evidence, made);
  if (made) return Fail(io, "demo", CannotCreateFolder(evidence, made));
  auto ledger = Ledger::Create(dir, "caseledger.demo/ledger");
  if (!ledger.ok()) {
    std::filesystem::remove(evidence, ec);
    return Fail(io, "demo", ledger.status());
  }
  io.out << "== created ledger caseledger.demo/ledger in "
         << std::filesystem::absolute(dir, ec).string() << "\n\n";
  // Between steps: the code to stop with, once a signal came.
  auto stopped = [&]() -> std::optional<int> {
    if (stop.received() == 0) {
      say_when_caught();  // a verb run as a step says its own words
      return std::nullopt;
    }
    io.out.flush();
    io.err << "caseledger demo: " << stop.received_name()
           << " received; stopped after the step above: " << dir
           << " holds a whole ledger (caseledger verify --db " << dir
           << "), and " << evidence
           << " what was made of its evidence so far\n";
    return stop.exit_code();
  };
  if (auto code = stopped()) return *code;

  io.out << "== caseledger attach: storing the sent messages and the bounce\n";
  struct Message {
    std::string placeholder, label, bytes;
  };
  std::vector<Message> messages = {
      {"{SHA_DOC1}", "request DOC-1 as sent",
       RequestMessage("DOC-1", "Tue, 01 Mar 2011 14:02:00 +0000",
                      "15 April 2011")},
      {"{SHA_BOUNCE}", "delivery notice (mailbox full)", kBounceNotice},
      {"{SHA_DOC2}", "request DOC-2 as sent",
       RequestMessage("DOC-2", "Wed, 02 Mar 2011 09:01:00 +0000",
                      "16 April 2011")},
  };
  std::vector<std::pair<std::string, std::string>> digests;
  for (const Message& b : messages) {
    auto hex = (*ledger)->StoreMessage(b.bytes);
    if (!hex.ok()) return Fail(io, "demo", hex.status());
    io.out << *hex << "  " << b.label << "\n";
    digests.emplace_back(b.placeholder, *hex);
  }

  io.out << "\n== caseledger append: the case, as one atomic batch\n";
  std::istringstream in(absl::StrReplaceAll(kCase, digests));
  auto lines = ReadEventLines(in);
  if (!lines.ok()) return Fail(io, "demo", lines.status());
  std::vector<v1::Event> events;
  for (auto& l : *lines) events.push_back(std::move(l.event));
  auto appended = (*ledger)->Append(events, ExpectedVersion::NoStream());
  if (!appended.ok()) return Fail(io, "demo", appended.status());
  io.out << AppendResultOutput(*appended, /*json=*/false);

  if (auto indexed = projections::DeadlineIndex::CatchUp(**ledger);
      !indexed.ok()) {
    return Fail(io, "demo", indexed.status());
  }
  if (auto code = stopped()) return *code;

  projections::Query query;
  query.evaluation.now = SystemClock().Now();
  io.out << "\n== caseledger timeline --case DEMO-2011-0042\n";
  auto timeline =
      projections::TimelineOutput(**ledger, "DEMO-2011-0042", query);
  if (!timeline.ok()) return Fail(io, "demo", timeline.status());
  io.out << *timeline;
  io.out << "\n== caseledger deadlines --case DEMO-2011-0042\n";
  auto deadlines = projections::DeadlinesOutput(**ledger, "DEMO-2011-0042",
                                                std::nullopt, query);
  if (!deadlines.ok()) return Fail(io, "demo", deadlines.status());
  io.out << *deadlines;
  io.out << "\n== caseledger findings --case DEMO-2011-0042\n";
  auto findings =
      projections::FindingsOutput(**ledger, "DEMO-2011-0042", query);
  if (!findings.ok()) return Fail(io, "demo", findings.status());
  io.out << findings->output;
  // A lawyer read it as the office recording late (found by an outside
  // test).
  io.out << "(RECORDED_PROMPTLY warns because the demo records today a case "
            "of 2011; in an office's ledger it points at records made long "
            "after the fact)\n";
  if (auto code = stopped()) return *code;
  io.out << "\n== caseledger checkpoint\n";
  auto note = (*ledger)->SignCheckpoint();
  if (!note.ok()) return Fail(io, "demo", note.status());
  io.out << *note;
  auto key = (*ledger)->VerifierKeyText();
  if (!key.ok()) return Fail(io, "demo", key.status());
  // The verbs below open the ledger themselves, as a user's commands would.
  ledger->reset();

  const std::string key_file = evidence + "/key.txt";
  const std::string bundle = evidence + "/DEMO-2011-0042.zip";
  const std::string altered = evidence + "/DEMO-2011-0042-altered.zip";
  if (absl::Status s = WriteDemoFile(key_file, *key + "\n"); !s.ok()) {
    return Fail(io, "demo", s);
  }
  // Each verb is shown as a user would type it, then run as one.
  auto run_shown = [&io](const std::vector<std::string>& argv) {
    std::vector<std::string> words;
    for (const std::string& a : argv) words.push_back(ShellWord(a));
    io.out << "== caseledger " << absl::StrJoin(words, " ") << "\n";
    io.out.flush();
    return Main(argv, io);
  };
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{
           {"verify", "--db", dir},
           // Investigation: the case was never refused, so there is no
           // decision for a reconsideration or a court to review.
           {"export", "--db", dir, "--case", "DEMO-2011-0042", "--purpose",
            "investigation", "--out", bundle},
           {"verify-bundle", bundle, "--pubkey", key_file}}) {
    io.out << "\n";
    if (int code = run_shown(argv); code != kExitOk) return code;
    if (auto code = stopped()) return *code;
  }

  // What the bundle is for: anyone who holds the office's public key (a
  // court, a lawyer) finds any change, here one letter of the address DOC-1
  // went to.
  io.out << "\n== the same bundle with one byte changed: the address DOC-1 "
            "was sent to\n";
  auto bytes = ReadInput(bundle, io, bundle::kMaxBundleBytes);
  if (!bytes.ok()) return Fail(io, "demo", bytes.status());
  const size_t member = bytes->find("events/4.event");
  const size_t address = bytes->find("amina.diallo@mail.example", member);
  if (member == std::string::npos || address == std::string::npos) {
    return Fail(io, "demo",
                absl::InternalError("the bundle holds no request DOC-1"));
  }
  (*bytes)[address + std::string_view("amina.diall").size()] = 'p';
  if (absl::Status s = WriteDemoFile(altered, *bytes); !s.ok()) {
    return Fail(io, "demo", s);
  }
  if (int code = run_shown({"verify-bundle", altered, "--pubkey", key_file});
      code != kExitCheckFailed) {
    return Fail(io, "demo",
                absl::InternalError(absl::StrCat(
                    "verify-bundle exited ", code,
                    " for the altered bundle, where it must fail (1)")));
  }
  io.out << "(exit 1: the altered bundle fails, as it must)\n";
  if (auto code = stopped()) return *code;
  io.out << "\nTry: " << ShellWord(ThisProgram()) << " state --db "
         << ShellWord(dir) << " --case DEMO-2011-0042 --format json\n"
         << "     unzip -l " << ShellWord(bundle)
         << "   (its report.pdf is the court's copy)\n";
  return kExitOk;
}

}  // namespace caseledger::cli
