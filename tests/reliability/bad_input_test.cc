// The bad-input catalogue (docs/bad-input.md) is true: each case runs the
// built binary on one bad input, checks the exit code and the message, and
// checks that docs/bad-input.md quotes that message. A message changed in
// the code without the page (or the reverse) fails here.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ledger/internal/store.h"
#include "ledger/sha256.h"
#include "tests/testing/storage_format.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

// One bad input. `args` runs in the case folder, which holds the ledger L
// (the 10 events of the shared example bounce-handled.jsonl); `input` is the
// standard input; `files` are written first (name, content), then `setup`
// (a shell command that must succeed) runs in the case folder.
struct Case {
  std::string name;
  std::string args;
  int exit;
  // Must appear in the output (stderr, then stdout) and in the page.
  std::string message;
  std::string input = "";
  std::vector<std::pair<std::string, std::string>> files = {};
  std::string setup = "";
};

// The binary under its name in the case folder, for setup commands.
constexpr char kBin[] = "./caseledger_under_test ";
// The ledger's key is random, so its key id differs from run to run; the page
// quotes this one where a message names the key id of L.
constexpr char kPageKeyId[] = "a3508d49";

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

// Line 2: DOC-9 emailed as a resend of `of`.
std::string ResendOf(const std::string& of) {
  return Line2(Officer(absl::StrCat(
      R"("document_request_sent": {"request_id": "DOC-9", )",
      R"("channel": "EMAIL", "to": ["a@b.example"], "resend_of": ")", of,
      R"("})")));
}

constexpr char kNote[] = R"("officer_note_added": {"text": "x"})";
constexpr char kFindings[] =
    "findings --db L --case E2012-000417 --policy pol.json";
