// Ledgers written by earlier releases, opened by this build: a ledger's
// stored bytes never change meaning (docs/storage.md). Each fixture under
// tests/compat/data/ is a whole ledger folder written by a real binary of
// the commit its README names, with what that binary printed beside it: its
// verifier key, its last checkpoint and its `read --format json`. Each test
// works on a copy (opening a ledger writes files), through the command line
// as a user would, and through the library only where the command line
// cannot show the stored bytes.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/event_json.h"
#include "ledger/internal/store.h"
#include "ledger/ledger.h"
#include "ledger/sha256.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/storage_format.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::CliRun;

// One fixture ledger and what its writer left in it.
struct Fixture {
  std::string name;            // its folder under data/, and the origin's
  std::string format_version;  // the storage format it was written in
  uint64_t entries = 0;        // its tree size
  uint64_t checkpoints = 0;    // signed checkpoints it stores
  // The Merkle root of its last signed checkpoint, which covers every entry.
  std::string root_hex;
  // The inputs appended after the two examples, in order.
  std::vector<std::string> extra_inputs;
  // Whether its writer kept an event id given in upper case as given (before
  // 40cbd1d) rather than in lower case (docs/storage.md, `event_ids`).
  bool ids_kept_as_given = false;
};

void PrintTo(const Fixture& f, std::ostream* os) { *os << f.name; }

const Fixture kFormatOne = {
    .name = "format1",
    .format_version = "1",
    .entries = 23,
    .checkpoints = 5,
    .root_hex =
        "21f564dd9c6d07d5c88639fd50d29cef3bcb44baa0fb077a6fcc66e71ffe4459",
    .extra_inputs = {"compat-extra.jsonl", "format1-only.jsonl"},
    .ids_kept_as_given = true,
};

const Fixture kFormatTwo = {
    .name = "format2",
    .format_version = "2",
    .entries = 22,
    .checkpoints = 4,
    .root_hex =
        "b966581d66625bc4d5601a7cbaca2894a0dd32b84056c5012ecc49657cf8f07a",
    .extra_inputs = {"compat-extra.jsonl"},
    .ids_kept_as_given = false,
};

// The checked-in fixtures: $CASELEDGER_COMPAT_DATA (to try the test on
// altered copies), else the source tree's.
std::string DataDir() {
  const char* env = std::getenv("CASELEDGER_COMPAT_DATA");
  if (env != nullptr && *env != '\0') return env;
  return CASELEDGER_COMPAT_DATA_DIR;
}

// The storage format version the store in `ledger` records, read without
// opening it for writing.
absl::StatusOr<std::string> StoredFormatVersion(const std::string& ledger) {
  auto store = internal::Store::Open(ledger + "/store",
                                     {.read_only = true, .faults = nullptr});
  if (!store.ok()) return store.status();
  auto version = (*store)->Get(internal::Family::kMeta, "format_version");
  if (!version.ok()) return version.status();
  if (!version->has_value()) {
    return absl::NotFoundError("the store holds no format_version");
  }
  return **version;
}

// `text` as JSON; an empty Struct (and a failure) when it is not.
google::protobuf::Struct Json(const std::string& text) {
  google::protobuf::Struct json;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &json).ok())
      << text;
  return json;
}

// The value of `key` in each element of `list` (a JSON array of objects)
// whose `match_key` is `match`, joined by ",".
std::string FieldWhere(const google::protobuf::Value& list,
                       const std::string& match_key, const std::string& match,
                       const std::string& key) {
  std::vector<std::string> found;
  for (const auto& item : list.list_value().values()) {
    const auto& f = item.struct_value().fields();
    auto m = f.find(match_key);
    if (m != f.end() && m->second.string_value() == match) {
      found.push_back(f.at(key).string_value());
    }
  }
  return absl::StrJoin(found, ",");
}

class CompatTest : public ::testing::TestWithParam<Fixture> {
 protected:
  void SetUp() override {
    const std::string fixture = Data(GetParam().name);
    ASSERT_TRUE(std::filesystem::is_directory(fixture)) << fixture;
    std::filesystem::copy(fixture, Db(),
                          std::filesystem::copy_options::recursive);
    // Git keeps no file mode but the executable bit; the writer left its
    // key readable by its owner only, as a ledger's key always is.
    std::filesystem::permissions(Db() + "/signing-key.pem",
                                 std::filesystem::perms::owner_read |
                                     std::filesystem::perms::owner_write);
  }

