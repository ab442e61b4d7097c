// End-to-end tests of the built `caseledger` binary: exit codes, outputs and
// files exactly as domain.md §6 says, against real ledgers in temp folders.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/event_json.h"
#include "ledger/internal/store.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/sha256.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/deadline_index.h"
#include "tests/testing/storage_format.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using testing::CliRun;

class CliTest : public ::testing::Test {
 protected:
  // Runs the binary with `args` (shell-quoted by the caller where needed),
  // `stdin_text` on standard input.
  CliRun Cli(const std::string& args, const std::string& stdin_text = "") {
    return testing::RunCli(CASELEDGER_BINARY, args, dir_, stdin_text);
  }

  std::string Db() const { return dir_.Sub("ledger"); }
  std::string Example(const std::string& name) const {
    return testing::SharedDir() + "/examples/" + name;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  int EventCount() {
    CliRun r = Cli("read --db " + Db());
    EXPECT_EQ(r.code, 0) << r.err;
    return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
  }
  void Init() {
    CliRun r = Cli("init --db " + Db() + " --name cli.example/log");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // One JSON Lines event of case `c` by an officer at `when`.
  static std::string EventLine(const std::string& c, const std::string& when,
                               const std::string& payload) {
    return absl::StrCat(R"({"case_id": ")", c, R"(", "occurred_at": ")", when,
                        R"(", "actor": {"kind": "OFFICER", "id": "o"}, )",
                        payload, "}\n");
  }
  // Case `c` opened, then `notes` officer notes, as JSON Lines.
  static std::string OpenedWithNotes(const std::string& c, int notes) {
    std::string text = EventLine(c, "2011-01-01T00:00:00Z",
                                 R"("case_opened": {"office_id": "VO"})");
    for (int i = 0; i < notes; ++i) {
      text += EventLine(c, "2011-01-02T00:00:00Z",
                        R"("officer_note_added": {"text": "n"})");
    }
    return text;
  }
  // Runs `caseledger ARGS` in the background, sends it SIGTERM once the
  // shell condition `ready` holds (or after 30 s), and waits for it; its
  // standard error is left in `err_path` ("$2" in `ready`).
  CliRun StoppedWhenReady(const std::string& args, const std::string& ready,
                          const std::string& err_path) {
    constexpr char kScript[] = R"("$1" ARGS 2>"$2" &
pid=$!
tries=0
until READY || [ $tries -ge 3000 ]; do
  tries=$((tries + 1))
  sleep 0.01
done
kill -TERM $pid
wait $pid
)";
    const std::string script =
        Write("stop.sh",
              absl::StrReplaceAll(kScript, {{"ARGS", args}, {"READY", ready}}));
    return testing::RunCli(
        "sh " + script, absl::StrCat(CASELEDGER_BINARY, " ", err_path), dir_);
  }
  // An export of a case of 1,500 notes (S), sent SIGTERM once the shell
  // test `partial_test` ("-e": it exists, "-s": it has a size) holds for
  // FILE.partial, or FILE exists.
  struct StoppedExport {
    CliRun run;
    std::string err;     // its standard error
    std::string bundle;  // FILE
    int events_before = 0;
  };
  StoppedExport ExportStoppedWhen(const std::string& partial_test) {
    Init();
    StoppedExport stopped;
    EXPECT_EQ(Cli("import --db " + Db() + " " +
                  Write("s.jsonl", OpenedWithNotes("S", 1500)))
                  .code,
              0);
    stopped.events_before = EventCount();
    stopped.bundle = dir_.Sub("s.zip");
    const std::string err_path = dir_.Sub("export.err");
    stopped.run = StoppedWhenReady(
        absl::StrCat("export --db ", Db(),
                     " --case S --purpose investigation --out ",
                     stopped.bundle),
        absl::StrCat("[ ", partial_test, " ", stopped.bundle,
                     ".partial ] || [ -e ", stopped.bundle, " ]"),
        err_path);
    stopped.err = testing::FileContents(err_path);
    return stopped;
  }
  // Case `c` opened in January 2011, and its request R1 emailed on 1
  // February with a deadline of 15 March, as JSON Lines.
  static std::string OpenedWithRequest(const std::string& c) {
    return EventLine(c, "2011-01-01T00:00:00Z",
                     R"("case_opened": {"office_id": "VO"})") +
           EventLine(
               c, "2011-02-01T00:00:00Z",
               R"("document_request_sent": {"request_id": "R1", "channel": "EMAIL", "to": ["x@mail.example"], "deadline": "2011-03-15T00:00:00Z"})");
  }
  // A ledger holding the bounce example under a signed checkpoint.
  void InitWithCheckpointedExample() {
    Init();
    ASSERT_EQ(
        Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
        0);
    ASSERT_EQ(Cli("checkpoint --db " + Db()).code, 0);
  }

  testing::TempFolder dir_;
};

TEST_F(CliTest, HelpGoesToStdoutAndExitsZero) {
  CliRun r = Cli("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("append"));
  for (const char* verb : {"init", "attach", "append", "import", "read", "demo",
                           "key", "checkpoint", "prove", "verify", "timeline",
                           "state", "deadlines", "findings", "rebuild"}) {
    CliRun v = Cli(absl::StrCat(verb, " --help"));
    EXPECT_EQ(v.code, 0) << verb;
    EXPECT_THAT(v.out, StartsWith(absl::StrCat("usage: caseledger ", verb)));
  }
}

TEST_F(CliTest, TheCliReferenceDocumentsEveryVerb) {
  std::string doc = testing::FileContents(std::string(CASELEDGER_SOURCE_DIR) +
                                          "/docs/cli.md");
  std::string help = Cli("--help").out;
  std::istringstream lines(help.substr(help.find("verbs:")));
  std::string line;
  int verbs = 0;
  std::getline(lines, line);  // "verbs:"
  while (std::getline(lines, line) && !line.empty()) {
    if (line.size() < 3 || line[2] == ' ') continue;
    std::string verb = line.substr(2, line.find(' ', 2) - 2);
    EXPECT_THAT(doc, HasSubstr(absl::StrCat("### `", verb, "`"))) << verb;
    ++verbs;
  }
  EXPECT_GT(verbs, 10);
}

TEST_F(CliTest, BadUsageExitsTwo) {
  EXPECT_EQ(Cli("frobnicate").code, 2);
  EXPECT_EQ(Cli("").code, 2);
  CliRun r = Cli("read --db " + Db() + " --bogus");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
  EXPECT_EQ(Cli("read --db " + Db()).code, 2);  // no ledger there
  EXPECT_EQ(Cli("read").code, 2);               // no --db
}

// A verb's flag given before the verb was refused as "unknown verb '--db'"
// (found by an audit of the docs); the error now says where it belongs. A
// word that is no verb's flag is still an unknown verb.
TEST_F(CliTest, AVerbsFlagBeforeTheVerbSaysWhereItBelongs) {
  for (const std::string& flag : std::vector<std::string>{
           "--db " + Db(), "--db=" + Db(), "--case X",
           "--server 127.0.0.1:1 --token-file t --case X"}) {
    CliRun r = Cli(flag + " state");
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_THAT(r.err, HasSubstr(" comes after the verb (caseledger VERB --"))
        << flag;
    EXPECT_THAT(r.err, Not(HasSubstr("unknown verb"))) << flag;
  }
  CliRun r = Cli("--verbose");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown verb '--verbose'"));
  // With --server, --db is refused wherever it stands, for the same reason.
  for (const std::string before :
       {"--db x state --case X", "state --case X --db x"}) {
    r = Cli("--server 127.0.0.1:1 --token-file t " + before);
    EXPECT_EQ(r.code, 2) << before;
    EXPECT_THAT(r.err, HasSubstr("--db and --server exclude each other"))
        << before;
  }
}

// `token` and `verify-bundle` read no ledger: with --server they said "has
// no client mode: run it where the ledger is" (found by an audit of the
// docs), sending the user to a ledger they do not need.
TEST_F(CliTest, AVerbThatReadsNoLedgerSaysItRunsWithoutServer) {
  const std::string server = "--server 127.0.0.1:1 --token-file /dev/null ";
  CliRun r = Cli(server + "token --role reader --name x");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("caseledger token: reads no ledger, so it runs "
                               "without --server"));
  r = Cli(server + "verify-bundle b.zip --pubkey k");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("caseledger verify-bundle: reads no ledger"));
  r = Cli(server + "verify");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("has no client mode: run it where the ledger "
                               "is"));
  // Said before the verb's arguments are read: a usage printed first
  // (import's, before it had a client mode) sent the user to fix arguments
  // that could not help.
  r = Cli(server + "restore");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, StartsWith("caseledger restore: has no client mode"));
  EXPECT_THAT(r.err, Not(HasSubstr("usage")));
}