constexpr char kExport[] =
    "export --db L --case E2012-000417 --purpose judicial-review --out new.zip";
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
      {"value for a switch", "findings --db L --case E2012-000417 --strict=yes",
       2, "caseledger findings: --strict takes no value"},
      {"an empty value", "deadlines --db L --case ''", 2,
       "caseledger deadlines: --case: the value is empty; give C"},
      {"an empty value in client mode",
       "--server 127.0.0.1:1 --token-file /nonexistent deadlines --case ''", 2,
       "caseledger deadlines: --case: the value is empty; give C"},
      // 1.2 the ledger folder
      {"no --db", "read", 2,
       "caseledger read: --db DIR is required (or set CASELEDGER_DB)"},
      {"no ledger", "read --db nowhere", 2,
       "caseledger read: no ledger at nowhere (create one with 'caseledger "
       "init')"},
      {"a folder that cannot be looked into",
       "read --db loop",
       4,
       "caseledger read: cannot look into loop: Too many levels of symbolic "
       "links",
       "",
       {},
       "ln -s loop loop"},
      {"an unfinished restore",
       "read --db U",
       2,
       "caseledger read: no ledger at U yet: an init or restore into it "
       "stopped before its store was in place (store.partial); run that "
       "restore again, or init to start a new ledger there",
       "",
       {{"U/store.partial/x", ""}}},
      {"an unfinished backup into a new folder",
       "read --db R",
       2,
       "caseledger read: no ledger at R yet: R.partial beside it is a backup "
       "into it that has not finished; if none is running, run that backup "
       "again (it starts the copy over)",
       "",
       {{"R.partial/store/x", ""}}},
      {"init without --db", "init --name x.example/l", 2,
       "caseledger init: --db DIR is required (or set CASELEDGER_DB)"},
      // It exited 4, as a storage error (found by an audit).
      {"init onto a file",
       "init --db afile",
       2,
       "caseledger init: afile is a file, not a folder: give a new folder's "
       "path",
       "",
       {{"afile", "x"}}},
      {"init twice", "init --db L", 3,
       "caseledger init: L already holds a ledger"},
      {"init among other files",
       "init --db NE",
       3,
       "caseledger init: NE is not empty and holds no ledger (it holds "
       "notes.txt); give a new or empty folder",
       "",
       {{"NE/notes.txt", "minutes of the meeting\n"}}},
      {"ledger name", "init --db L2 --name 'has space'", 2,
       "caseledger init: ledger name 'has space' must be non-empty, without "
       "spaces or '+' (it is the checkpoint origin and key name), nor "
       "control, bidirectional or invisible characters"},
      {"ledger name that shows as another",
       "init --db L2 --name "
       "\"$(printf 'visa.gc.ca/\\342\\200\\256regdel')\"",
       2,
       "caseledger init: ledger name 'visa.gc.ca/\\u202eregdel' must be "
       "non-empty"},
      // 1.3 flag values
      {"count", "read --db L --from -1", 2,
       "caseledger read: --from: '-1' is not a whole number"},
      {"count with a sign", "prove --db L --position +3", 2,
       "caseledger prove: --position: '+3' is not a whole number"},
      {"count beyond 64 bits", "prove --db L --position 18446744073709551616",
       2,
       "caseledger prove: --position: '18446744073709551616' is more than "
       "18446744073709551615, the largest this flag takes"},
      {"flag twice", "read --db L --case A --case B", 2,
       "caseledger read: --case is given twice ('A' and 'B'); give it once"},
      {"read --from 0", "read --db L --from 0", 2,
       "caseledger read: --from 0: positions and case versions start at 1"},
      {"read --limit 0", "read --db L --limit 0", 2,
       "caseledger read: --limit 0: give at least 1, or leave --limit out to "
       "read every event"},
      {"no case", "read --db L --case NOPE", 2,
       "caseledger read: no case NOPE"},
      {"an unknown case from a later version",
       "read --db L --case NOPE --from 3", 2, "caseledger read: no case NOPE"},
      {"expected version", append + " --expected-version latest", 2,
       "caseledger append: --expected-version: 'latest' is not a version "
       "number, 'any', 'no-stream' or 'exists'"},
      {"expected version beyond 64 bits",
       append + " --expected-version 99999999999999999999", 2,
       "caseledger append: --expected-version: '99999999999999999999' is more "
       "than 18446744073709551615, the largest version"},
      {"unreadable input", "append --db L /nonexistent.jsonl", 2,
       "caseledger append: cannot read /nonexistent.jsonl: No such file or "
       "directory"},
      {"no events", append, 2, "caseledger append: the input holds no events"},
      // Its byte order mark was named a stray byte (found by an audit).
      {"UTF-16",
       "append --db L u16.jsonl",
       2,
       "caseledger append: line 1: the input is UTF-16, not UTF-8; save it "
       "as UTF-8 (JSON Lines is UTF-8, RFC 8259)",
       "",
       {{"u16.jsonl", std::string("\xFF\xFE{\0}\0\n\0", 8)}}},
      // An endless input ran the process out of memory (found by an audit).
      {"endless input", "append --db L /dev/zero", 2,
       "caseledger append: /dev/zero: more than 67108864 bytes; append "
       "writes one atomic batch: give larger inputs to `caseledger import`, "
       "which streams them"},
      {"endless message", "attach --db L /dev/zero", 2,
       "caseledger attach: /dev/zero: more than 268435456 bytes; a message "
       "stored beside the log holds at most 256 MiB"},
      {"the ledger's own key as a message", "attach --db L L/signing-key.pem",
       2,
       "caseledger attach: the message holds this ledger's private signing "
       "key; it is never stored (a bundle would disclose it)"},
      {"empty message", "attach --db L /dev/null", 2,
       "caseledger attach: /dev/null is empty"},
      {"prove without kind", "prove --db L", 2,
       "caseledger prove: give exactly one of --position P (inclusion) or "
       "--from-size A (consistency)"},
      {"prove as text", "prove --db L --position 1 --format text", 2,
       "caseledger prove: --format: 'text': a proof is printed as JSON only "
       "(--format json)"},
      {"prove beyond", "prove --db L --position 99", 2,
       "caseledger prove: an inclusion proof needs 1 <= position (99) <= size "
       "(10) <= ledger size (10)"},
      {"prove consistency backwards", "prove --db L --from-size 5 --size 3", 2,
       "caseledger prove: a consistency proof needs 1 <= from-size (5) <= "
       "size (3) <= ledger size (10)"},
      {"timeline without case", "timeline --db L", 2,
       "caseledger timeline: --case C is required"},
      {"as-of", "timeline --db L --case E2012-000417 --as-of yesterday", 2,
       "caseledger timeline: --as-of: \"yesterday\" is neither an RFC 3339 "
       "time with a zone nor a date YYYY-MM-DD (e.g. 2012-05-01T12:00:00Z, "
       "2012-05-01T08:00:00-04:00 or 2012-05-01)"},
      // Taken until 2026-12-04, though no event can be dated then.
      {"as-of in year 0", "deadlines --db L --as-of 0000-01-01T00:00:00Z", 2,
       "caseledger deadlines: --as-of: \"0000-01-01T00:00:00Z\" is outside "
       "the times a timestamp holds: 0001-01-01T00:00:00Z to "
       "9999-12-31T23:59:59Z, in UTC"},
      {"deadline status", "deadlines --db L --status LATE", 2,
       "caseledger deadlines: --status: \"LATE\" is not one of SUPERSEDED, "
       "SATISFIED, SATISFIED_LATE, CLOSED, DELIVERY_FAILED, OVERDUE, PENDING"},
      {"purpose",
       "export --db L --case E2012-000417 --purpose fun --out new.zip", 2,
       "caseledger export: --purpose: 'fun' is not reconsideration, "
       "judicial-review or investigation (or RECONSIDERATION, "
       "JUDICIAL_REVIEW, INVESTIGATION)"},
      {"export without out",
       "export --db L --case E2012-000417 --purpose judicial-review", 2,
       "caseledger export: --out is required (usage: caseledger export --case "
       "C --purpose P --out FILE.zip)"},
      // An export never overwrites: a file, the ledger's own files, a
      // planted link where its partial file goes.
      {"export over a file",
       "export --db L --case E2012-000417 --purpose judicial-review --out "
       "old.zip",
       3,
       "caseledger export: --out: old.zip already exists; a bundle goes to a "
       "new file, so that nothing is overwritten (choose another name, or "
       "remove it first)",
       "",
       {{"old.zip", "an earlier bundle"}}},
      {"export into the ledger folder",
       "export --db L --case E2012-000417 --purpose judicial-review --out "
       "L/signing-key.pem",
       2,
       "caseledger export: --out: 'L/signing-key.pem' is inside the ledger "
       "folder L; a bundle there could be taken for one of its files, and is "
       "lost with it"},
      {"export to a folder",
       "export --db L --case E2012-000417 --purpose judicial-review --out "
       "outdir",
       2,
       "caseledger export: --out: outdir is a folder; give the name of a new "
       "file",
       "",
       {{"outdir/x", ""}}},
      {"export without a name",
       "export --db L --case E2012-000417 --purpose judicial-review --out ''",
       2, "caseledger export: --out: the value is empty; give FILE"},
      {"export to '-'",
       "export --db L --case E2012-000417 --purpose judicial-review --out -", 2,
       "caseledger export: --out: '-' is not standard output here: a bundle "
       "is written to a file, whole and synced, before the export is "
       "reported (write ./- for a file of that name)"},
      {"export over a planted link",
       "export --db L --case E2012-000417 --purpose judicial-review --out "
       "p.zip",
       3,
       "caseledger export: --out: p.zip.partial exists: another export is "
       "writing it, or one was interrupted. If none is running and its "
       "SHA-256 is the bundle_sha256 of the case's last "
       "evidence_bundle_exported event, that export was stopped just before "
       "its rename: rename it to p.zip (it is the bundle on record); "
       "otherwise remove it and try again",
       "",
       {{"victim", "precious"}},
       "ln -s victim p.zip.partial"},
      {"export requested by two lines",
       absl::StrCat(kExport, " --requested-by \"$(printf 'a\\n#9 b')\""), 2,
       "caseledger export: --requested-by: 'a\\n#9 b' holds a line break, "
       "another control character or bytes that are not UTF-8; give who asked "
       "on one line of text"},
      {"include-after-decision outside judicial review",
       "export --db L --case E2012-000417 --purpose reconsideration "
       "--include-after-decision --out new.zip",
       2,
       "caseledger export: --include-after-decision: only a judicial-review "
       "bundle leaves out records dated after the decision; a bundle for "
       "another purpose holds them all already"},
      {"export before the case was opened",
       absl::StrCat(kExport, " --as-of 2000-01-01"), 2,
       "caseledger export: case E2012-000417 was not open yet at that point: "
       "it was opened at "},
      {"export tree size beyond 64 bits",
       absl::StrCat(kExport, " --tree-size 18446744073709551616"), 2,
       "caseledger export: --tree-size: '18446744073709551616' is more than "
       "18446744073709551615, the largest this flag takes"},
      {"export tree size", absl::StrCat(kExport, " --tree-size 3"), 2,
       "caseledger export: --tree-size 3: the ledger stores no checkpoint of "
       "that size (a bundle is exported only at a checkpointed size; 1 is "
       "stored, nearby: 10)"},
      {"export tree size beyond the ledger",
       absl::StrCat(kExport, " --tree-size 99"), 2,
       "caseledger export: --tree-size 99: the ledger holds only 10 entries"},
      {"verify-bundle without pubkey",
       "verify-bundle x.zip",
       2,
       "caseledger verify-bundle: --pubkey KEYFILE is required (the ledger's "
       "verifier key, as `caseledger key` prints it)",
       "",
       {{"x.zip", ""}}},
      {"role", "token --role god --name x", 2,
       "caseledger token: unknown role 'god' (appender, reader, exporter or "
       "admin)"},
      {"token without name", "token --role reader", 2,
       "caseledger token: --role ROLE and --name NAME are required"},
      {"token name", "token --role reader --name 'two words'", 2,
       "caseledger token: --name: the name 'two words' is not one word of "
       "text: no spaces or '#', nor control, bidirectional or invisible "
       "characters"},
      {"token name not text", "token --role reader --name evil\x1b[31m", 2,
       "caseledger token: --name: the name 'evil\\x1b[31m' is not one word "
       "of text: no spaces or '#', nor control, bidirectional or invisible "
       "characters"},
      {"serve without tokens", "serve --db L --listen 127.0.0.1:0", 2,
       "caseledger serve: --tokens FILE is required"},
      {"listen address",
       "serve --db L --tokens tokens --listen nowhere",
       2,
       "caseledger serve: listen address 'nowhere' is not HOST:PORT",
       "",
       {{"tokens", ""}}},
      {"listen address of digits that is no IPv4 address",
       "serve --db L --tokens tokens --listen 999.1.1.1:0",
       2,
       "caseledger serve: listen address '999.1.1.1:0' is not HOST:PORT: "
       "999.1.1.1 is not an IPv4 address (four decimal numbers of 0 to 255, "
       "without leading zeros)",
       "",
       {{"tokens", ""}}},
      {"access log path",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --access-log "
       "nowhere/log.jsonl",
       2,
       "caseledger serve: cannot open access log nowhere/log.jsonl: No such "
       "file or directory",
       "",
       {{"tokens", ""}}},
      {"access log that is no file",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --access-log "
       "/dev/full",
       2,
       "caseledger serve: access log /dev/full is not a regular file (a "
       "device, a pipe or a socket keeps no record to continue the chain "
       "from); give a file",
       "",
       {{"tokens", ""}}},
      {"backup dir missing",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --backup-dir nowhere",
       2,
       "caseledger serve: --backup-dir: 'nowhere' is not a folder; create it "
       "first",
       "",
       {{"tokens", ""}}},
      {"backup dir inside the ledger",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --backup-dir "
       "L/backups",
       2,
       "caseledger serve: --backup-dir: 'L/backups' is inside the ledger "
       "folder L; a backup there is lost with it",
       "",
       {{"tokens", ""}, {"L/backups/x", ""}}},
      {"backup kind", "backup --db L", 2,
       "caseledger backup: give exactly one of --to DIR (make a backup) or "
       "--verify DIR (check one)"},
      {"backup exists",
       "backup --db L --to B",
       3,
       "caseledger backup: B already exists; a backup goes to a new folder",
       "",
       {{"B/x", ""}}},
      {"backup where N.partial holds what no backup writes",
       "backup --db L --to N",
       3,
       "caseledger backup: N.partial exists and is not a copy a backup or "
       "restore left (a link, a file, or a folder without the "
       "'unfinished-copy' file those write first, or holding other files); it "
       "is not removed: move it away and try again",
       "",
       {{"N.partial/notes.txt", "mine"}}},
      {"backup of a ledger under its own partial name",
       "backup --db M.partial --to M",
       2,
       "caseledger backup: a backup to M is written in M.partial before it is "
       "renamed, and the ledger is there (M.partial); back up to another name",
       "",
       {},
       absl::StrCat(kBin, "init --db M.partial")},
      {"backup inside the ledger", "backup --db L --to L/bk", 2,
       "caseledger backup: 'L/bk' is inside the ledger folder L; a backup "
       "there is lost with it"},
      {"restore into a file",
       "restore --from B --db f",
       3,
       "caseledger restore: f is a file, not a folder; restore into a new "
       "folder",
       "",
       {{"f", ""}, {"B/x", ""}}},
      {"restore from nowhere", "restore --from nowhere --db R", 2,
       "caseledger restore: no backup at nowhere: no such folder"},
      {"back up to a name of a copy in progress",
       "backup --db L --to nightly.partial", 2,
       "caseledger backup: 'nightly.partial' ends in '.partial', the mark of "
       "a copy in progress; a backup goes to a folder named otherwise"},
      {"verify a file as a backup",
       "backup --verify f",
       2,
       "caseledger backup: no backup at f: it is a file, not a folder (a "
       "backup is a ledger folder)",
       "",
       {{"f", "x"}}},
      {"back up through a server never reached",
       "--server 127.0.0.1:1 --token-file t backup --to nightly",
       4,
       "caseledger backup: backup not made: the server could not be reached, "
       "so nothing was sent: failed to connect to all addresses",
       "",
       {{"t", "clt_token"}}},
      {"export through a server never reached",
       "--server 127.0.0.1:1 --token-file t export --case C --purpose "
       "investigation --out b.zip",
       4,
       "caseledger export: no bundle was written: the server could not be "
       "reached, so nothing was sent: failed to connect to all addresses",
       "",
       {{"t", "clt_token"}}},
      {"verify a folder that is not a backup",
       "backup --verify E",
       2,
       "caseledger backup: no backup at E: the folder holds no ledger",
       "",
       {{"E/notes.txt", ""}}},
      {"restore inside the backup",
       "restore --from B --db B/store/x",
       2,
       "caseledger restore: B/store/x is inside the backup B; restore outside "
       "it",
       "",
       {{"B/x", ""}}},
      {"restore without from", "restore --db R", 2,
       "caseledger restore: --from DIR is required"},
      {"restore over a ledger", "restore --from B --db L", 3,
       "caseledger restore: L already holds a ledger; restore into a new "
       "folder"},
      {"restore into a non-empty folder",
       "restore --from B --db R",
       3,
       "caseledger restore: R is not empty; restore into a new folder",
       "",
       {{"R/x", ""}}},
      // 1.4 client mode
      {"server without value", "--server", 2,
       "caseledger: --server needs a value"},
      {"serve's tls flags before it", "--tls-cert c.pem --tls-key k.pem serve",
       2,
       "caseledger: serve's own --tls-cert and --tls-key go after it: "
       "caseledger serve --tls-cert FILE --tls-key FILE ..."},
      {"two servers", "--server 127.0.0.1:1 read --server 127.0.0.1:2", 2,
       "caseledger: --server is given twice ('127.0.0.1:1' and "
       "'127.0.0.1:2'); give it once"},
      {"an empty server", "--server '' read --db L", 2,
       "caseledger: --server: the value is empty; give HOST:PORT"},
      {"an empty tls file",
       "--server 127.0.0.1:1 --token-file t.tok --tls-ca= read", 2,
       "caseledger: --tls-ca: the value is empty; give FILE"},
      {"a tls file that is empty",
       "--server 127.0.0.1:1 --token-file t.tok --tls-ca /dev/null read",
       2,
       "caseledger read: --tls-ca: /dev/null is empty; it must hold PEM text "
       "(TLS is not left off for an empty file)",
       "",
       {{"t.tok", "clt_x\n"}}},
      {"server port out of range",
       "--server 127.0.0.1:99999 --token-file t "
       "read --case X",
       2,
       "caseledger read: --server '127.0.0.1:99999' is not HOST:PORT with a "
       "port from 1 to 65535",
       "",
       {{"t", "token"}}},
      {"server IPv6 address without brackets",
       "--server ::1:7420 --token-file t read --case X",
       2,
       "caseledger read: --server '::1:7420' is not HOST:PORT: an IPv6 "
       "address goes in brackets ([::1]:PORT)",
       "",
       {{"t", "token"}}},
      {"server given as a gRPC target name",
       "--server dns:///localhost:7420 --token-file t read --case X",
       2,
       "caseledger read: --server 'dns:///localhost:7420' is not HOST:PORT "
       "(gRPC target names such as dns:///HOST:PORT or unix:PATH are not "
       "taken)",
       "",
       {{"t", "token"}}},
      {"server in brackets but no IPv6 address",
       "--server [x]:7420 --token-file t read --case X",
       2,
       "caseledger read: --server '[x]:7420' is not HOST:PORT: what is in "
       "brackets is not an IPv6 address",
       "",
       {{"t", "token"}}},
      {"server host name with a space",
       "--server 'local host:7420' --token-file t read --case X",
       2,
       "caseledger read: --server 'local host:7420' is not HOST:PORT: a host "
       "name holds only letters, digits, '.', '-' and '_' (byte 6 of the "
       "host is none of them)",
       "",
       {{"t", "token"}}},
      {"server host name ending in a number",
       "--server 0x7f.0.0.1:7420 --token-file t read --case X",
       2,
       "caseledger read: --server '0x7f.0.0.1:7420' is not HOST:PORT: "
       "0x7f.0.0.1 is not an IPv4 address (four decimal numbers of 0 to 255, "
       "without leading zeros), and no host name ends in a number",
       "",
       {{"t", "token"}}},
      {"server host name with an empty part",
       "--server a..example:7420 --token-file t read --case X",
       2,
       "caseledger read: --server 'a..example:7420' is not HOST:PORT: a host "
       "name is parts of 1 to 63 letters, digits, '-' or '_' between dots, "
       "none beginning or ending with '-'",
       "",
       {{"t", "token"}}},
      {"server without token", "--server localhost:1 read", 2,
       "caseledger read: --server needs --token-file FILE (the token alone)"},
      {"token file without server",
       "--token-file t.tok read --db L",
       2,
       "caseledger: --token-file and --tls-* are for client mode: give "
       "--server ADDR too",
       "",
       {{"t.tok", "clt_x\n"}}},
      {"tls without server", "--tls-ca ca.pem read --db L", 2,
       "caseledger: --token-file and --tls-* are for client mode: give "
       "--server ADDR too"},
      {"unreadable token file",
       "--server 127.0.0.1:1 --token-file /nonexistent read", 2,
       "caseledger read: cannot read token file /nonexistent: No such file or "
       "directory"},
      {"empty token file",
       "--server 127.0.0.1:1 --token-file empty.tok read",
       2,
       "caseledger read: token file empty.tok is empty",
       "",
       {{"empty.tok", ""}}},
      {"a token file holding both lines of caseledger token",
       "--server 127.0.0.1:1 --token-file both.tok read",
       2,
       "caseledger read: token file both.tok holds more than one line; it "
       "must hold the token alone, line 1 of 'caseledger token' (line 2 goes "
       "into the server's tokens file)",
       "",
       {{"both.tok", "clt_0123abcd\nreader r sha256:00ff\n"}}},
      {"a token with a space in it",
       "--server 127.0.0.1:1 --token-file space.tok read",
       2,
       "caseledger read: token file space.tok: byte 4 (0x20) cannot be part "
       "of a token, which is printable ASCII without spaces",
       "",
       {{"space.tok", "clt 0123abcd\n"}}},
      {"a token on standard input with a space in it",
       "--server 127.0.0.1:1 --token-file - read", 2,
       "caseledger read: the token on standard input: byte 4 (0x20) cannot be "
       "part of a token, which is printable ASCII without spaces",
       "clt 0123abcd\n"},
      {"a token file longer than any token",
       "--server 127.0.0.1:1 --token-file long.tok read",
       2,
       "caseledger read: token file long.tok holds 5000 bytes; a token is at "
       "most 4096 ('caseledger token' makes them of 68)",
       "",
       {{"long.tok", std::string(5000, 'a')}}},
      {"an endless token file",
       "--server 127.0.0.1:1 --token-file /dev/zero read", 2,
       "caseledger read: token file /dev/zero is larger than 1048576 bytes"},
      {"standard input for the token and a certificate",
       "--server 127.0.0.1:1 --token-file - --tls-ca - read", 2,
       "caseledger read: '-' (standard input) is given for --token-file and "
       "--tls-ca, and it can be read only once: give all but one as files"},
      {"backup verify in client mode",
       "--server 127.0.0.1:1 --token-file t.tok backup --verify B",
       2,
       "caseledger backup: --verify reads a backup folder: run it where the "
       "backup is, without --server",
       "",
       {{"t.tok", "clt_x\n"}}},
      {"backup pubkey in client mode",
       "--server 127.0.0.1:1 --token-file t.tok backup --to B --pubkey k.pub",
       2,
       "caseledger backup: --pubkey checks a backup folder (--verify BACKUP): "
       "run it where the backup is, without --server",
       "",
       {{"t.tok", "clt_x\n"}}},
      {"backup without to in client mode",
       "--server 127.0.0.1:1 --token-file t.tok backup",
       2,
       "caseledger backup: --to NAME is required: the new folder under the "
       "server's --backup-dir",
       "",
       {{"t.tok", "clt_x\n"}}},
      {"no client mode", "--server localhost:1 verify --db L", 2,
       "caseledger verify: has no client mode: run it where the ledger is, "
       "without --server"},
      {"import in client mode, no server there",
       "--server 127.0.0.1:1 --token-file t.tok import x.jsonl",
       4,
       "caseledger import: the server could not be reached: failed to "
       "connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: "
       "Failed to connect to remote host: Connection refused (nothing is "
       "imported; the input is not read)",
       "",
       {{"t.tok", "clt_x\n"},
        {"x.jsonl", Officer(R"("officer_note_added": {"text": "n"})") + "\n"}}},
      // 2.1 JSON syntax
      {"not json", append, 2,
       "caseledger append: line 2: byte 12: a string where ':' after the key "
       "belongs",
       Line2(R"({"case_id" "E2012-000417"})")},
      {"line ends early", append, 2,
       "caseledger append: line 2: the line ends after byte 26, where ',' or "
       "'}' "
       "belongs",
       Line2(R"({"case_id": "E2012-000417")")},
      {"lines ended by a carriage return alone", append, 2,
       "caseledger append: line 2: byte 29: '{' after the event's closing "
       "'}'; a line holds one event, and a carriage return (0x0d) without a "
       "line feed does not end one: end lines with LF or CRLF",
       Line2("{\"case_id\": \"E2012-000417\"}\r"
             "{\"case_id\": \"E2012-000418\"}\r")},
      {"two events on a line", append, 2,
       "caseledger append: line 2: byte 28: '{' after the event's closing '}'; "
       "a line holds one event",
       Line2(R"({"case_id": "E2012-000417"}{"case_id": "E2012-000418"})")},
      {"lone surrogate", append, 2,
       "caseledger append: line 2: officer_note_added.text: \"a\xEF\xBF\xBD\" "
       "holds a \\u escape of half a UTF-16 surrogate pair without its other "
       "half (shown as U+FFFD), which no text can hold",
       Line2(Officer(R"("officer_note_added": {"text": "a\ud800"})"))},
      {"integer in quotes loosely", append, 2,
       "caseledger append: line 2: evidence_bundle_exported.tree_size: \"+5\" "
       "is not an integer",
       Line2(Officer(R"("evidence_bundle_exported": {"tree_size": "+5"})"))},
      // Quoted whole until 2026-12-04: 5,000 digits made a 5,000-byte error.
      {"long number out of range", append, 2,
       "caseledger append: line 2: evidence_bundle_exported.tree_size: 1" +
           std::string(63, '0') + "... is beyond the range of a number",
       Line2(Officer(absl::StrCat(R"("evidence_bundle_exported": )",
                                  R"({"tree_size": 1)", std::string(400, '0'),
                                  "}")))},
      {"number out of range", append, 2,
       "caseledger append: line 2: evidence_bundle_exported.tree_size: 1e400 "
       "is beyond the range of a number",
       Line2(Officer(R"("evidence_bundle_exported": {"tree_size": 1e400})"))},
      // protobuf's parser said "1.8446744073709552e+19 is not an integer"
      // (found by an audit).
      {"integer beyond its field", append, 2,
       "caseledger append: line 2: evidence_bundle_exported.tree_size: "
       "18446744073709551616 is beyond the range of the field (0 to "
       "18446744073709551615)",
       Line2(Officer(R"("evidence_bundle_exported": )"
                     R"({"tree_size": 18446744073709551616})"))},
      {"object in a list", append, 2,
       "caseledger append: line 2: document_request_sent.to[1]: an object is "
       "not a string",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": ["a@b.example", {}]})"))},
      {"list in a list", append, 2,
       "caseledger append: line 2: document_request_sent.to[0]: a list is not "
       "a string",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": [["a@b.example"]]})"))},
      {"nested too deep", append, 2,
       "caseledger append: line 2: byte 55: nested more than 32 levels deep; "
       "an event nests a few at most",
       Line2(absl::StrCat(R"({"case_id": "E1", "x": )", std::string(40, '['),
                          std::string(40, ']'), "}"))},
      {"number JSON does not have", append, 2,
       "caseledger append: line 2: byte 86: '1.' is not a JSON number (RFC "
       "8259: -12, 0, 3.5, 1e5; no leading zero, +, bare point or hex)",
       Line2(Event(
           absl::StrCat(R"("actor": {"kind": 1., "id": "o"}, )", kNote)))},
      {"string in single quotes", append, 2,
       "caseledger append: line 2: byte 140: a string in single quotes; JSON "
       "writes strings, keys included, in double quotes",
       Line2(Officer(R"("officer_note_added": {"text": 'C:\dossiers'})"))},
      {"key without quotes", append, 2,
       "caseledger append: line 2: byte 2: 'case_id' is not JSON: keys and "
       "text are written in double quotes, and the only words without them "
       "are true, false and null",
       Line2(R"({case_id: "E2012-000417"})")},
      {"comma before a closing bracket", append, 2,
       "caseledger append: line 2: byte 143: a comma before '}'; JSON has no "
       "comma after the last member or element",
       Line2(Officer(R"("officer_note_added": {"text": "x",}})"))},
      {"control character between values", append, 2,
       "caseledger append: line 2: byte 18 (0x0c) is a control character "
       "between values; JSON takes only spaces, tabs and line breaks there",
       Line2(absl::StrCat(R"({"case_id": "E1",)", "\f", R"("x": 1})"))},
      {"string for a bool", append, 2,
       "caseledger append: line 2: "
       "recipient_address_verified.matches_address_on_file: \"no\" is a "
       "string, not true or false (written without quotes)",
       Line2(Officer(R"("recipient_address_verified": {"request_id": )"
                     R"("DOC-9", "matches_address_on_file": "no"})"))},
      {"number in quotes for an enum", append, 2,
       "caseledger append: line 2: actor.kind: unknown value \"1\" (one of "
       "OFFICER, SYSTEM, SERVICE, APPLICANT, REPRESENTATIVE)",
       Line2(Event(
           absl::StrCat(R"("actor": {"kind": "1", "id": "o"}, )", kNote)))},
      {"not an object", append, 2,
       "caseledger append: line 2: an event must be a JSON object",
       Line2("[1]")},
      {"unknown field", append, 2,
       "caseledger append: line 2: colour: unknown field",
       Line2(Officer(absl::StrCat(R"("colour": "red", )", kNote)))},
      {"unknown nested field", append, 2,
       "caseledger append: line 2: actor.colour: unknown field",
       Line2(Event(absl::StrCat(
           R"("actor": {"kind": "OFFICER", "colour": "red"}, )", kNote)))},
      {"unknown enum", append, 2,
       "caseledger append: line 2: actor.kind: unknown value \"KING\" (one of "
       "OFFICER, SYSTEM, SERVICE, APPLICANT, REPRESENTATIVE)",
       Line2(Event(
           absl::StrCat(R"("actor": {"kind": "KING", "id": "o"}, )", kNote)))},
      {"number for a string", append, 2,
       "caseledger append: line 2: officer_note_added.text: 5 is not a string",
       Line2(Officer(R"("officer_note_added": {"text": 5})"))},
      {"impossible time", append, 2,
       "caseledger append: line 2: occurred_at: 2011-02-30T10:00:00Z is not a "
       "time (RFC 3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T and Z "
       "in capitals, at most 9 fraction digits, seconds up to 59)",
       Line2(absl::StrReplaceAll(Officer(kNote),
                                 {{"2011-02-01T", "2011-02-30T"}}))},
      {"time without zone", append, 2,
       "caseledger append: line 2: occurred_at: 2011-02-01T10:00:00 is not a "
       "time (RFC 3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T and Z "
       "in capitals, at most 9 fraction digits, seconds up to 59)",
       Line2(absl::StrReplaceAll(Officer(kNote), {{"10:00:00Z", "10:00:00"}}))},
      {"time spelled loosely", append, 2,
       "caseledger append: line 2: occurred_at: 2011-2-01T10:00:00Z is not a "
       "time (RFC 3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T and Z "
       "in capitals, at most 9 fraction digits, seconds up to 59)",
       Line2(absl::StrReplaceAll(Officer(kNote),
                                 {{"2011-02-01T", "2011-2-01T"}}))},
      // Said "is not a time (RFC 3339 ...)" until 2026-12-04, though spelled
      // as that asks.
      {"time in year 0", append, 2,
       "caseledger append: line 2: occurred_at: 0000-06-01T00:00:00Z is "
       "outside the times a timestamp holds: 0001-01-01T00:00:00Z to "
       "9999-12-31T23:59:59Z, in UTC",
       Line2(absl::StrReplaceAll(Officer(kNote),
                                 {{"2011-02-01T10", "0000-06-01T00"}}))},
      {"time past 9999 in UTC", append, 2,
       "caseledger append: line 2: occurred_at: 9999-12-31T23:00:00-05:00 is "
       "outside the times a timestamp holds: 0001-01-01T00:00:00Z to "
       "9999-12-31T23:59:59Z, in UTC",
       Line2(absl::StrReplaceAll(
           Officer(kNote),
           {{"2011-02-01T10:00:00Z", "9999-12-31T23:00:00-05:00"}}))},
      {"time with ten fraction digits", append, 2,
       "caseledger append: line 2: occurred_at: "
       "2011-02-01T10:00:00.1234567891Z "
       "is not a time (RFC 3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T "
       "and Z in capitals, at most 9 fraction digits, seconds up to 59)",
       Line2(absl::StrReplaceAll(Officer(kNote),
                                 {{"10:00:00Z", "10:00:00.1234567891Z"}}))},
      {"time followed by an escaped NUL", append, 2,
       "caseledger append: line 2: occurred_at: 2011-02-01T10:00:00Z\\x00x is "
       "not a time (RFC 3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T "
       "and "
       "Z in capitals, at most 9 fraction digits, seconds up to 59)",
       Line2(absl::StrReplaceAll(Officer(kNote),
                                 {{"10:00:00Z", "10:00:00Z\\u0000x"}}))},
      {"two payloads", append, 2,
       "caseledger append: line 2: payload: an event holds exactly one "
       "payload, and case_opened is a second one",
       Line2(Officer(absl::StrCat(kNote, R"(, "case_opened": {})")))},
      {"field given twice", append, 2,
       "caseledger append: line 2: case_id: given twice in one object; name "
       "each field once",
       Line2(Officer(absl::StrCat(R"("case_id": "E2012-000418", )", kNote)))},
      {"time as an object", append, 2,
       "caseledger append: line 2: occurred_at: an object is not a time (RFC "
       "3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T and Z in "
       "capitals, at most 9 fraction digits, seconds up to 59)",
       Line2(absl::StrReplaceAll(Officer(kNote),
                                 {{R"("2011-02-01T10:00:00Z")", "{}"}}))},
      {"time as a count of seconds", append, 2,
       "caseledger append: line 2: occurred_at: an object is not a time",
       Line2(absl::StrReplaceAll(
           Officer(kNote),
           {{R"("2011-02-01T10:00:00Z")", R"({"seconds": "1400000000"})"}}))},
      {"one value for a list", append, 2,
       "caseledger append: line 2: document_request_sent.to: a string is not a "
       "list; write a JSON array, e.g. [\"...\"]",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": "a@b.example"})"))},
      {"null in a list", append, 2,
       "caseledger append: line 2: document_request_sent.to[0]: null is not "
       "allowed in a list",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": [null, "a@b.example"]})"))},
      {"number in a list of strings", append, 2,
       "caseledger append: line 2: document_request_sent.to[0]: 5 is not a "
       "string",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": [5]})"))},
      {"object for a string", append, 2,
       "caseledger append: line 2: officer_note_added.text: an object is not "
       "a string",
       Line2(Officer(R"("officer_note_added": {"text": {}})"))},
      {"list for a string", append, 2, "a list is not a string",
       Line2(Officer(R"("officer_note_added": {"text": ["x"]})"))},
      {"string for an object", append, 2,
       "caseledger append: line 2: actor: \"OFFICER\" is not a JSON object",
       Line2(Event(absl::StrCat(R"("actor": "OFFICER", )", kNote)))},
      {"not UTF-8", append, 2,
       "caseledger append: line 2: byte 14 (0xff) is not UTF-8; an event is "
       "UTF-8 text",
       Line2(Officer(kNote, "\xff"))},
      {"raw control character in a string", append, 2,
       "caseledger append: line 2: byte 15 (0x01) is a control character "
       "inside a string; JSON needs it escaped, as \\u0001",
       Line2(Officer(kNote, "A\x01"))},
      {"escape JSON does not have", append, 2,
       "caseledger append: line 2: byte 143: '\\d' is not a JSON escape "
       "(RFC 8259: \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t, \\uXXXX); a "
       "backslash in text is written \\\\",
       Line2(Officer(R"("officer_note_added": {"text": "C:\dossiers"})"))},
      {"control characters echoed", append, 2,
       "line 2: case_id: 'A\\x1b[31m' does not match "
       "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
       Line2(Officer(kNote, "A\\u001b[31m"))},
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
      {"control character in an id", append, 2,
       "line 2: document_request_sent.request_id: 'DOC\\n1' holds a control "
       "character (byte 4); an identifier is printable text",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC\n1", )"
                     R"("channel": "POSTAL_MAIL"})"))},
      {"invisible character in an id", append, 2,
       "line 2: document_request_sent.request_id: 'DOC\u00a01' holds U+00A0 "
       "(byte 4), which shows as nothing or as a plain space; an identifier "
       "shows every character it holds",
       Line2(Officer(R"("document_request_sent": {"request_id": )"
                     R"("DOC\u00a01", "channel": "POSTAL_MAIL"})"))},
      {"accent written apart in an id", append, 2,
       "line 2: document_request_sent.request_id: 'DOC-e\u0301' is not in "
       "Unicode NFC from U+0065 (byte 5) on (NFC writes a letter and an "
       "accent written apart as one character, puts marks in one order and "
       "replaces a few characters); an identifier is written in NFC, as most "
       "keyboards write it, so that it has one spelling",
       Line2(Officer(R"("document_request_sent": {"request_id": )"
                     R"("DOC-e\u0301", "channel": "POSTAL_MAIL"})"))},
      {"empty text", append, 2, "line 2: officer_note_added.text: is required",
       Line2(Officer(R"("officer_note_added": {"text": ""})"))},
      {"unset enum", append, 2,
       "line 2: email_consent_recorded.party: is required",
       Line2(Officer(R"("email_consent_recorded": {"address": "a@b.example", )"
                     R"("basis": "APPLICATION_FORM"})"))},
      {"address", append, 2,
       "line 2: email_consent_recorded.address: 'bob@' is not a valid email "
       "address",
       Line2(Officer(R"("email_consent_recorded": {"party": "APPLICANT", )"
                     R"("address": "bob@", "basis": "APPLICATION_FORM"})"))},
      {"invisible character in an address", append, 2,
       "line 2: email_consent_recorded.address: 'maria\\u200b@mail.example' "
       "holds U+200B (byte 6), which shows as nothing or as a plain space; an "
       "address shows every character it holds",
       Line2(Officer(R"("email_consent_recorded": {"party": "APPLICANT", )"
                     R"("address": "maria\u200b@mail.example", )"
                     R"("basis": "APPLICATION_FORM"})"))},
      {"email without to", append, 2,
       "line 2: document_request_sent.to: an EMAIL request needs at least one "
       "recipient",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL"})"))},
      {"transfer without to", append, 2,
       "line 2: transfer_notice_sent.to: a transfer notice needs at least one "
       "recipient",
       Line2(Officer(R"("transfer_notice_sent": {})"))},
      {"deadline", append, 2,
       "line 2: document_request_sent.deadline: must be after occurred_at",
       Line2(Officer(R"("document_request_sent": {"request_id": "DOC-9", )"
                     R"("channel": "EMAIL", "to": ["a@b.example"], )"
                     R"("deadline": "2011-01-01T00:00:00Z"})"))},
      {"extension without deadline", append, 2,
       "line 2: deadline_extended.new_deadline: is required",
       Line2(Officer(R"("deadline_extended": {"request_id": "DOC-1"})"))},
      {"resend of itself", append, 2,
       "line 2: document_request_sent.resend_of: a request cannot be a resend "
       "of itself",
       ResendOf("DOC-9")},
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
      {"country", append, 2,
       "line 2: case_opened.applicant_country: must be an ISO 3166-1 alpha-2 "
       "code such as \"PH\"",
       Line2(Officer(R"("case_opened": {"applicant_country": "Phil"})"))},
      {"unassigned country", append, 2,
       "line 2: case_opened.applicant_country: \"UK\" is no country's ISO "
       "3166-1 alpha-2 code (the United Kingdom's is \"GB\")",
       Line2(Officer(R"("case_opened": {"applicant_country": "UK"})"))},
      {"language", append, 2,
       "line 2: case_opened.language: must be \"en\" or \"fr\"",
       Line2(Officer(R"("case_opened": {"language": "de"})"))},
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
      {"resend of unknown", append, 2,
       "line 2: document_request_sent.resend_of: no request DOC-49 was sent "
       "earlier in case E2012-000417",
       ResendOf("DOC-49")},
      {"resend before its original", append, 2,
       "line 2: document_request_sent.resend_of: request DOC-1 was sent at "
       "2012-03-01T14:02:00Z, after this resend (2011-02-01T10:00:00Z)",
       ResendOf("DOC-1")},
      {"extension before its request", append, 2,
       "line 2: deadline_extended.request_id: request DOC-1 was sent at "
       "2012-03-01T14:02:00Z, after this extension (2011-02-01T10:00:00Z)",
       Line2(Officer(R"("deadline_extended": {"request_id": "DOC-1", )"
                     R"("new_deadline": "2012-05-01T00:00:00Z", )"
                     R"("reason": "asked"})"))},
      // 2.4 conflicts (these append: they come after the cases that count)
      {"id stored", append, 0, "",
       Officer(
           absl::StrCat(kId, R"(, "officer_note_added": {"text": "one"})"))},
      {"id reused", append, 3,
       "line 1: event_id 0b6f8d52-1111-4222-8333-444455556666 is already "
       "stored at position 11 with different content",
       Officer(
           absl::StrCat(kId, R"(, "officer_note_added": {"text": "two"})"))},
      {"id reused, invalid too", append, 3,
       "line 1: event_id 0b6f8d52-1111-4222-8333-444455556666 is already "
       "stored at position 11 with different content",
       Officer(absl::StrCat(kId, R"(, "officer_note_added": {"text": ""})"))},
      {"id reused in upper case", append, 3,
       "line 1: event_id 0b6f8d52-1111-4222-8333-444455556666 is already "
       "stored at position 11 with different content",
       Officer(R"("event_id": "0B6F8D52-1111-4222-8333-444455556666", )"
               R"("officer_note_added": {"text": "two"})")},
      {"id twice in a call", append, 3,
       "line 2: event_id 0b6f8d52-1111-4222-8333-444455556699 appears twice "
       "in this call with different content",
       Officer(R"("event_id": "0b6f8d52-1111-4222-8333-444455556699", )"
               R"("officer_note_added": {"text": "a"})") +
           "\n" +
           Officer(R"("event_id": "0b6f8d52-1111-4222-8333-444455556699", )"
                   R"("officer_note_added": {"text": "b"})") +
           "\n"},
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
       "caseledger findings: --policy pol.json: policy: invalid JSON at line "
       "1, column 1 (byte 0): unexpected character 'n'",
       "",
       {{"pol.json", "not json"}}},
      {"policy missing",
       "findings --db L --case E2012-000417 --policy /nonexistent.json", 2,
       "caseledger findings: --policy: cannot read /nonexistent.json: No such "
       "file or directory"},
      {"policy not an object",
       kFindings,
       2,
       "pol.json: policy: must be a JSON object",
       "",
       {{"pol.json", "[]"}}},
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
      {"policy fractional days",
       kFindings,
       2,
       "pol.json: policy: default_minimum_days must be a whole number of days",
       "",
       {{"pol.json", R"({"default_minimum_days": 1.5})"}}},
      {"policy days as text",
       kFindings,
       2,
       "pol.json: policy: default_minimum_days must be a whole number of days",
       "",
       {{"pol.json", R"({"default_minimum_days": "30"})"}}},
      {"policy country",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: countries.sy: a country code is two uppercase "
       "letters (ISO 3166-1 alpha-2)",
       "",
       {{"pol.json",
         R"({"default_minimum_days": 30, "countries": {"sy": 60}})"}}},
      {"policy in UTF-16",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: the file is UTF-16, not UTF-8; save it as UTF-8 "
       "(JSON is UTF-8, RFC 8259)",
       "",
       {{"pol.json", "\xFF\xFE{"}}},
      {"policy not UTF-8",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: invalid JSON at line 1, column 27 (byte 26): 0xe9 "
       "is not UTF-8 (JSON is UTF-8 text)",
       "",
       {{"pol.json", "{\"default_minimum_days\": \"\xe9\"}"}}},
      {"policy country no country has",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: countries.UK: \"UK\" is no country's ISO 3166-1 "
       "alpha-2 code (the United Kingdom's is \"GB\")",
       "",
       {{"pol.json",
         R"({"default_minimum_days": 30, "countries": {"UK": 60}})"}}},
      {"policy countries not an object",
       kFindings,
       2,
       "pol.json: policy: countries must be an object of country code to days",
       "",
       {{"pol.json", R"({"default_minimum_days": 30, "countries": []})"}}},
      {"policy key",
       "findings --db L --case E2012-000417 --policy pol.json",
       2,
       "pol.json: policy: unknown key \"colour\" (expected "
       "default_minimum_days, countries)",
       "",
       {{"pol.json", R"({"default_minimum_days": 30, "colour": 1})"}}},
      // 4 key, token and certificate files
      {"signing key not PEM",
       "checkpoint --db L2",
       2,
       "the signing key L2/signing-key.pem is unusable: private key text for "
       "bad.example/log is not an unencrypted PEM private key",
       "",
       {},
       absl::StrCat(kBin,
                    "init --db L2 --name bad.example/log && "
                    "echo garbage >L2/signing-key.pem")},
      {"signing key not PEM, key", "key --db L2", 2,
       "the signing key L2/signing-key.pem is unusable: private key text for "
       "bad.example/log is not an unencrypted PEM private key"},
      {"signing key not PEM, append", "append --db L2 /dev/stdin", 2,
       "the signing key L2/signing-key.pem is unusable",
       Officer(kNote, "NEW-1")},
      {"signing key missing",
       "checkpoint --db L2",
       3,
       "cannot read the signing key L2/signing-key.pem: No such file or "
       "directory",
       "",
       {},
       "rm L2/signing-key.pem"},
      {"signing key missing, key", "key --db L2", 3,
       "cannot read the signing key L2/signing-key.pem: No such file or "
       "directory"},
      {"signing key a folder",
       "checkpoint --db L2",
       3,
       "cannot read the signing key L2/signing-key.pem: it is a folder",
       "",
       {},
       "mkdir L2/signing-key.pem"},
      {"reading beside a folder for the signing key", "read --db L2", 0, ""},
      {"reading without the signing key",
       "read --db L2",
       0,
       "",
       "",
       {},
       "rmdir L2/signing-key.pem"},
      {"verify without the signing key", "verify --db L2", 0,
       "signatures NOT checked (no usable signing-key.pem: give --pubkey "
       "KEYFILE)"},
      {"verify with another ledger's key",
       "verify --db L --pubkey other.pub",
       1,
       "FAIL checkpoint of size ",
       "",
       {},
       absl::StrCat(kBin, "init --db L4 --name other.example/log && ", kBin,
                    "key --db L4 >other.pub")},
      {"verify with no verifier key",
       "verify --db L --pubkey pk",
       2,
       "caseledger verify: --pubkey: verifier key is not <name>+<key "
       "id>+<base64 key>",
       "",
       {{"pk", "garbage\n"}}},
      {"verify with an empty verifier key file",
       "verify --db L --pubkey empty.pub",
       2,
       "caseledger verify: --pubkey: empty.pub is empty; it must hold the "
       "ledger's verifier key, the line 'caseledger key' prints",
       "",
       {{"empty.pub", "\n"}}},
      {"standard input for two inputs",
       "verify --db L --pubkey - --checkpoint -", 2,
       "caseledger verify: '-' (standard input) is given for --pubkey and "
       "--checkpoint, and it can be read only once: give all but one as "
       "files"},
      {"a verifier key for a backup being made",
       "backup --db L --to B2 --pubkey pk", 2,
       "caseledger backup: --pubkey checks a backup (--verify BACKUP); a "
       "backup being made is signed by this ledger's own key"},
      {"standard output as a backup folder", "backup --db L --to -", 2,
       "caseledger backup: --to: '-' would name a folder called '-', not "
       "standard input or output; give the folder (./- if that is its name)"},
      {"standard input as the ledger folder",
       "init --db - --name x.example/log", 2,
       "caseledger init: --db: '-' would name a folder called '-', not "
       "standard input or output; give the folder (./- if that is its name)"},
      {"verify against a checkpoint that is not one",
       "verify --db L --checkpoint cp",
       2,
       "caseledger verify: --checkpoint: not a checkpoint signed by "
       "bad.example/log: signed note has no blank line before its signature "
       "lines",
       "",
       {{"cp", "garbage\n"}}},
      {"verify against another ledger's checkpoint",
       "verify --db L --checkpoint other.note",
       1,
       // Then the other ledger's key id, which each run draws anew.
       absl::StrCat("FAIL --checkpoint: not a checkpoint signed by "
                    "bad.example/log: no signature by bad.example/log (key "
                    "id ",
                    kPageKeyId, "), only by another key of that name (key id "),
       "",
       {},
       absl::StrCat(kBin, "init --db L6 --name bad.example/log && ", kBin,
                    "checkpoint --db L6 >other.note")},
      {"pubkey key id",
       "verify-bundle x.zip --pubkey k1",
       2,
       "--pubkey: verifier key for bad.example/log: key id \"zzzz\" is not 8 "
       "lowercase hex digits",
       "",
       {{"x.zip", ""}},
       absl::StrCat(kBin, "key --db L | sed 's/+[0-9a-f]*+/+zzzz+/' >k1")},
      {"pubkey key id mismatch",
       "verify-bundle x.zip --pubkey k2",
       2,
       absl::StrCat("--pubkey: verifier key for bad.example/log: key id "
                    "12345678 does not match the key, whose id is ",
                    kPageKeyId),
       "",
       {{"x.zip", ""}},
       absl::StrCat(kBin, "key --db L | sed 's/+[0-9a-f]*+/+12345678+/' >k2")},
      {"tokens line",
       "serve --db L --tokens tokens --listen 127.0.0.1:0",
       2,
       "caseledger serve: tokens line 1: expected 'ROLE NAME sha256:HEX'",
       "",
       {{"tokens", "reader\n"}}},
      {"tokens role",
       "serve --db L --tokens tokens --listen 127.0.0.1:0",
       2,
       "caseledger serve: tokens line 1: unknown role 'god' (appender, "
       "reader, exporter or admin)",
       "",
       {{"tokens", absl::StrCat("god x sha256:", std::string(64, 'a'), "\n")}}},
      {"tokens digest length",
       "serve --db L --tokens tokens --listen 127.0.0.1:0",
       2,
       "tokens line 1: the digest must be 64 hex digits",
       "",
       {{"tokens", "reader x sha256:abc\n"}}},
      {"tokens digest kind",
       "serve --db L --tokens tokens --listen 127.0.0.1:0",
       2,
       "tokens line 1: the digest must start with 'sha256:'",
       "",
       {{"tokens", absl::StrCat("reader x md5:", std::string(64, 'a'), "\n")}}},
      {"tokens digest twice",
       "serve --db L --tokens tokens --listen 127.0.0.1:0",
       2,
       "caseledger serve: tokens line 2: this token digest is listed twice",
       "",
       {{"tokens",
         absl::StrCat("reader a sha256:", std::string(64, 'a'), "\n",
                      "reader b sha256:", std::string(64, 'a'), "\n")}}},
      {"tls certificate without key",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --tls-cert x.pem",
       2,
       "TLS needs both a certificate and its private key",
       "",
       {{"tokens", ""}, {"x.pem", "x\n"}}},
      {"serve's tls files empty",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --tls-cert e.pem "
       "--tls-key e.pem",
       2,
       "caseledger serve: --tls-cert: e.pem is empty; it must hold PEM text "
       "(TLS is not left off for an empty file)",
       "",
       {{"tokens", ""}, {"e.pem", ""}}},
      {"serve's tls certificate not pem",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --tls-cert srv.pem "
       "--tls-key srv.key",
       2,
       "--tls-cert srv.pem holds no PEM certificate",
       "",
       {{"tokens", ""}, {"srv.pem", "x\n"}, {"srv.key", "x\n"}}},
      {"tls key without certificate",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --tls-key x.pem", 2,
       "TLS needs both a certificate and its private key"},
      {"client ca without server certificate",
       "serve --db L --tokens tokens --listen 127.0.0.1:0 --client-ca x.pem", 2,
       "mutual TLS (a client CA) needs the server's certificate and key"},
      {"pubkey",
       "verify-bundle x.zip --pubkey pk",
       2,
       "caseledger verify-bundle: --pubkey: verifier key is not "
       "<name>+<key id>+<base64 key>",
       "",
       {{"pk", "garbage\n"}, {"x.zip", ""}}},
      {"pubkey on two lines",
       "verify-bundle x.zip --pubkey pk2",
       2,
       "caseledger verify-bundle: --pubkey: verifier key text holds more than "
       "one line; give the one line 'caseledger key' prints",
       "",
       {{"x.zip", ""}},
       absl::StrCat(kBin, "key --db L >pk2 && ", kBin, "key --db L >>pk2")},
      // 5 signed checkpoints
      {"since-checkpoint missing",
       absl::StrCat(kExport, " --since-checkpoint /nonexistent.note"), 2,
       "caseledger export: --since-checkpoint: cannot read /nonexistent.note: "
       "No such file or directory"},
      {"since-checkpoint not a note",
       absl::StrCat(kExport, " --since-checkpoint ck"),
       2,
       "caseledger export: --since-checkpoint: not a checkpoint signed by this "
       "ledger's key: signed note has no blank line before its signature "
       "lines",
       "",
       {{"ck", "garbage\n"}}},
      {"since-checkpoint of another ledger",
       absl::StrCat(kExport, " --since-checkpoint ck"),
       2,
       absl::StrCat("--since-checkpoint: not a checkpoint signed by this "
                    "ledger's key: no signature by bad.example/log (key id ",
                    kPageKeyId, ")"),
       "",
       {},
       absl::StrCat(kBin, "init --db L3 --name bad.example/log && ", kBin,
                    "checkpoint --db L3 >ck")},
      {"since-checkpoint altered",
       absl::StrCat(kExport, " --since-checkpoint ck"),
       2,
       absl::StrCat("--since-checkpoint: not a checkpoint signed by this "
                    "ledger's key: signed note line 5: signature by "
                    "bad.example/log (key id ",
                    kPageKeyId, ") does not verify over the 64-byte note text"),
       "",
       {},
       // The root's first base64 digit changed: the same length, other bytes.
       absl::StrCat(kBin, "checkpoint --db L | sed '3s/^A/B/;t;3s/^./A/' >ck")},
      // 6 bundles
      {"unreadable bundle",
       "verify-bundle /nonexistent.zip --pubkey key.txt",
       1,
       "cannot read /nonexistent.zip: No such file or directory",
       "",
       {},
       absl::StrCat(kBin, "key --db L >key.txt")},
      {"not a zip",
       "verify-bundle g.zip --pubkey key.txt",
       1,
       "not a bundle archive: offset 0: too short for a ZIP end record",
       "",
       {{"g.zip", "garbage\n"}}},
      {"not a zip at its start",
       "verify-bundle h.zip --pubkey key.txt",
       1,
       "not a bundle archive: offset 0: the archive begins with 0x4f44213c "
       "(\"<!DO\"), not a local header (0x04034b50): no bundle, or data "
       "before one",
       "",
       {{"h.zip", "<!DOCTYPE html><p>502 Bad Gateway</p>\n"}}},
      {"member altered",
       "verify-bundle a.zip --pubkey key.txt",
       1,
       "- README.txt: its bytes do not match the archive's CRC-32 for it (the "
       "member was altered)",
       "",
       {},
       // README.txt is stored, not compressed: its text is in the archive.
       absl::StrCat(kBin,
                    "export --db L --case E2012-000417 --purpose "
                    "investigation --out e.zip && LC_ALL=C sed "
                    "'s/Purpose     INVESTIGATION/Purpose     INVESTIGATIOX/' "
                    "e.zip >a.zip && ! cmp -s e.zip a.zip")},
  };
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = testing::FileContents(CASELEDGER_DOCS "/bad-input.md");
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
    // The key id: the second field of <name>+<key id>+<base64 key>.
    r = Run("key --db L", "");
    ASSERT_EQ(r.code, 0) << r.output;
    std::vector<std::string> fields =
        absl::StrSplit(r.output, absl::MaxSplits('+', 2));
    ASSERT_EQ(fields.size(), 3u) << r.output;
    key_id_ = fields[1];
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
    std::string output = testing::FileContents(dir_.Sub("stderr")) +
                         testing::FileContents(dir_.Sub("stdout"));
    if (!key_id_.empty()) {
      output = absl::StrReplaceAll(output, {{key_id_, kPageKeyId}});
    }
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }

  // Runs a shell command in the case folder; true when it succeeded.
  bool Shell(const std::string& command) {
    std::string line = absl::StrCat(
        "cd ", dir_.path(), " && env -u CASELEDGER_DB sh -c '",
        absl::StrReplaceAll(command, {{"'", "'\\''"}}), "' >/dev/null 2>&1");
    return std::system(line.c_str()) == 0;
  }

  // What a refused input must leave as it was: the events and checkpoints of
  // L (as `read` and `verify` report them) and the names of the files in the
  // case folder. RocksDB's own files in a store folder change on every open,
  // and stdin, stdout and stderr are the harness's.
  std::string Snapshot() {
    std::string out =
        absl::StrCat("events: SHA-256 ",
                     ToHex(Sha256(Run("read --db L --format json", "").output)),
                     "\n", Run("verify --db L", "").output);
    std::vector<std::string> names;
    for (const auto& f :
         std::filesystem::recursive_directory_iterator(dir_.path())) {
      // Lexically: a case may plant a link that resolves nowhere.
      std::string name = f.path().lexically_relative(dir_.path()).string();
      if (name == "stdin" || name == "stdout" || name == "stderr") continue;
      if (absl::StrContains(name, "/store/")) continue;
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    absl::StrAppend(&out, absl::StrJoin(names, "\n"));
    return out;
  }

  testing::TempFolder dir_;
  std::string page_;
  std::string key_id_;
};

