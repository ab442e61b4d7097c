// The bad-input catalogue (docs/bad-input.md) is true: each case runs the
// built binary on one bad input, checks the exit code and the message, and
// checks that docs/bad-input.md quotes that message. A message changed in
// the code without the page (or the reverse) fails here.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// One bad input. `args` runs in the case folder, which holds the ledger L
// (the 10 events of the shared example bounce-handled.jsonl); `input` is the
// standard input; `files` are written first (name, content).
struct Case {
  std::string name;
  std::string args;
  int exit;
  // Must appear in the output (stderr, then stdout) and in the page.
  std::string message;
  std::string input = "";
  std::vector<std::pair<std::string, std::string>> files = {};
};

// An event line of the example case with `rest` (fields and payload).
std::string Event(const std::string& rest,
                  const std::string& c = "E2012-000417") {
  return absl::StrCat(R"({"case_id": ")", c,
                      R"(", "occurred_at": "2011-02-01T10:00:00Z", )", rest,
                      "}");
}
std::string Officer(const std::string& payload,
                    const std::string& c = "E2012-000417") {
  return Event(
      absl::StrCat(R"("actor": {"kind": "OFFICER", "id": "o"}, )", payload), c);
}
// Appended after a blank line, so that errors name line 2.
std::string Line2(const std::string& line) { return "\n" + line + "\n"; }

constexpr char kNote[] = R"("officer_note_added": {"text": "x"})";
constexpr char kId[] = R"("event_id": "0b6f8d52-1111-4222-8333-444455556666")";