// A case id asked for is the user's text: a line break in it printed a
// second line of its own, which could pass for another message (found by
// an adversarial test); it is escaped as every other value is.
TEST_F(CliTest, ACaseIdNamedInAnErrorStaysOnItsLine) {
  InitWithCheckpointedExample();
  const std::vector<std::string> verbs = {
      "state",    "timeline", "deadlines",
      "findings", "read",     "export --purpose investigation --out b.zip"};
  for (const std::string& verb : verbs) {
    CliRun r = Cli(verb + " --db " + Db() + " --case 'a\nb\"'");
    EXPECT_EQ(r.code, 2) << verb;
    EXPECT_THAT(r.err, HasSubstr(R"(case a\nb\")")) << verb;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// The version a bundle's manifest records as its tool_version.
TEST_F(CliTest, VersionPrintsTheProjectsVersion) {
  CliRun r = Cli("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out,
              ::testing::MatchesRegex("caseledger [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

// `caseledger help VERB`, as git and go have it, printed the general help.
TEST_F(CliTest, HelpNamingAVerbPrintsThatVerbsHelp) {
  CliRun r = Cli("help prove");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, Cli("prove --help").out);
  EXPECT_THAT(r.out, StartsWith("usage: caseledger prove"));
  r = Cli("help frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "caseledger help: no verb named 'frobnicate' (caseledger help "
            "lists them)\n");
  r = Cli("help read prove");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("give one verb"));
}

// An error quoting input as it came (a case id, a verb) must not hand the
// terminal an escape sequence or a bidirectional override: a case id from
// an applicant's portal could recolour or retitle the operator's terminal,
// or show one id as another (found by an audit).
TEST_F(CliTest, AnErrorShowsRawInputEscaped) {
  ASSERT_EQ(Cli("init --db " + Db()).code, 0);
  // The shell's printf makes the bytes: U+202E, OSC, BEL, ESC, 0xC3A9 (é).
  CliRun r = Cli(
      "state --db " + Db() +
      R"sh( --case "$(printf 'Dos\342\200\256sier\033]0;TITLE\007\033[31m')")sh");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err,
              HasSubstr(R"(no case Dos\u202esier\x1b]0;TITLE\x07\x1b[31m)"));
  const std::string raw_case = r.err;
  r = Cli(R"sh("$(printf 'v\303\251rifier\033[31m')")sh");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown verb 'v\u00e9rifier\\x1b[31m'"));
  const std::string raw_verb = r.err;
  r = Cli("state --db " + Db() + R"sh( --case "$(printf 'X\377')")sh");
  EXPECT_THAT(r.err, HasSubstr(R"(no case X\xff)"));
  for (const std::string& err : {raw_case, raw_verb, r.err}) {
    EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
    EXPECT_EQ(err.find("\xe2\x80\xae"), std::string::npos) << err;
    EXPECT_EQ(err.find('\xff'), std::string::npos) << err;
  }
}

// Free text shown by a text projection cannot reorder what the reader
// sees: a note "Refused: U+202E DEVORPPA" would read "Refused: APPROVED"
// (found by an audit). JSON keeps the text as stored.
TEST_F(CliTest, TextOutputsShowBidirectionalControlsEscaped) {
  ASSERT_EQ(Cli("init --db " + Db()).code, 0);
  const std::string note =
      R"({"case_id": "T-1", "occurred_at": "2011-01-11T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "Refused: \u202eDEVORPPA"}})";
  ASSERT_EQ(
      Cli("append --db " + Db() + " -",
          absl::StrCat(
              R"({"case_id": "T-1", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "case_opened": {"office_id": "VO"}})",
              "\n", note, "\n"))
          .code,
      0);
  CliRun r = Cli("timeline --db " + Db() + " --case T-1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"(Officer note: Refused: \u202eDEVORPPA)"));
  EXPECT_EQ(r.out.find("\xe2\x80\xae"), std::string::npos) << r.out;
  r = Cli("timeline --db " + Db() + " --case T-1 --format json");
  EXPECT_THAT(r.out, HasSubstr("Refused: \xe2\x80\xae"
                               "DEVORPPA"));
}

// Output that does not all reach standard output (a full disk under
// `read > file`) fails the command instead of leaving a cut-short listing
// that a script would take for the whole; the append stands.
TEST_F(CliTest, OutputThatCannotBeWrittenFailsTheCommand) {
  Init();
  // /dev/full refuses every write, as a full disk does.
  auto to_full = [&](const std::string& args, const std::string& in = "") {
    return testing::RunCli("sh -c '\"$0\" \"$@\" >/dev/full'",
                           absl::StrCat(CASELEDGER_BINARY, " ", args), dir_,
                           in);
  };
  CliRun append =
      to_full("append --db " + Db() + " -", OpenedWithNotes("A", 60));
  EXPECT_EQ(append.code, 4) << append.err;
  EXPECT_EQ(append.err,
            "caseledger append: standard output could not be written; what "
            "this command printed is cut short (what it did to the ledger "
            "stands)\n");
  EXPECT_EQ(EventCount(), 61);
  // A listing past C's 4 KiB buffer fails in the middle of the verb.
  CliRun read = to_full("read --db " + Db() + " --format json");
  EXPECT_EQ(read.code, 4) << read.err;
  EXPECT_THAT(read.err, StartsWith("caseledger read: standard output could "
                                   "not be written; "));
  // An error keeps its own code.
  CliRun missing = to_full("state --db " + Db() + " --case NONE");
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_EQ(Cli("state --db " + Db() + " --case A").code, 0);
  // A verb that opens no ledger, and help, do not speak of one.
  for (const std::string verb :
       {"token --role reader --name x", "--help", "append --help"}) {
    CliRun r = to_full(verb);
    EXPECT_EQ(r.code, 4) << verb;
    EXPECT_THAT(r.err, HasSubstr("printed is cut short\n")) << verb;
  }
}

// A standard stream closed by the caller (`>&-`) left its descriptor to
// the next file opened: RocksDB's info log took it, and append's result
// went into the ledger's folder, exit 0. Closed standard output is now a
// failed one, and nothing the verb prints lands in a file of the ledger.
TEST_F(CliTest, AClosedStandardStreamIsNoFileOfTheLedger) {
  Init();
  auto closed = [&](const std::string& stream, const std::string& args) {
    return testing::RunCli(
        absl::StrCat("sh -c '\"$0\" \"$@\" ", stream, ">&-'"),
        absl::StrCat(CASELEDGER_BINARY, " ", args), dir_);
  };
  CliRun out_closed = closed("", "append --db " + Db() + " " +
                                     Write("a.jsonl", OpenedWithNotes("A", 3)));
  EXPECT_EQ(out_closed.code, 4) << out_closed.err;
  EXPECT_THAT(out_closed.err, HasSubstr("caseledger append: standard output "
                                        "could not be written; "));
  // Dated in the future, so that the append warns on standard error.
  CliRun err_closed = closed(
      "2", "append --db " + Db() + " " +
               Write("b.jsonl",
                     OpenedWithNotes("B", 2) +
                         EventLine("B", "2099-01-01T00:00:00Z",
                                   R"("officer_note_added": {"text": "n"})")));
  EXPECT_EQ(err_closed.code, 0);
  EXPECT_THAT(err_closed.out, HasSubstr("appended 4 events"));
  EXPECT_EQ(EventCount(), 8);
  for (const auto& file :
       std::filesystem::directory_iterator(Db() + "/store")) {
    const std::string bytes = testing::FileContents(file.path().string());
    EXPECT_THAT(bytes, Not(HasSubstr("appended 4 events"))) << file.path();
    EXPECT_THAT(bytes, Not(HasSubstr("is after the ledger recorded it")))
        << file.path();
  }
}

// A flag given twice is refused only when the two values differ: nothing
// is written, and nothing is read in place of what was meant.
TEST_F(CliTest, AFlagGivenTwiceIsRefusedUnlessBothValuesAgree) {
  Init();
  EXPECT_EQ(Cli("read --db " + Db() + " --db " + Db()).code, 0);
  CliRun r = Cli("init --db " + dir_.Sub("other") + " --db " + Db() +
                 " --name cli.example/other");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--db is given twice"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("other")));
}

// After `--` every word is an argument, as getopt has it: a file whose
// name begins with "--" can still be given.
TEST_F(CliTest, WordsAfterADoubleDashAreArguments) {
  Init();
  Write("--a.jsonl", OpenedWithNotes("D", 0));
  CliRun r = testing::RunCli(
      absl::StrCat("cd ", dir_.path(), " && exec ", CASELEDGER_BINARY),
      "append --db " + Db() + " -- --a.jsonl", dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "appended 1 event; positions 1..1; ledger size 1\n");
}

TEST_F(CliTest, AttachPrintsTheLowercaseSha256) {
  Init();
  std::string eml = testing::FileContents(Example("bounce-handled-DOC-1.eml"));
  CliRun r =
      Cli("attach --db " + Db() + " " + Example("bounce-handled-DOC-1.eml"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, ToHex(Sha256(eml)) + "\n");
  EXPECT_EQ(
      r.out,
      "87a4bd27e5f6e215b9d771b946ef2215f0c036538242be709f6a7faddc76efa6\n");
}

// Several files: one line each, as sha256sum writes them, so `sha256sum -c`
// reads the list; a name holding a line break cannot forge a line (found by
// an audit).
TEST_F(CliTest, AttachListsSeveralFilesAsSha256sumDoes) {
  Init();
  const std::string& dir = dir_.path();
  Write("avis\n" + std::string(64, '0') + "  forged.eml", "x");
  Write("a\\b.eml", "y");
  Write("plain.eml", "z");
  // The shell's printf makes the line break of the first name.
  const std::string names = R"sh("$(printf ')sh" + dir + R"sh(/avis\n)sh" +
                            std::string(64, '0') + R"sh(  forged.eml')" ')sh" +
                            dir + R"sh(/a\b.eml' )sh" + dir + "/plain.eml";
  CliRun r = Cli("attach --db " + Db() + " " + names);
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun sum = testing::RunCli("sha256sum", names, dir_);
  ASSERT_EQ(sum.code, 0) << sum.err;
  EXPECT_EQ(r.out, sum.out);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;
  EXPECT_THAT(r.out, StartsWith("\\" + ToHex(Sha256("x")) + "  "));
}

// docs/storage.md, "Upgrading a format-1 ledger": a writing verb upgrades
// it once, and says so on stderr rather than seem to hang.
TEST_F(CliTest, AWritingVerbUpgradesAFormatOneLedgerAndSaysSo) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  const int events = EventCount();
  const std::string before = Cli("read --db " + Db()).out;
  ASSERT_OK(testing::RewriteAsFormatOne(Db() + "/store"));
  CliRun first = Cli("checkpoint --db " + Db());
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.err, StartsWith("caseledger: upgrading " + Db() +
                                    " to storage format 2"));
  EXPECT_THAT(first.err,
              HasSubstr(absl::StrCat("upgrade: done, ", events, " events\n")));
  CliRun second = Cli("checkpoint --db " + Db());
  EXPECT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.err, Not(HasSubstr("upgrad")));
  EXPECT_EQ(Cli("read --db " + Db()).out, before);
  EXPECT_EQ(Cli("verify --db " + Db()).code, 0);
}

// Editors on Windows may open a UTF-8 file with a byte order mark; without
// this, line 1 was "not valid JSON: Expected a value."
TEST_F(CliTest, AByteOrderMarkOpeningTheInputIsSkipped) {
  Init();
  const std::string events = OpenedWithRequest("C1");
  CliRun r = Cli("append --db " + Db() + " " +
                 Write("bom.jsonl", "\xEF\xBB\xBF" + events));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(EventCount(), 2);
  // Only where the input opens: the mark inside a line is refused.
  r = Cli(
      "append --db " + Db() + " -",
      "\n\xEF\xBB\xBF" + EventLine("C1", "2011-02-02T00:00:00Z",
                                   R"("officer_note_added": {"text": "x"})"));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 2: byte 1: a byte order mark (U+FEFF), "
                               "which is skipped only where the input opens"));
  EXPECT_EQ(EventCount(), 2);
  // A byte an error names is counted from the line's start, the mark
  // included.
  r = Cli("append --db " + Db() + " -", "\xEF\xBB\xBF{\"case_id\": 'x'}\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 1: byte 16: a string in single quotes"));
}

// Storing a thousand messages took a thousand processes (found by an
// audit): attach takes several files, prints each SHA-256 with its name,
// and checks every file before it stores anything.
TEST_F(CliTest, AttachStoresSeveralFilesAndChecksEveryNameFirst) {
  Init();
  const std::string a = Write("a.eml", "Subject: a\r\n\r\na\r\n");
  const std::string b = Write("b.eml", "Subject: b\r\n\r\nb\r\n");
  CliRun r = Cli("attach --db " + Db() + " " + a + " " + dir_.Sub("missing") +
                 " " + b);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            absl::StrCat("caseledger attach: cannot read ", dir_.Sub("missing"),
                         ": No such file or directory\n"));
  r = Cli("verify --db " + Db());
  EXPECT_THAT(r.out, HasSubstr(" 0 stored messages"));
  // What only reading finds, a device read empty or the ledger's own key,
  // stored the files before it (found by an outside reading).
  r = Cli("attach --db " + Db() + " " + a + " /dev/null " + b);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "caseledger attach: /dev/null is empty\n");
  EXPECT_EQ(r.out, "");
  const std::string key = Db() + "/signing-key.pem";
  r = Cli("attach --db " + Db() + " " + a + " " + key);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, absl::StrCat("caseledger attach: ", key,
                                ": the message holds this ledger's private "
                                "signing key; it is never stored (a bundle "
                                "would disclose it)\n"));
  r = Cli("verify --db " + Db());
  EXPECT_THAT(r.out, HasSubstr(" 0 stored messages"));

  r = Cli("attach --db " + Db() + " " + a + " " + b);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(
                       ToHex(Sha256(testing::FileContents(a))), "  ", a, "\n",
                       ToHex(Sha256(testing::FileContents(b))), "  ", b, "\n"));
  r = Cli("verify --db " + Db());
  EXPECT_THAT(r.out, HasSubstr(" 2 stored messages"));
  // One file prints its SHA-256 alone, as domain.md §6 says.
  r = Cli("attach --db " + Db() + " " + a);
  EXPECT_EQ(r.out, ToHex(Sha256(testing::FileContents(a))) + "\n");
}

// An event dated after it was appended counts in no projection until its
// date, and the report of a bundle exported before then leaves it out (found
// by an audit): append stores it, and says so on standard error, naming the
// line.
TEST_F(CliTest, AppendAndImportWarnOfAnEventDatedAfterItIsRecorded) {
  Init();
  const std::string path =
      Write("ahead.jsonl",
            OpenedWithNotes("E1", 1) +
                EventLine("E1", "2099-01-01T00:00:00Z",
                          R"("officer_note_added": {"text": "wrong clock"})"));
  CliRun r = Cli("append --db " + Db() + " " + path);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("appended 3 events"));
  EXPECT_THAT(r.err, HasSubstr("caseledger append: warning: line 3: "
                               "occurred_at 2099-01-01T00:00:00Z is after the "
                               "ledger recorded it ("));
  EXPECT_THAT(r.err, HasSubstr("the report of a bundle exported before then "
                               "leaves it out: check the clock or time zone"));
  EXPECT_THAT(r.err, Not(HasSubstr("line 2:")));

  const std::string past = Write("past.jsonl", OpenedWithNotes("E2", 1));
  r = Cli("append --db " + Db() + " " + past);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");

  // import warns alike, naming five lines and counting the rest.
  std::string ahead = OpenedWithNotes("E3", 0);
  for (int i = 0; i < 7; ++i) {
    ahead += EventLine(
        "E3", "2099-01-01T00:00:00Z",
        absl::StrCat(R"("officer_note_added": {"text": "n)", i, R"("})"));
  }
  r = Cli("import --db " + Db() + " " + Write("ahead-import.jsonl", ahead));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("caseledger import: warning: line 2: "
                               "occurred_at 2099-01-01T00:00:00Z is after"));
  EXPECT_THAT(r.err, HasSubstr("caseledger import: warning: line 6: "));
  EXPECT_THAT(r.err, Not(HasSubstr("warning: line 7: ")));
  EXPECT_THAT(r.err, HasSubstr("caseledger import: warning: 2 more lines are "
                               "dated after the ledger recorded them\n"));
  // Run again, they are skipped as stored already: warned of when they
  // were stored, not again with this run's time.
  r = Cli("import --db " + Db() + " " + dir_.Sub("ahead-import.jsonl"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("8 already stored"));
  EXPECT_THAT(r.err, Not(HasSubstr("warning")));
  const std::string with_ids = Write(
      "ahead-ids.jsonl",
      absl::StrCat(R"({"event_id": "0b7e6a1c-3f1d-4c2a-9a57-5d2b8e4f6a10", )",
                   EventLine("E1", "2099-01-01T00:00:00Z",
                             R"("officer_note_added": {"text": "x"})")
                       .substr(1)));
  ASSERT_THAT(Cli("append --db " + Db() + " " + with_ids).err,
              HasSubstr("warning: line 1: "));
  r = Cli("append --db " + Db() + " " + with_ids);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 already stored"));
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, AppendThenReadRoundTripsEveryEvent) {
  Init();
  CliRun r = Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli("append --db " + Db() + " -",
          testing::FileContents(Example("transfer-then-refusal.jsonl")));
  ASSERT_EQ(r.code, 0) << r.err;

  std::istringstream input(
      testing::FileContents(Example("bounce-handled.jsonl")) +
      testing::FileContents(Example("transfer-then-refusal.jsonl")));
  ASSERT_OK_AND_ASSIGN(auto expected, ReadEventLines(input));
  CliRun read = Cli("read --db " + Db() + " --format json");
  ASSERT_EQ(read.code, 0) << read.err;
  std::vector<std::string> rows =
      absl::StrSplit(read.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), expected.size());
  // The stored entries and each case's versions, to hold the rows to: a
  // row's position as its case_version, or its event's bytes as its entry,
  // passed when only their presence was checked (found by a mutation).
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Db(), options));
  ASSERT_OK_AND_ASSIGN(std::vector<RecordedEvent> stored,
                       ledger->ReadAll(1, 0));
  ASSERT_EQ(stored.size(), rows.size());
  std::map<std::string, uint64_t> versions;
  for (size_t i = 0; i < rows.size(); ++i) {
    // Each row: position, case_version, recorded_at, event, entry.
    google::protobuf::Struct row;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(rows[i], &row).ok())
        << rows[i];
    const auto& f = row.fields();
    EXPECT_EQ(f.at("position").number_value(), i + 1);
    EXPECT_EQ(f.at("case_version").number_value(),
              ++versions[expected[i].event.case_id()])
        << "row " << i;
    EXPECT_TRUE(f.contains("recorded_at"));
    ASSERT_OK_AND_ASSIGN(std::string entry,
                         Base64Decode(f.at("entry").string_value(), "entry"));
    EXPECT_EQ(entry, stored[i].entry_bytes) << "row " << i;
    std::string event_json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                    f.at("event").struct_value(), &event_json)
                    .ok());
    ASSERT_OK_AND_ASSIGN(v1::Event event, ParseEventJson(event_json));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        event, expected[i].event))
        << "row " << i;
  }
}