  CliRun Cli(const std::string& args, const std::string& stdin_text = "") {
    return testing::RunCli(CASELEDGER_BINARY, args, dir_, stdin_text);
  }
  std::string Db() const { return dir_.Sub("ledger"); }
  std::string Scratch(const std::string& name) const { return dir_.Sub(name); }
  static std::string Data(const std::string& name) {
    return DataDir() + "/" + name;
  }
  // The fixture's file `suffix` (".pub", ".checkpoint", ".read.jsonl").
  static std::string Beside(const std::string& suffix) {
    return Data(GetParam().name + suffix);
  }
  std::string PubKey() const { return " --pubkey " + Beside(".pub"); }

  // The events appended to the fixture, in order: the two examples, then
  // the fixture's extra inputs.
  static std::vector<v1::Event> Inputs() {
    std::string text =
        testing::FileContents(testing::SharedDir() +
                              "/examples/bounce-handled.jsonl") +
        testing::FileContents(testing::SharedDir() +
                              "/examples/transfer-then-refusal.jsonl");
    for (const std::string& extra : GetParam().extra_inputs) {
      text += testing::FileContents(Data(extra));
    }
    std::istringstream in(text);
    auto lines = ReadEventLines(in);
    EXPECT_TRUE(lines.ok()) << lines.status();
    std::vector<v1::Event> events;
    if (lines.ok()) {
      for (EventLine& line : *lines) events.push_back(std::move(line.event));
    }
    return events;
  }

  // The rows of `read --format json` output whose event is of `case_id`.
  static std::string RowsOfCase(const std::string& read_json,
                                const std::string& case_id) {
    std::string rows;
    for (absl::string_view row : absl::StrSplit(read_json, '\n')) {
      if (row.empty()) continue;
      const auto json = Json(std::string(row));
      if (json.fields()
              .at("event")
              .struct_value()
              .fields()
              .at("case_id")
              .string_value() == case_id) {
        absl::StrAppend(&rows, row, "\n");
      }
    }
    return rows;
  }

  // `verb --db DB args --format json`, which must succeed.
  google::protobuf::Struct Projection(const std::string& verb,
                                      const std::string& args) {
    CliRun r =
        Cli(absl::StrCat(verb, " --db ", Db(), " ", args, " --format json"));
    EXPECT_EQ(r.code, 0) << verb << " " << args << ": " << r.err;
    return Json(r.out);
  }

  testing::TempFolder dir_;
};

TEST_P(CompatTest, VerifiesWithItsPublishedKey) {
  const Fixture& f = GetParam();
  CliRun r = Cli("verify --db " + Db() + PubKey());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("OK ", f.entries, " entries, 3 ",
                                            "cases")));
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("3 stored messages, ", f.checkpoints,
                                     " checkpoints verified")));
  // The checkpoint its writer printed, kept outside the ledger, is one the
  // ledger extends.
  r = Cli("verify --db " + Db() + PubKey() + " --checkpoint " +
          Beside(".checkpoint"));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  // Reading and verifying left its storage format as it was.
  ASSERT_OK_AND_ASSIGN(std::string version, StoredFormatVersion(Db()));
  EXPECT_EQ(version, f.format_version);
}

TEST_P(CompatTest, ItsLastCheckpointIsTheOneItsWriterPrinted) {
  const Fixture& f = GetParam();
  const std::string printed = testing::FileContents(Beside(".checkpoint"));
  ASSERT_OK_AND_ASSIGN(Checkpoint signed_by_writer,
                       ParseCheckpointBody(printed));
  EXPECT_EQ(signed_by_writer.origin, "caseledger.compat/" + f.name);
  EXPECT_EQ(signed_by_writer.tree_size, f.entries);
  EXPECT_EQ(ToHex(signed_by_writer.root_hash), f.root_hex);

  LedgerOptions reader_with_key;
  reader_with_key.read_only = true;
  reader_with_key.require_key = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ledger> ledger,
                       Ledger::Open(Db(), reader_with_key));
  ASSERT_OK_AND_ASSIGN(std::string stored, ledger->LatestCheckpoint());
  EXPECT_EQ(stored, printed);
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> sizes, ledger->CheckpointSizes());
  EXPECT_EQ(sizes.size(), f.checkpoints);
  // The root recomputed from the stored nodes, and the published key's
  // signature over it.
  ASSERT_OK_AND_ASSIGN(merkle::Hash root, ledger->RootAt(f.entries));
  EXPECT_EQ(ToHex(root), f.root_hex);
  ASSERT_OK_AND_ASSIGN(VerifierKey key,
                       ParseVerifierKey(testing::FileContents(Beside(".pub"))));
  EXPECT_OK(VerifyCheckpoint(stored, key));
}

