// Export and offline verification of evidence bundles (domain.md §5,
// docs/bundle-format.md): round trips for the shared examples, byte-for-byte
// reproducibility at a tree size, and the verifier's answer to every kind of
// tampering.
#include "projections/bundle/bundle.h"

#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/internal/store.h"
#include "ledger/sha256.h"
#include "projections/bundle/internal/layout.h"
#include "projections/bundle/verify.h"
#include "projections/policy.h"
#include "tests/bundle/bundle_fixture.h"
#include "tests/testing/storage_format.h"

namespace caseledger::bundle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class BundleTest : public BundleFixture {
 protected:
  // Makes the bounce example's case one of `count` more events.
  void AddNotes(size_t count) {
    std::vector<v1::Event> notes(count);
    for (v1::Event& note : notes) {
      note.set_case_id(kBounceCase);
      note.mutable_occurred_at()->set_seconds(1400000000);
      note.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
      note.mutable_actor()->set_id("o");
      note.mutable_officer_note_added()->set_text("n");
    }
    ASSERT_TRUE(ledger_->Append(notes).ok());
  }
};

TEST_F(BundleTest, ExportThenVerifyEveryExampleForEveryPurpose) {
  for (const char* c : {kBounceCase, kRefusalCase, kFrenchCase}) {
    for (auto purpose : {v1::BundlePurpose::RECONSIDERATION,
                         v1::BundlePurpose::JUDICIAL_REVIEW,
                         v1::BundlePurpose::INVESTIGATION}) {
      ExportResult r = Export(c, purpose);
      ASSERT_FALSE(r.bytes.empty());
      BundleVerdict v = Verify(r.bytes);
      EXPECT_TRUE(v.ok()) << c << "\n" << Describe(v);
      EXPECT_EQ(v.case_id, c);
      EXPECT_EQ(v.tree_size, r.tree_size);
    }
  }
}

TEST_F(BundleTest, BundleHoldsTheExactStoredBytesOfTheCase) {
  ExportResult r = Export(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  auto members = Members(r.bytes);
  ASSERT_OK_AND_ASSIGN(std::vector<RecordedEvent> events,
                       ledger_->ReadCase(kBounceCase));
  size_t in_bundle = 0;
  for (const RecordedEvent& e : events) {
    if (e.position > r.tree_size) continue;
    ++in_bundle;
    EXPECT_EQ(members[internal::EntryPath(e.position)], e.entry_bytes);
    EXPECT_EQ(members[internal::EventPath(e.position)], e.salt + e.event_bytes);
  }
  EXPECT_EQ(in_bundle, 10u);
  EXPECT_EQ(r.events, 10u);
  // Both stored messages of the case, named by their SHA-256.
  for (const char* eml :
       {"bounce-handled-DOC-1.eml", "bounce-handled-DOC-2.eml"}) {
    std::string bytes = testing::FileContents(Example(eml));
    EXPECT_EQ(members[internal::MessagePath(ToHex(Sha256(bytes)))], bytes)
        << eml;
  }
  // The stored checkpoint is the one signed at the exported size.
  ASSERT_OK_AND_ASSIGN(std::string note, ledger_->CheckpointAt(r.tree_size));
  EXPECT_EQ(members["checkpoint.txt"], note);
  for (const char* f :
       {"manifest.json", "manifest.sig", "README.txt", "state.json",
        "deadlines.json", "findings.json", "events.json", "policy.json",
        "report.html", "report.pdf"}) {
    EXPECT_TRUE(members.count(f)) << f;
  }
}

TEST_F(BundleTest, ExpectedFindingsOfTheExamplesAreInTheBundle) {
  auto members =
      Members(Export(kRefusalCase, v1::BundlePurpose::JUDICIAL_REVIEW).bytes);
  EXPECT_THAT(members["state.json"], HasSubstr("\"status\": \"REFUSED\""));
  EXPECT_THAT(members["findings.json"],
              HasSubstr("\"rule\": \"REFUSAL_SUPPORTED\",\n      \"status\": "
                        "\"PASS\""));
  members =
      Members(Export(kBounceCase, v1::BundlePurpose::INVESTIGATION).bytes);
  EXPECT_THAT(members["state.json"], HasSubstr("\"status\": \"APPROVED\""));
  EXPECT_THAT(members["deadlines.json"], HasSubstr("\"SUPERSEDED\""));
}

TEST_F(BundleTest, ExportIsRecordedAsAnEventOfTheCase) {
  const uint64_t before = ledger_->Size();
  ExportResult r = Export(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  EXPECT_EQ(r.tree_size, before);
  EXPECT_EQ(r.audit_position, before + 1);
  ASSERT_OK_AND_ASSIGN(std::vector<RecordedEvent> events,
                       ledger_->ReadCase(kBounceCase));
  const v1::Event& audit = events.back().event;
  ASSERT_TRUE(audit.has_evidence_bundle_exported());
  const auto& p = audit.evidence_bundle_exported();
  EXPECT_EQ(p.purpose(), v1::BundlePurpose::RECONSIDERATION);
  EXPECT_EQ(p.bundle_sha256(), ToHex(Sha256(r.bytes)));
  EXPECT_EQ(p.bundle_sha256(), r.sha256_hex);
  EXPECT_EQ(p.tree_size(), r.tree_size);
  EXPECT_EQ(p.requested_by(), "counsel@test");
}

TEST_F(BundleTest, TwoExportsAtTheSameTreeSizeAreByteIdentical) {
  ExportResult first = Export(kRefusalCase, v1::BundlePurpose::JUDICIAL_REVIEW);
  // The export itself and another export move the ledger on.
  Export(kBounceCase, v1::BundlePurpose::INVESTIGATION);
  ASSERT_GT(ledger_->Size(), first.tree_size);
  ExportResult again =
      Export(kRefusalCase, v1::BundlePurpose::JUDICIAL_REVIEW, first.tree_size);
  EXPECT_EQ(again.tree_size, first.tree_size);
  EXPECT_EQ(again.sha256_hex, first.sha256_hex);
  EXPECT_TRUE(again.bytes == first.bytes);
  // Purpose changes the bundle; the new ledger size gives a new one.
  ExportResult other =
      Export(kRefusalCase, v1::BundlePurpose::INVESTIGATION, first.tree_size);
  EXPECT_NE(other.sha256_hex, first.sha256_hex);
}

// The case's count at the earlier size is found among its later events by
// halving (37 notes and a record after it here).
TEST_F(BundleTest, EarlierTreeSizeHoldsOnlyWhatWasRecordedByThen) {
  ExportResult first = Export(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  ASSERT_NO_FATAL_FAILURE(AddNotes(37));
  ExportResult later = Export(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  ASSERT_GT(later.tree_size, first.tree_size);
  EXPECT_EQ(later.events, first.events + 1 + 37);  // the first's record
  ExportResult replay =
      Export(kBounceCase, v1::BundlePurpose::RECONSIDERATION, first.tree_size);
  EXPECT_EQ(replay.events, first.events);
  EXPECT_TRUE(replay.bytes == first.bytes);
  EXPECT_TRUE(Verify(replay.bytes).ok());
}

TEST_F(BundleTest, TreeSizeWithoutCheckpointIsRefused) {
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  r.tree_size = 3;  // no checkpoint was signed at 3
  auto result = ExportBundle(*ledger_, r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("no checkpoint"));
  EXPECT_EQ(ledger_->Size(), 25u);  // nothing recorded
}

// The sizes near the one asked for are the three stored on each side: all
// within 1,000 were listed, 477 of them for a ledger fed by small appends
// (found by an outside test).
TEST_F(BundleTest, ARefusedTreeSizeNamesTheStoredSizesNextToIt) {
  std::vector<v1::Event> notes;
  for (int i = 0; i < 12; ++i) {
    v1::Event note;
    note.set_case_id(kBounceCase);
    note.mutable_occurred_at()->set_seconds(1400000000 + i);
    note.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
    note.mutable_actor()->set_id("o");
    note.mutable_officer_note_added()->set_text("a note");
    ASSERT_OK(ledger_->Append({note}));
    ASSERT_OK(ledger_->Append({note}));
    ASSERT_OK(ledger_->SignCheckpoint());  // sizes 27, 29, ..., 49
  }
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  r.tree_size = 40;
  auto result = ExportBundle(*ledger_, r);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::EndsWith(" are stored, nearby: 35, 37, 39, 41, 43, "
                                  "45)"));
}

// A case past the archive's 65,535 files is refused once its events are
// read, with its size and the limit named, and nothing recorded: it was
// refused only by the archive writer, after a minute and 2 GiB of building
// for a case of 22,000 events (found by an audit). The files still to come
// count: this case's events and messages make 65,525 files, its bundle
// 65,536 (it was let through to the writer's refusal; found by an
// adversarial test). Its events alone would fit.
TEST_F(BundleTest, ACaseTooLargeForOneBundleIsRefusedBeforeItIsBuilt) {
  const uint64_t before = ledger_->Size();
  std::vector<v1::Event> batch;
  v1::Event note;
  note.set_case_id(kBounceCase);
  note.mutable_occurred_at()->set_seconds(1400000000);
  note.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
  note.mutable_actor()->set_id("o");
  note.mutable_officer_note_added()->set_text("n");
  constexpr int kNotes = 21831;  // with the case's 10 events, 21,841
  for (int i = 0; i < kNotes; ++i) {
    batch.push_back(note);
    if (batch.size() == 1000 || i + 1 == kNotes) {
      ASSERT_TRUE(ledger_->Append(batch).ok());
      batch.clear();
    }
  }
  const uint64_t size = ledger_->Size();
  ASSERT_EQ(size, before + kNotes);
  auto result = ExportBundle(
      *ledger_, Request(kBounceCase, v1::BundlePurpose::INVESTIGATION));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(absl::StrCat("case ", kBounceCase, " at tree size ",
                                     size, " has ")));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("has 21841 events: its bundle would hold at least "
                        "65536 files and "));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(" bytes, and a bundle holds at most 65535 files "
                        "(three per event, one per stored message) and "
                        "1073741824 bytes (docs/bundle-format.md §2); nothing "
                        "was recorded"));
  EXPECT_EQ(ledger_->Size(), size);
}