// `append --format json` (docs/cli.md): each event's id, position, version
// in its case, and whether it was stored already. The version was printed
// unchecked: the position in its place passed every test (found by a
// mutation).
TEST_F(CliTest, AppendInJsonGivesEachEventsPositionVersionAndRepeat) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  const std::string second = Example("transfer-then-refusal.jsonl");
  std::istringstream input(testing::FileContents(second));
  ASSERT_OK_AND_ASSIGN(auto expected, ReadEventLines(input));
  for (bool again : {false, true}) {
    CliRun r = Cli("append --db " + Db() + " --format json " + second);
    ASSERT_EQ(r.code, 0) << r.err;
    google::protobuf::Struct answer;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(r.out, &answer).ok())
        << r.out;
    const auto& f = answer.fields();
    EXPECT_EQ(f.at("tree_size").number_value(), 10 + expected.size());
    const auto& events = f.at("events").list_value().values();
    ASSERT_EQ(static_cast<size_t>(events.size()), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const auto& e = events[static_cast<int>(i)].struct_value().fields();
      EXPECT_EQ(e.at("event_id").string_value(), expected[i].event.event_id());
      EXPECT_EQ(e.at("position").number_value(), 11 + i) << i;
      EXPECT_EQ(e.at("case_version").number_value(), 1 + i) << i;
      EXPECT_EQ(e.at("duplicate").bool_value(), again) << i;
    }
  }
}

TEST_F(CliTest, ManyCasesAppendAndReadBackWithDensePositions) {
  Init();
  std::string jsonl;
  constexpr int kCases = 40, kNotes = 9;
  for (int c = 0; c < kCases; ++c) {
    absl::StrAppend(
        &jsonl, R"({"case_id": "M-)", c,
        R"(", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "case_opened": {"office_id": "X"}})",
        "\n");
    for (int n = 0; n < kNotes; ++n) {
      absl::StrAppend(
          &jsonl, R"({"case_id": "M-)", c,
          R"(", "occurred_at": "2011-01-11T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "n)",
          n, "\"}}\n");
    }
  }
  CliRun r = Cli("append --db " + Db() + " " + Write("many.jsonl", jsonl));
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun read = Cli("read --db " + Db());
  std::vector<std::string> rows =
      absl::StrSplit(read.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), size_t{kCases * (kNotes + 1)});
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_THAT(rows[i], StartsWith(absl::StrCat("#", i + 1, " ")));
  }
  // Without --case, --from is a position in the whole ledger (the flag
  // went unapplied there and every test passed).
  CliRun from = Cli("read --db " + Db() + " --from 398 --limit 2");
  EXPECT_EQ(from.code, 0) << from.err;
  EXPECT_EQ(from.out, rows[397] + "\n" + rows[398] + "\n");
  CliRun one = Cli("read --db " + Db() + " --case M-7 --from 3 --limit 2");
  EXPECT_THAT(one.out, StartsWith("#73 M-7 v3 "));
  EXPECT_EQ(std::count(one.out.begin(), one.out.end(), '\n'), 2);
}

TEST_F(CliTest, IdenticalReappendIsSkippedAndConflictExitsThree) {
  Init();
  std::string file = Example("bounce-handled.jsonl");
  ASSERT_EQ(Cli("append --db " + Db() + " " + file).code, 0);
  CliRun again = Cli("append --db " + Db() + " " + file);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out,
            "appended 0 events (10 already stored, skipped); positions "
            "1..10; ledger size 10\n");
  std::string changed = testing::FileContents(file);
  changed.replace(changed.find("off-17"), 6, "off-99");
  CliRun conflict =
      Cli("append --db " + Db() + " " + Write("c.jsonl", changed));
  EXPECT_EQ(conflict.code, 3);
  EXPECT_THAT(conflict.err, HasSubstr("line 1: event_id"));
  // The line is the file's, blank lines counted.
  CliRun after_blank = Cli("append --db " + Db() + " -", "\n" + changed);
  EXPECT_EQ(after_blank.code, 3);
  EXPECT_EQ(after_blank.err,
            "caseledger append: line 2: event_id "
            "a08da730-376d-565c-b1c3-fef56726d190 is already stored at "
            "position 1 with different content\n");
  EXPECT_EQ(EventCount(), 10);
}

TEST_F(CliTest, ExpectedVersionMismatchExitsThreeNamingBothVersions) {
  Init();
  std::string file = Example("transfer-then-refusal.jsonl");
  ASSERT_EQ(
      Cli("append --db " + Db() + " --expected-version no-stream " + file).code,
      0);
  std::string note =
      R"({"case_id": "E2012-000952", "occurred_at": "2012-08-01T00:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "x"}})";
  CliRun r = Cli("append --db " + Db() + " --expected-version 5 -", note);
  EXPECT_EQ(r.code, 3);
  EXPECT_THAT(r.err, HasSubstr("expected version 5, actual version 8"));
  EXPECT_EQ(Cli("append --db " + Db() + " --expected-version 8 -", note).code,
            0);
  EXPECT_EQ(
      Cli("append --db " + Db() + " --expected-version soon -", note).code, 2);
}

TEST_F(CliTest, MalformedInputExitsTwoNamingLineAndFieldAndWritesNothing) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  std::string good =
      R"({"case_id": "E2012-000417", "occurred_at": "2012-05-01T00:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "fine"}})";
  struct Bad {
    std::string line, expect;
  };
  std::vector<Bad> bad = {
      {"{not json", "line 2"},
      {R"({"case_id": "E2012-000417", "occurred_at": "2012-05-01T00:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "x"}, "extra": 1})",
       "line 2: extra"},
      {R"({"case_id": "E2012-000417", "occurred_at": "2012-05-01T00:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "documents_received": {"request_id": "DOC-9"}})",
       "line 2: documents_received.request_id"},
      {R"({"case_id": "E2012-000417", "occurred_at": "2012-05-01T00:00:00Z", "actor": {"kind": "OFFICER"}, "officer_note_added": {"text": "x"}})",
       "line 2: actor.id"},
  };
  for (const Bad& b : bad) {
    CliRun r = Cli("append --db " + Db() + " -", good + "\n" + b.line + "\n");
    EXPECT_EQ(r.code, 2) << b.line;
    EXPECT_THAT(r.err, HasSubstr(b.expect)) << b.line;
  }
  EXPECT_EQ(EventCount(), 10);
  EXPECT_EQ(Cli("append --db " + Db() + " -", "\n\n").code, 2);
  EXPECT_EQ(Cli("verify --db " + Db()).code, 0);
}

// One row per event, whatever an actor id holds: validation takes any id,
// and one with a line break would otherwise print a forged row.
// An actor id with a line break would forge a row of `read` (and of every
// text output naming it): validation refuses it, and nothing is stored. The
// outputs escape control characters all the same, for ledgers written before
// that check (RenderTextTest.NoFieldCanForgeALineOfTheTextOutputs).
TEST_F(CliTest, AnActorIdThatWouldForgeARowIsRefused) {
  Init();
  const std::string opened =
      R"({"case_id": "R-1", "occurred_at": "2011-01-01T00:00:00Z", )"
      R"("actor": {"kind": "OFFICER", "id": "o\n#2 R-1 v2 forged"}, )"
      R"("case_opened": {"office_id": "VO"}})"
      "\n";
  const CliRun import =
      Cli("import --db " + Db() + " " + Write("r.jsonl", opened));
  EXPECT_EQ(import.code, 2) << import.err;
  EXPECT_THAT(import.err,
              HasSubstr("line 1: actor.id: 'o\\n#2 R-1 v2 forged' holds a "
                        "control character (byte 2)"));
  EXPECT_EQ(EventCount(), 0);
}

// `read --case` prints a long case a page of kCasePageEvents at a time,
// not held whole (404 MB for 225,004 events; found by an audit): every
// version once, in order, whatever --from and --limit cut across pages.
TEST_F(CliTest, ReadOfALongCaseGivesEachVersionOnceAcrossPages) {
  Init();
  const int events = 2 * static_cast<int>(kCasePageEvents) + 1;
  ASSERT_EQ(Cli("import --db " + Db() + " " +
                Write("l.jsonl", OpenedWithNotes("L", events - 1)))
                .code,
            0);
  auto versions = [&](const std::string& flags) {
    const CliRun run =
        Cli("read --db " + Db() + " --case L --format json " + flags);
    EXPECT_EQ(run.code, 0) << run.err;
    std::vector<int> found;
    for (const std::string& line :
         std::vector<std::string>(absl::StrSplit(run.out, '\n'))) {
      const size_t at = line.find("\"case_version\": ");
      if (at == std::string::npos) continue;
      found.push_back(std::atoi(line.c_str() + at + 16));
    }
    return found;
  };
  auto run_of = [](int from, int count) {
    std::vector<int> v(count);
    for (int i = 0; i < count; ++i) v[i] = from + i;
    return v;
  };
  EXPECT_EQ(versions(""), run_of(1, events));
  const int page = static_cast<int>(kCasePageEvents);
  EXPECT_EQ(versions(absl::StrCat("--from ", page, " --limit ", page + 2)),
            run_of(page, page + 2));
  EXPECT_EQ(versions(absl::StrCat("--limit ", page)), run_of(1, page));
  EXPECT_EQ(versions(absl::StrCat("--from ", page + 1)),
            run_of(page + 1, page + 1));
  EXPECT_EQ(versions(absl::StrCat("--from ", events + 1)), run_of(1, 0));
}

TEST_F(CliTest, ReadWorksWhileAnotherProcessHoldsTheWriter) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(Db()));
  EXPECT_EQ(EventCount(), 10);
  CliRun blocked =
      Cli("append --db " + Db() + " " + Example("transfer-then-refusal.jsonl"));
  EXPECT_NE(blocked.code, 0);
  EXPECT_THAT(blocked.err, HasSubstr("another process"));
}

TEST_F(CliTest, KeyCheckpointProveVerify) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  CliRun key = Cli("key --db " + Db());
  ASSERT_EQ(key.code, 0) << key.err;
  EXPECT_THAT(key.out, StartsWith("cli.example/log+"));
  // One line, as domain.md says (a parse that skips white space took a
  // blank line after it; found by a mutation).
  EXPECT_EQ(std::count(key.out.begin(), key.out.end(), '\n'), 1) << key.out;
  EXPECT_TRUE(key.out.ends_with("\n")) << key.out;
  ASSERT_OK_AND_ASSIGN(VerifierKey verifier, ParseVerifierKey(key.out));
  CliRun note = Cli("checkpoint --db " + Db());
  ASSERT_EQ(note.code, 0) << note.err;
  EXPECT_THAT(note.out, StartsWith("cli.example/log\n10\n"));
  ASSERT_OK_AND_ASSIGN(Checkpoint cp, VerifyCheckpoint(note.out, verifier));
  EXPECT_EQ(cp.tree_size, 10u);

  CliRun prove = Cli("prove --db " + Db() + " --position 4 --size 10");
  ASSERT_EQ(prove.code, 0) << prove.err;
  EXPECT_THAT(prove.out,
              StartsWith(R"({"leaf_index": 3, "tree_size": 10, "hashes": [")"));
  CliRun consistency = Cli("prove --db " + Db() + " --from-size 3 --size 10");
  EXPECT_THAT(consistency.out,
              StartsWith(R"({"old_size": 3, "new_size": 10, "hashes": [")"));
  // And they prove what they say, against the signed root: their openings
  // alone held with another leaf's proof printed (found by a mutation).
  auto hashes_in = [](const std::string& json) {
    google::protobuf::Struct proof;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &proof).ok())
        << json;
    std::vector<merkle::Hash> hashes;
    for (const auto& h : proof.fields().at("hashes").list_value().values()) {
      absl::StatusOr<std::string> bytes =
          Base64Decode(h.string_value(), "hash");
      merkle::Hash hash{};
      EXPECT_TRUE(bytes.ok() && bytes->size() == hash.size()) << json;
      if (bytes.ok()) std::copy_n(bytes->begin(), hash.size(), hash.begin());
      hashes.push_back(hash);
    }
    return hashes;
  };
  std::vector<merkle::Hash> leaves;
  CliRun rows = Cli("read --db " + Db() + " --format json --limit 4");
  for (const std::string& row : std::vector<std::string>(
           absl::StrSplit(rows.out, '\n', absl::SkipEmpty()))) {
    google::protobuf::Struct fields;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(row, &fields).ok());
    ASSERT_OK_AND_ASSIGN(
        std::string entry,
        Base64Decode(fields.fields().at("entry").string_value(), "entry"));
    leaves.push_back(merkle::LeafHash(entry));
  }
  ASSERT_EQ(leaves.size(), 4u);
  EXPECT_OK(merkle::VerifyInclusion(leaves[3], 3, 10, hashes_in(prove.out),
                                    cp.root_hash));
  const merkle::Hash root_at_3 =
      merkle::NodeHash(merkle::NodeHash(leaves[0], leaves[1]), leaves[2]);
  EXPECT_OK(merkle::VerifyConsistency(3, 10, root_at_3, cp.root_hash,
                                      hashes_in(consistency.out)));
  // Against the size --size gives, not the current one: it went unapplied
  // and every proof above, at the current size, passed.
  CliRun at_4 = Cli("prove --db " + Db() + " --position 2 --size 4");
  ASSERT_EQ(at_4.code, 0) << at_4.err;
  EXPECT_THAT(at_4.out,
              StartsWith(R"({"leaf_index": 1, "tree_size": 4, "hashes": [")"));
  EXPECT_OK(merkle::VerifyInclusion(
      leaves[1], 1, 4, hashes_in(at_4.out),
      merkle::NodeHash(merkle::NodeHash(leaves[0], leaves[1]),
                       merkle::NodeHash(leaves[2], leaves[3]))));
  EXPECT_EQ(Cli("prove --db " + Db() + " --position 11 --size 10").code, 2);
  EXPECT_EQ(Cli("prove --db " + Db()).code, 2);

  CliRun verify = Cli("verify --db " + Db());
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.out,
            "OK 10 entries, 1 case, 18 Merkle nodes, 0 stored messages, 1 "
            "checkpoint verified\nOK the deadline index holds the 2 "
            "deadlines set up to position 10\n");
}