TEST_P(CompatTest, ReadsEveryEventItsWriterRead) {
  const Fixture& f = GetParam();
  CliRun r = Cli("read --db " + Db() + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  // Byte for byte what its writer printed: positions, versions, recorded_at,
  // every field of every event and the exact entry bytes.
  const std::string golden = testing::FileContents(Beside(".read.jsonl"));
  ASSERT_FALSE(golden.empty());
  EXPECT_EQ(r.out, golden);

  // And those are the events given, in order, then the export's record.
  const std::vector<v1::Event> inputs = Inputs();
  std::vector<std::string> rows =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), f.entries);
  ASSERT_EQ(inputs.size() + 1, f.entries);
  std::set<std::string> cases;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto row = Json(rows[i]);
    EXPECT_EQ(row.fields().at("position").number_value(), i + 1);
    std::string event_json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                    row.fields().at("event").struct_value(), &event_json)
                    .ok());
    ASSERT_OK_AND_ASSIGN(v1::Event stored, ParseEventJson(event_json));
    cases.insert(stored.case_id());
    if (i == inputs.size()) {
      EXPECT_EQ(stored.case_id(), "E2012-000952");
      EXPECT_EQ(stored.evidence_bundle_exported().purpose(),
                v1::BundlePurpose::JUDICIAL_REVIEW);
      EXPECT_EQ(stored.evidence_bundle_exported().tree_size(), f.entries - 1);
      continue;
    }
    v1::Event given = inputs[i];
    if (given.event_id().empty()) {
      // The writer generated its id: a UUID.
      EXPECT_EQ(stored.event_id().size(), 36u) << stored.event_id();
      given.set_event_id(stored.event_id());
    } else if (!f.ids_kept_as_given) {
      given.set_event_id(absl::AsciiStrToLower(given.event_id()));
    }
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(stored, given))
        << "position " << i + 1 << ": " << event_json;
  }
  EXPECT_EQ(cases, (std::set<std::string>{"COMPAT-1", "E2012-000417",
                                          "E2012-000952"}));

  // A case read through the case index gives the same rows.
  for (const std::string& c : cases) {
    CliRun one = Cli("read --db " + Db() + " --case " + c + " --format json");
    ASSERT_EQ(one.code, 0) << one.err;
    EXPECT_EQ(one.out, RowsOfCase(golden, c)) << c;
  }
}

