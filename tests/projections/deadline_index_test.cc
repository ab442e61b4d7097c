// The stored cross-case deadline index and the queries the CLI and the
// service answer, on a real ledger.
#include "projections/deadline_index.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/event_json.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/internal/store.h"
#include "projections/queries.h"
#include "tests/testing/test_util.h"

namespace caseledger::projections {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DeadlineIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = Ledger::Create(dir_.Sub("l"), "index.example/log");
    ASSERT_OK(ledger);
    ledger_ = *std::move(ledger);
  }

  static v1::Event Ev(const std::string& c, const std::string& when,
                      const std::string& payload) {
    auto e = ParseEventJson(absl::StrCat(
        R"({"case_id": ")", c, R"(", "occurred_at": ")", when,
        R"(", "actor": {"kind": "OFFICER", "id": "o"}, )", payload, "}"));
    EXPECT_OK(e);
    return *e;
  }

  // A case whose request R1 was sent on `sent` with deadline `deadline`.
  void CaseWithRequest(const std::string& c, const std::string& sent,
                       const std::string& deadline) {
    ASSERT_OK(ledger_->Append(
        {Ev(c, "2011-01-01T00:00:00Z",
            R"("case_opened": {"office_id": "VO", "applicant_country": "PH"})"),
         Ev(c, sent,
            absl::StrCat(
                R"("document_request_sent": {"request_id": "R1", "channel": "POSTAL_MAIL", "deadline": ")",
                deadline, R"("})"))}));
  }

  // Closes the ledger, writes `change` straight into its store (as damage
  // would), and opens it again.
  void ChangeStore(const std::function<void(internal::Batch&)>& change) {
    ledger_.reset();
    {
      ASSERT_OK_AND_ASSIGN(auto store,
                           internal::Store::Open(dir_.Sub("l/store"),
                                                 {.create_if_missing = false,
                                                  .read_only = false,
                                                  .faults = nullptr}));
      internal::Batch batch(*store);
      change(batch);
      ASSERT_OK(store->Write(batch, /*sync=*/true));
    }
    ASSERT_OK_AND_ASSIGN(ledger_, Ledger::Open(dir_.Sub("l")));
  }

  // A case opened, then given notes, `events` in all.
  void LongCase(const std::string& c, uint64_t events) {
    std::vector<v1::Event> batch = {
        Ev(c, "2011-01-01T00:00:00Z",
           R"("case_opened": {"office_id": "VO", "applicant_country": "PH"})")};
    for (uint64_t i = 1; i < events; ++i) {
      batch.push_back(Ev(c, "2011-01-02T00:00:00Z",
                         R"("officer_note_added": {"text": "n"})"));
      if (batch.size() == 1000 || i + 1 == events) {
        ASSERT_OK(ledger_->Append(batch));
        batch.clear();
      }
    }
  }

  std::set<std::string> Before(const std::string& t) {
    auto cases = DeadlineIndex::CasesWithDeadlineBefore(
        *ledger_, *ParseEvaluationTime(t, "t"));
    EXPECT_OK(cases);
    return cases.value_or(std::set<std::string>{});
  }

  testing::TempFolder dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(DeadlineIndexTest, NamesOnlyCasesWhoseDeadlineFellBefore) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  CaseWithRequest("B", "2011-02-01T00:00:00Z", "2011-05-01T00:00:00Z");
  CaseWithRequest("C", "2011-02-01T00:00:00Z", "2011-04-01T00:00:00Z");
  ASSERT_OK_AND_ASSIGN(uint64_t applied, DeadlineIndex::CatchUp(*ledger_));
  EXPECT_EQ(applied, 6u);
  EXPECT_THAT(Before("2011-03-15"), ElementsAre("A"));
  EXPECT_THAT(Before("2011-04-15"), ElementsAre("A", "C"));
  EXPECT_THAT(Before("2011-01-15"), ElementsAre());
}

TEST_F(DeadlineIndexTest, ExtensionsAreIndexedToo) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  ASSERT_OK(ledger_->Append({Ev(
      "A", "2011-02-20T00:00:00Z",
      R"("deadline_extended": {"request_id": "R1", "new_deadline": "2011-06-01T00:00:00Z"})")}));
  ASSERT_OK(DeadlineIndex::CatchUp(*ledger_));
  // The extension's deadline has a key of its own beside the request's:
  // the request's key alone makes A a candidate in both queries below, so
  // they passed with the extension left out (found by a mutation).
  ASSERT_OK_AND_ASSIGN(DeadlineIndex::Verified verified,
                       DeadlineIndex::Verify(*ledger_));
  EXPECT_EQ(verified.deadlines, 2u);
  Query query;
  query.evaluation.as_of = *ParseEvaluationTime("2011-04-01", "as-of");
  ASSERT_OK_AND_ASSIGN(
      std::string overdue,
      DeadlinesOutput(*ledger_, std::nullopt, DeadlineState::kOverdue, query));
  EXPECT_THAT(overdue, ::testing::Not(HasSubstr("R1")));  // extended
  query.evaluation.as_of = *ParseEvaluationTime("2011-07-01", "as-of");
  ASSERT_OK_AND_ASSIGN(
      overdue,
      DeadlinesOutput(*ledger_, std::nullopt, DeadlineState::kOverdue, query));
  EXPECT_THAT(overdue, HasSubstr("R1"));
}