// What the log's hashes do not cover, verify checks against what they do:
// each stored message against its SHA-256, the deadline index against the
// events that set deadlines.
TEST_F(CliTest, VerifyFindsAnAlteredMessageAndAMissingDeadline) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  CliRun attached = Cli("attach --db " + Db() + " " +
                        Write("m.eml", "Subject: DOC-1\r\n\r\nSend it.\r\n"));
  ASSERT_EQ(attached.code, 0) << attached.err;
  std::string sha = std::string(absl::StripAsciiWhitespace(attached.out));
  CliRun intact = Cli("verify --db " + Db());
  ASSERT_EQ(intact.code, 0) << intact.out << intact.err;
  EXPECT_THAT(intact.out, HasSubstr(" Merkle nodes, 1 stored message, "));
  EXPECT_THAT(intact.out,
              HasSubstr("\nOK the deadline index holds the 2 deadlines set up "
                        "to position 10\n"));
  EXPECT_THAT(intact.err, HasSubstr("verify: deadline index 10/10 events\n"));

  EXPECT_THAT(intact.out, Not(HasSubstr("NOTE the deadline index")));

  // Events appended past the index (an import killed before its catch-up
  // leaves it so) are named, not passed over; readers fold them in.
  {
    std::istringstream input(
        testing::FileContents(Example("transfer-then-refusal.jsonl")));
    ASSERT_OK_AND_ASSIGN(auto events, ReadEventLines(input));
    ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(Db()));
    ASSERT_OK(writer->Append({events[0].event}).status());
  }
  CliRun behind = Cli("verify --db " + Db());
  EXPECT_EQ(behind.code, 0) << behind.out << behind.err;
  EXPECT_THAT(behind.out,
              HasSubstr("\nNOTE the deadline index has taken up 10 of the 11 "
                        "entries: readers fold in the others as they read; "
                        "the ledger's writer takes them up (a server every "
                        "--index-every seconds, a local write as it ends; "
                        "'caseledger rebuild' when none holds the ledger)\n"));

  ASSERT_OK(testing::RemoveTheFirstDeadline(Db(), 10));
  CliRun missing = Cli("verify --db " + Db());
  EXPECT_EQ(missing.code, 1) << missing.out << missing.err;
  EXPECT_EQ(missing.out,
            "FAIL position 4: the deadline index lacks the deadline "
            "2012-04-15T23:59:59Z that this document_request_sent sets for "
            "request DOC-1 of case E2012-000417; run 'caseledger rebuild'\n");
  ASSERT_EQ(Cli("rebuild --db " + Db()).code, 0);
  EXPECT_EQ(Cli("verify --db " + Db()).code, 0);

  ASSERT_OK_AND_ASSIGN(Sha256Digest digest, DigestFromHex(sha, "sha256"));
  ASSERT_OK(testing::AlterStore(
      Db() + "/store", [&](internal::Store&, internal::Batch& b) {
        b.Put(internal::Family::kBlobs, DigestBytes(digest),
              "Subject: DOC-1\r\n\r\nSend it by Friday.\r\n");
      }));
  CliRun altered = Cli("verify --db " + Db());
  EXPECT_EQ(altered.code, 1) << altered.out << altered.err;
  EXPECT_EQ(altered.out, absl::StrCat("FAIL stored message ", sha,
                                      " (38 bytes) no longer has that "
                                      "SHA-256: it was altered\n"));
}

// A block of the stored messages that could not be read was reported by
// findings as the message altered, exit 0 (found by an adversarial damage
// sweep): findings fails naming the table, as every read of a damaged store
// does. Each table of the demo's store is damaged in turn.
TEST_F(CliTest, FindingsOverADamagedTableFailNamingIt) {
  const std::string demo = dir_.Sub("demo");
  ASSERT_EQ(Cli("demo --db " + demo).code, 0);
  const std::string findings = " --case DEMO-2011-0042";
  CliRun whole = Cli("findings --db " + demo + findings);
  ASSERT_EQ(whole.code, 0) << whole.err;
  ASSERT_THAT(whole.out, HasSubstr("SENT_MESSAGE_PRESERVED"));
  int named = 0;
  for (const auto& file :
       std::filesystem::directory_iterator(demo + "/store")) {
    if (file.path().extension() != ".sst") continue;
    const std::string table = file.path().filename().string();
    const std::string copy = dir_.Sub("copy");
    std::filesystem::remove_all(copy);
    std::filesystem::copy(demo, copy, std::filesystem::copy_options::recursive);
    // Byte 30 lies in the table's first data block.
    ASSERT_NO_FATAL_FAILURE(testing::FlipBit(copy + "/store/" + table, 30));
    CliRun r = Cli("findings --db " + copy + findings);
    if (r.code == 0) {
      EXPECT_EQ(r.out, whole.out) << table << " damaged, exit 0";
    } else {
      EXPECT_EQ(r.code, 1) << r.err;
      EXPECT_THAT(r.err, HasSubstr(table));
      ++named;
    }
  }
  EXPECT_GT(named, 0) << "no damage was met";
}

// A demo is named by the second it starts; a second one within that second
// was refused, "caseledger-demo-...-evidence exists", where the docs
// promise a new folder (found by a reading of the docs). The names of the
// next three seconds are taken here, so that the run meets one of them.
TEST_F(CliTest, ADemoWhoseNameIsTakenTakesTheNextFreeOne) {
  const std::string here = dir_.Sub("here");
  std::filesystem::create_directory(here);
  const absl::Time now = absl::Now();
  std::vector<std::string> taken;
  for (int s = 0; s < 3; ++s) {
    taken.push_back(
        absl::StrCat("caseledger-demo-",
                     absl::FormatTime("%Y%m%d-%H%M%S", now + absl::Seconds(s),
                                      absl::UTCTimeZone())));
    std::filesystem::create_directory(here + "/" + taken.back() + "-evidence");
  }
  CliRun r = testing::RunCli(
      absl::StrCat("cd ", here, " && ", CASELEDGER_BINARY), "demo", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  bool made = false;
  for (const std::string& name : taken) {
    made |= std::filesystem::exists(here + "/" + name + "-2/store") &&
            std::filesystem::exists(here + "/" + name + "-2-evidence");
    EXPECT_FALSE(std::filesystem::exists(here + "/" + name)) << name;
  }
  EXPECT_TRUE(made) << r.out;
}

// A folder in use is named in the words of init, with the evidence folder
// when that is in use too: one holding files was told to "init a new or
// empty folder", and of a ledger folder and its evidence folder only the
// second was named (found by an outside test). What an init stopped part
// way left is taken over, as init takes it, and a file is named as one.
TEST_F(CliTest, ADemoRefusesAFolderInUseNamingEveryOne) {
  std::filesystem::create_directory(Db());
  Write("ledger/notes.txt", "mine");
  CliRun in_use = Cli("demo --db " + Db());
  EXPECT_EQ(in_use.code, 3);
  EXPECT_EQ(in_use.err, "caseledger demo: " + Db() +
                            " is not empty and holds no ledger (it holds "
                            "notes.txt); give a new or empty folder\n");
  std::filesystem::create_directory(Db() + "-evidence");
  CliRun both = Cli("demo --db " + Db());
  EXPECT_EQ(both.code, 3);
  EXPECT_EQ(both.err, "caseledger demo: " + Db() +
                          " is not empty and holds no ledger (it holds "
                          "notes.txt); give a new or empty folder (and " +
                          Db() + "-evidence exists)\n");
  EXPECT_EQ(testing::FileContents(Db() + "/notes.txt"), "mine");
  std::filesystem::remove(Db() + "/notes.txt");
  CliRun evidence = Cli("demo --db " + Db());
  EXPECT_EQ(evidence.code, 3);
  EXPECT_EQ(evidence.err, "caseledger demo: " + Db() +
                              "-evidence exists; remove it or give another "
                              "--db\n");
  EXPECT_FALSE(std::filesystem::exists(Db() + "/store"));
  std::filesystem::remove(Db() + "-evidence");
  std::filesystem::create_directory(Db() + "/store.partial");
  CliRun left_by_init = Cli("demo --db " + Db());
  EXPECT_EQ(left_by_init.code, 0) << left_by_init.err;
  const std::string file = Write("a-file", "");
  CliRun a_file = Cli("demo --db " + file);
  EXPECT_EQ(a_file.code, 2);
  EXPECT_THAT(a_file.err, HasSubstr("is a file, not a folder"));
  EXPECT_FALSE(std::filesystem::exists(file + "-evidence"));
}

// A stop signal ends the demo between its steps: one during the export
// let it go on and exit 0, and one while its ledger was made left a folder
// that `read` called an init or restore stopped part way (found by an
// outside test). Sent once the ledger's store is in place.
TEST_F(CliTest, ADemoStoppedBySignalStopsBetweenItsSteps) {
  const std::string err_path = dir_.Sub("demo.err");
  CliRun stopped = StoppedWhenReady(
      "demo --db " + Db(), absl::StrCat("[ -d ", Db(), "/store ]"), err_path);
  const std::string err = testing::FileContents(err_path);
  EXPECT_EQ(stopped.code, 128 + SIGTERM) << err;
  EXPECT_THAT(err, HasSubstr("caseledger demo: SIGTERM received; stopped "
                             "after the step above: " +
                             Db() + " holds a whole ledger"));
  EXPECT_FALSE(
      std::filesystem::exists(Db() + "-evidence/DEMO-2011-0042-altered.zip"))
      << "the demo went on to its end";
  EXPECT_EQ(Cli("verify --db " + Db()).code, 0);
}

// "slash/" and "." name the folder: its evidence goes beside it, where it
// went inside the ledger and the export refused it part way (found by an
// outside test).
TEST_F(CliTest, ADemoFolderNamedWithATrailingSlashOrADotHasItsEvidenceBeside) {
  CliRun slash = Cli("demo --db " + Db() + "/");
  ASSERT_EQ(slash.code, 0) << slash.err;
  EXPECT_TRUE(std::filesystem::exists(Db() + "-evidence/DEMO-2011-0042.zip"));
  const std::string here = dir_.Sub("here");
  std::filesystem::create_directory(here);
  CliRun dot =
      testing::RunCli(absl::StrCat("cd ", here, " && ", CASELEDGER_BINARY),
                      "demo --db .", dir_);
  ASSERT_EQ(dot.code, 0) << dot.err;
  EXPECT_TRUE(std::filesystem::exists(here + "-evidence/DEMO-2011-0042.zip"));
  EXPECT_FALSE(std::filesystem::exists(here + "/.-evidence"));
}

// The lines the demo shows can be copied and run whatever its folder is
// called: a folder with a space made its `Try:` line two words (found by an
// outside test).
TEST_F(CliTest, TheDemosLinesRunAsShownForAFolderWithASpaceOrAQuote) {
  const std::string folder = dir_.Sub("it's a demo");
  CliRun r = Cli("demo --db \"" + folder + "\"");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("== caseledger verify --db '" +
                               dir_.Sub("it'\\''s a demo") + "'\n"));
  const size_t at = r.out.find("\nTry: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const size_t end = r.out.find('\n', at + 1);
  const std::string tried = r.out.substr(at + 6, end - at - 6);
  CliRun state = testing::RunCli(tried, "", dir_);
  EXPECT_EQ(state.code, 0) << tried << "\n" << state.err;
  EXPECT_THAT(state.out, HasSubstr("\"case_id\": \"DEMO-2011-0042\""));
}

// A deadline index whose position lies past the ledger's end was not
// derived from this log: the cross-case list answered from it in silence,
// and a write's warning said "run rebuild (run 'caseledger rebuild')"
// (found by an adversarial test).
TEST_F(CliTest, AnIndexPastTheLedgersEndIsRefusedAndRebuilt) {
  Init();
  CliRun r = Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl"));
  ASSERT_EQ(r.code, 0) << r.err;
  {
    ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(Db()));
    ASSERT_OK(writer->WriteProjection(projections::DeadlineIndex::kName, {},
                                      1000000));
  }
  const std::string refusal =
      "the deadline index has applied position 1000000 but the ledger has "
      "only 10 entries; run 'caseledger rebuild'";
  CliRun overdue = Cli("deadlines --db " + Db() + " --status OVERDUE");
  EXPECT_EQ(overdue.code, 1) << overdue.out << overdue.err;
  EXPECT_EQ(overdue.err, "caseledger deadlines: " + refusal + "\n");
  CliRun append = Cli("append --db " + Db() + " --format json -",
                      R"({"case_id": "E2012-000417", "occurred_at": )"
                      R"("2012-05-01T10:00:00Z", "actor": {"kind": "OFFICER", )"
                      R"("id": "o"}, "officer_note_added": {"text": "x"}})"
                      "\n");
  EXPECT_EQ(append.code, 0) << append.err;
  EXPECT_EQ(append.err,
            "caseledger append: warning: deadline index not updated: the "
            "deadline index has applied position 1000000 but the ledger has "
            "only 11 entries; run 'caseledger rebuild'\n");
  CliRun rebuilt = Cli("rebuild --db " + Db());
  ASSERT_EQ(rebuilt.code, 0) << rebuilt.err;
  EXPECT_EQ(rebuilt.out, "rebuilt the deadline index from 11 events\n");
  overdue = Cli("deadlines --db " + Db() + " --status OVERDUE");
  EXPECT_EQ(overdue.code, 0) << overdue.err;
}

// A signing key others can read lets them sign checkpoints as the ledger;
// nothing said so when a copy left it 0644. A verb that writes warns, and
// goes on (some file systems keep no modes).
TEST_F(CliTest, AWriterWarnsOfASigningKeyOthersCanRead) {
  Init();
  const std::string key = Db() + "/signing-key.pem";
  CliRun private_key = Cli("checkpoint --db " + Db());
  EXPECT_EQ(private_key.code, 0) << private_key.err;
  EXPECT_THAT(private_key.err, Not(HasSubstr("warning")));
  std::filesystem::permissions(
      key,
      std::filesystem::perms::group_read | std::filesystem::perms::others_read,
      std::filesystem::perm_options::add);
  CliRun open_key = Cli("checkpoint --db " + Db());
  EXPECT_EQ(open_key.code, 0) << open_key.err;
  EXPECT_THAT(open_key.err,
              HasSubstr("caseledger: warning: the signing key " + key +
                        " has mode 0644: others than its owner can read it, "
                        "and whoever reads it can sign checkpoints as this "
                        "ledger (chmod 600 " +
                        key + ")"));
  // Execute bits give nobody the key.
  std::filesystem::permissions(key,
                               std::filesystem::perms::owner_read |
                                   std::filesystem::perms::owner_write |
                                   std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::replace);
  CliRun exec_bit = Cli("checkpoint --db " + Db());
  EXPECT_EQ(exec_bit.code, 0) << exec_bit.err;
  EXPECT_THAT(exec_bit.err, Not(HasSubstr("warning")));
  EXPECT_THAT(open_key.out, HasSubstr("\n\u2014 cli.example/log "));
}