// The expected results of shared/examples/README.md, by the command line.
TEST_P(CompatTest, ProjectionsOfTheExamplesAreTheExpectedOnes) {
  // bounce-handled: BOUNCE_FOLLOWED_UP PASS, no FAIL; DOC-1 SUPERSEDED,
  // DOC-2 SATISFIED; APPROVED.
  auto findings =
      Projection("findings", "--case E2012-000417 --as-of 2013-01-01");
  const auto& rows = findings.fields().at("findings");
  EXPECT_EQ(FieldWhere(rows, "rule", "BOUNCE_FOLLOWED_UP", "status"), "PASS");
  EXPECT_EQ(FieldWhere(rows, "status", "FAIL", "rule"), "");
  auto deadlines =
      Projection("deadlines", "--case E2012-000417 --as-of 2013-01-01");
  const auto& dl = deadlines.fields().at("deadlines");
  EXPECT_EQ(dl.list_value().values_size(), 2);
  EXPECT_EQ(FieldWhere(dl, "request_id", "DOC-1", "status"), "SUPERSEDED");
  EXPECT_EQ(FieldWhere(dl, "request_id", "DOC-2", "status"), "SATISFIED");
  auto state = Projection("state", "--case E2012-000417 --as-of 2013-01-01");
  EXPECT_EQ(state.fields().at("status").string_value(), "APPROVED");
  EXPECT_EQ(state.fields().at("version").number_value(), 10);

  // transfer-then-refusal: four rules PASS (REFUSAL_SUPPORTED because the
  // sent message is stored); DOC-1 OVERDUE on 2012-08-01, PENDING on
  // 2012-07-01; REFUSED at the new office.
  findings = Projection("findings", "--case E2012-000952 --as-of 2012-08-01");
  const auto& rules = findings.fields().at("findings");
  for (const char* rule :
       {"TRANSFER_NOTICE_GIVEN", "NON_COMPLIANCE_AFTER_DEADLINE",
        "STANDARD_NOTE_USED", "REFUSAL_SUPPORTED"}) {
    EXPECT_EQ(FieldWhere(rules, "rule", rule, "status"), "PASS") << rule;
  }
  deadlines = Projection("deadlines", "--case E2012-000952 --as-of 2012-08-01");
  EXPECT_EQ(FieldWhere(deadlines.fields().at("deadlines"), "request_id",
                       "DOC-1", "status"),
            "OVERDUE");
  deadlines = Projection("deadlines", "--case E2012-000952 --as-of 2012-07-01");
  EXPECT_EQ(FieldWhere(deadlines.fields().at("deadlines"), "request_id",
                       "DOC-1", "status"),
            "PENDING");
  state = Projection("state", "--case E2012-000952 --as-of 2012-08-01");
  EXPECT_EQ(state.fields().at("status").string_value(), "REFUSED");
  EXPECT_EQ(state.fields().at("office_id").string_value(), "CPC-OTTAWA");

  // The deadline index its writer kept answers across cases.
  CliRun r = Cli("deadlines --db " + Db() +
                 " --status OVERDUE --as-of 2012-08-01 --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(FieldWhere(Json(r.out).fields().at("deadlines"), "status",
                       "OVERDUE", "case_id"),
            "E2012-000952");

  // One line per event, whatever its identifiers hold (a format-1 writer
  // took a tab in an actor id).
  const long events_of_case = static_cast<long>(Inputs().size()) - 18;
  for (const char* verb : {"read", "timeline"}) {
    r = Cli(absl::StrCat(verb, " --db ", Db(), " --case COMPAT-1"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), events_of_case)
        << verb << ":\n"
        << r.out;
  }
}

TEST_P(CompatTest, AWritableOpenUpgradesItAndItKeepsWorking) {
  const Fixture& f = GetParam();
  // The first writable open: nothing appended since the last checkpoint,
  // so `checkpoint` prints the stored one, byte for byte.
  CliRun r = Cli("checkpoint --db " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, testing::FileContents(Beside(".checkpoint")));
  if (f.format_version == "1") {
    EXPECT_THAT(r.err, HasSubstr("to storage format 2"));
    EXPECT_THAT(r.err,
                HasSubstr(absl::StrCat("upgrade: done, ", f.entries, " ev")));
  } else {
    EXPECT_THAT(r.err, Not(HasSubstr("upgrad")));
  }
  ASSERT_OK_AND_ASSIGN(std::string version, StoredFormatVersion(Db()));
  EXPECT_EQ(version, "2");

  // It takes a new case.
  r = Cli("append --db " + Db() + " -",
          R"({"case_id": "COMPAT-2", "occurred_at": "2013-01-01T00:00:00Z", )"
          R"("actor": {"kind": "OFFICER", "id": "off-17"}, )"
          R"("case_opened": {"office_id": "VO-DELHI"}})"
          "\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("positions ", f.entries + 1)));
  EXPECT_THAT(r.err, Not(HasSubstr("upgrad")));
  // Still whole: with the same key, and extending the checkpoint its writer
  // signed.
  r = Cli("verify --db " + Db() + PubKey() + " --checkpoint " +
          Beside(".checkpoint"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("OK ", f.entries + 1,
                                            " entries, 4 cases")));
  // Its old entries read as before, now through the format-2 case index.
  const std::string golden = testing::FileContents(Beside(".read.jsonl"));
  r = Cli(absl::StrCat("read --db ", Db(), " --limit ", f.entries,
                       " --format json"));
  EXPECT_EQ(r.out, golden);
  r = Cli("read --db " + Db() + " --case E2012-000417 --format json");
  EXPECT_EQ(r.out, RowsOfCase(golden, "E2012-000417"));

  // An evidence bundle of an example case checks out with the published
  // key alone.
  const std::string bundle = Scratch("bundle.zip");
  r = Cli("export --db " + Db() +
          " --case E2012-000417 --purpose investigation --requested-by "
          "compat --out " +
          bundle);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli("verify-bundle " + bundle + PubKey());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("VERDICT: OK"));
}