// A case with more events than a bundle has room for is refused before
// they are read: reading and proving them took 14 s and 870 MB for a case
// of 225,004 events, to refuse it then. Its count is the one at the
// exported size, not the case's latest.
TEST_F(BundleTest, ACaseWithTooManyEventsIsRefusedBeforeTheyAreRead) {
  // 10 events and 21,832 notes: three files each, 65,526, and the 11 every
  // bundle has make 65,537.
  for (int i = 0; i < 21; ++i) ASSERT_NO_FATAL_FAILURE(AddNotes(1000));
  ASSERT_NO_FATAL_FAILURE(AddNotes(832));
  ASSERT_OK(ledger_->SignCheckpoint());
  const uint64_t earlier = ledger_->Size();
  ASSERT_NO_FATAL_FAILURE(AddNotes(100));
  for (const uint64_t tree_size : {uint64_t{0}, earlier}) {
    const uint64_t before = ledger_->Size();
    ExportRequest r = Request(kBounceCase, v1::BundlePurpose::INVESTIGATION);
    r.tree_size = tree_size;
    int asked = 0;
    r.still_wanted = [&] {
      ++asked;
      return absl::OkStatus();
    };
    const absl::Status refused = ExportBundle(*ledger_, r).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
    const uint64_t events = tree_size == 0 ? 21942 : 21842;
    EXPECT_THAT(std::string(refused.message()),
                HasSubstr(absl::StrCat(
                    " has ", events, " events: its bundle would hold at least ",
                    3 * events + 11,
                    " files, and a bundle holds at most 65535 files")));
    EXPECT_EQ(asked, 0);                 // asked first as the events are proven
    EXPECT_EQ(ledger_->Size(), before);  // nothing recorded
  }
}

// An export no longer wanted (its client left, the server is stopping)
// went on building for as long as the build took (a minute for 20,000
// events, nearly all of it the report's layout), holding a server's stop
// and the one render at a time that every export waits for.
// Stored messages past the archive's bytes are refused as soon as they
// are: five of 230 MB were all read first, 5.5 s and 1.8 GB to refuse
// them. Over a gigabyte of messages: run by `ctest -L long`
// (bundle_test_long), not by default.
TEST_F(BundleTest, DISABLED_MessagesPastTheArchivesBytesAreRefusedOnceTheyAre) {
  constexpr int kMessages = 6;
  std::vector<v1::Event> notices;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_OK_AND_ASSIGN(
        const std::string sha,
        ledger_->StoreMessage(std::string(size_t{230} << 20, 'a' + i)));
    ASSERT_OK_AND_ASSIGN(
        v1::Event notice,
        ParseEventJson(absl::StrCat(
            R"({"case_id": ")", kBounceCase,
            R"(", "occurred_at": "2012-03-01T15:00:00Z", "actor": {"kind": "SYSTEM", "id": "mailbox-monitor"}, )",
            R"("delivery_notice_received": {"request_id": "DOC-1", "message_id": "<DOC-1.E2012-000417@office.example>", "action": "FAILED", "recipient": "maria.santos@mail.example", "status_code": "5.2.2", "notice_sha256": ")",
            sha, R"("}})")));
    notices.push_back(std::move(notice));
  }
  ASSERT_OK(ledger_->Append(notices));
  const uint64_t size = ledger_->Size();
  const absl::Status refused =
      ExportBundle(*ledger_,
                   Request(kBounceCase, v1::BundlePurpose::INVESTIGATION))
          .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  // Refused at the fifth notice, the case's 15th event: its files so far
  // (three per event, the case's two small messages and five large ones,
  // the checkpoint) and the ten every bundle gets; all read, 67.
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("has 16 events: its bundle would hold at least 63 "
                        "files and "));
  EXPECT_EQ(ledger_->Size(), size);  // nothing recorded
}

TEST_F(BundleTest, AnExportNoLongerWantedStopsWhileItsReportIsLaidOut) {
  ASSERT_NO_FATAL_FAILURE(AddNotes(1000));
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::INVESTIGATION);
  bool laying_out = false;
  int asked_while_laying_out = 0;
  r.progress = [&](std::string_view step) {
    laying_out = step.ends_with("laying out the report");
  };
  r.still_wanted = [&] {
    if (laying_out) ++asked_while_laying_out;
    return absl::OkStatus();
  };
  ASSERT_TRUE(ExportBundle(*ledger_, r).ok());
  // Asked all through the layout, not only between its steps.
  ASSERT_GT(asked_while_laying_out, 20);

  const uint64_t size = ledger_->Size();
  int asked = 0;
  laying_out = false;
  r.still_wanted = [&] {
    if (laying_out && ++asked > asked_while_laying_out / 2) {
      return absl::CancelledError("the client left");
    }
    return absl::OkStatus();
  };
  auto result = ExportBundle(*ledger_, r);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(asked, asked_while_laying_out / 2 + 1);
  EXPECT_EQ(ledger_->Size(), size) << "an export no longer wanted was recorded";
}

// Before the layout, an export proves each event included: seconds for
// 20,000 events, during which a cancelled call went on (an adversarial
// test saw the server notice a client gone 2 to 5 s later).
TEST_F(BundleTest, AnExportNoLongerWantedStopsWhileItsEventsAreProven) {
  ASSERT_NO_FATAL_FAILURE(AddNotes(1000));
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::INVESTIGATION);
  bool proven = false;
  r.progress = [&](std::string_view step) {
    if (step.find("proven included") != step.npos) proven = true;
  };
  int asked_while_proving = 0;
  r.still_wanted = [&] {
    if (!proven) ++asked_while_proving;
    return absl::OkStatus();
  };
  ASSERT_TRUE(ExportBundle(*ledger_, r).ok());
  ASSERT_TRUE(proven);
  ASSERT_GE(asked_while_proving, 1000 / 64);

  const uint64_t size = ledger_->Size();
  proven = false;
  int asked = 0;
  r.still_wanted = [&] {
    if (++asked == 3) return absl::CancelledError("the client left");
    return absl::OkStatus();
  };
  auto result = ExportBundle(*ledger_, r);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(asked, 3);
  EXPECT_FALSE(proven) << "the export went on to its next step";
  EXPECT_EQ(ledger_->Size(), size) << "an export no longer wanted was recorded";
}

// An export of a large case takes a while (a case of 20,000 events about
// a minute) and said nothing until it was done (found by an audit): each
// step is told; a small case's export says nothing.
TEST_F(BundleTest, ALargeCasesExportTellsEachStep) {
  std::vector<std::string> steps;
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::INVESTIGATION);
  r.progress = [&](std::string_view step) { steps.emplace_back(step); };
  // The layout's time, told every 10 s by default, is tested below: a
  // loaded machine (a sanitizer's build) took that long.
  r.progress_every = absl::InfiniteDuration();
  ASSERT_TRUE(ExportBundle(*ledger_, r).ok());
  EXPECT_TRUE(steps.empty());

  ASSERT_NO_FATAL_FAILURE(AddNotes(kProgressEvents));
  ASSERT_TRUE(ExportBundle(*ledger_, r).ok());
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_THAT(steps[0], HasSubstr(" events and 2 stored messages read, each "
                                  "event proven included in tree size "));
  EXPECT_EQ(steps[1],
            "state, deadlines and findings evaluated; laying out the report");
  EXPECT_THAT(steps[2], HasSubstr("report laid out (PDF "));

  // The layout, most of a large export's time, tells how long it has
  // taken, here at every ask.
  steps.clear();
  r.progress_every = absl::ZeroDuration();
  ASSERT_TRUE(ExportBundle(*ledger_, r).ok());
  ASSERT_GT(steps.size(), 5u);
  EXPECT_EQ(steps[1],
            "state, deadlines and findings evaluated; laying out the report");
  EXPECT_THAT(steps[2], MatchesRegex("laying out the report: [0-9]+ s so far"));
  EXPECT_THAT(steps.back(), HasSubstr("report laid out (PDF "));
}