TEST_F(CliTest, VerifySaysWhatNoSignatureCovers) {
  InitWithCheckpointedExample();
  const std::string pub = Write("ledger.pub", Cli("key --db " + Db()).out);
  CliRun signed_all = Cli("verify --db " + Db() + " --pubkey " + pub);
  ASSERT_EQ(signed_all.code, 0) << signed_all.out << signed_all.err;
  EXPECT_THAT(signed_all.out, Not(HasSubstr("NOTE")));
  // The kept file signs what the stored checkpoints sign: nothing to add.
  EXPECT_THAT(signed_all.out, Not(HasSubstr("OK the kept checkpoint")));

  ASSERT_OK(testing::AlterStore(Db() + "/store", [&](internal::Store& store,
                                                     internal::Batch& b) {
    ASSERT_OK(store.Scan(
        internal::Family::kCheckpoints, "", "",
        [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
          b.Delete(internal::Family::kCheckpoints, std::string(key));
          return true;
        }));
  }));
  // The checkpoint kept beside the store still signs them: verify said they
  // came after the last signed checkpoint (found by an audit).
  ASSERT_TRUE(std::filesystem::exists(Db() + "/latest-checkpoint"));
  for (const std::string& key :
       {std::string(" --pubkey ") + pub, std::string()}) {
    CliRun kept = Cli("verify --db " + Db() + key);
    EXPECT_EQ(kept.code, 0) << kept.out << kept.err;
    EXPECT_THAT(kept.out, Not(HasSubstr("NOTE"))) << key;
    // Said, since "0 checkpoints verified" does not count it.
    EXPECT_THAT(kept.out, HasSubstr("OK the kept checkpoint "
                                    "(latest-checkpoint) signs 10 entries\n"))
        << key;
  }

  std::filesystem::remove(Db() + "/latest-checkpoint");
  CliRun with_key = Cli("verify --db " + Db() + " --pubkey " + pub);
  EXPECT_EQ(with_key.code, 1) << with_key.out << with_key.err;
  EXPECT_THAT(with_key.out,
              HasSubstr("FAIL no stored checkpoint is signed by "
                        "cli.example/log: nothing shows that these 10 "
                        "entries are the ledger that key signs"));
  CliRun without = Cli("verify --db " + Db());
  EXPECT_EQ(without.code, 0) << without.out << without.err;
  EXPECT_THAT(without.out,
              HasSubstr("NOTE entries 1 to 10 come after the last signed "
                        "checkpoint: only the store vouches for them"));
}

// A ledger folder that keeps its key but lost its store's files is a
// ledger whose entries are gone: verify exited 2, as for a mistyped --db
// (found by an audit). It now fails the check.
TEST_F(CliTest, VerifyFailsALedgerWhoseStoreIsGone) {
  InitWithCheckpointedExample();
  for (const auto& file :
       std::filesystem::directory_iterator(Db() + "/store")) {
    std::filesystem::remove_all(file.path());
  }
  CliRun emptied = Cli("verify --db " + Db());
  EXPECT_EQ(emptied.code, 1) << emptied.err;
  EXPECT_THAT(emptied.err,
              HasSubstr("holds a signing key: the store's files were deleted"));
  std::filesystem::remove_all(Db() + "/store");
  CliRun removed = Cli("verify --db " + Db());
  EXPECT_EQ(removed.code, 1) << removed.err;
  EXPECT_THAT(removed.err, HasSubstr("which holds a signing key: its store/ "
                                     "is missing"));
  // A folder that holds no ledger at all is still bad usage.
  EXPECT_EQ(Cli("verify --db " + dir_.Sub("nothing-here")).code, 2);
}

// The message is the proof of what was sent: bytes changed under its
// SHA-256 are not that message, so the finding no longer counts it.
TEST_F(CliTest, AnAlteredMessageIsNotCountedAsPreserved) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  CliRun attached =
      Cli("attach --db " + Db() + " " + Example("bounce-handled-DOC-1.eml"));
  ASSERT_EQ(attached.code, 0) << attached.err;
  const std::string findings =
      "findings --db " + Db() + " --case E2012-000417 --as-of 2012-06-01";
  const std::string preserved = "The message sent for DOC-1 is stored";
  CliRun before = Cli(findings);
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_THAT(before.out, HasSubstr(preserved));

  const std::string sha(absl::StripAsciiWhitespace(attached.out));
  ASSERT_OK_AND_ASSIGN(Sha256Digest digest, DigestFromHex(sha, "sha256"));
  ASSERT_OK(testing::AlterStore(
      Db() + "/store", [&](internal::Store&, internal::Batch& b) {
        b.Put(internal::Family::kBlobs, DigestBytes(digest), "other bytes");
      }));
  CliRun after = Cli(findings);
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_THAT(after.out, Not(HasSubstr(preserved)));
  EXPECT_THAT(after.out,
              HasSubstr(absl::StrCat("The message sent for DOC-1 (sha256 ",
                                     absl::StripAsciiWhitespace(attached.out),
                                     ") is stored in the ledger altered")));
}

// The walk of the log never reads the stored messages; a damaged block of
// one is found by the table checksums that verify checks too.
TEST_F(CliTest, VerifyReportsADamagedTableBlockTheLogWalkDoesNotRead) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl")).code,
      0);
  // Bytes that do not compress, so that they lie in the table file as is.
  std::string message;
  uint32_t x = 12345;
  for (int i = 0; i < 8192; ++i) {
    x = x * 1103515245 + 12345;
    message.push_back(static_cast<char>(x >> 23));
  }
  ASSERT_EQ(Cli("attach --db " + Db() + " " + Write("m.eml", message)).code, 0);
  {
    auto store = internal::Store::Open(Db() + "/store", {});
    ASSERT_OK(store);
    ASSERT_OK((*store)->FlushIfOver(0));
  }
  CliRun intact = Cli("verify --db " + Db());
  ASSERT_EQ(intact.code, 0) << intact.out << intact.err;

  std::string damaged;
  for (const auto& f : std::filesystem::directory_iterator(Db() + "/store")) {
    if (f.path().extension() != ".sst") continue;
    std::string bytes = testing::FileContents(f.path().string());
    size_t at = bytes.find(message.substr(0, 64));
    if (at == std::string::npos) continue;
    damaged = f.path().filename().string();
    std::fstream file(f.path(),
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(at + message.size() / 2));
    file.put(static_cast<char>(message[message.size() / 2] ^ 0x40));
  }
  ASSERT_FALSE(damaged.empty()) << "no table file holds the message";

  // The log itself is intact and readable.
  EXPECT_EQ(EventCount(), 10);
  CliRun verify = Cli("verify --db " + Db());
  EXPECT_EQ(verify.code, 1) << verify.out << verify.err;
  EXPECT_THAT(verify.out, StartsWith("FAIL "));
  EXPECT_THAT(verify.out, HasSubstr(damaged));
  EXPECT_THAT(verify.out, HasSubstr("checksum"));
}

// Reads never sign: a signing-key.pem that does not parse stops the writer
// and `key` (which prints the key's public half), naming the file, but not
// the readers, and verify treats it as it treats a missing key file.
TEST_F(CliTest, ADamagedSigningKeyStopsTheWriterButNotTheReaders) {
  InitWithCheckpointedExample();
  const std::string key_file = Db() + "/signing-key.pem";
  const std::string good_key = testing::FileContents(key_file);
  Write("ledger/signing-key.pem", "-----BEGIN PRIVATE KEY-----\ngarbage\n");

  EXPECT_EQ(EventCount(), 10);
  CliRun state = Cli("state --db " + Db() + " --case E2012-000417");
  EXPECT_EQ(state.code, 0) << state.err;
  CliRun prove = Cli("prove --db " + Db() + " --position 4");
  EXPECT_EQ(prove.code, 0) << prove.err;

  for (const std::string& verb :
       {"append --db " + Db() + " " + Example("transfer-then-refusal.jsonl"),
        "checkpoint --db " + Db(), "key --db " + Db()}) {
    CliRun refused = Cli(verb);
    EXPECT_NE(refused.code, 0) << verb;
    EXPECT_THAT(refused.err, HasSubstr(key_file)) << verb;
    EXPECT_THAT(refused.err, HasSubstr("unusable")) << verb;
  }
  EXPECT_EQ(EventCount(), 10);

  CliRun damaged = Cli("verify --db " + Db());
  std::filesystem::remove(key_file);
  CliRun missing = Cli("verify --db " + Db());
  EXPECT_EQ(damaged.code, missing.code);
  EXPECT_EQ(damaged.out, missing.out);
  EXPECT_EQ(damaged.err, missing.err);

  EXPECT_EQ(missing.code, 0) << missing.out << missing.err;
  EXPECT_THAT(missing.out, HasSubstr("signatures NOT checked"));

  Write("ledger/signing-key.pem", good_key);
  CliRun verify = Cli("verify --db " + Db());
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr(", 1 checkpoint verified\n"));
  EXPECT_THAT(verify.out, Not(HasSubstr("NOT checked")));
}

// Anyone who can write the store can delete its checkpoints, or put
// another ledger's store in its place: `verify --pubkey` then said OK with
// "0 checkpoints verified" (found by an audit). With a key given out of
// band, a ledger none of whose checkpoints that key signed fails; without
// one, verify says what no signature covers.
TEST_F(CliTest, VerifyChecksSignaturesWithAKeyFromElsewhere) {
  InitWithCheckpointedExample();
  CliRun key = Cli("key --db " + Db());
  ASSERT_EQ(key.code, 0) << key.err;
  const std::string trusted_key = Write("trusted.pub", key.out);
  std::filesystem::remove(Db() + "/signing-key.pem");

  CliRun trusted = Cli("verify --db " + Db() + " --pubkey " + trusted_key);
  EXPECT_EQ(trusted.code, 0) << trusted.out << trusted.err;
  EXPECT_THAT(trusted.out, HasSubstr(", 1 checkpoint verified\n"));

  // Another ledger's key: the checkpoints were not signed by it.
  const std::string other_db = dir_.Sub("other");
  ASSERT_EQ(Cli("init --db " + other_db).code, 0);
  const std::string other_key =
      Write("other.pub", Cli("key --db " + other_db).out);
  CliRun other = Cli("verify --db " + Db() + " --pubkey " + other_key);
  EXPECT_EQ(other.code, 1) << other.out << other.err;
  EXPECT_THAT(other.out, HasSubstr("FAIL checkpoint of size"));

  const std::string garbage_key = Write("garbage.pub", "not a key\n");
  CliRun garbage = Cli("verify --db " + Db() + " --pubkey " + garbage_key);
  EXPECT_EQ(garbage.code, 2);
  EXPECT_THAT(garbage.err, HasSubstr("--pubkey"));
}

// A write past the file-size limit fails as on a full disk (EFBIG rather
// than ENOSPC). RocksDB's own info log aborted the process then (SIGABRT, an
// assertion in Debian's build); the append must fail with exit 4 instead,
// and the ledger be whole afterwards. The shell does not ignore SIGXFSZ for
// it: the binary does (found by an audit: every writer was killed by it).
TEST_F(CliTest, AFullDiskIsAnErrorNotACrash) {
  Init();
  CliRun full = testing::RunCli(
      absl::StrCat("ulimit -f 4; exec ", CASELEDGER_BINARY),
      "append --db " + Db() + " " + Example("bounce-handled.jsonl"), dir_);
  EXPECT_EQ(full.code, 4) << full.err;
  EXPECT_THAT(full.err, HasSubstr("File too large"));

  CliRun verify = Cli("verify --db " + Db());
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  CliRun again =
      Cli("append --db " + Db() + " " + Example("bounce-handled.jsonl"));
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(EventCount(), 10);
}

// gRPC stops accepting connections once it runs out of file descriptors;
// serve takes all the hard limit allows, and warns when that is few (found
// by an audit under ulimit -n 64). A bad --listen ends it right after.
TEST_F(CliTest, ServeTakesTheFileDescriptorsItMayAndWarnsWhenFew) {
  Init();
  std::ofstream(dir_.Sub("tokens")) << "\n";
  const std::string serve = "serve --db " + Db() + " --tokens " +
                            dir_.Sub("tokens") + " --listen nonsense";
  CliRun few = testing::RunCli(
      absl::StrCat("ulimit -n 100; exec ", CASELEDGER_BINARY), serve, dir_);
  EXPECT_EQ(few.code, 2) << few.err;
  EXPECT_THAT(few.err, HasSubstr("caseledger serve: warning: only 100 file "
                                 "descriptors (ulimit -n)"));
  // A low soft limit under a high hard one is raised, with nothing to say.
  CliRun raised =
      testing::RunCli(absl::StrCat("ulimit -H -n 4096; ulimit -S -n 100; exec ",
                                   CASELEDGER_BINARY),
                      serve, dir_);
  EXPECT_EQ(raised.code, 2) << raised.err;
  EXPECT_THAT(raised.err, HasSubstr("listen address 'nonsense'"));
  EXPECT_THAT(raised.err, Not(HasSubstr("file descriptors")));
}

// Every verb takes the descriptors the hard limit allows: the ledger keeps
// each table file open, and a soft limit below their number failed a local
// read with "Too many open files" (found by a probe of a long life, at a
// default of 1,024 and 1,096 files).
TEST_F(CliTest, ALocalReadTakesTheFileDescriptorsItMay) {
  Init();
  // Each writer's open flushes the last one's log into a table per family.
  std::ifstream events(Example("bounce-handled.jsonl"));
  std::string line;
  for (int n = 0; std::getline(events, line); ++n) {
    const std::string one = Write(absl::StrCat("event", n, ".jsonl"), line);
    ASSERT_EQ(Cli("append --db " + Db() + " " + one).code, 0);
  }
  int tables = 0;
  for (const auto& file :
       std::filesystem::directory_iterator(Db() + "/store")) {
    if (file.path().extension() == ".sst") ++tables;
  }
  ASSERT_GT(tables, 40);
  CliRun verified =
      testing::RunCli(absl::StrCat("ulimit -H -n 4096; ulimit -S -n 40; exec ",
                                   CASELEDGER_BINARY),
                      "verify --db " + Db(), dir_);
  EXPECT_EQ(verified.code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("OK 10 entries"));
}

