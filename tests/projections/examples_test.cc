// The expected results of shared/examples/README.md.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/findings.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::AllStored;
using fixture::AsOf;
using fixture::LoadExample;
using fixture::NothingStored;
using fixture::Now;
using fixture::RowOf;
using fixture::StatusOf;

class BounceHandledTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = LoadExample("bounce-handled.jsonl");
    ASSERT_EQ(events_.size(), 10u);
  }
  std::vector<RecordedEvent> events_;
};

TEST_F(BounceHandledTest, BounceFollowedUpPasses) {
  auto findings = FindingsFor(events_, Now("2013-01-01T00:00:00Z"),
                              DefaultPolicy(), AllStored());
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_EQ(StatusOf(*findings, Rule::kBounceFollowedUp, "DOC-1"), "PASS");
  for (const Finding& f : findings->findings) {
    if (f.rule == Rule::kBounceFollowedUp) {
      EXPECT_EQ(f.status, FindingStatus::kPass) << f.message;
    }
  }
}

TEST_F(BounceHandledTest, NoFailAnywhere) {
  auto findings = FindingsFor(events_, Now("2013-01-01T00:00:00Z"),
                              DefaultPolicy(), AllStored());
  ASSERT_TRUE(findings.ok()) << findings.status();
  for (const Finding& f : findings->findings) {
    EXPECT_NE(f.status, FindingStatus::kFail)
        << RuleName(f.rule) << " " << f.request_id << ": " << f.message;
  }
}

TEST_F(BounceHandledTest, FirstRequestSupersededSecondSatisfied) {
  auto rows =
      DeadlinesFor(events_, Now("2013-01-01T00:00:00Z"), DefaultPolicy());
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(RowOf(*rows, "DOC-1").status, DeadlineState::kSuperseded);
  EXPECT_EQ(RowOf(*rows, "DOC-2").status, DeadlineState::kSatisfied);
  EXPECT_TRUE(RowOf(*rows, "DOC-1").flags.empty());
  EXPECT_TRUE(RowOf(*rows, "DOC-2").flags.empty());
}

TEST_F(BounceHandledTest, StateIsApproved) {
  auto state = CaseStateFor(events_, Now("2013-01-01T00:00:00Z"));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->status, CaseStatus::kApproved);
  EXPECT_EQ(state->case_id, "E2012-000417");
  EXPECT_EQ(state->version, 10u);
  EXPECT_TRUE(state->open_requests.empty());
}

TEST_F(BounceHandledTest, AsOfTheBounceTheRequestFailedDelivery) {
  auto rows =
      DeadlinesFor(events_, AsOf("2012-03-01T20:00:00Z"), DefaultPolicy());
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].status, DeadlineState::kDeliveryFailed);
  auto findings = FindingsFor(events_, AsOf("2012-03-01T20:00:00Z"),
                              DefaultPolicy(), AllStored());
  ASSERT_TRUE(findings.ok());
  EXPECT_EQ(StatusOf(*findings, Rule::kBounceFollowedUp, "DOC-1"), "WARN");
  auto state = CaseStateFor(events_, AsOf("2012-03-01T20:00:00Z"));
  EXPECT_EQ(state->status, CaseStatus::kAwaitingDocuments);
}

class TransferThenRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = LoadExample("transfer-then-refusal.jsonl");
    ASSERT_EQ(events_.size(), 8u);
  }
  std::vector<RecordedEvent> events_;
};

TEST_F(TransferThenRefusalTest, ProcedureRulesPassWhenMessageStored) {
  auto findings = FindingsFor(events_, AsOf("2012-08-01T23:59:59Z"),
                              DefaultPolicy(), AllStored());
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_EQ(StatusOf(*findings, Rule::kTransferNoticeGiven), "PASS");
  EXPECT_EQ(StatusOf(*findings, Rule::kNonComplianceAfterDeadline, "DOC-1"),
            "PASS");
  EXPECT_EQ(StatusOf(*findings, Rule::kStandardNoteUsed, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(*findings, Rule::kRefusalSupported, "DOC-1"), "PASS")
      << fixture::FindingOf(*findings, Rule::kRefusalSupported, "DOC-1")
             ->message;
  EXPECT_FALSE(findings->HasFail());
}

TEST_F(TransferThenRefusalTest, RefusalUnsupportedWhenMessageNotStored) {
  auto findings = FindingsFor(events_, AsOf("2012-08-01T23:59:59Z"),
                              DefaultPolicy(), NothingStored());
  ASSERT_TRUE(findings.ok());
  EXPECT_EQ(StatusOf(*findings, Rule::kSentMessagePreserved, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(*findings, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

TEST_F(TransferThenRefusalTest, OverdueInAugustPendingInJuly) {
  auto august =
      DeadlinesFor(events_, AsOf("2012-08-01T23:59:59Z"), DefaultPolicy());
  ASSERT_TRUE(august.ok());
  EXPECT_EQ(RowOf(*august, "DOC-1").status, DeadlineState::kOverdue);
  auto july =
      DeadlinesFor(events_, AsOf("2012-07-01T23:59:59Z"), DefaultPolicy());
  ASSERT_TRUE(july.ok());
  EXPECT_EQ(RowOf(*july, "DOC-1").status, DeadlineState::kPending);
}

TEST_F(TransferThenRefusalTest, StateIsRefusedAtTheNewOffice) {
  auto state = CaseStateFor(events_, AsOf("2012-08-01T23:59:59Z"));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, CaseStatus::kRefused);
  EXPECT_EQ(state->office_id, "CPC-OTTAWA");
  ASSERT_EQ(state->transfers.size(), 1u);
  EXPECT_EQ(state->transfers[0].to_office_id, "CPC-OTTAWA");
}

}  // namespace
}  // namespace caseledger::projections