TEST_F(BundleTest, UnknownCaseAndMissingFieldsAreRefused) {
  auto r = Request("NO-SUCH-CASE", v1::BundlePurpose::RECONSIDERATION);
  EXPECT_EQ(ExportBundle(*ledger_, r).status().code(),
            absl::StatusCode::kNotFound);
  r = Request(kBounceCase, v1::BundlePurpose::BUNDLE_PURPOSE_UNSPECIFIED);
  EXPECT_EQ(ExportBundle(*ledger_, r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r = Request(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  r.requested_by = "";
  EXPECT_EQ(ExportBundle(*ledger_, r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The case's events come from the case index, which no Merkle tree
// covers: an index altered behind the ledger's back must not give a signed
// bundle that looks whole.
class AlteredIndexTest : public BundleFixture {
 protected:
  // Deletes the case-index rows of `case_id` at `versions` with the ledger
  // closed, then reopens it.
  void DeleteIndexRows(const std::string& case_id,
                       std::vector<uint64_t> versions) {
    AlterAndReopen([&](auto&, caseledger::internal::Batch& batch) {
      for (uint64_t v : versions) {
        batch.Delete(caseledger::internal::Family::kCaseIndex,
                     caseledger::internal::CaseKey(case_id, v));
      }
    });
  }

  // Applies `mutate` to the store with the ledger closed, then reopens it.
  void AlterAndReopen(
      const std::function<void(caseledger::internal::Store&,
                               caseledger::internal::Batch&)>& mutate) {
    ledger_.reset();
    const std::string dir = dir_.Sub("ledger");
    ASSERT_OK(testing::AlterStore(dir + "/store", mutate));
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    auto reopened = Ledger::Open(dir, options);
    ASSERT_OK(reopened);
    ledger_ = *std::move(reopened);
  }

  absl::Status Exported(const std::string& case_id) {
    return BuildBundle(*ledger_,
                       Request(case_id, v1::BundlePurpose::JUDICIAL_REVIEW))
        .status();
  }

  // Deletes the bounce case's index rows from version `first_lost` on, then
  // appends a copy of that version's event under a new id, which the writer
  // gives that version again: the export names the position that held it.
  void ExpectLostRowsGivenAgainAreFound(uint64_t first_lost) {
    ASSERT_OK_AND_ASSIGN(const uint64_t last,
                         ledger_->CaseVersion(kBounceCase));
    ASSERT_OK_AND_ASSIGN(std::vector<RecordedEvent> before,
                         ledger_->ReadCase(kBounceCase));
    std::vector<uint64_t> lost;
    for (uint64_t v = first_lost; v <= last; ++v) lost.push_back(v);
    DeleteIndexRows(kBounceCase, lost);
    v1::Event again = before[first_lost - 1].event;
    again.clear_event_id();
    ASSERT_OK(ledger_->Append({again}).status());
    absl::Status s = Exported(kBounceCase);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(
        std::string(s.message()),
        HasSubstr(absl::StrCat(
            "position ", before[first_lost - 1].position, " holds version ",
            first_lost, " of the case, which the case index gives at position ",
            ledger_->Size(), ": the log holds it twice")));
  }
};

TEST_F(AlteredIndexTest, TheCasesLastEventsMissingFromTheIndexAreFound) {
  ASSERT_OK_AND_ASSIGN(const uint64_t last, ledger_->CaseVersion(kBounceCase));
  ASSERT_OK(Exported(kBounceCase));
  DeleteIndexRows(kBounceCase, {last - 1, last});
  absl::Status s = Exported(kBounceCase);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("version ", last - 1, " of the case")));
  // Other cases, whose index is whole, still export.
  EXPECT_OK(Exported(kRefusalCase));
}

// A bundle is built from the copies the case index holds. One altered (the
// address a request went to) was signed into a bundle and recorded as
// disclosed, though the bundle then failed verify-bundle (found by an
// audit); the export now checks each event against its entry and proof.
TEST_F(AlteredIndexTest, AnAlteredCopyFailsTheExportBeforeItIsRecorded) {
  AlterAndReopen([&](caseledger::internal::Store& store,
                     caseledger::internal::Batch& batch) {
    const std::string key = caseledger::internal::CaseKey(kBounceCase, 4);
    auto value = store.Get(caseledger::internal::Family::kCaseIndex, key);
    ASSERT_TRUE(value.ok() && value->has_value());
    std::string altered(**value);
    const size_t at = altered.find("maria.santos@");
    ASSERT_NE(at, std::string::npos);
    altered[at + 11] = 'z';
    batch.Put(caseledger::internal::Family::kCaseIndex, key, altered);
  });
  const uint64_t size = ledger_->Size();
  absl::Status s =
      ExportBundle(*ledger_,
                   Request(kBounceCase, v1::BundlePurpose::JUDICIAL_REVIEW))
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("the stored event does not match its entry's digest"));
  EXPECT_EQ(ledger_->Size(), size);  // no disclosure recorded
  EXPECT_OK(Exported(kRefusalCase));
}

TEST_F(AlteredIndexTest, AVersionMissingInTheMiddleIsFound) {
  DeleteIndexRows(kBounceCase, {3});
  absl::Status s = Exported(kBounceCase);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("gives version 4 where version 3 belongs"));
}

// Rows deleted, then an append to the case: the writer gave the lost
// versions again, and the index, dense once more, left the lost events out
// of a bundle that verified (found by an adversarial reading).
TEST_F(AlteredIndexTest, EventsLostFromTheIndexAndOverwrittenAreFound) {
  ExpectLostRowsGivenAgainAreFound(2);
}

// With the first row lost too, a new case_opened became version 1, and a
// walk that began at the index's first event never met the lost ones (found
// by a review).
TEST_F(AlteredIndexTest, EventsLostWithTheFirstAreFound) {
  ExpectLostRowsGivenAgainAreFound(1);
}

TEST_F(BundleTest, PurposeAcceptsBothSpellings) {
  EXPECT_EQ(*ParsePurpose("judicial-review"),
            v1::BundlePurpose::JUDICIAL_REVIEW);
  EXPECT_EQ(*ParsePurpose("JUDICIAL_REVIEW"),
            v1::BundlePurpose::JUDICIAL_REVIEW);
  EXPECT_EQ(*ParsePurpose("reconsideration"),
            v1::BundlePurpose::RECONSIDERATION);
  EXPECT_EQ(*ParsePurpose("INVESTIGATION"), v1::BundlePurpose::INVESTIGATION);
  EXPECT_FALSE(ParsePurpose("judicial_review").ok());
  EXPECT_FALSE(ParsePurpose("").ok());
}

TEST_F(BundleTest, ProjectionsAreEvaluatedWhenTheTreeStoodAtItsSize) {
  ExportResult r = Export(kRefusalCase, v1::BundlePurpose::JUDICIAL_REVIEW);
  ASSERT_OK_AND_ASSIGN(std::vector<RecordedEvent> last,
                       ledger_->ReadAll(r.tree_size, 1));
  ASSERT_OK_AND_ASSIGN(
      internal::Manifest m,
      internal::ParseManifest(Members(r.bytes)["manifest.json"]));
  EXPECT_EQ(m.as_of, last[0].recorded_at);
  EXPECT_EQ(m.known_at, last[0].recorded_at);
  EXPECT_EQ(m.tree_size, r.tree_size);
  EXPECT_EQ(m.origin, "bundle.example/log");
}

// The projections themselves, not only the manifest's times: a request due
// in 2099 is PENDING when the tree stood at the exported size. Judged at no
// instant in particular (an Evaluation left at its defaults), every
// deadline has passed; the test above checked only the manifest, and
// passed so (found by a mutation).
TEST_F(BundleTest, ADeadlineStillToComeIsPendingInTheBundle) {
  AppendJsonLines(
      R"({"event_id": "0b6f1f3e-5c1a-4f0e-9a57-2c61c4b1d001", "case_id": "E2023-000001", "occurred_at": "2023-01-05T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "test", "case_opened": {"program": "TRV", "office_id": "VO-DELHI", "office_mailbox": "visa-office@office.example", "applicant_country": "CO", "language": "en"}}
{"event_id": "0b6f1f3e-5c1a-4f0e-9a57-2c61c4b1d002", "case_id": "E2023-000001", "occurred_at": "2023-01-05T10:05:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "test", "email_consent_recorded": {"party": "APPLICANT", "address": "a.b@mail.example", "basis": "APPLICATION_FORM"}}
{"event_id": "0b6f1f3e-5c1a-4f0e-9a57-2c61c4b1d003", "case_id": "E2023-000001", "occurred_at": "2023-01-06T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "test", "document_request_sent": {"request_id": "DOC-1", "channel": "EMAIL", "to": ["a.b@mail.example"], "from_mailbox": "visa-office@office.example", "organizational_mailbox": true, "deadline": "2099-01-01T00:00:00Z", "items": ["passport"], "refusal_warning_included": true}}
)");
  ExportResult r = Export("E2023-000001", v1::BundlePurpose::INVESTIGATION);
  const std::string deadlines = Members(r.bytes)["deadlines.json"];
  EXPECT_THAT(deadlines, HasSubstr("\"status\": \"PENDING\"")) << deadlines;
  EXPECT_THAT(deadlines, Not(HasSubstr("OVERDUE"))) << deadlines;
  EXPECT_TRUE(Verify(r.bytes).ok());
}

TEST_F(BundleTest, SinceCheckpointAddsAVerifiedConsistencyProof) {
  std::string old_note;
  ExportResult result = ExportSinceAnEarlierCheckpoint(&old_note);
  BundleVerdict v = Verify(result.bytes);
  ASSERT_TRUE(v.ok()) << Describe(v);
  bool checked = false;
  for (const BundleCheck& c : v.checks) {
    if (c.name == "consistency") {
      checked = c.status == BundleCheck::Status::kOk;
    }
  }
  EXPECT_TRUE(checked) << Describe(v);
  auto members = Members(result.bytes);
  EXPECT_EQ(members["since-checkpoint.txt"], old_note);

  // A consistency proof with a flipped hash fails, naming the file.
  std::string proof = members["consistency.json"];
  size_t q = proof.find("\"hashes\": [\"");
  ASSERT_NE(q, std::string::npos);
  proof[q + 12] = proof[q + 12] == 'A' ? 'B' : 'A';
  members["consistency.json"] = proof;
  BundleVerdict bad = Verify(Repack(members));
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(Mentions(bad, "consistency.json")) << Describe(bad);

  // A checkpoint of another ledger is refused at export.
  ASSERT_OK_AND_ASSIGN(SigningKey other,
                       SigningKey::Generate("bundle.example/log"));
  ASSERT_OK_AND_ASSIGN(
      std::string forged,
      SignCheckpoint(Checkpoint{"bundle.example/log", 3, {}}, other));
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
  r.since_checkpoint = forged;
  EXPECT_EQ(ExportBundle(*ledger_, r).status().code(),
            absl::StatusCode::kInvalidArgument);

  // So is one of another ledger signed with this ledger's key (a key may
  // serve two ledgers): the bundle, naming two origins, never verified.
  ASSERT_OK_AND_ASSIGN(r.since_checkpoint,
                       ledger_->SignNote(CheckpointBody(Checkpoint{
                           "other.example/log", 0, merkle::EmptyRoot()})));
  auto refused = ExportBundle(*ledger_, r);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "--since-checkpoint: a checkpoint of other.example/log, not of "
            "this ledger (bundle.example/log)");

  // One of this ledger, signed with its key, whose root the ledger's tree
  // does not have: a fork, or a tree altered since. A failed check (kDataLoss,
  // exit 1), not bad input, and nothing exported.
  ASSERT_OK_AND_ASSIGN(const merkle::Hash root_at_3, ledger_->RootAt(3));
  merkle::Hash forked = root_at_3;
  forked[0] ^= 1;
  ASSERT_OK_AND_ASSIGN(r.since_checkpoint,
                       ledger_->SignNote(CheckpointBody(
                           Checkpoint{"bundle.example/log", 3, forked})));
  const uint64_t size = ledger_->Size();
  auto fork = ExportBundle(*ledger_, r);
  EXPECT_EQ(fork.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(fork.status().message()),
              HasSubstr("--since-checkpoint: its root at tree size 3 differs "
                        "from the ledger's stored tree ("));
  EXPECT_EQ(ledger_->Size(), size);
}

// ---- Tampering ----

class TamperTest : public BundleFixture {
 protected:
  void SetUp() override {
    BundleFixture::SetUp();
    bundle_ = Export(kBounceCase, v1::BundlePurpose::JUDICIAL_REVIEW).bytes;
    ASSERT_TRUE(Verify(bundle_).ok());
  }

  // Replaces manifest.json's entry for `path` with `bytes`' digest and
  // re-signs the manifest with the ledger's own key: what an insider with
  // the key could do. Returns the new archive.
  std::string ResignedWith(std::map<std::string, std::string> members) {
    auto manifest = internal::ParseManifest(members["manifest.json"]);
    EXPECT_TRUE(manifest.ok()) << manifest.status();
    manifest->files.clear();
    for (const auto& [path, bytes] : members) {
      if (path == "manifest.json" || path == "manifest.sig") continue;
      manifest->files.push_back({path, ToHex(Sha256(bytes)), bytes.size()});
    }
    return Resign(members, *manifest);
  }
  std::string Resign(std::map<std::string, std::string> members,
                     const internal::Manifest& manifest) {
    members["manifest.json"] = internal::ManifestJson(manifest);
    auto sig = ledger_->SignNote(
        internal::ManifestStatement(members["manifest.json"]));
    EXPECT_TRUE(sig.ok()) << sig.status();
    members["manifest.sig"] = *sig;
    return Repack(members);
  }

  // The verdict on a bundle exported since an earlier checkpoint, that
  // checkpoint changed by `change` and signed again by the ledger's key in
  // since-checkpoint.txt, the manifest signed again over it.
  BundleVerdict VerifySinceACheckpointChangedBy(
      const std::function<void(Checkpoint&)>& change) {
    std::string old_note;
    ExportResult result = ExportSinceAnEarlierCheckpoint(&old_note);
    auto key = ParseVerifierKey(key_);
    EXPECT_TRUE(key.ok()) << key.status();
    if (!key.ok()) return BundleVerdict{};
    auto old_checkpoint = VerifyCheckpoint(old_note, *key);
    EXPECT_TRUE(old_checkpoint.ok()) << old_checkpoint.status();
    if (!old_checkpoint.ok()) return BundleVerdict{};
    change(*old_checkpoint);
    auto members = Members(result.bytes);
    auto note = ledger_->SignNote(CheckpointBody(*old_checkpoint));
    EXPECT_TRUE(note.ok()) << note.status();
    members["since-checkpoint.txt"] = note.value_or("");
    return Verify(ResignedWith(members));
  }

  // The name of an event file that refers to a stored message and holds an
  // address at mail.example; "" when none does.
  static std::string EventOfAStoredMessage(
      const std::map<std::string, std::string>& members) {
    for (const auto& [name, data] : members) {
      if (!absl::StartsWith(name, "messages/")) continue;
      const std::string sha = name.substr(9, 64);
      for (const auto& [event_name, event] : members) {
        if (absl::StartsWith(event_name, "events/") &&
            absl::EndsWith(event_name, ".event") &&
            event.find(sha) != std::string::npos &&
            event.find("@mail.example") != std::string::npos) {
          return event_name;
        }
      }
    }
    return "";
  }

  std::string bundle_;
};

TEST_F(TamperTest, AlteringAnyByteOfAnyMemberFailsNamingIt) {
  auto members = internal::ReadZip(bundle_);
  ASSERT_TRUE(members.ok());
  for (const auto& m : *members) {
    const size_t offset = static_cast<size_t>(m.data.data() - bundle_.data());
    std::set<size_t> where = {0, m.data.size() / 2, m.data.size() - 1};
    for (size_t i : where) {
      if (m.data.empty()) continue;
      std::string bad = bundle_;
      bad[offset + i] = static_cast<char>(bad[offset + i] ^ 0x20);
      BundleVerdict v = Verify(bad);
      EXPECT_FALSE(v.ok()) << m.name << " byte " << i;
      EXPECT_TRUE(Mentions(v, m.name)) << m.name << "\n" << Describe(v);
    }
  }
}

TEST_F(TamperTest, AlteredMemberWithAValidArchiveFailsTheDigestCheck) {
  // Altered and repacked, so that the ZIP's own CRC-32 holds.
  for (const auto& [name, data] : Members(bundle_)) {
    auto members = Members(bundle_);
    members[name] += " ";
    BundleVerdict v = Verify(Repack(members));
    EXPECT_FALSE(v.ok()) << name;
    EXPECT_TRUE(Mentions(v, name)) << name << "\n" << Describe(v);
  }
}

// An event altered (one letter of an address) failed the events check, and
// the message it names was also reported as referred to by no event, though
// the message was intact (found by an audit).
TEST_F(TamperTest, AnAlteredEventDoesNotPutTheBlameOnItsMessage) {
  auto members = Members(bundle_);
  const std::string altered_event = EventOfAStoredMessage(members);
  ASSERT_FALSE(altered_event.empty());
  std::string& event = members[altered_event];
  const size_t at = event.find("@mail.example");
  event[at - 1] = event[at - 1] == 'z' ? 'y' : 'z';
  BundleVerdict v = Verify(Repack(members));
  EXPECT_TRUE(FailedChecks(v).count("events")) << Describe(v);
  EXPECT_TRUE(Mentions(v, altered_event)) << Describe(v);
  EXPECT_FALSE(FailedChecks(v).count("messages")) << Describe(v);
}

// The same with the event's file gone: its message, intact, was reported
// as referred to by no event (found by an adversarial reading).
TEST_F(TamperTest, AMissingEventDoesNotPutTheBlameOnItsMessage) {
  auto members = Members(bundle_);
  const std::string dropped = EventOfAStoredMessage(members);
  ASSERT_FALSE(dropped.empty());
  members.erase(dropped);
  BundleVerdict v = Verify(Repack(members));
  EXPECT_TRUE(FailedChecks(v).count("events")) << Describe(v);
  EXPECT_FALSE(FailedChecks(v).count("messages")) << Describe(v);
  EXPECT_THAT(Describe(v),
              HasSubstr("1 message no event read refers to, not judged: the "
                        "events failed their check"));
}

TEST_F(TamperTest, EveryArchiveHeaderByteMatters) {
  std::vector<bool> is_data(bundle_.size(), false);
  auto members = internal::ReadZip(bundle_);
  ASSERT_TRUE(members.ok());
  for (const auto& m : *members) {
    size_t off = static_cast<size_t>(m.data.data() - bundle_.data());
    for (size_t i = 0; i < m.data.size(); ++i) is_data[off + i] = true;
  }
  for (size_t i = 0; i < bundle_.size(); ++i) {
    if (is_data[i]) continue;
    std::string bad = bundle_;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    BundleVerdict v = Verify(bad);
    ASSERT_FALSE(v.ok()) << "byte " << i;
    EXPECT_TRUE(FailedChecks(v).count("archive")) << "byte " << i;
  }
}

TEST_F(TamperTest, DroppingAnyMemberFailsNamingIt) {
  for (const auto& [name, data] : Members(bundle_)) {
    auto members = Members(bundle_);
    members.erase(name);
    BundleVerdict v = Verify(Repack(members));
    EXPECT_FALSE(v.ok()) << name;
    EXPECT_TRUE(Mentions(v, name)) << name << "\n" << Describe(v);
  }
}

TEST_F(TamperTest, AnExtraMemberFails) {
  auto members = Members(bundle_);
  members["messages/extra.eml"] = "From: nobody\n";
  BundleVerdict v = Verify(Repack(members));
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(Mentions(v, "messages/extra.eml")) << Describe(v);
}

// The same under a manifest signed again, as an insider with the key could:
// listed, a file the layout has no place for still fails, and so does one
// it requires that is gone from the archive and the list alike (this test
// and DroppingAnyMemberFailsNamingIt, unsigned, were failed by the listing
// alone, and passed with both of these checks taken out; found by a
// mutation).
TEST_F(TamperTest, ALayoutBrokenUnderASignedManifestFails) {
  auto members = Members(bundle_);
  members["messages/extra.eml"] = "From: nobody\n";
  BundleVerdict extra = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(extra), std::set<std::string>{"files"})
      << Describe(extra);
  EXPECT_TRUE(Mentions(extra,
                       "messages/extra.eml: listed in manifest.json but not "
                       "part of the bundle layout"))
      << Describe(extra);

  members = Members(bundle_);
  members.erase("report.pdf");
  BundleVerdict missing = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(missing), std::set<std::string>{"files"})
      << Describe(missing);
  EXPECT_TRUE(
      Mentions(missing, "report.pdf: required but not listed in manifest.json"))
      << Describe(missing);
}