// Below 512 MiB of address space (ulimit -v) RocksDB may fail to start a
// thread, which ends the process (exit 134) mid-command, once after it had
// printed "appended" (found by an audit). The verb is refused before it
// opens anything.
TEST_F(CliTest, AnAddressSpaceTooSmallIsRefusedBeforeAnythingIsDone) {
  if (testing::kAddressSanitizer) {
    GTEST_SKIP() << "AddressSanitizer needs more address space than any limit";
  }
  Init();
  const std::string append =
      "append --db " + Db() + " " + Example("bounce-handled.jsonl");
  CliRun small = testing::RunCli(
      absl::StrCat("ulimit -v 300000; exec ", CASELEDGER_BINARY), append, dir_);
  EXPECT_EQ(small.code, 4) << small.err;
  EXPECT_THAT(small.err,
              HasSubstr("caseledger append: the address-space limit (ulimit "
                        "-v) is 292 MiB; caseledger needs at least 512 MiB"));
  EXPECT_EQ(EventCount(), 0);
  CliRun enough = testing::RunCli(
      absl::StrCat("ulimit -v 1000000; exec ", CASELEDGER_BINARY), append,
      dir_);
  EXPECT_EQ(enough.code, 0) << enough.err;
  EXPECT_EQ(EventCount(), 10);
}

// The checkpoints a store holds can be deleted with the entries after
// them; a checkpoint kept elsewhere cannot.
TEST_F(CliTest, VerifyAgainstACheckpointKeptElsewhereFindsARollback) {
  InitWithCheckpointedExample();
  const std::string old_db = dir_.Sub("old");
  std::filesystem::copy(Db(), old_db, std::filesystem::copy_options::recursive);
  const int earlier = EventCount();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("transfer-then-refusal.jsonl"))
          .code,
      0);
  CliRun note = Cli("checkpoint --db " + Db());
  ASSERT_EQ(note.code, 0) << note.err;
  const std::string trusted = Write("trusted.note", note.out);
  const int later = EventCount();
  ASSERT_GT(later, earlier);

  CliRun ok = Cli("verify --db " + Db() + " --checkpoint " + trusted);
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, HasSubstr(absl::StrCat(
                          "\nOK extends the trusted checkpoint of size ", later,
                          "\n")));

  // The store as it was before: intact by itself, behind the checkpoint.
  EXPECT_EQ(Cli("verify --db " + old_db).code, 0);
  CliRun behind = Cli("verify --db " + old_db + " --checkpoint " + trusted);
  EXPECT_EQ(behind.code, 1) << behind.out << behind.err;
  EXPECT_THAT(behind.out,
              HasSubstr(absl::StrCat("FAIL position ", earlier + 1,
                                     ": missing: the trusted checkpoint of "
                                     "size ",
                                     later)));
  // Found before the walk, from the ledger's size (it was found after).
  EXPECT_THAT(behind.err, Not(HasSubstr("entries")));

  // The old store given other events up to and past that size: a history
  // rewritten from where it was rolled back to.
  std::string notes;
  for (int i = earlier; i <= later; ++i) {
    absl::StrAppend(
        &notes,
        R"({"case_id": "E2012-000417", "occurred_at": "2012-06-01T10:00:00Z", )",
        R"("actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": )",
        R"({"text": "rewritten )", i, "\"}}\n");
  }
  ASSERT_EQ(
      Cli("append --db " + old_db + " " + Write("notes.jsonl", notes)).code, 0);
  CliRun rewritten = Cli("verify --db " + old_db + " --checkpoint " + trusted);
  EXPECT_EQ(rewritten.code, 1) << rewritten.out << rewritten.err;
  EXPECT_THAT(rewritten.out,
              HasSubstr(absl::StrCat("FAIL the ledger's entries give root ")));
  EXPECT_THAT(
      rewritten.out,
      HasSubstr(absl::StrCat("its first ", later, " entries were rewritten")));

  // Not signed by this ledger's key: a failed check, since the ledger
  // cannot tell a foreign checkpoint from a replaced key (an audit replaced
  // the key and re-signed the store). Not a checkpoint at all: bad input.
  const std::string other_db = dir_.Sub("other");
  ASSERT_EQ(Cli("init --db " + other_db + " --name cli.example/log").code, 0);
  CliRun foreign = Cli("verify --db " + other_db + " --checkpoint " + trusted);
  EXPECT_EQ(foreign.code, 1) << foreign.out << foreign.err;
  EXPECT_THAT(foreign.out,
              HasSubstr("FAIL --checkpoint: not a checkpoint signed"));
  EXPECT_THAT(foreign.out,
              HasSubstr("or this ledger's signing key was replaced"));
  CliRun garbage = Cli("verify --db " + Db() + " --checkpoint " +
                       Write("garbage.note", "not a note\n"));
  EXPECT_EQ(garbage.code, 2) << garbage.out << garbage.err;
  EXPECT_THAT(garbage.err, HasSubstr("--checkpoint"));
}

// Past the signature the text is the key's word: a checkpoint its key
// signed for another ledger, or signed text that is no checkpoint, fails
// the check (exit 1) as a forged one does; it was "bad input", exit 2
// (found by an audit).
TEST_F(CliTest, VerifyFailsACheckpointItsOwnKeySignedThatIsNotOneOfItsOwn) {
  InitWithCheckpointedExample();
  CliRun note = Cli("checkpoint --db " + Db());
  ASSERT_EQ(note.code, 0) << note.err;
  const std::vector<std::string> lines = absl::StrSplit(note.out, '\n');
  ASSERT_GE(lines.size(), 3u);
  const std::string& origin = lines[0];
  const std::string rest = absl::StrCat(lines[1], "\n", lines[2], "\n");
  ASSERT_OK_AND_ASSIGN(
      SigningKey key,
      SigningKey::FromPrivateKeyText(
          origin, caseledger::testing::FileContents(
                      (std::filesystem::path(Db()) / "signing-key.pem"))));
  const std::pair<std::string, std::string> cases[] = {
      {"other.example/log\n" + rest,
       "FAIL --checkpoint: a checkpoint of other.example/log, not of this "
       "ledger"},
      {absl::StrCat(origin, "\n0", rest),
       "FAIL --checkpoint: signed by " + origin + ", yet not a checkpoint: "},
  };
  for (const auto& [body, says] : cases) {
    ASSERT_OK_AND_ASSIGN(std::string signed_note, SignNote(body, key));
    CliRun run = Cli("verify --db " + Db() + " --checkpoint " +
                     Write("signed.note", signed_note));
    EXPECT_EQ(run.code, 1) << body << run.out << run.err;
    EXPECT_THAT(run.out, HasSubstr(says)) << body;
  }
}

TEST_F(CliTest, ProjectionVerbsAnswerTheExamplesAsTheReadmeSays) {
  Init();
  for (const char* name : {"bounce-handled", "transfer-then-refusal"}) {
    for (int doc = 1; doc <= 2; ++doc) {
      std::string eml = Example(absl::StrCat(name, "-DOC-", doc, ".eml"));
      if (std::ifstream(eml)) {
        ASSERT_EQ(Cli("attach --db " + Db() + " " + eml).code, 0);
      }
    }
    ASSERT_EQ(Cli(absl::StrCat("append --db ", Db(), " ",
                               Example(absl::StrCat(name, ".jsonl"))))
                  .code,
              0);
  }
  CliRun state =
      Cli("state --db " + Db() + " --case E2012-000952 --format json");
  ASSERT_EQ(state.code, 0) << state.err;
  EXPECT_THAT(state.out, HasSubstr("\"status\": \"REFUSED\""));
  EXPECT_THAT(Cli("state --db " + Db() + " --case E2012-000417").out,
              HasSubstr("APPROVED"));

  CliRun july = Cli("deadlines --db " + Db() +
                    " --case E2012-000952 --as-of 2012-07-01 --format json");
  EXPECT_THAT(july.out, HasSubstr("\"status\": \"PENDING\""));
  // --status filters one case's rows too (only across cases was it tried).
  CliRun july_overdue = Cli("deadlines --db " + Db() +
                            " --case E2012-000952 --status OVERDUE --as-of "
                            "2012-07-01 --format json");
  EXPECT_EQ(july_overdue.code, 0) << july_overdue.err;
  EXPECT_EQ(july_overdue.out, "{\n  \"deadlines\": []\n}\n");
  CliRun august = Cli("deadlines --db " + Db() +
                      " --status OVERDUE --as-of 2012-08-01 --format json");
  EXPECT_THAT(august.out, HasSubstr("E2012-000952"));
  EXPECT_THAT(august.out, ::testing::Not(HasSubstr("E2012-000417")));
  EXPECT_THAT(august.out, HasSubstr("\"deadlines\": ["));

  CliRun findings = Cli("findings --db " + Db() +
                        " --case E2012-000952 --format json --strict");
  EXPECT_EQ(findings.code, 0) << findings.out;
  EXPECT_THAT(findings.out, HasSubstr("\"rule\": \"REFUSAL_SUPPORTED\""));
  EXPECT_THAT(findings.out, ::testing::Not(HasSubstr("\"FAIL\"")));

  CliRun timeline = Cli("timeline --db " + Db() + " --case E2012-000417");
  EXPECT_EQ(std::count(timeline.out.begin(), timeline.out.end(), '\n'), 10);
  // The events up to #3, not #4 (empty output passed when only #4's absence
  // was checked).
  const std::string early = Cli("timeline --db " + Db() +
                                " --case E2012-000417 --as-of "
                                "2012-03-01T14:01:00Z")
                                .out;
  EXPECT_THAT(early, HasSubstr("#3 "));
  EXPECT_THAT(early, ::testing::Not(HasSubstr("#4 ")));

  EXPECT_EQ(Cli("rebuild --db " + Db()).code, 0);
  EXPECT_EQ(Cli("state --db " + Db()).code, 2);  // no --case
  EXPECT_EQ(Cli("state --db " + Db() + " --case NOPE").code, 2);
  EXPECT_EQ(Cli("deadlines --db " + Db() + " --status LATE").code, 2);
  EXPECT_EQ(
      Cli("state --db " + Db() + " --case E2012-000417 --as-of soon").code, 2);
  CliRun policy = Cli("deadlines --db " + Db() + " --policy " +
                      Write("p.json", R"({"default_minimum_days": "x"})"));
  EXPECT_EQ(policy.code, 2);
  EXPECT_THAT(policy.err, HasSubstr("default_minimum_days"));
}

// domain.md §4: --policy FILE replaces the built-in policy (a minimum of 30
// days) for that one command, and is never stored: the 42 days R1 gives
// are below a minimum of 60 with it, and not below the built-in one after.
TEST_F(CliTest, APolicyFileReplacesTheBuiltInPolicyForThatCommandOnly) {
  Init();
  ASSERT_EQ(Cli("append --db " + Db() + " -", OpenedWithRequest("P-1")).code,
            0);
  const std::string deadlines =
      "deadlines --db " + Db() + " --case P-1 --as-of 2011-03-01";
  const std::string above =
      "Evaluated as of 2011-03-01T23:59:59.999999999Z (the events that "
      "occurred by then)\n"
      "CASE  REQUEST  SENT                  DEADLINE              STATUS   "
      "FLAGS\n"
      "P-1   R1       2011-02-01T00:00:00Z  2011-03-15T00:00:00Z  PENDING  ";
  const std::string flags =
      "NOT_VERIFIED,ADDRESS_MISMATCH,NO_REFUSAL_WARNING,"
      "NON_ORGANIZATIONAL_MAILBOX,NO_CONSENT\n";
  CliRun stricter = Cli(deadlines + " --policy " +
                        Write("p.json", R"({"default_minimum_days": 60})"));
  ASSERT_EQ(stricter.code, 0) << stricter.err;
  EXPECT_EQ(stricter.out, above + "BELOW_POLICY_MINIMUM," + flags);
  CliRun built_in = Cli(deadlines);
  ASSERT_EQ(built_in.code, 0) << built_in.err;
  EXPECT_EQ(built_in.out, above + flags);
}

// docs/cli.md: every key of state and deadlines is always written, so that
// a parser need not test for one (found by an outside reading).
TEST_F(CliTest, StateAndDeadlinesWriteEveryKeyEvenWhenEmpty) {
  Init();
  std::string jsonl =
      EventLine("K-1", "2011-01-01T00:00:00Z",
                R"("case_opened": {"office_id": "VO"})") +
      EventLine(
          "K-1", "2011-02-01T00:00:00Z",
          R"("document_request_sent": {"request_id": "R1", "channel": "EMAIL", "to": ["x@mail.example"]})");
  ASSERT_EQ(Cli("append --db " + Db() + " -", jsonl).code, 0);
  CliRun state = Cli("state --db " + Db() + " --case K-1 --format json");
  ASSERT_EQ(state.code, 0) << state.err;
  EXPECT_THAT(state.out, HasSubstr("\"deadline\": \"\""));
  EXPECT_THAT(state.out, HasSubstr("\"representative\": null"));
  EXPECT_THAT(state.out, HasSubstr("\"judicial_review\": \"\""));
  CliRun deadlines =
      Cli("deadlines --db " + Db() + " --case K-1 --format json");
  ASSERT_EQ(deadlines.code, 0) << deadlines.err;
  EXPECT_THAT(deadlines.out, HasSubstr("\"deadline\": \"\""));
  EXPECT_THAT(deadlines.out, HasSubstr("\"flags\": ["));
}

// Every case's deadlines in a large ledger take minutes, which passed in
// silence (found by a review): progress goes to stderr, the answer alone to
// stdout.
TEST_F(CliTest, DeadlinesAcrossManyCasesTellTheirProgress) {
  Init();
  std::string jsonl;
  for (int i = 0; i <= 10'000; ++i) {
    jsonl += EventLine(absl::StrCat("M-", i), "2011-01-01T00:00:00Z",
                       R"("case_opened": {"office_id": "VO"})");
  }
  ASSERT_EQ(Cli("import --db " + Db() + " " + Write("many.jsonl", jsonl)).code,
            0);
  CliRun deadlines = Cli("deadlines --db " + Db());
  ASSERT_EQ(deadlines.code, 0) << deadlines.err;
  EXPECT_EQ(deadlines.err, "deadlines: 10000 cases read\n");
  EXPECT_THAT(deadlines.out, Not(HasSubstr("cases read")));
}