TEST_F(DeadlineIndexTest, UnindexedTailIsStillSeenByReaders) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  ASSERT_OK(DeadlineIndex::CatchUp(*ledger_));
  CaseWithRequest("B", "2011-02-01T00:00:00Z", "2011-03-02T00:00:00Z");
  EXPECT_THAT(Before("2011-04-01"), ElementsAre("A", "B"));
  ASSERT_OK_AND_ASSIGN(uint64_t position,
                       ledger_->ProjectionPosition(DeadlineIndex::kName));
  EXPECT_EQ(position, 2u);
}

TEST_F(DeadlineIndexTest, RunnerKilledMidCatchUpResumesToTheSameIndex) {
  for (int i = 0; i < 20; ++i) {
    CaseWithRequest(absl::StrCat("K", i), "2011-02-01T00:00:00Z",
                    absl::StrCat("2011-03-", 10 + i, "T00:00:00Z"));
  }
  // A partial catch-up: state and position of the first 9 events only, as
  // a runner killed after one write would leave it.
  std::vector<Ledger::ProjectionChange> partial;
  ASSERT_OK_AND_ASSIGN(auto first, ledger_->ReadAll(1, 9));
  for (const RecordedEvent& e : first) {
    for (auto& key : DeadlineIndex::KeysOf(e)) {
      partial.emplace_back(key, std::string());
    }
  }
  ASSERT_OK(ledger_->WriteProjection(DeadlineIndex::kName, partial, 9));
  ASSERT_OK_AND_ASSIGN(uint64_t applied, DeadlineIndex::CatchUp(*ledger_));
  EXPECT_EQ(applied, 31u);
  std::set<std::string> resumed = Before("2012-01-01");
  ASSERT_OK(DeadlineIndex::Rebuild(*ledger_));
  EXPECT_EQ(resumed, Before("2012-01-01"));
  EXPECT_EQ(resumed.size(), 20u);
}

TEST_F(DeadlineIndexTest, OverdueAcrossCasesEqualsEvaluatingEveryCase) {
  for (int i = 0; i < 12; ++i) {
    CaseWithRequest(absl::StrCat("P", i), "2011-02-01T00:00:00Z",
                    absl::StrCat("2011-0", 3 + i % 6, "-15T12:00:00Z"));
  }
  ASSERT_OK(ledger_->Append(
      {Ev("P3", "2011-03-01T00:00:00Z",
          R"("documents_received": {"request_id": "R1", "complete": true})")}));
  // Dated before P5's request was sent, so it does not satisfy it.
  ASSERT_OK(ledger_->Append(
      {Ev("P5", "2011-01-20T00:00:00Z",
          R"("documents_received": {"request_id": "R1", "complete": true})")}));
  ASSERT_OK(DeadlineIndex::CatchUp(*ledger_));
  for (const char* when : {"2011-03-20", "2011-05-16", "2011-09-01"}) {
    Query query;
    query.format = OutputFormat::kJson;
    query.evaluation.as_of = *ParseEvaluationTime(when, "as-of");
    ASSERT_OK_AND_ASSIGN(std::string indexed,
                         DeadlinesOutput(*ledger_, std::nullopt,
                                         DeadlineState::kOverdue, query));
    // Every case, filtered by hand.
    std::string all_rows;
    std::vector<std::string> overdue_cases;
    ASSERT_OK(ledger_->ForEachCase("", [&](const std::string& c) {
      auto rows = DeadlinesOutput(*ledger_, c, DeadlineState::kOverdue, query);
      if (rows.ok() && rows->find("\"R1\"") != std::string::npos) {
        overdue_cases.push_back(c);
      }
      return absl::StatusOr<bool>(true);
    }));
    for (const std::string& c : overdue_cases) {
      EXPECT_THAT(indexed, HasSubstr(absl::StrCat("\"", c, "\""))) << when;
    }
    EXPECT_EQ(std::count(indexed.begin(), indexed.end(), '{') - 1,
              static_cast<long>(overdue_cases.size()))
        << when << "\n"
        << indexed;
  }
}