// A stored message altered, or one no event names added, under a manifest
// signed again: the files' digests then agree with the manifest, and only
// the message's own name can tell (both passed with the messages check's
// comparisons taken out: found by a mutation).
TEST_F(TamperTest, AMessageAlteredOrAddedUnderASignedManifestFails) {
  auto members = Members(bundle_);
  std::string message;
  for (const auto& [name, data] : members) {
    if (name.starts_with("messages/")) message = name;
  }
  ASSERT_FALSE(message.empty());
  members[message] += "Sent late.\r\n";
  BundleVerdict altered = Verify(ResignedWith(members));
  EXPECT_TRUE(FailedChecks(altered).count("messages")) << Describe(altered);
  EXPECT_TRUE(Mentions(altered, absl::StrCat(message, ": its SHA-256 is ",
                                             ToHex(Sha256(members[message])),
                                             ", not the name it is filed "
                                             "under")))
      << Describe(altered);

  members = Members(bundle_);
  const std::string extra = "From: nobody@else.example\r\n\r\nOther case.\r\n";
  const std::string sha = ToHex(Sha256(extra));
  members[internal::MessagePath(sha)] = extra;
  ASSERT_OK_AND_ASSIGN(internal::Manifest manifest,
                       internal::ParseManifest(members["manifest.json"]));
  manifest.messages.insert(absl::c_upper_bound(manifest.messages, sha), sha);
  members["manifest.json"] = internal::ManifestJson(manifest);
  BundleVerdict added = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(added), std::set<std::string>{"messages"})
      << Describe(added);
  EXPECT_TRUE(Mentions(added, absl::StrCat(internal::MessagePath(sha),
                                           ": no event of the case refers "
                                           "to it")))
      << Describe(added);
}