// docs/cli.md: a text output evaluated at another point than now says so
// on its first line, so that a past state is not read for the present one
// (found by an outside reading); evaluated now, or in JSON, it does not.
TEST_F(CliTest, TextEvaluatedInThePastSaysWhenOnItsFirstLine) {
  Init();
  ASSERT_EQ(
      Cli("append --db " + Db() + " " + Example("transfer-then-refusal.jsonl"))
          .code,
      0);
  const std::string c = " --db " + Db() + " --case E2012-000952";
  for (const char* verb : {"state", "timeline", "deadlines", "findings"}) {
    CliRun past = Cli(absl::StrCat(verb, c, " --as-of 2012-07-01"));
    ASSERT_EQ(past.code, 0) << verb << past.err;
    EXPECT_THAT(past.out, ::testing::StartsWith(
                              "Evaluated as of 2012-07-01T23:59:59.999999999Z "
                              "(the events that occurred by then)\n"))
        << verb;
    CliRun known = Cli(absl::StrCat(verb, c, " --known-at 2030-01-01"));
    EXPECT_THAT(known.out,
                ::testing::StartsWith(
                    "Evaluated as known at 2030-01-01T23:59:59.999999999Z "
                    "(the events recorded by then); deadlines judged at "))
        << verb;
    EXPECT_THAT(Cli(absl::StrCat(verb, c)).out,
                ::testing::Not(HasSubstr("Evaluated")))
        << verb;
    EXPECT_THAT(
        Cli(absl::StrCat(verb, c, " --as-of 2012-07-01 --format json")).out,
        ::testing::Not(HasSubstr("Evaluated")))
        << verb;
  }
}

TEST_F(CliTest, FindingsStrictExitsOneOnAFail) {
  Init();
  // A refusal resting on a request that went to an address without consent.
  std::string jsonl =
      OpenedWithRequest("F-1") +
      EventLine(
          "F-1", "2011-04-01T00:00:00Z",
          R"("case_decided": {"decision": "REFUSED", "ground": "NON_COMPLIANCE", "request_id": "R1"})");
  ASSERT_EQ(Cli("append --db " + Db() + " -", jsonl).code, 0);
  EXPECT_EQ(Cli("findings --db " + Db() + " --case F-1").code, 0);
  CliRun strict = Cli("findings --db " + Db() + " --case F-1 --strict");
  EXPECT_EQ(strict.code, 1);
  EXPECT_THAT(strict.out, HasSubstr("FAIL"));
  // In JSON too, the form a script reads: only a case without a FAIL was
  // run with --strict --format json.
  CliRun json =
      Cli("findings --db " + Db() + " --case F-1 --strict --format json");
  EXPECT_EQ(json.code, 1) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"status\": \"FAIL\""));
}

// domain.md §4: without --as-of, projections are evaluated as of now, so an
// event dated in the future (a typo'd year) does not count yet, whatever
// --known-at says.
TEST_F(CliTest, ProjectionsLeaveOutEventsDatedAfterNowByDefault) {
  Init();
  std::string jsonl = OpenedWithRequest("FUT-1") +
                      EventLine("FUT-1", "2099-01-01T00:00:00Z",
                                R"("case_decided": {"decision": "APPROVED"})");
  ASSERT_EQ(Cli("append --db " + Db() + " -", jsonl).code, 0);
  for (const char* flags : {"", " --known-at 2100-01-01"}) {
    CliRun state = Cli(absl::StrCat("state --db ", Db(),
                                    " --case FUT-1 --format json", flags));
    ASSERT_EQ(state.code, 0) << state.err;
    EXPECT_THAT(state.out, HasSubstr("\"status\": \"AWAITING_DOCUMENTS\""))
        << flags;
    EXPECT_THAT(
        Cli(absl::StrCat("deadlines --db ", Db(), " --case FUT-1", flags)).out,
        HasSubstr("OVERDUE"))
        << flags;
    const std::string timeline =
        Cli(absl::StrCat("timeline --db ", Db(), " --case FUT-1", flags)).out;
    EXPECT_THAT(timeline, HasSubstr("#2 ")) << flags;
    EXPECT_THAT(timeline, Not(HasSubstr("#3 "))) << flags;
  }
  EXPECT_THAT(
      Cli("state --db " + Db() + " --case FUT-1 --as-of 2100-01-01").out,
      HasSubstr("APPROVED"));
}

// Before its case_opened the case did not exist: a state of "OPEN,
// version 0" at that point would be false. Each one-case view says so.
TEST_F(CliTest, ACaseIsNotDescribedBeforeItWasOpened) {
  Init();
  ASSERT_EQ(Cli("append --db " + Db() + " -", OpenedWithRequest("EARLY")).code,
            0);
  for (const char* verb : {"state", "timeline", "findings", "deadlines"}) {
    for (const char* point : {"--as-of 2010-12-31", "--known-at 2010-12-31"}) {
      CliRun r =
          Cli(absl::StrCat(verb, " --db ", Db(), " --case EARLY ", point));
      EXPECT_EQ(r.code, 2) << verb << " " << point << "\n" << r.out;
      EXPECT_THAT(r.err, HasSubstr("case EARLY was not open yet at that point: "
                                   "it was opened at 2011-01-01T00:00:00Z"))
          << verb << " " << point;
    }
    CliRun opened = Cli(
        absl::StrCat(verb, " --db ", Db(), " --case EARLY --as-of 2011-01-01"));
    EXPECT_EQ(opened.code, 0) << verb << "\n" << opened.err;
  }
  // Across cases, one not yet open is simply not there, even with a request
  // dated before its opening (validation checks only the order of appends).
  ASSERT_EQ(
      Cli("append --db " + Db() + " -",
          EventLine("LATE", "2013-01-01T00:00:00Z",
                    R"("case_opened": {"office_id": "VO"})") +
              EventLine(
                  "LATE", "2012-02-01T00:00:00Z",
                  R"("document_request_sent": {"request_id": "R1", "channel": "EMAIL", "to": ["x@mail.example"], "deadline": "2012-03-15T00:00:00Z"})"))
          .code,
      0);
  for (const char* status : {"", " --status OVERDUE"}) {
    CliRun all = Cli(
        absl::StrCat("deadlines --db ", Db(), " --as-of 2012-06-01", status));
    EXPECT_EQ(all.code, 0) << all.err;
    EXPECT_THAT(all.out, HasSubstr("EARLY")) << status;
    EXPECT_THAT(all.out, Not(HasSubstr("LATE"))) << status;
  }
}

// '-' in CASELEDGER_DB made a folder named '-', as --db - did (found by an
// outside reading); an empty --db was told it was missing.
TEST_F(CliTest, NoLedgerFolderNamedDashFromTheEnvironment) {
  // Run in the test's folder, where a folder named '-' would be made (the
  // check below looked where none could be; found by an audit).
  const std::string here =
      absl::StrCat("cd ", dir_.path(), " && exec ", CASELEDGER_BINARY);
  ::setenv("CASELEDGER_DB", "-", 1);
  CliRun dash = testing::RunCli(here, "init", dir_);
  CliRun restore = testing::RunCli(here, "restore --from nowhere", dir_);
  ::unsetenv("CASELEDGER_DB");
  for (const CliRun& r : {dash, restore}) {
    EXPECT_EQ(r.code, 2);
    EXPECT_THAT(r.err, HasSubstr("CASELEDGER_DB: '-' would name a folder "
                                 "called '-', not standard input or output"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("-")));
  CliRun empty = Cli("init --db ''");
  EXPECT_EQ(empty.code, 2);
  EXPECT_THAT(empty.err, HasSubstr("--db: the value is empty; give DIR"));
}

// A file with several mistakes is not fixed one whole check pass at a
// time: the check names every refused line, up to 20, and writes nothing
// (found by an outside reading).
TEST_F(CliTest, ImportNamesEveryRefusedLineUpToTwenty) {
  Init();
  std::string jsonl;
  for (int c = 0; c < 30; ++c) {
    const bool bad = c % 10 == 3;
    absl::StrAppend(
        &jsonl, R"({"case_id": "M-)", c,
        R"(", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "case_opened": {"office_id": "X", "language": ")",
        bad ? "de" : "en", R"("}})", "\n");
  }
  jsonl += "{not json\n";
  CliRun three = Cli("import --db " + Db() + " " + Write("three.jsonl", jsonl));
  EXPECT_EQ(three.code, 2);
  EXPECT_THAT(three.err,
              HasSubstr("caseledger import: 4 lines are refused, and nothing "
                        "is written:\n  line 4: case_opened.language: must be "
                        "\"en\" or \"fr\"\n  line 14: "));
  EXPECT_THAT(three.err, HasSubstr("\n  line 31: byte 2: 'not' is not JSON"));

  std::string many;
  for (int c = 0; c < 25; ++c) many += "{\n";
  CliRun capped = Cli("import --db " + Db() + " " + Write("many.jsonl", many));
  EXPECT_EQ(capped.code, 2);
  EXPECT_THAT(capped.err, HasSubstr("the check stopped at 20 refused lines"));
  EXPECT_THAT(capped.err, HasSubstr("\n  line 20: "));
  EXPECT_THAT(capped.err, Not(HasSubstr("line 21: ")));

  CliRun one = Cli("import --db " + Db() + " " +
                   Write("one.jsonl", jsonl.substr(0, jsonl.find("\n") + 1) +
                                          "{not json\n"));
  EXPECT_EQ(one.code, 2);
  EXPECT_THAT(one.err, ::testing::StartsWith(
                           "caseledger import: line 2: byte 2: 'not' is not "
                           "JSON"));
  EXPECT_EQ(EventCount(), 0);
}

// An event_id given twice with other content is a conflict the file holds
// on its own: the check refuses it, naming both lines, before anything is
// written; it was found only when the later line's batch was written, with
// the batches before it stored. The same event given twice is one event,
// whichever case its UUID is spelled in.
TEST_F(CliTest, ImportRefusesAnIdGivenTwiceWithOtherContentBeforeWriting) {
  Init();
  const std::string id = "0b6f6c1e-1d2a-4f3b-9c4d-5e6f7a8b9c0d";
  const auto line = [](const std::string& c, const std::string& event_id,
                       const std::string& office) {
    return absl::StrCat(
        R"({"case_id": ")", c, R"(", )",
        event_id.empty() ? ""
                         : absl::StrCat(R"("event_id": ")", event_id, R"(", )"),
        R"("occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "case_opened": {"office_id": ")",
        office, R"("}})", "\n");
  };
  std::string jsonl = line("D-0", id, "X");
  // Beyond the first batch of 1,000.
  for (int c = 1; c <= 1500; ++c) jsonl += line(absl::StrCat("D-", c), "", "X");
  jsonl += line("D-0", absl::AsciiStrToUpper(id), "X");  // the same event
  jsonl += line("D-0", id, "Y");
  CliRun refused =
      Cli("import --db " + Db() + " " + Write("twice.jsonl", jsonl));
  EXPECT_EQ(refused.code, 3) << "a conflict, as append says of it";
  EXPECT_THAT(refused.err, ::testing::StartsWith(absl::StrCat(
                               "caseledger import: line 1503: event_id ", id,
                               " is given on line 1 too, with other content")));
  EXPECT_EQ(EventCount(), 0);

  jsonl.resize(jsonl.size() - line("D-0", id, "Y").size());
  CliRun imported =
      Cli("import --db " + Db() + " " + Write("once.jsonl", jsonl));
  EXPECT_EQ(imported.code, 0) << imported.err;
  EXPECT_EQ(EventCount(), 1501);
}

TEST_F(CliTest, ImportIsResumableAndValidatesFirst) {
  Init();
  // No event ids: the import derives them, so a second run adds nothing.
  std::string jsonl;
  for (int c = 0; c < 30; ++c) {
    absl::StrAppend(
        &jsonl, R"({"case_id": "I-)", c,
        R"(", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "case_opened": {"office_id": "X"}})",
        "\n", R"({"case_id": "I-)", c,
        R"(", "occurred_at": "2011-01-11T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "same text"}})",
        "\n");
  }
  std::string file = Write("bulk.jsonl", jsonl);
  CliRun first = Cli("import --db " + Db() + " " + file);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("imported 60 events"));
  // The import brings the deadline index up to its end as it finishes.
  CliRun verify = Cli("verify --db " + Db());
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("\nOK the deadline index holds the 0 "
                                    "deadlines set up to position 60\n"));
  EXPECT_THAT(verify.out, Not(HasSubstr("NOTE the deadline index")));
  // The last progress line, whatever the rate limit left out before it,
  // says how far and how long to go.
  EXPECT_THAT(first.err,
              ::testing::ContainsRegex("import: line 60 of 60 \\(100%\\), 60 "
                                       "appended, 0 already stored; [0-9]+ s, "
                                       "[0-9]+ events/s, about 0 s left\n"));
  CliRun again = Cli("import --db " + Db() + " " + file);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("imported 0 events (60 already stored"));
  EXPECT_EQ(EventCount(), 60);

  std::string bad = jsonl + R"({"case_id": "I-0", "occurred_at": "nope"})"
                            "\n";
  CliRun refused = Cli("import --db " + Db() + " " + Write("bad.jsonl", bad));
  EXPECT_EQ(refused.code, 2);
  EXPECT_THAT(refused.err, HasSubstr("line 61"));
  EXPECT_EQ(EventCount(), 60);
}