// domain.md §3: an event whose event_id is stored is skipped when its content
// is identical. A client retrying gives an event again as it gave it first:
// here a whole example, then each event given with an upper-case id, alone.
TEST_P(CompatTest, EachEventGivenAgainUnderItsIdIsADuplicate) {
  const Fixture& f = GetParam();
  // An event read by its id in either case (RFC 9562), by a reader and,
  // below, after a writer has looked the ids over.
  auto read_by_id = [&] {
    LedgerOptions reader;
    reader.read_only = true;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ledger> ledger,
                         Ledger::Open(Db(), reader));
    for (const char* id : {"c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b",
                           "C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B"}) {
      ASSERT_OK_AND_ASSIGN(RecordedEvent e, ledger->ReadEvent(id));
      EXPECT_EQ(e.position, 20u) << id;
      EXPECT_EQ(absl::AsciiStrToLower(e.event.event_id()),
                "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b");
    }
  };
  read_by_id();
  std::vector<std::string> calls = {testing::FileContents(
      testing::SharedDir() + "/examples/bounce-handled.jsonl")};
  for (absl::string_view line : absl::StrSplit(
           testing::FileContents(Data("compat-extra.jsonl")), '\n')) {
    if (absl::StrContains(line, "\"event_id\"")) {
      calls.push_back(absl::StrCat(line, "\n"));
    }
  }
  ASSERT_EQ(calls.size(), 3u);
  for (const std::string& given : calls) {
    CliRun r = Cli("append --db " + Db() + " - --format json", given);
    EXPECT_EQ(r.code, 0) << r.err << "given:\n" << given;
    if (r.code != 0) continue;
    const auto appended = Json(r.out);
    EXPECT_EQ(appended.fields().at("tree_size").number_value(), f.entries)
        << r.out;
    for (const auto& e : appended.fields().at("events").list_value().values()) {
      EXPECT_TRUE(e.struct_value().fields().at("duplicate").bool_value())
          << r.out;
    }
  }
  CliRun r = Cli("verify --db " + Db() + PubKey());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("OK ", f.entries, " entries")));
  read_by_id();
}

// A ledger holding ids in upper case, whose meta record is flipped to say
// every id is in lower case, would append a retry of such an event again;
// verify compared the ids as stored and passed (found by an adversarial
// reading). It names the id and the record.
TEST_P(CompatTest, AnIdSpellingRecordFlippedToLowerCaseFails) {
  if (!GetParam().ids_kept_as_given) GTEST_SKIP() << "no upper-case id";
  CliRun opened = Cli("verify --db " + Db() + PubKey());
  ASSERT_EQ(opened.code, 0) << opened.out << opened.err;
  {  // a writable open learns "as-given"
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ledger> writer, Ledger::Open(Db()));
  }
  ASSERT_OK(testing::AlterStore(
      Db() + "/store", [](internal::Store&, internal::Batch& batch) {
        batch.Put(internal::Family::kMeta, "event_id_spelling", "lower");
      }));
  CliRun r = Cli("verify --db " + Db() + PubKey());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("the event-id index holds 0B6F8D52-"));
  EXPECT_THAT(r.out,
              HasSubstr("in upper case, though the ledger's meta record says "
                        "every id is stored in lower case (event_id_spelling)"
                        ": a retry of that event would be appended again; the "
                        "meta record was altered"));
}

INSTANTIATE_TEST_SUITE_P(compat, CompatTest,
                         ::testing::Values(kFormatOne, kFormatTwo),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace caseledger