// Bytes protobuf decodes but the ledger never writes: a case_id given twice
// (the parser keeps the last, another reader might keep the first), an
// unknown field. An insider with the key could sign a tree of them; each
// has one encoding (docs/formats.md §1), so each fails (found by an
// audit: both passed).
TEST_F(TamperTest, AnEntryOrEventNotInTheLedgersEncodingFails) {
  auto members = Members(bundle_);
  std::string& entry = members["events/1.entry"];
  ASSERT_EQ(entry.substr(0, 2), std::string("\x08\x01", 2));
  entry.insert(2,
               "\x12\x0c"
               "E2099-999999");
  members["events/2.event"] += "\xf8\x07\x01";  // field 127, unknown
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(Mentions(v, "events/1.entry: not the one encoding"))
      << Describe(v);
  EXPECT_TRUE(Mentions(v,
                       "events/2.event: the event bytes are not the encoding "
                       "the ledger writes"))
      << Describe(v);
  EXPECT_FALSE(Mentions(v, "events/3.")) << Describe(v);
}

// An entry and its event disagree on the event's digest: the one the
// checkpoint no longer signs is named. An altered entry was blamed on its
// intact event, and its proof's failure named neither (found by an
// adversarial reading). Re-signed, so that only these checks can tell.
TEST_F(TamperTest, OfAnEntryAndItsEventTheAlteredOneIsNamed) {
  auto members = Members(bundle_);
  members["events/2.entry"].back() ^= 1;  // the end of its event_digest
  BundleVerdict entry = Verify(ResignedWith(members));
  EXPECT_TRUE(Mentions(entry, "events/2.entry: its event_digest is "))
      << Describe(entry);
  EXPECT_TRUE(Mentions(entry, "the entry was altered")) << Describe(entry);
  EXPECT_TRUE(Mentions(entry,
                       "proofs/2.json: the leaf of events/2.entry does not "
                       "lead through it to the checkpoint's root"))
      << Describe(entry);
  EXPECT_FALSE(Mentions(entry, "events/2.event: ")) << Describe(entry);

  members = Members(bundle_);
  members["events/2.event"].back() ^= 1;
  BundleVerdict event = Verify(ResignedWith(members));
  EXPECT_TRUE(Mentions(event, "events/2.event: SHA-256(salt || event) is "))
      << Describe(event);
  EXPECT_EQ(FailedChecks(event).count("proofs"), 0u) << Describe(event);
  EXPECT_FALSE(Mentions(event, "events/2.entry: ")) << Describe(event);

  // The event and the proof altered, the entry intact: a proof that fails
  // its own digest tells nothing of the entry.
  members = Members(bundle_);
  members["events/2.event"].back() ^= 1;
  std::string& proof = members["proofs/2.json"];
  const size_t hash = proof.find("\"hashes\": [\"") + 12;
  ASSERT_NE(hash, std::string::npos + 12);
  proof[hash] = proof[hash] == 'A' ? 'B' : 'A';
  BundleVerdict both = Verify(Repack(members));
  EXPECT_TRUE(Mentions(both,
                       "events/2.event and events/2.entry disagree: "
                       "SHA-256(salt || event) is "))
      << Describe(both);
  EXPECT_TRUE(Mentions(both, "proofs/2.json cannot tell")) << Describe(both);
  EXPECT_FALSE(Mentions(both, "the entry was altered")) << Describe(both);
}

// A message gone from the archive changes what the findings recompute to
// (SENT_MESSAGE_PRESERVED): the intact findings.json read as altered, with
// no word of why (found by an adversarial reading).
TEST_F(TamperTest, AProjectionThatDiffersForAFailedInputSaysSo) {
  auto members = Members(bundle_);
  std::string message;
  for (const auto& [name, data] : members) {
    if (name.starts_with("messages/")) message = name;
  }
  ASSERT_FALSE(message.empty());
  members.erase(message);
  // The state reads no message: its own alteration is not excused.
  const size_t office = members["state.json"].find("VO-");
  ASSERT_NE(office, std::string::npos);
  members["state.json"][office] = 'X';
  BundleVerdict v = Verify(Repack(members));
  ASSERT_TRUE(FailedChecks(v).count("findings")) << Describe(v);
  ASSERT_TRUE(FailedChecks(v).count("state")) << Describe(v);
  const std::string hint =
      "(recomputed with 1 message that failed a check above: the difference "
      "may follow from that alone)";
  for (const BundleCheck& c : v.checks) {
    for (const std::string& problem : c.problems) {
      EXPECT_EQ(absl::StrContains(problem, hint), c.name == "findings")
          << c.name << ": " << problem;
    }
  }
  EXPECT_TRUE(Mentions(v, hint)) << Describe(v);
  // Re-signed with a state.json of its own, nothing else in doubt.
  members = Members(bundle_);
  members["state.json"] += " ";
  BundleVerdict state = Verify(ResignedWith(members));
  ASSERT_TRUE(FailedChecks(state).count("state")) << Describe(state);
  EXPECT_FALSE(Mentions(state, "recomputed with")) << Describe(state);
}