// An audit found that ids derived from line numbers made a re-run after
// adding a line (a missing case_opened, say) store every later note again.
TEST_F(CliTest, ImportAfterLinesWereInsertedOrMovedAddsOnlyTheNewOnes) {
  Init();
  const std::string opened = EventLine("I-1", "2011-01-10T10:00:00Z",
                                       R"("case_opened": {"office_id": "X"})");
  const std::string note = EventLine("I-1", "2011-01-11T10:00:00Z",
                                     R"("officer_note_added": {"text": "n"})");
  const std::string other = EventLine("I-1", "2011-01-12T10:00:00Z",
                                      R"("officer_note_added": {"text": "o"})");
  // The same note twice is two events.
  CliRun first = Cli("import --db " + Db() + " " +
                     Write("a.jsonl", opened + note + note + other));
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("imported 4 events"));
  const std::string second_case = EventLine(
      "I-2", "2011-01-10T10:00:00Z", R"("case_opened": {"office_id": "X"})");
  CliRun again =
      Cli("import --db " + Db() + " " +
          Write("b.jsonl", "\n" + second_case + opened + other + note + note));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out,
            "imported 1 event (4 already stored, skipped) from 6 lines; "
            "ledger size 5\n");
  EXPECT_EQ(EventCount(), 5);
  // A third copy of the note is a new event.
  CliRun third = Cli("import --db " + Db() + " " +
                     Write("c.jsonl", opened + note + note + note + other));
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_THAT(third.out, HasSubstr("imported 1 event (4 already stored"));
  EXPECT_EQ(EventCount(), 6);
}

TEST_F(CliTest, ImportRefusesAFolderAndAnInputWithoutEventsAsBadInput) {
  Init();
  CliRun folder = Cli("import --db " + Db() + " " + dir_.path());
  EXPECT_EQ(folder.code, 2);
  EXPECT_THAT(folder.err, HasSubstr("it is a folder"));
  CliRun blank = Cli("import --db " + Db() + " " + Write("e.jsonl", "\n \n"));
  EXPECT_EQ(blank.code, 2);
  EXPECT_THAT(blank.err, HasSubstr("the input holds no events"));
  EXPECT_EQ(EventCount(), 0);
}

TEST_F(CliTest, ImportSaysWhenNothingWasImported) {
  Init();
  CliRun r = Cli(
      "import --db " + Db() + " " +
      Write("n.jsonl", EventLine("NOPE", "2011-01-10T10:00:00Z",
                                 R"("officer_note_added": {"text": "n"})")));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 1: "));
  EXPECT_THAT(r.err, HasSubstr("(this run wrote nothing;"));
  EXPECT_THAT(r.err,
              HasSubstr("import: 1 line checked, every one well formed"));
}

// A stop signal once every line is in lets the import finish and exit 0:
// its success was printed, then the signal ended the process while the
// ledger closed, exit 143 (found by an audit; a script would import again).
//
// The import may be over before the signal comes: it then says nothing of
// one, or it lands once the import has looked for it last, and proves
// nothing (the test passed 7 times in 17 with exit 143 put back; found by
// a mutation). It is tried on new cases until the import is seen to have
// finished first, at most 10 times.
TEST_F(CliTest, AStopSignalOnceEveryLineIsInLetsTheImportSucceed) {
  Init();
  constexpr int kNotes = 2999;
  bool landed = false;
  int imported = 0;
  for (int attempt = 0; attempt < 10 && !landed; ++attempt) {
    const std::string file =
        Write(absl::StrCat("all", attempt, ".jsonl"),
              OpenedWithNotes(absl::StrCat("S", attempt), kNotes));
    // A file of its own: the last attempt's words, still there before the
    // new import opens it, sent the signal at once (seen under load).
    const std::string err_path =
        dir_.Sub(absl::StrCat("import", attempt, ".err"));
    CliRun finished =
        StoppedWhenReady(absl::StrCat("import --db ", Db(), " ", file),
                         "grep -q 'line 3000 of 3000' \"$2\"", err_path);
    const std::string err = testing::FileContents(err_path);
    EXPECT_EQ(finished.code, 0) << err;
    imported += kNotes + 1;
    // Said "once every line was in", or, on a slow machine, "while the
    // last batch was appended": either way it finished first.
    landed = absl::StrContains(err, "; the import was finished first\n");
  }
  EXPECT_TRUE(landed) << "no signal came in time, 10 times";
  EXPECT_EQ(EventCount(), imported);
}

// SIGTERM (or Ctrl-C) ends an import between batches, never inside one,
// and says which lines are stored; the same import then resumes. The
// signal is sent once the first batch is reported, with most to come.
TEST_F(CliTest, AStopSignalEndsAnImportBetweenBatchesSayingWhatIsStored) {
  Init();
  constexpr int kNotes = 40000;
  const std::string file = Write("big.jsonl", OpenedWithNotes("S", kNotes));
  const std::string err_path = dir_.Sub("import.err");
  CliRun stopped =
      StoppedWhenReady(absl::StrCat("import --db ", Db(), " ", file),
                       "grep -q ' appended' \"$2\"", err_path);
  const std::string err = testing::FileContents(err_path);
  EXPECT_EQ(stopped.code, 143) << err;
  const std::string said =
      "caseledger import: SIGTERM received; stopped before line ";
  ASSERT_THAT(err, HasSubstr(said));
  const int next_line =
      std::atoi(err.substr(err.find(said) + said.size()).c_str());
  EXPECT_GT(next_line, 1) << err;
  EXPECT_THAT(err,
              HasSubstr(absl::StrCat(
                  ": the lines before ", next_line,
                  " are imported; run the same import again to resume\n")));
  const int stored = EventCount();
  EXPECT_EQ(stored, next_line - 1);
  EXPECT_EQ(stored % 1000, 0) << "a batch was cut";
  EXPECT_LT(stored, kNotes + 1);

  CliRun resumed = Cli("import --db " + Db() + " " + file);
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr(absl::StrCat(
                               "(", stored, " already stored, skipped)")));
  EXPECT_EQ(EventCount(), kNotes + 1);
}

// A stop signal while the bundle is built stops the export, with nothing
// recorded or written: it was held off to the end, 28 s for a case of
// 20,000 events (found by an audit). The signal is sent once FILE.partial
// exists (the export has begun), with the bundle of a large case to build.
TEST_F(CliTest, AStopSignalWhileTheBundleIsBuiltStopsTheExport) {
  const StoppedExport stopped = ExportStoppedWhen("-e");
  const std::string& err = stopped.err;
  const std::string& bundle = stopped.bundle;
  const int events = stopped.events_before;
  EXPECT_EQ(stopped.run.code, 143) << err;
  EXPECT_THAT(err, HasSubstr("caseledger export: SIGTERM received; stopping "
                             "the export: its bundle is not built yet, and "
                             "nothing is recorded until it is\n"));
  EXPECT_THAT(err, HasSubstr("caseledger export: SIGTERM received while the "
                             "bundle was built; the export stopped: nothing "
                             "was recorded or written\n"));
  EXPECT_FALSE(std::filesystem::exists(bundle));
  EXPECT_FALSE(std::filesystem::exists(bundle + ".partial"));
  EXPECT_EQ(EventCount(), events);
}

// Once the bundle is built, the export is recorded, then written, and a
// stop signal waits for both: stopped between the two it would leave a
// disclosure on record and no bundle. The signal is sent once FILE.partial
// has the bundle's room reserved, which comes after the last look at the
// signal; the export may be over by the time it lands.
TEST_F(CliTest, AStopSignalOnceTheBundleIsBuiltLetsTheExportFinish) {
  const StoppedExport stopped = ExportStoppedWhen("-s");
  const std::string& err = stopped.err;
  const std::string& bundle = stopped.bundle;
  const int events = stopped.events_before;
  EXPECT_EQ(stopped.run.code, 0) << err;
  EXPECT_THAT(stopped.run.out, HasSubstr("exported case S for INVESTIGATION"));
  // The closing line ("... the export was finished first") is missing when
  // the signal lands after the export's last look, as the process ends.
  if (absl::StrContains(err, "SIGTERM received")) {
    EXPECT_THAT(err, HasSubstr("caseledger export: SIGTERM received; "
                               "finishing the export first (a second signal "
                               "ends it at once)\n"));
    EXPECT_THAT(err, Not(HasSubstr("stopping the export")));
  }
  EXPECT_FALSE(std::filesystem::exists(bundle + ".partial"));
  EXPECT_EQ(EventCount(), events + 1);
  const CliRun key = Cli("key --db " + Db());
  ASSERT_EQ(key.code, 0) << key.err;
  const CliRun verified = Cli(absl::StrCat(
      "verify-bundle ", bundle, " --pubkey ", Write("key.txt", key.out)));
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

// domain.md §6: every verb takes --db. The two that open no ledger run as
// without it, and say on stderr that it went unused, so that nobody takes
// a bundle for checked against that ledger.
TEST_F(CliTest, VerbsThatOpenNoLedgerTakeDbAndSayItIsNotUsed) {
  InitWithCheckpointedExample();
  const CliRun token =
      Cli("token --role reader --name r --db " + Db() + " --db " + Db());
  EXPECT_EQ(token.code, 0) << token.err;
  EXPECT_EQ(std::count(token.out.begin(), token.out.end(), '\n'), 2);
  EXPECT_EQ(token.err,
            "caseledger token: --db is not used: a token is made without a "
            "ledger; the server that opens the ledger reads it from its "
            "--tokens file\n");

  const std::string bundle = dir_.Sub("case.zip");
  ASSERT_EQ(Cli(absl::StrCat("export --db ", Db(),
                             " --case E2012-000417 --purpose investigation "
                             "--out ",
                             bundle))
                .code,
            0);
  const std::string key = Write("key.txt", Cli("key --db " + Db()).out);
  const CliRun verified = Cli(absl::StrCat("verify-bundle ", bundle,
                                           " --pubkey ", key, " --db ", Db()));
  EXPECT_EQ(verified.code, 0) << verified.err;
  EXPECT_EQ(verified.out,
            Cli(absl::StrCat("verify-bundle ", bundle, " --pubkey ", key)).out);
  EXPECT_THAT(verified.err,
              StartsWith("caseledger verify-bundle: --db is not used: a "
                         "bundle is checked against --pubkey alone"));
}

// domain.md §3: idempotency before validation, in an import too. A line
// whose id is stored, changed so that it is also invalid, is a conflict.
TEST_F(CliTest, ImportRefusesAChangedStoredEventAsAConflictEvenWhenInvalid) {
  Init();
  auto note = [](const std::string& id, const std::string& text) {
    return absl::StrCat(
        R"({"event_id": ")", id,
        R"(", "case_id": "I-1", "occurred_at": "2011-01-11T10:00:00Z", )",
        R"("actor": {"kind": "OFFICER", "id": "o"}, )",
        R"("officer_note_added": {"text": ")", text, "\"}}\n");
  };
  const std::string stored = "a08da730-376d-565c-b1c3-fef56726d190";
  const std::string opened =
      R"({"case_id": "I-1", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "case_opened": {"office_id": "X"}})"
      "\n";
  ASSERT_EQ(Cli("import --db " + Db() + " " +
                Write("first.jsonl", opened + note(stored, "seen")))
                .code,
            0);
  CliRun changed = Cli("import --db " + Db() + " " +
                       Write("changed.jsonl", opened + note(stored, "")));
  EXPECT_EQ(changed.code, 3) << changed.err;
  EXPECT_THAT(changed.err, HasSubstr("line 2: event_id " + stored));
  // The same invalid line under an id not stored is bad input.
  CliRun invalid =
      Cli("import --db " + Db() + " " +
          Write("invalid.jsonl",
                opened + note("a345b59c-2f40-5f91-80ee-4c20881a367c", "")));
  EXPECT_EQ(invalid.code, 2) << invalid.err;
  EXPECT_THAT(invalid.err, HasSubstr("line 2: officer_note_added.text"));
  EXPECT_EQ(EventCount(), 2);
}

TEST_F(CliTest, DemoRecordsARealisticCase) {
  CliRun r = Cli("demo --db " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("DOC-1 emailed from visa-office@office.example "
                               "(recorded as the office mailbox) to"));
  EXPECT_THAT(r.out, HasSubstr("Delivery of DOC-1 to"));
  EXPECT_THAT(r.out, HasSubstr("BOUNCE_FOLLOWED_UP"));
  // Its append prints what `append` prints.
  EXPECT_THAT(r.out, HasSubstr("\nappended 9 events; positions 1..9; ledger "
                               "size 9\n"));
  EXPECT_EQ(Cli("verify --db " + Db()).code, 0);
  CliRun again = Cli("demo --db " + Db());
  EXPECT_NE(again.code, 0);  // never over an existing ledger
}

// The demo shows what the ledger is for: the case's bundle verifies with
// the ledger's public key, and a copy with one byte changed does not.
TEST_F(CliTest, DemoExportsAndChecksTheCasesBundle) {
  CliRun r = Cli("demo --db " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string evidence = Db() + "-evidence/";
  EXPECT_THAT(r.out,
              HasSubstr("VERDICT: OK " + evidence + "DEMO-2011-0042.zip"));
  EXPECT_THAT(r.out, HasSubstr("VERDICT: FAIL " + evidence +
                               "DEMO-2011-0042-altered.zip"));
  EXPECT_THAT(r.out, HasSubstr("- events/4.event: SHA-256(salt || event)"));
  // For an investigation: the case was never refused, so no decision is
  // there for a reconsideration or a court to review (it said judicial
  // review; found by an outside reading of the demo).
  EXPECT_THAT(r.out, HasSubstr("exported case DEMO-2011-0042 for "
                               "INVESTIGATION at tree size 9"));
  // What the demo printed holds for the files it left.
  EXPECT_EQ(Cli("verify-bundle " + evidence + "DEMO-2011-0042.zip --pubkey " +
                evidence + "key.txt")
                .code,
            0);
  EXPECT_EQ(Cli("verify-bundle " + evidence +
                "DEMO-2011-0042-altered.zip --pubkey " + evidence + "key.txt")
                .code,
            1);
  // The export is on record in the case.
  EXPECT_THAT(Cli("read --db " + Db() + " --case DEMO-2011-0042").out,
              HasSubstr("evidence_bundle_exported"));
  // A second demo beside the first's bundle is refused before it makes a
  // ledger.
  std::filesystem::rename(Db(), Db() + "-moved");
  CliRun again = Cli("demo --db " + Db());
  EXPECT_EQ(again.code, 3) << again.err;
  EXPECT_THAT(again.err, HasSubstr(Db() + "-evidence exists"));
  EXPECT_FALSE(std::filesystem::exists(Db()));
}

}  // namespace
}  // namespace caseledger