TEST_F(DeadlineIndexTest, VerifyCountsTheDeadlinesUpToItsPosition) {
  ASSERT_OK_AND_ASSIGN(auto empty, DeadlineIndex::Verify(*ledger_));
  EXPECT_EQ(empty.position, 0u);
  EXPECT_EQ(empty.deadlines, 0u);
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  CaseWithRequest("B", "2011-02-01T00:00:00Z", "2011-05-01T00:00:00Z");
  ASSERT_OK(ledger_->Append({Ev(
      "A", "2011-02-20T00:00:00Z",
      R"("deadline_extended": {"request_id": "R1", "new_deadline": "2011-06-01T00:00:00Z"})")}));
  ASSERT_OK(DeadlineIndex::CatchUp(*ledger_));
  // Not applied yet, so not counted.
  CaseWithRequest("C", "2011-02-01T00:00:00Z", "2011-05-01T00:00:00Z");
  std::vector<uint64_t> reported;
  ASSERT_OK_AND_ASSIGN(
      auto verified,
      DeadlineIndex::Verify(*ledger_, [&](uint64_t done, uint64_t total) {
        EXPECT_EQ(total, 5u);
        reported.push_back(done);
      }));
  EXPECT_EQ(verified.position, 5u);
  EXPECT_EQ(verified.deadlines, 3u);
  EXPECT_THAT(reported, ElementsAre(5u));
}

TEST_F(DeadlineIndexTest, VerifyNamesTheEventWhoseDeadlineIsMissing) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  // To the quarter second, which the key (whole seconds) does not keep:
  // the message gave the key's 00:00:00Z (found by an adversarial test).
  CaseWithRequest("B", "2011-02-01T00:00:00Z", "2011-05-01T00:00:00.25Z");
  ASSERT_OK(DeadlineIndex::CatchUp(*ledger_));
  ASSERT_OK_AND_ASSIGN(auto sent, ledger_->ReadAll(4, 1));
  std::vector<std::string> keys = DeadlineIndex::KeysOf(sent[0]);
  ASSERT_EQ(keys.size(), 1u);
  // Case B's deadline removed, as an edit that hides B from the overdue
  // list would; the log itself is intact.
  ASSERT_OK(ledger_->WriteProjection(DeadlineIndex::kName,
                                     {{keys[0], std::nullopt}}, 4));
  EXPECT_THAT(Before("2011-06-01"), ElementsAre("A"));
  absl::Status s = DeadlineIndex::Verify(*ledger_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(s.message(),
            "position 4: the deadline index lacks the deadline "
            "2011-05-01T00:00:00.25Z that this document_request_sent sets for "
            "request R1 of case B; run 'caseledger rebuild'");
  ASSERT_OK(DeadlineIndex::Rebuild(*ledger_));
  EXPECT_OK(DeadlineIndex::Verify(*ledger_));
}

// A key shorter than a time sorts first; the scan stopped at it, and every
// overdue request vanished from the list while verify passed (found by an
// adversarial reading). It is passed over.
TEST_F(DeadlineIndexTest, AKeyTheIndexNeverWritesHidesNothing) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  CaseWithRequest("B", "2011-02-01T00:00:00Z", "2011-04-01T00:00:00Z");
  ASSERT_OK_AND_ASSIGN(uint64_t applied, DeadlineIndex::CatchUp(*ledger_));
  for (const char* planted : {"", "\x01", "1234567"}) {
    ASSERT_OK(ledger_->WriteProjection(DeadlineIndex::kName,
                                       {{std::string(planted), ""}}, applied));
  }
  EXPECT_THAT(Before("2011-06-01"), ElementsAre("A", "B"));
}