// manifest.sig is covered by no digest, so anyone may add lines to it.
// Lines by other keys are ignored up to the note's limit of 100 signatures;
// a second line claiming the ledger's key must verify. Either failure names
// the line, where "not signed by the key" misled while the ledger's valid
// line was there (found by an audit).
TEST_F(TamperTest, AddedSignatureLinesAreIgnoredOrNamed) {
  auto members = Members(bundle_);
  const std::string genuine = members["manifest.sig"];
  auto with_others = [&](int n) {
    std::string sig = genuine;
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&sig, "\xE2\x80\x94 k", i, ".example/x ",
                      Base64Encode(std::string(68, static_cast<char>(i))),
                      "\n");
    }
    members["manifest.sig"] = sig;
    return Verify(Repack(members));
  };
  BundleVerdict co_signed = with_others(96);
  EXPECT_TRUE(co_signed.ok());
  EXPECT_THAT(Describe(co_signed),
              HasSubstr("; 96 other signature lines, not checked (only the "
                        "--pubkey key's is)"));
  EXPECT_THAT(Describe(Verify(bundle_)),
              Not(HasSubstr("other signature line")));
  // The ledger's own line twice is checked twice, and is no other key's
  // (it was counted as one: found by a review), but is said (it passed in
  // silence: found by an adversarial test).
  members["manifest.sig"] =
      genuine + genuine.substr(genuine.rfind("\xE2\x80\x94 "));
  BundleVerdict twice = Verify(Repack(members));
  EXPECT_TRUE(twice.ok()) << Describe(twice);
  EXPECT_THAT(Describe(twice), Not(HasSubstr("other signature line")));
  EXPECT_THAT(
      Describe(twice),
      HasSubstr(absl::StrCat("manifest.json is signed by ", ledger_->origin(),
                             "; its line is there 2 times")));
  EXPECT_THAT(Describe(Verify(bundle_)), Not(HasSubstr("its line is there")));
  // A line under the ledger's name with another key id is another key's.
  const std::string own = genuine.substr(genuine.rfind("\xE2\x80\x94 "));
  const size_t base64_at = own.rfind(' ') + 1;
  auto signature = Base64Decode(
      own.substr(base64_at, own.size() - base64_at - 1), "signature");
  ASSERT_TRUE(signature.ok()) << signature.status();
  (*signature)[0] ^= 1;  // the key id's first byte
  members["manifest.sig"] = absl::StrCat(genuine, own.substr(0, base64_at),
                                         Base64Encode(*signature), "\n");
  BundleVerdict renamed = Verify(Repack(members));
  EXPECT_TRUE(renamed.ok()) << Describe(renamed);
  EXPECT_THAT(
      Describe(renamed),
      HasSubstr(absl::StrCat("; 1 other signature line, not checked "
                             "(only the --pubkey key's is); it claims "
                             "the name ",
                             ledger_->origin(), " with another key id")));
  EXPECT_THAT(Describe(co_signed), Not(HasSubstr("claim")));
  members["manifest.sig"] +=
      "\xE2\x80\x94 k.example/x " + Base64Encode(std::string(68, 'k')) + "\n";
  EXPECT_THAT(Describe(Verify(Repack(members))),
              HasSubstr("; 2 other signature lines, not checked (only the "
                        "--pubkey key's is); 1 of them claims the name "));
  BundleVerdict many = with_others(101);
  EXPECT_TRUE(Mentions(many, "manifest.sig: signed note line "))
      << Describe(many);
  EXPECT_TRUE(Mentions(many, ": more than 100 signatures")) << Describe(many);

  // The ledger's own line again, one signature byte changed.
  const size_t line = genuine.rfind("\xE2\x80\x94 ");
  std::string altered = genuine.substr(line);
  altered[altered.size() - 10] =
      altered[altered.size() - 10] == 'A' ? 'B' : 'A';
  members["manifest.sig"] = genuine + altered;
  BundleVerdict claimed = Verify(Repack(members));
  EXPECT_TRUE(FailedChecks(claimed).count("signature")) << Describe(claimed);
  EXPECT_TRUE(Mentions(claimed, "does not verify")) << Describe(claimed);
  EXPECT_FALSE(Mentions(claimed, "not signed by")) << Describe(claimed);
}

// What manifest.sig signs, when it is not manifest.json's statement: every
// case read "signs another manifest than manifest.json", and a bundle
// without manifest.json had its signature called OK (found by an
// adversarial reading).
TEST_F(TamperTest, ASignatureOfSomethingElseIsNamed) {
  auto members = Members(bundle_);
  const std::string ours = ToHex(Sha256(members["manifest.json"]));
  auto signature_problem = [&](const std::string& sig) {
    members["manifest.sig"] = sig;
    BundleVerdict v = Verify(Repack(members));
    EXPECT_TRUE(FailedChecks(v).count("signature")) << Describe(v);
    return Describe(v);
  };
  ASSERT_OK_AND_ASSIGN(const std::string other_statement,
                       ledger_->SignNote(internal::ManifestStatement("{}")));
  EXPECT_THAT(
      signature_problem(other_statement),
      HasSubstr(absl::StrCat("manifest.sig signs another manifest "
                             "(SHA-256 ",
                             ToHex(Sha256("{}")),
                             ") than manifest.json (SHA-256 ", ours, ")")));
  ASSERT_OK_AND_ASSIGN(const std::string checkpoint, ledger_->SignCheckpoint());
  EXPECT_THAT(
      signature_problem(checkpoint),
      HasSubstr(absl::StrCat(
          "manifest.sig signs no bundle manifest: its signed text is not "
          "\"caseledger-bundle/v1\" and a lowercase SHA-256 on the next line "
          "(manifest.json's is ",
          ours, "), but begins \"", ledger_->origin(), "\"")));
  ASSERT_OK_AND_ASSIGN(
      const std::string upper,
      ledger_->SignNote(absl::StrCat("caseledger-bundle/v1\n",
                                     absl::AsciiStrToUpper(ours), "\n")));
  EXPECT_THAT(signature_problem(upper),
              HasSubstr(absl::StrCat(
                  "manifest.sig signs no bundle manifest: the line after "
                  "\"caseledger-bundle/v1\" is not a lowercase SHA-256 "
                  "(manifest.json's is ",
                  ours, ") but \"", absl::AsciiStrToUpper(ours), "\"")));

  members = Members(bundle_);
  members.erase("manifest.json");
  BundleVerdict without = Verify(Repack(members));
  EXPECT_TRUE(FailedChecks(without).count("signature")) << Describe(without);
  EXPECT_TRUE(Mentions(without,
                       "manifest.json is missing: manifest.sig signs a "
                       "manifest the archive does not hold"))
      << Describe(without);
  EXPECT_THAT(Describe(without), Not(HasSubstr("manifest.json is signed by")));
}

// events.json is read as UTF-8: a byte that is not, where the event holds
// U+FFFD, became U+FFFD when read and passed as saying what the event says
// (found by a review; re-signed, as only the key holder could).
TEST_F(TamperTest, AnEventsJsonThatIsNotUtf8Fails) {
  v1::Event note;
  note.set_case_id(kBounceCase);
  note.mutable_occurred_at()->set_seconds(1400000000);
  note.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
  note.mutable_actor()->set_id("o");
  note.mutable_officer_note_added()->set_text("a\uFFFDb");
  ASSERT_OK(ledger_->Append({note}).status());
  auto members =
      Members(Export(kBounceCase, v1::BundlePurpose::JUDICIAL_REVIEW).bytes);
  std::string& events_json = members["events.json"];
  const size_t at = events_json.find("a\uFFFDb");
  ASSERT_NE(at, std::string::npos);
  events_json.replace(at, 5, "a\xFF  b");
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_TRUE(FailedChecks(v).count("events.json")) << Describe(v);
  EXPECT_TRUE(Mentions(v, "is not UTF-8")) << Describe(v);
}