TEST_F(BadInputTest, EveryCataloguedRefusalHappensAsTheCatalogueSays) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    for (const auto& [name, content] : c.files) {
      std::filesystem::path p(dir_.Sub(name));
      std::filesystem::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary) << content;
    }
    if (!c.setup.empty()) {
      ASSERT_TRUE(Shell(c.setup)) << c.setup;
    }
    const bool refused = c.exit != 0;
    const std::string before = refused ? Snapshot() : "";
    Result r = Run(c.args, c.input);
    EXPECT_EQ(r.code, c.exit) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos)
        << "expected: " << c.message << "\ngot: " << r.output;
    EXPECT_NE(page_.find(c.message), std::string::npos)
        << "docs/bad-input.md does not quote: " << c.message;
    // A refused input writes nothing.
    if (refused) {
      EXPECT_EQ(Snapshot(), before);
    }
  }
}

// The rows whose output is not one message.

TEST_F(BadInputTest, NoVerbPrintsTheVerbListOnStandardErrorAndExitsTwo) {
  ASSERT_NE(page_.find("| `caseledger` (no verb) | 2 | the verb list, on "
                       "standard error |"),
            std::string::npos);
  std::string before = Snapshot();
  Result r = Run("", "");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(testing::FileContents(dir_.Sub("stdout")).empty());
  const std::string err = testing::FileContents(dir_.Sub("stderr"));
  EXPECT_NE(err.find("verbs:"), std::string::npos) << err;
  for (const char* verb : {"init", "append", "read", "verify", "serve"}) {
    EXPECT_NE(err.find(absl::StrCat("\n  ", verb, " ")), std::string::npos)
        << verb << " not in:\n"
        << err;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(BadInputTest, HelpAnywhereAfterTheVerbPrintsItsUsageAndExitsZero) {
  ASSERT_NE(page_.find("| `--help` anywhere after the verb | 0 | the verb's "
                       "usage, on standard output |"),
            std::string::npos);
  std::string before = Snapshot();
  for (const char* args :
       {"read --help", "read --db L --help", "read --db L --case NOPE --help",
        "append --db L --expected-version latest --help",
        "findings --strict --help --db L"}) {
    SCOPED_TRACE(args);
    Result r = Run(args, "");
    EXPECT_EQ(r.code, 0) << r.output;
    const std::string verb =
        std::string(args).substr(0, std::string(args).find(' '));
    EXPECT_EQ(testing::FileContents(dir_.Sub("stdout"))
                  .rfind(absl::StrCat("usage: caseledger ", verb), 0),
              0u)
        << r.output;
    EXPECT_TRUE(testing::FileContents(dir_.Sub("stderr")).empty());
  }
  EXPECT_EQ(Snapshot(), before);
}

// A refused serve leaves the store's files as they were too: its access
// log was opened after the ledger, whose open as the writer wrote a new
// log file, MANIFEST and OPTIONS (found by an outside reading), which the
// snapshot of the catalogue rows does not look at.
TEST_F(BadInputTest, AnAccessLogServeCannotOpenLeavesTheStoreAsItWas) {
  std::ofstream(dir_.Sub("tokens")) << "";
  auto store_files = [&] {
    std::vector<std::string> names;
    for (const auto& f :
         std::filesystem::directory_iterator(dir_.Sub("L/store"))) {
      names.push_back(f.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return absl::StrJoin(names, " ");
  };
  const std::string before = store_files();
  for (const char* log : {"nowhere/log.jsonl", "L"}) {
    Result r = Run(absl::StrCat("serve --db L --tokens tokens --listen "
                                "127.0.0.1:0 --access-log ",
                                log),
                   "");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("cannot open access log"), std::string::npos)
        << r.output;
    EXPECT_EQ(store_files(), before) << log;
  }
}

TEST_F(BadInputTest, ALedgerOfANewerStorageFormatIsRefused) {
  const std::string message =
      "L2: storage format version 3 is not supported by this build (supports "
      "1 and 2)";
  ASSERT_NE(page_.find("| a ledger of a newer storage format | 3 | "),
            std::string::npos);
  ASSERT_NE(page_.find(message), std::string::npos)
      << "docs/bad-input.md does not quote: " << message;
  ASSERT_EQ(Run("init --db L2 --name bad.example/log", "").code, 0);
  // The format version key of the meta family (docs/storage.md).
  ASSERT_OK(testing::AlterStore(
      dir_.Sub("L2/store"), [](auto&, internal::Batch& batch) {
        batch.Put(internal::Family::kMeta, "format_version", "3");
      }));
  for (const char* verb : {"read", "append", "verify", "checkpoint"}) {
    SCOPED_TRACE(verb);
    Result r = Run(absl::StrCat(verb, " --db L2",
                                verb == std::string("append") ? " -" : ""),
                   Officer(kNote, "NEW-1") + "\n");
    EXPECT_EQ(r.code, 3) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace caseledger