// An index that has applied more events than the ledger holds was not
// derived from this log. The cross-case query answered from it, leaving out
// every deadline set after the ledger's end (found by an adversarial test:
// a case appended later was missing from `deadlines --status OVERDUE`).
TEST_F(DeadlineIndexTest, APositionBeyondTheLedgerIsRefusedByEveryReader) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  ASSERT_OK(ledger_->WriteProjection(DeadlineIndex::kName, {}, 3));
  const std::string refusal =
      "the deadline index has applied position 3 but the ledger has only 2 "
      "entries; run 'caseledger rebuild'";
  for (const absl::Status& s :
       {DeadlineIndex::Verify(*ledger_).status(),
        DeadlineIndex::CasesWithDeadlineBefore(
            *ledger_, *ParseEvaluationTime("2011-06-01", "t"))
            .status(),
        DeadlineIndex::CatchUp(*ledger_).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(s.message(), refusal);
  }
  ASSERT_OK(DeadlineIndex::Rebuild(*ledger_));
  EXPECT_THAT(Before("2011-06-01"), ElementsAre("A"));
}

// A stored position that does not read as one says which and what to do,
// where it said "expected 8 bytes of big-endian integer, got 1".
TEST_F(DeadlineIndexTest, AStoredPositionThatDoesNotReadIsNamed) {
  CaseWithRequest("A", "2011-02-01T00:00:00Z", "2011-03-01T00:00:00Z");
  // Shorter than 8 bytes, and longer: a 9-byte value was read by its first
  // 8 and taken for a position.
  for (const std::string& value :
       {std::string("\x05"), std::string("\0\0\0\0\0\0\0\x02\x01", 9)}) {
    ASSERT_NO_FATAL_FAILURE(ChangeStore([&](internal::Batch& batch) {
      batch.Put(internal::Family::kProjections,
                absl::StrCat(DeadlineIndex::kName, "\x01"), value);
    }));
    absl::Status s = DeadlineIndex::CasesWithDeadlineBefore(
                         *ledger_, *ParseEvaluationTime("2011-06-01", "t"))
                         .status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(s.message(),
              absl::StrCat("the deadline index's stored position does not read "
                           "(the stored position has ",
                           value.size() == 1 ? "1 byte" : "9 bytes",
                           ", not 8); run 'caseledger rebuild'"));
  }
}

TEST_F(DeadlineIndexTest, QueriesOnAnUnknownCaseAreNotFound) {
  EXPECT_EQ(StateOutput(*ledger_, "NOPE", Query()).status().code(),
            absl::StatusCode::kNotFound);
}

// An answer across cases asks before each case whether it is still wanted
// and stops at the first no: the server's answers across a large ledger
// ran on for a minute after their caller had gone (found by a review).
TEST_F(DeadlineIndexTest, AnAnswerAcrossCasesStopsWhenNoLongerWanted) {
  for (int i = 0; i < 6; ++i) {
    CaseWithRequest(absl::StrCat("W", i), "2011-02-01T00:00:00Z",
                    "2011-03-01T00:00:00Z");
  }
  ASSERT_OK(DeadlineIndex::CatchUp(*ledger_));
  int asked = 0;
  Query query;
  query.still_wanted = [&]() -> absl::Status {
    if (++asked == 4) return absl::CancelledError("gone");
    return absl::OkStatus();
  };
  for (const std::optional<DeadlineState>& status :
       {std::optional<DeadlineState>(),
        std::optional<DeadlineState>(DeadlineState::kOverdue)}) {
    asked = 0;
    const absl::Status stopped =
        DeadlinesOutput(*ledger_, std::nullopt, status, query).status();
    EXPECT_TRUE(absl::IsCancelled(stopped)) << stopped;
    EXPECT_EQ(asked, 4);  // before and after the first case, then the next
  }
  // Asked too for one case, which is read whole before it is evaluated.
  asked = 0;
  EXPECT_OK(DeadlinesOutput(*ledger_, "W0", std::nullopt, query).status());
  EXPECT_EQ(asked, 2);
}