// A whole number past 64 bits is out of range, not "not a whole number"
// (found by an adversarial reading).
TEST_F(TamperTest, ATreeSizePast64BitsIsOutOfRange) {
  auto members = Members(bundle_);
  std::string& manifest = members["manifest.json"];
  const size_t at = manifest.find("\"tree_size\": ");
  ASSERT_NE(at, std::string::npos);
  const size_t digits = at + std::string("\"tree_size\": ").size();
  manifest.replace(digits,
                   manifest.find_first_not_of("0123456789", digits) - digits,
                   "18446744073709551616");
  auto parsed = internal::ParseManifest(manifest);
  EXPECT_THAT(std::string(parsed.status().message()),
              HasSubstr("\"tree_size\" is 18446744073709551616, beyond "
                        "18446744073709551615"));
}

// A policy naming a code no country has is refused when given to a command
// since 2026-12-05; a bundle exported before with one still verifies, its
// policy read as exported.
TEST_F(TamperTest, ABundlesPolicyNamingNoCountrysCodeStillVerifies) {
  auto members = Members(bundle_);
  projections::DeadlinePolicy policy;
  policy.countries["UK"] = 60;
  members["policy.json"] = projections::PolicyJson(policy);
  EXPECT_FALSE(projections::ParseGivenPolicy(members["policy.json"]).ok());
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_TRUE(v.ok()) << Describe(v);
}

// An earlier checkpoint the ledger's key signed for another origin extends
// nothing of this ledger's (found by an audit: it passed).
TEST_F(TamperTest, AnEarlierCheckpointOfAnotherOriginFails) {
  BundleVerdict v = VerifySinceACheckpointChangedBy(
      [](Checkpoint& c) { c.origin = "evil.example/other"; });
  EXPECT_EQ(FailedChecks(v), std::set<std::string>{"consistency"})
      << Describe(v);
  EXPECT_TRUE(Mentions(v,
                       "since-checkpoint.txt: origin \"evil.example/other\" "
                       "differs from the manifest's"))
      << Describe(v);
}

// checkpoint.txt and manifest.json name one tree: a checkpoint the key
// signed for another origin, a manifest signed again with another tree size
// or root, fail (each passed with its comparison taken out: found by a
// mutation).
TEST_F(TamperTest, ACheckpointThatIsNotTheManifestsTreeFails) {
  ASSERT_OK_AND_ASSIGN(VerifierKey key, ParseVerifierKey(key_));
  auto members = Members(bundle_);
  ASSERT_OK_AND_ASSIGN(Checkpoint checkpoint,
                       VerifyCheckpoint(members["checkpoint.txt"], key));
  checkpoint.origin = "other.example/log";
  ASSERT_OK_AND_ASSIGN(members["checkpoint.txt"],
                       ledger_->SignNote(CheckpointBody(checkpoint)));
  BundleVerdict origin = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(origin), std::set<std::string>{"checkpoint"})
      << Describe(origin);
  EXPECT_TRUE(Mentions(origin,
                       "checkpoint.txt: origin \"other.example/log\" differs "
                       "from the manifest's"))
      << Describe(origin);

  members = Members(bundle_);
  ASSERT_OK_AND_ASSIGN(internal::Manifest manifest,
                       internal::ParseManifest(members["manifest.json"]));
  const uint64_t size = manifest.tree_size;
  ++manifest.tree_size;
  BundleVerdict larger = Verify(Resign(members, manifest));
  EXPECT_TRUE(FailedChecks(larger).count("checkpoint")) << Describe(larger);
  EXPECT_TRUE(
      Mentions(larger, absl::StrCat("checkpoint.txt: tree size ", size,
                                    " differs from the manifest's ", size + 1)))
      << Describe(larger);

  --manifest.tree_size;
  const std::string root = manifest.root_hash;
  manifest.root_hash[0] = root[0] == '0' ? '1' : '0';
  BundleVerdict other_root = Verify(Resign(members, manifest));
  EXPECT_EQ(FailedChecks(other_root), std::set<std::string>{"checkpoint"})
      << Describe(other_root);
  EXPECT_TRUE(Mentions(
      other_root,
      absl::StrCat("checkpoint.txt: root hash ", root,
                   " differs from the manifest's ", manifest.root_hash)))
      << Describe(other_root);
}

// An earlier checkpoint signed again with another tree size, its root and
// the proof left as they are, is not the one the proof starts from (passed
// with the size's comparison taken out: found by a mutation).
TEST_F(TamperTest, AnEarlierCheckpointOfAnotherSizeFails) {
  uint64_t old_size = 0;
  BundleVerdict v = VerifySinceACheckpointChangedBy([&](Checkpoint& c) {
    old_size = c.tree_size;
    ++c.tree_size;
  });
  EXPECT_EQ(FailedChecks(v), std::set<std::string>{"consistency"})
      << Describe(v);
  EXPECT_TRUE(
      Mentions(v, absl::StrCat("; since-checkpoint.txt has size ", old_size + 1,
                               "; the manifest says ", old_size, " -> ")))
      << Describe(v);
}

// A manifest signed again that gives a file its digest but another size,
// and a policy.json in another form than caseledger writes (both read the
// same), fail: each passed with its comparison taken out (found by a
// mutation).
TEST_F(TamperTest, AManifestSizeOrAPolicyNotAsWrittenFails) {
  auto members = Members(bundle_);
  ASSERT_OK_AND_ASSIGN(internal::Manifest manifest,
                       internal::ParseManifest(members["manifest.json"]));
  const std::string state = members["state.json"];
  const std::string sha = ToHex(Sha256(state)).substr(0, 16);
  for (auto& f : manifest.files) {
    if (f.path == "state.json") ++f.size;
  }
  BundleVerdict size = Verify(Resign(members, manifest));
  EXPECT_EQ(FailedChecks(size), std::set<std::string>{"files"})
      << Describe(size);
  EXPECT_TRUE(
      Mentions(size, absl::StrCat("state.json: SHA-256 ", sha, "... and size ",
                                  state.size(), " differ from the manifest's ",
                                  sha, "... and ", state.size() + 1)))
      << Describe(size);

  members = Members(bundle_);
  members["policy.json"] = " " + members["policy.json"];
  BundleVerdict policy = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(policy), std::set<std::string>{"policy"})
      << Describe(policy);
  EXPECT_TRUE(Mentions(
      policy, "policy.json: not in the canonical form caseledger writes"))
      << Describe(policy);
}

TEST_F(TamperTest, AnotherLedgersKeyFails) {
  ASSERT_OK_AND_ASSIGN(SigningKey other,
                       SigningKey::Generate("other.example/log"));
  BundleVerdict v = VerifyWith(bundle_, other.VerifierKey());
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(FailedChecks(v).count("signature")) << Describe(v);
  EXPECT_TRUE(FailedChecks(v).count("checkpoint")) << Describe(v);
}

TEST_F(TamperTest, ManifestSignedWithAnotherKeyFails) {
  // Same name, other key: the key id and the signature both differ.
  ASSERT_OK_AND_ASSIGN(SigningKey other,
                       SigningKey::Generate("bundle.example/log"));
  auto members = Members(bundle_);
  members["state.json"] = "{}\n";
  auto manifest = internal::ParseManifest(members["manifest.json"]);
  ASSERT_TRUE(manifest.ok());
  for (auto& f : manifest->files) {
    if (f.path == "state.json") {
      f.sha256 = ToHex(Sha256(members["state.json"]));
      f.size = members["state.json"].size();
    }
  }
  members["manifest.json"] = internal::ManifestJson(*manifest);
  ASSERT_OK_AND_ASSIGN(
      members["manifest.sig"],
      SignNote(internal::ManifestStatement(members["manifest.json"]), other));
  BundleVerdict v = Verify(Repack(members));
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(FailedChecks(v).count("signature")) << Describe(v);
  EXPECT_TRUE(Mentions(v, "manifest.sig")) << Describe(v);
}

TEST_F(TamperTest, ProjectionsAreRecomputedNotTrusted) {
  // Even re-signed with the ledger's own key, a state.json that the events
  // do not give is caught.
  auto members = Members(bundle_);
  std::string& state = members["state.json"];
  size_t at = state.find("\"APPROVED\"");
  ASSERT_NE(at, std::string::npos);
  state.replace(at, 10, "\"REFUSED\"");
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_FALSE(v.ok());
  EXPECT_THAT(FailedChecks(v), ElementsAre("state")) << Describe(v);
  EXPECT_TRUE(Mentions(v, "state.json differs")) << Describe(v);
  EXPECT_TRUE(Mentions(v, "REFUSED")) << Describe(v);
}

TEST_F(TamperTest, AlteredEventIsCaughtEvenWhenResigned) {
  auto members = Members(bundle_);
  auto manifest = internal::ParseManifest(members["manifest.json"]);
  ASSERT_TRUE(manifest.ok());
  const std::string path = internal::EventPath(manifest->positions[3]);
  members[path].back() ^= 0x01;
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(FailedChecks(v).count("events")) << Describe(v);
  EXPECT_TRUE(Mentions(v, path)) << Describe(v);
}