std::vector<Case> Cases() {
  const std::string append = "append --db L -";
  return {
      // 1.1 verbs, flags and arguments
      {"unknown verb", "frobnicate", 2,
       "caseledger: unknown verb 'frobnicate' (caseledger --help lists them)"},
      {"unknown flag", "read --db L --bogus", 2,
       "caseledger read: unknown flag --bogus (see 'caseledger read --help')"},
      {"flag without value", "read --db L --limit", 2,
       "caseledger read: --limit needs a value (N)"},
      {"extra argument", "read --db L extra", 2,
       "caseledger read: usage: caseledger read --db DIR [--case C] [--from "
       "N] [--limit N]"},
      {"format", "read --db L --format xml", 2,
       "caseledger read: --format: 'xml' is not json or text"},
      // 1.2 the ledger folder
      {"no --db", "read", 2,
       "caseledger read: --db DIR is required (or set CASELEDGER_DB)"},
      {"no ledger", "read --db nowhere", 2,
       "caseledger read: no ledger at nowhere (create one with 'caseledger "
       "init')"},
      {"init twice", "init --db L", 3,
       "caseledger init: L already holds a ledger"},
      {"ledger name", "init --db L2 --name 'has space'", 2,
       "caseledger init: ledger name 'has space' must be non-empty, without "
       "spaces or '+' (it is the checkpoint origin and key name)"},
      // 1.3 flag values
      {"count", "read --db L --from -1", 2,
       "caseledger read: --from: '-1' is not a whole number"},
      {"no case", "read --db L --case NOPE", 2,
       "caseledger read: no case NOPE"},
      {"expected version", append + " --expected-version latest", 2,
       "caseledger append: --expected-version: 'latest' is not a version "
       "number, 'any', 'no-stream' or 'exists'"},
      {"unreadable input", "append --db L /nonexistent.jsonl", 2,
       "caseledger append: cannot read /nonexistent.jsonl"},
      {"no events", append, 2, "caseledger append: the input holds no events"},
      {"empty message", "attach --db L /dev/null", 2,
       "caseledger attach: /dev/null is empty"},
      {"prove without kind", "prove --db L", 2,
       "caseledger prove: give exactly one of --position P (inclusion) or "
       "--from-size A (consistency)"},
      {"prove beyond", "prove --db L --position 99", 2,
       "caseledger prove: an inclusion proof needs 1 <= position (99) <= size "
       "(10) <= ledger size (10)"},
      {"timeline without case", "timeline --db L", 2,
       "caseledger timeline: --case C is required"},
      {"as-of", "timeline --db L --case E2012-000417 --as-of yesterday", 2,
       "caseledger timeline: as-of: \"yesterday\" is neither an RFC 3339 time "
       "with a zone nor a date YYYY-MM-DD (Failed to parse input)"},
      {"role", "token --role god --name x", 2,
       "caseledger token: unknown role 'god' (appender, reader, exporter or "
       "admin)"},
      {"backup kind", "backup --db L", 2,
       "caseledger backup: give exactly one of --to DIR (make a backup) or "
       "--verify DIR (check one)"},
      {"backup exists",
       "backup --db L --to B",
       3,
       "caseledger backup: B already exists; a backup goes to a new folder",
       "",
       {{"B/x", ""}}},
      {"restore without from", "restore --db R", 2,
       "caseledger restore: --from DIR is required"},
      {"restore over a ledger", "restore --from B --db L", 3,
       "caseledger restore: L already holds a ledger; restore into a new "
       "folder"},
      // 1.4 client mode
      {"server without value", "--server", 2,
       "caseledger: --server needs a value"},
      {"server without token", "--server localhost:1 read", 2,
       "caseledger read: --server needs --token-file FILE (the token alone)"},
      {"no client mode", "--server localhost:1 verify --db L", 2,
       "caseledger verify: has no client mode: run it where the ledger is, "
       "without --server"},
      // 2.1 JSON syntax
      {"not json", append, 2,
       "caseledger append: line 2: Expected : between key:value pair.",
       Line2("{not json")},
      {"unknown field", append, 2,
       "caseledger append: line 2: colour: Cannot find field.",
       Line2(Officer(absl::StrCat(R"("colour": "red", )", kNote)))},
      {"unknown enum", append, 2,
       "caseledger append: line 2: (actor.kind): invalid value \"KING\" for "
       "type type.googleapis.com/caseledger.v1.ActorKind.Value",
       Line2(Event(
           absl::StrCat(R"("actor": {"kind": "KING", "id": "o"}, )", kNote)))},
      {"two payloads", append, 2,
       "caseledger append: line 2: : invalid value oneof field 'payload' is "
       "already set. Cannot set 'case_opened' for type oneof",
       Line2(Officer(absl::StrCat(kNote, R"(, "case_opened": {})")))},
      // 2.2 rules on each event
      {"no payload", append, 2,
       "line 2: payload: exactly one payload is required",
       Line2(Event(R"("actor": {"kind": "OFFICER", "id": "o"})"))},
      {"no case", append, 2, "line 2: case_id: is required",
       Line2(absl::StrCat(R"({"occurred_at": "2011-02-01T10:00:00Z", )",
                          R"("actor": {"kind": "OFFICER", "id": "o"}, )", kNote,
                          "}"))},
      {"case id", append, 2,
       "line 2: case_id: '-bad id' does not match "
       "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
       Line2(Officer(kNote, "-bad id"))},
      {"no occurred_at", append, 2, "line 2: occurred_at: is required",
       Line2(absl::StrCat(R"({"case_id": "E2012-000417", )",
                          R"("actor": {"kind": "OFFICER", "id": "o"}, )", kNote,
                          "}"))},
      {"no actor kind", append, 2, "line 2: actor.kind: is required",
       Line2(Event(absl::StrCat(R"("actor": {"id": "o"}, )", kNote)))},
      {"no actor id", append, 2, "line 2: actor.id: is required",
       Line2(Event(absl::StrCat(R"("actor": {"kind": "OFFICER"}, )", kNote)))},
      {"event id", append, 2, "line 2: event_id: '123' is not a UUID",
       Line2(Officer(absl::StrCat(R"("event_id": "123", )", kNote)))},
      {"empty text", append, 2, "line 2: officer_note_added.text: is required",
       Line2(Officer(R"("officer_note_added": {"text": ""})"))},
      {"address", append, 2,
       "line 2: email_consent_recorded.address: 'bob@' is not a valid email "
       "address",
       Line2(Officer(R"("email_consent_recorded": {"party": "APPLICANT", )"
                     R"("address": "bob@", "basis": "APPLICATION_FORM"})"))},
      {"email without to", append, 2,
       "line 2: document_request_sent.to: an EMAIL request needs at least one "
       "recipient",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL"})"))},
      {"deadline", append, 2,
       "line 2: document_request_sent.deadline: must be after occurred_at",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": ["a@b.example"], )"
                     R"("deadline": "2011-01-01T00:00:00Z"})"))},
      {"digest", append, 2,
       "line 2: document_request_sent.body_sha256: must be 64 lowercase hex "
       "digits (SHA-256)",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": ["a@b.example"], )"
                     R"("body_sha256": "ABC"})"))},
      {"no request id", append, 2,
       "line 2: delivery_notice_received.request_id: is required",
       Line2(Officer(R"("delivery_notice_received": {"action": "FAILED"})"))},
      {"non-compliance", append, 2,
       "line 2: case_decided.request_id: is required when ground is "
       "NON_COMPLIANCE",
       Line2(Officer(R"("case_decided": {"decision": "REFUSED", )"
                     R"("ground": "NON_COMPLIANCE"})"))},
      // 2.3 rules against the ledger
      {"first event", append, 2,
       "line 2: officer_note_added: case NEW-2 does not exist; its first "
       "event must be case_opened",
       Line2(Officer(kNote, "NEW-2"))},
      {"opened twice", append, 2,
       "line 2: case_opened: case E2012-000417 is already open",
       Line2(Officer(R"("case_opened": {})"))},
      {"request not sent", append, 2,
       "line 2: delivery_notice_received.request_id: no request DOC-77 was "
       "sent in case E2012-000417",
       Line2(Officer(R"("delivery_notice_received": {"request_id": "DOC-77", )"
                     R"("action": "FAILED"})"))},
      {"sent twice", append, 2,
       "line 2: document_request_sent.request_id: request DOC-1 was already "
       "sent in case E2012-000417",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-1", )"
                     R"("channel": "EMAIL", "to": ["a@b.example"]})"))},
      // 2.4 conflicts (these append: they come after the cases that count)
      {"id stored", append, 0, "",
       Officer(
           absl::StrCat(kId, R"(, "officer_note_added": {"text": "one"})"))},
      {"id reused", append, 3,
       "line 1: event_id 0b6f8d52-1111-4222-8333-444455556666 is already "
       "stored at position 11 with different content",
       Officer(
           absl::StrCat(kId, R"(, "officer_note_added": {"text": "two"})"))},
      {"expected version mismatch", append + " --expected-version 3", 3,
       "caseledger append: case E2012-000417: expected version 3, actual "
       "version 11",
       Officer(kNote) + "\n"},
      {"expected version, two cases", append + " --expected-version 3", 2,
       "line 2: case_id: an expected version applies to one case, but this "
       "call holds E2012-000417 and OTHER",
       Officer(kNote) + "\n" + Officer(kNote, "OTHER") + "\n"},
      // 3 policy file
      {"policy not json",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "caseledger findings: pol.json: policy: invalid JSON at byte 0: "
       "unexpected character 'n'",
       "",
       {{"pol.json", "not json"}}},
      {"policy empty",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: default_minimum_days is required",
       "",
       {{"pol.json", "{}"}}},
      {"policy days",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: default_minimum_days must be between 0 and 3650 "
       "days, not -1",
       "",
       {{"pol.json", R"({"default_minimum_days": -1})"}}},
      {"policy country",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: countries.sy: a country code is two uppercase "
       "letters (ISO 3166-1 alpha-2)",
       "",
       {{"pol.json",
         R"({"default_minimum_days": 30, "countries": {"sy": 60}})"}}},
      {"policy key",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: unknown key \"colour\" (expected "
       "default_minimum_days, countries)",
       "",
       {{"pol.json", R"({"default_minimum_days": 30, "colour": 1})"}}},
      // 4 key files
      {"pubkey",
       "verify-bundle x.zip --pubkey pk",
       2,
       "caseledger verify-bundle: --pubkey: verifier key is not "
       "<name>+<key id>+<base64 key>",
       "",
       {{"pk", "garbage\n"}, {"x.zip", ""}}},
      // 6 bundles
      {"unreadable bundle",
       "key --db L >key.txt && ./caseledger_under_test verify-bundle "
       "/nonexistent.zip --pubkey key.txt",
       1, "cannot read /nonexistent.zip: No such file or directory"},
      {"not a zip",
       "key --db L >key.txt && ./caseledger_under_test verify-bundle g.zip "
       "--pubkey key.txt",
       1,
       "not a bundle archive: offset 0: too short for a ZIP end record",
       "",
       {{"g.zip", "garbage\n"}}},
  };
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = Slurp(CASELEDGER_DOCS "/bad-input.md");
    ASSERT_FALSE(page_.empty()) << "docs/bad-input.md not found";
    // The case folder: the binary under a fixed name (some cases chain two
    // commands), and the ledger L.
    std::filesystem::create_symlink(CASELEDGER_BINARY,
                                    dir_.Sub("caseledger_under_test"));
    ASSERT_EQ(Run("init --db L --name bad.example/log", "").code, 0);
    auto r = Run(absl::StrCat("append --db L ", testing::SharedDir(),
                              "/examples/bounce-handled.jsonl"),
                 "");
    ASSERT_EQ(r.code, 0) << r.output;
  }

  struct Result {
    int code;
    std::string output;  // stderr, then stdout
  };
  Result Run(const std::string& args, const std::string& input) {
    std::ofstream(dir_.Sub("stdin"), std::ios::binary) << input;
    std::string command = absl::StrCat(
        "cd ", dir_.path(), " && env -u CASELEDGER_DB ./caseledger_under_test ",
        args, " <stdin >stdout 2>stderr");
    int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            Slurp(dir_.Sub("stderr")) + Slurp(dir_.Sub("stdout"))};
  }

  testing::TempFolder dir_;
  std::string page_;
};

TEST_F(BadInputTest, EveryCataloguedRefusalHappensAsTheCatalogueSays) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    for (const auto& [name, content] : c.files) {
      std::filesystem::path p(dir_.Sub(name));
      std::filesystem::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary) << content;
    }
    Result r = Run(c.args, c.input);
    EXPECT_EQ(r.code, c.exit) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos)
        << "expected: " << c.message << "\ngot: " << r.output;
    EXPECT_NE(page_.find(c.message), std::string::npos)
        << "docs/bad-input.md does not quote: " << c.message;
  }
}

}  // namespace
}  // namespace caseledger