// A case is read and folded a page at a time, so that a long one is not
// held twice in memory; each page asks whether the answer is still wanted,
// so that the read of a long case stops soon after its caller leaves.
TEST_F(DeadlineIndexTest, ALongCaseIsReadAPageAtATime) {
  // Pages of kCasePageEvents: one full, one full, then one event.
  const uint64_t events = 2 * kCasePageEvents + 1;
  LongCase("L", events);
  int asked = 0;
  int refuse_at = 0;
  Query query;
  query.format = OutputFormat::kJson;
  query.still_wanted = [&]() -> absl::Status {
    if (++asked == refuse_at) return absl::CancelledError("gone");
    return absl::OkStatus();
  };
  ASSERT_OK_AND_ASSIGN(const std::string state,
                       StateOutput(*ledger_, "L", query));
  EXPECT_THAT(state, HasSubstr(absl::StrCat(R"("version": )", events)));
  EXPECT_EQ(asked, 4);  // before each of 3 pages, and once folded
  // A caller gone after the first page: the read ends at the second.
  asked = 0;
  refuse_at = 2;
  EXPECT_TRUE(absl::IsCancelled(StateOutput(*ledger_, "L", query).status()));
  EXPECT_EQ(asked, 2);

  // A case of exactly one page: a last read finds nothing more.
  refuse_at = 0;
  LongCase("P", kCasePageEvents);
  ASSERT_OK_AND_ASSIGN(const std::string page,
                       StateOutput(*ledger_, "P", query));
  EXPECT_THAT(page,
              HasSubstr(absl::StrCat(R"("version": )", kCasePageEvents, ",")));
}

// A case not open yet at the evaluation point is refused at its first page,
// its case_opened being its first event: it was read whole first (0.74 s
// and 284 MB for a case of 225,004 events; found by an audit).
TEST_F(DeadlineIndexTest, ACaseNotOpenYetIsRefusedAtItsFirstPage) {
  LongCase("L", 2 * kCasePageEvents + 1);
  int asked = 0;
  Query query;
  query.evaluation.as_of = *ParseEvaluationTime("2010-12-31", "--as-of");
  query.still_wanted = [&]() -> absl::Status {
    ++asked;
    return absl::OkStatus();
  };
  const absl::Status refused = StateOutput(*ledger_, "L", query).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kNotFound) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("was not open yet at that point"));
  EXPECT_EQ(asked, 1);  // before the first page only
  // Across cases, such a case has no rows, as before.
  asked = 0;
  ASSERT_OK_AND_ASSIGN(
      const std::string none,
      DeadlinesOutput(*ledger_, std::nullopt, std::nullopt, query));
  EXPECT_EQ(asked, 1);
}

// A row of the case index deleted at either side of a page's edge is a
// version missing, as anywhere else in the case: the next page's read must
// not start past it.
TEST_F(DeadlineIndexTest, AVersionMissingAtAPageEdgeIsDataLoss) {
  for (const uint64_t missing : {kCasePageEvents, kCasePageEvents + 1}) {
    const std::string c = absl::StrCat("E", missing);
    LongCase(c, 2 * kCasePageEvents);
    ASSERT_NO_FATAL_FAILURE(ChangeStore([&](internal::Batch& batch) {
      batch.Delete(internal::Family::kCaseIndex, internal::CaseKey(c, missing));
    }));
    const absl::Status s = StateOutput(*ledger_, c, Query()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(s.message(),
                HasSubstr(absl::StrCat("where version ", missing, " belongs")));
  }
}

TEST_F(DeadlineIndexTest, AnAnswerAcrossCasesTellsHowManyItHasRead) {
  const uint64_t cases = kCasesPerProgress + 5;
  std::vector<v1::Event> batch;
  for (uint64_t i = 0; i < cases; ++i) {
    batch.push_back(
        Ev(absl::StrCat("N", i), "2011-01-01T00:00:00Z",
           R"("case_opened": {"office_id": "VO", "applicant_country": "PH"})"));
    if (batch.size() == 1000 || i + 1 == cases) {
      ASSERT_OK(ledger_->Append(batch));
      batch.clear();
    }
  }
  std::vector<uint64_t> told;
  Query query;
  query.progress = [&](uint64_t read) { told.push_back(read); };
  ASSERT_OK(DeadlinesOutput(*ledger_, std::nullopt, std::nullopt, query));
  EXPECT_THAT(told, ElementsAre(kCasesPerProgress));
}

}  // namespace
}  // namespace caseledger::projections