// A proof is checked for its leaf and then hashed up to the root: another
// event's proof fails the first, a proof with one hash changed the second
// (this test tried only the first, and passed with the hashing taken out;
// found by a mutation).
TEST_F(TamperTest, AProofOfAnotherEntryOrWithAHashChangedFails) {
  auto members = Members(bundle_);
  auto manifest = internal::ParseManifest(members["manifest.json"]);
  ASSERT_TRUE(manifest.ok());
  const uint64_t p = manifest->positions[2];
  const std::string proof_path = internal::ProofPath(p);
  members[proof_path] = members[internal::ProofPath(manifest->positions[4])];
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(FailedChecks(v).count("proofs")) << Describe(v);
  // Refused for the leaf it names, before any hashing (the hashing alone
  // refused it too, with the leaf's check taken out: found by a mutation).
  EXPECT_TRUE(Mentions(
      v, absl::StrCat(proof_path, ": proves leaf ", manifest->positions[4] - 1,
                      " in tree size ", manifest->tree_size, ", not leaf ",
                      p - 1, " in tree size ", manifest->tree_size)))
      << Describe(v);

  members = Members(bundle_);
  std::string& proof = members[proof_path];
  const size_t q = proof.find("\"hashes\": [\"");
  ASSERT_NE(q, std::string::npos) << proof;
  proof[q + 12] = proof[q + 12] == 'A' ? 'B' : 'A';
  v = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(v), std::set<std::string>{"proofs"}) << Describe(v);
  EXPECT_TRUE(Mentions(
      v, absl::StrCat(proof_path, ": the leaf of ", internal::EntryPath(p),
                      " does not lead through it to the "
                      "checkpoint's root")))
      << Describe(v);
}

// A consistency proof is hashed, not only listed in the signed manifest:
// its test changed a hash without signing again, so that the manifest's
// digest found it first, and passed with the proof's check taken out
// (found by a mutation).
TEST_F(TamperTest, AConsistencyProofWithAHashChangedFailsEvenWhenResigned) {
  std::string old_note;
  auto members = Members(ExportSinceAnEarlierCheckpoint(&old_note).bytes);
  std::string& proof = members["consistency.json"];
  const size_t q = proof.find("\"hashes\": [\"");
  ASSERT_NE(q, std::string::npos) << proof;
  proof[q + 12] = proof[q + 12] == 'A' ? 'B' : 'A';
  BundleVerdict v = Verify(ResignedWith(members));
  EXPECT_EQ(FailedChecks(v), std::set<std::string>{"consistency"})
      << Describe(v);
  EXPECT_TRUE(Mentions(v, "consistency.json: ")) << Describe(v);
}

TEST_F(TamperTest, DroppedEventLeavesAGapInCaseVersions) {
  auto members = Members(bundle_);
  auto manifest = internal::ParseManifest(members["manifest.json"]);
  ASSERT_TRUE(manifest.ok());
  const uint64_t p = manifest->positions[4];
  manifest->positions.erase(manifest->positions.begin() + 4);
  for (const std::string& path :
       {internal::EntryPath(p), internal::EventPath(p),
        internal::ProofPath(p)}) {
    members.erase(path);
  }
  manifest->files.clear();
  for (const auto& [path, bytes] : members) {
    if (path == "manifest.json" || path == "manifest.sig") continue;
    manifest->files.push_back({path, ToHex(Sha256(bytes)), bytes.size()});
  }
  BundleVerdict v = Verify(Resign(members, *manifest));
  EXPECT_FALSE(v.ok());
  EXPECT_TRUE(FailedChecks(v).count("events")) << Describe(v);
  EXPECT_TRUE(Mentions(v, "case version")) << Describe(v);
}

// One signed manifest, two readings: a verifier keeping a key's first value
// and one keeping its last would see different bundles (another origin,
// fewer events), so a key given twice fails even when signed with the
// ledger's key (bundle-format.md §4, "each once"; an outside reading
// suspected it passed).
TEST_F(TamperTest, AManifestKeyGivenTwiceFailsEvenSigned) {
  for (const std::string key : {"origin", "positions"}) {
    auto members = Members(bundle_);
    std::string& json = members["manifest.json"];
    const size_t at = json.find(absl::StrCat("\"", key, "\""));
    ASSERT_NE(at, std::string::npos) << key;
    json.insert(at,
                absl::StrCat("\"", key, "\": ",
                             key == "origin" ? "\"evil.example/log\"" : "[1]",
                             ",\n  "));
    auto sig = ledger_->SignNote(internal::ManifestStatement(json));
    ASSERT_TRUE(sig.ok()) << sig.status();
    members["manifest.sig"] = *sig;
    BundleVerdict v = Verify(Repack(members));
    EXPECT_FALSE(v.ok()) << key;
    EXPECT_TRUE(FailedChecks(v).count("manifest")) << Describe(v);
    EXPECT_TRUE(Mentions(v, absl::StrCat("duplicate key \"", key, "\"")))
        << Describe(v);
  }
}

TEST_F(TamperTest, RandomCorruptionIsAlwaysAFailedCheckNeverACrash) {
  std::mt19937 rng(265);
  for (int i = 0; i < 400; ++i) {
    std::string bad = bundle_;
    switch (rng() % 4) {
      case 0:
        bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
        break;
      case 1:
        bad.resize(rng() % bad.size());
        break;
      case 2:
        bad.insert(bad.begin() + static_cast<long>(rng() % bad.size()),
                   static_cast<char>(rng()));
        break;
      case 3: {
        size_t at = rng() % (bad.size() - 4);
        for (int k = 0; k < 4; ++k) bad[at + k] ^= static_cast<char>(0xff);
        break;
      }
    }
    ASSERT_FALSE(Verify(bad).ok()) << "mutation " << i;
  }
  EXPECT_FALSE(Verify("").ok());
  EXPECT_FALSE(Verify("PK\x05\x06").ok());
}

// Anyone can make a bundle, and the verdict's problems quote its paths: a
// path holding a line break and terminal escapes must not print a
// "VERDICT: OK" of its own above the real verdict, nor erase a line.
TEST_F(TamperTest, TheVerdictTextShowsTheBundlesBytesOnItsOwnLines) {
  std::map<std::string, std::string> files = Members(bundle_);
  std::string& manifest = files["manifest.json"];
  manifest.insert(manifest.rfind(']'),
                  ", {\"path\": \"a\\n\\u001b[1A\\u001b[2KVERDICT: OK "
                  "forged\", \"sha256\": \"00\", \"size\": 1}");
  const std::string text = Describe(Verify(Repack(files)));
  EXPECT_THAT(text, HasSubstr("a\\n\\x1b[1A\\x1b[2KVERDICT: OK forged"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  int verdicts = 0;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(text, '\n'))) {
    if (line.rfind("VERDICT:", 0) == 0) ++verdicts;
  }
  EXPECT_EQ(verdicts, 1) << text;
  EXPECT_THAT(text, HasSubstr("VERDICT: FAIL bundle.zip"));
}

// A verdict lists every check, in one order whatever failed: with the archive
// or the manifest unreadable, events.json came before policy (found by an
// audit of docs/bundle-format.md, whose table gives the order).
TEST_F(TamperTest, EveryVerdictListsTheChecksInOneOrder) {
  auto names = [](const BundleVerdict& v) {
    std::vector<std::string> out;
    for (const BundleCheck& c : v.checks) out.push_back(c.name);
    return out;
  };
  const std::vector<std::string> good = names(Verify(bundle_));
  ASSERT_EQ(good.size(), 14u);
  EXPECT_EQ(names(Verify("not a zip")), good);
  std::map<std::string, std::string> files = Members(bundle_);
  files["manifest.json"] = "{}";
  EXPECT_EQ(names(Verify(Repack(files))), good);
}

TEST_F(TamperTest, MalformedKeyIsAnErrorNotAVerdict) {
  EXPECT_EQ(VerifyBundle(bundle_, "not a key").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The messages check counts what matched and what was never stored, in
// words that do not claim a finding where no rule judges (a notice).
TEST_F(TamperTest, TheMessagesCheckCountsWhatIsNotStored) {
  const BundleVerdict v = Verify(bundle_);
  const auto messages =
      std::find_if(v.checks.begin(), v.checks.end(),
                   [](const BundleCheck& c) { return c.name == "messages"; });
  ASSERT_NE(messages, v.checks.end());
  // The fixture stores both sent messages, not the bounce notice.
  EXPECT_EQ(messages->detail,
            "2 messages match the SHA-256 their events record; 1 message "
            "referred to was not stored in the ledger at export "
            "(SENT_MESSAGE_PRESERVED judges a sent request's)");
}

TEST_F(TamperTest, VerdictRendersEveryCheck) {
  auto v = Verify(bundle_);
  std::string text = RenderVerdictText(v, "b.zip");
  for (const char* check :
       {"archive", "manifest", "signature", "files", "checkpoint", "events",
        "proofs", "consistency", "messages", "events.json", "policy", "state",
        "deadlines", "findings"}) {
    EXPECT_THAT(text, HasSubstr(check));
  }
  EXPECT_THAT(text, HasSubstr("VERDICT: OK b.zip"));
  std::string json = RenderVerdictJson(v, "b.zip");
  EXPECT_THAT(json, HasSubstr("\"ok\": true"));
}

}  // namespace
}  // namespace caseledger::bundle
