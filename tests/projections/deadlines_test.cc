// Deadline status (domain.md §4): every status, its precedence, extensions,
// the evaluation instant, and every flag.
#include "projections/deadlines.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/case_state.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::AsOf;
using fixture::CaseBuilder;
using fixture::FlagNames;
using fixture::KaurCase;
using fixture::Now;
using fixture::RowOf;
using fixture::StateOf;
using fixture::T;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kLater[] = "2013-01-01T00:00:00Z";

// Consent, check, DOC-1 emailed on 2012-06-01 with a deadline of 2012-07-16.
CaseBuilder Sent() {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  return b;
}

// Sent(), then DOC-2 resending DOC-1 a day later, deadline 2012-07-17.
CaseBuilder SentAndResent() {
  CaseBuilder b = Sent();
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  return b;
}

std::vector<DeadlineStatus> Rows(const CaseBuilder& b, const Evaluation& e) {
  return DeadlinesFor(b.model(), e, DefaultPolicy());
}

TEST(DeadlineStateTest, PendingBeforeTheDeadline) {
  EXPECT_EQ(StateOf(Sent(), "DOC-1", Now("2012-07-01T00:00:00Z")), "PENDING");
}

TEST(DeadlineStateTest, PendingAtTheDeadlineInstant) {
  EXPECT_EQ(StateOf(Sent(), "DOC-1", Now("2012-07-16T23:59:59Z")), "PENDING");
}

TEST(DeadlineStateTest, OverdueOnceTheDeadlinePassed) {
  EXPECT_EQ(StateOf(Sent(), "DOC-1", Now("2012-07-17T00:00:00Z")), "OVERDUE");
}

TEST(DeadlineStateTest, RequestWithoutDeadlineStaysPending) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .clear_deadline();
  const auto rows = Rows(b, Now("2030-01-01T00:00:00Z"));
  EXPECT_EQ(RowOf(rows, "DOC-1").status, DeadlineState::kPending);
  EXPECT_FALSE(RowOf(rows, "DOC-1").deadline.has_value());
}

TEST(DeadlineStateTest, SatisfiedByCompleteDocumentsInTime) {
  CaseBuilder b = Sent();
  b.Received("2012-07-10T09:00:00Z", "DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "SATISFIED");
}

// The deadline's own instant is the applicant's: documents then are on
// time.
TEST(DeadlineStateTest, SatisfiedByCompleteDocumentsAtTheDeadlineInstant) {
  CaseBuilder b = Sent();
  b.Received("2012-07-16T23:59:59Z", "DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "SATISFIED");
}

TEST(DeadlineStateTest, PartialDocumentsDoNotSatisfy) {
  CaseBuilder b = Sent();
  b.Received("2012-07-10T09:00:00Z", "DOC-1", /*complete=*/false);
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "OVERDUE");
}

TEST(DeadlineStateTest, SatisfiedLateAfterTheDeadline) {
  CaseBuilder b = Sent();
  b.Received("2012-07-20T09:00:00Z", "DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "SATISFIED_LATE");
}

TEST(DeadlineStateTest, ExtensionMovesTheDeadline) {
  CaseBuilder b = Sent();
  b.Extended("2012-07-10T09:00:00Z", "DOC-1", "2012-08-31T23:59:59Z");
  b.Received("2012-08-20T09:00:00Z", "DOC-1");
  const auto rows = Rows(b, Now(kLater));
  EXPECT_EQ(RowOf(rows, "DOC-1").status, DeadlineState::kSatisfied);
  EXPECT_EQ(RowOf(rows, "DOC-1").deadline, T("2012-08-31T23:59:59Z"));
  EXPECT_EQ(StateOf(b, "DOC-1", AsOf("2012-08-01T00:00:00Z")), "PENDING");
}

TEST(DeadlineStateTest, LaterExtensionReplacesEarlierOne) {
  CaseBuilder b = Sent();
  b.Extended("2012-07-10T09:00:00Z", "DOC-1", "2012-08-31T23:59:59Z");
  b.Extended("2012-08-20T09:00:00Z", "DOC-1", "2012-09-30T23:59:59Z");
  EXPECT_EQ(RowOf(Rows(b, Now(kLater)), "DOC-1").deadline,
            T("2012-09-30T23:59:59Z"));
  EXPECT_EQ(RowOf(Rows(b, AsOf("2012-08-01T00:00:00Z")), "DOC-1").deadline,
            T("2012-08-31T23:59:59Z"));
}

// An extension to an earlier date shortens nothing (docs/findings.md,
// effective deadline): the deadlines row keeps the latest. The findings'
// tests held this; the row itself was not tested (noticed by an audit).
TEST(DeadlineStateTest, AnExtensionToAnEarlierDateLeavesTheDeadline) {
  CaseBuilder b = Sent();
  b.Extended("2012-07-01T09:00:00Z", "DOC-1", "2012-07-05T23:59:59Z");
  EXPECT_EQ(RowOf(Rows(b, Now(kLater)), "DOC-1").deadline,
            T("2012-07-16T23:59:59Z"));
  b.Extended("2012-07-10T09:00:00Z", "DOC-1", "2012-09-30T23:59:59Z");
  b.Extended("2012-07-12T09:00:00Z", "DOC-1", "2012-08-31T23:59:59Z");
  EXPECT_EQ(RowOf(Rows(b, Now(kLater)), "DOC-1").deadline,
            T("2012-09-30T23:59:59Z"));
}

TEST(DeadlineStateTest, SupersededByAResend) {
  CaseBuilder b = SentAndResent();
  const auto rows = Rows(b, Now(kLater));
  EXPECT_EQ(RowOf(rows, "DOC-1").status, DeadlineState::kSuperseded);
  EXPECT_EQ(RowOf(rows, "DOC-2").status, DeadlineState::kOverdue);
}

TEST(DeadlineStateTest, SupersededTakesPrecedenceOverSatisfied) {
  CaseBuilder b = SentAndResent();
  b.Received("2012-06-10T09:00:00Z", "DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "SUPERSEDED");
}

// A resend is the same request sent again: complete documents that answer
// the first email satisfy the resend (found by an audit: they left it
// OVERDUE and the case AWAITING_DOCUMENTS, while the findings counted them
// as compliance), through any number of resends, late as well as in time.
TEST(DeadlineStateTest, DocumentsAnsweringTheOriginalSatisfyItsResends) {
  CaseBuilder b = SentAndResent();
  b.Email("2012-06-03T10:01:00Z", "DOC-3", "2012-07-18T23:59:59Z")
      .set_resend_of("DOC-2");
  CaseBuilder late = b;
  b.Received("2012-06-10T09:00:00Z", "DOC-1");
  const auto rows = Rows(b, Now(kLater));
  EXPECT_EQ(RowOf(rows, "DOC-1").status, DeadlineState::kSuperseded);
  EXPECT_EQ(RowOf(rows, "DOC-2").status, DeadlineState::kSuperseded);
  EXPECT_EQ(RowOf(rows, "DOC-3").status, DeadlineState::kSatisfied);
  const CaseState state = CaseStateFor(b.model(), Now(kLater));
  EXPECT_EQ(CaseStatusName(state.status), "OPEN");
  EXPECT_THAT(state.open_requests, IsEmpty());

  late.Received("2012-08-01T09:00:00Z", "DOC-1");
  EXPECT_EQ(StateOf(late, "DOC-3", Now(kLater)), "SATISFIED_LATE");
  // Documents for the resend do not reach back: the original stays
  // superseded, not satisfied.
  CaseBuilder forward = SentAndResent();
  forward.Received("2012-06-10T09:00:00Z", "DOC-2");
  EXPECT_EQ(StateOf(forward, "DOC-1", Now(kLater)), "SUPERSEDED");
  EXPECT_EQ(StateOf(forward, "DOC-2", Now(kLater)), "SATISFIED");
}

// domain.md §4 compares business times: a resend dated before the request
// (recorded after it) does not supersede it, and documents dated before the
// send do not satisfy it.
TEST(DeadlineStateTest, AResendDatedBeforeTheRequestDoesNotSupersedeIt) {
  CaseBuilder b = Sent();
  b.Email("2011-09-01T10:01:00Z", "DOC-2", "2011-10-17T23:59:59Z")
      .set_resend_of("DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "OVERDUE");
}

TEST(DeadlineStateTest, AResendAtTheSameInstantSupersedes) {
  CaseBuilder b = Sent();
  b.Email("2012-06-01T10:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "SUPERSEDED");
}

TEST(DeadlineStateTest, DocumentsDatedBeforeTheSendDoNotSatisfyIt) {
  CaseBuilder b = Sent();
  b.Received("2012-05-20T09:00:00Z", "DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "OVERDUE");
}

TEST(DeadlineStateTest, DeliveryFailedOnABounce) {
  CaseBuilder b = Sent();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  EXPECT_EQ(StateOf(b, "DOC-1", Now("2012-06-05T00:00:00Z")),
            "DELIVERY_FAILED");
  // Takes precedence over OVERDUE.
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "DELIVERY_FAILED");
}

TEST(DeadlineStateTest, DelayedNoticeIsNotAFailure) {
  CaseBuilder b = Sent();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  EXPECT_EQ(StateOf(b, "DOC-1", Now("2012-06-05T00:00:00Z")), "PENDING");
}

TEST(DeadlineStateTest, ClosedWhenTheCaseIsDecidedOtherwise) {
  CaseBuilder b = Sent();
  b.Decided("2012-06-20T09:00:00Z", v1::Decision::WITHDRAWN);
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "CLOSED");
}

TEST(DeadlineStateTest, ClosedTakesPrecedenceOverDeliveryFailed) {
  CaseBuilder b = Sent();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  b.Decided("2012-06-20T09:00:00Z", v1::Decision::APPROVED);
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "CLOSED");
}

TEST(DeadlineStateTest, SatisfiedTakesPrecedenceOverClosed) {
  CaseBuilder b = Sent();
  b.Received("2012-07-10T09:00:00Z", "DOC-1");
  b.Decided("2012-07-20T09:00:00Z", v1::Decision::APPROVED);
  EXPECT_EQ(StateOf(b, "DOC-1", Now(kLater)), "SATISFIED");
}

TEST(DeadlineStateTest, NonComplianceRefusalOnThisRequestDoesNotClose) {
  EXPECT_EQ(StateOf(KaurCase(), "DOC-1", Now(kLater)), "OVERDUE");
}

TEST(DeadlineStateTest, NonComplianceRefusalOnAnotherRequestCloses) {
  CaseBuilder b = KaurCase();
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-08-30T23:59:59Z");
  EXPECT_EQ(StateOf(b, "DOC-2", Now("2012-08-01T00:00:00Z")), "CLOSED");
}

// A refusal for non-compliance naming the first sending rests on its
// resend too (the same request sent again): the resend stays OVERDUE and
// open, as it would under a refusal naming it (found by an audit: it was
// CLOSED).
TEST(DeadlineStateTest, NonComplianceRefusalOnTheOriginalLeavesItsResendOpen) {
  CaseBuilder b = SentAndResent();
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  EXPECT_EQ(StateOf(b, "DOC-2", Now(kLater)), "OVERDUE");
  const CaseState state = CaseStateFor(b.model(), Now(kLater));
  EXPECT_EQ(CaseStatusName(state.status), "REFUSED");
  ASSERT_EQ(state.open_requests.size(), 1u);
  EXPECT_EQ(state.open_requests[0].request_id, "DOC-2");
}

TEST(DeadlineStateTest, ReopeningTheCaseReopensItsRequests) {
  CaseBuilder b = Sent();
  b.Decided("2012-06-20T09:00:00Z", v1::Decision::REFUSED,
            v1::DecisionGround::INELIGIBLE);
  b.ReconsiderationRequested("2012-06-25T09:00:00Z");
  EXPECT_EQ(StateOf(b, "DOC-1", Now("2012-07-01T00:00:00Z")), "CLOSED");
  b.ReconsiderationDecided("2012-06-30T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  EXPECT_EQ(StateOf(b, "DOC-1", Now("2012-07-01T00:00:00Z")), "PENDING");
}

TEST(DeadlinesTest, RowsCarryCaseSendTimeAndComeInSendOrder) {
  CaseBuilder b = Sent();
  // Backfilled: sent before DOC-1, recorded after it.
  b.Email("2012-05-20T10:01:00Z", "DOC-0", "2012-07-16T23:59:59Z");
  b.RecordedAt("2012-06-02T00:00:00Z");
  const auto rows = Rows(b, Now(kLater));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].request_id, "DOC-0");
  EXPECT_EQ(rows[1].request_id, "DOC-1");
  EXPECT_EQ(rows[1].case_id, "C-1");
  EXPECT_EQ(rows[1].sent_at, T("2012-06-01T10:01:00Z"));
}

TEST(DeadlinesTest, JudgedAtAsOfRatherThanNow) {
  Evaluation e = AsOf("2012-07-01T00:00:00Z");
  e.now = T(kLater);
  EXPECT_EQ(StateOf(Sent(), "DOC-1", e), "PENDING");
}

TEST(DeadlinesTest, JudgedAtKnownAtWhenNoAsOf) {
  Evaluation e = fixture::KnownAt("2012-07-01T00:00:00Z");
  e.now = T(kLater);
  EXPECT_EQ(StateOf(Sent(), "DOC-1", e), "PENDING");
}

TEST(DeadlinesTest, ParseDeadlineStateRoundTripsEveryName) {
  for (DeadlineState s : {DeadlineState::kSuperseded, DeadlineState::kSatisfied,
                          DeadlineState::kSatisfiedLate, DeadlineState::kClosed,
                          DeadlineState::kDeliveryFailed,
                          DeadlineState::kOverdue, DeadlineState::kPending}) {
    auto parsed = ParseDeadlineState(DeadlineStateName(s), "--status");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, s);
  }
  const auto lower = ParseDeadlineState("overdue", "--status");
  EXPECT_EQ(lower.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lower.status().message(),
            "--status: \"overdue\" is not one of SUPERSEDED, SATISFIED, "
            "SATISFIED_LATE, CLOSED, DELIVERY_FAILED, OVERDUE, PENDING");
  EXPECT_EQ(ParseDeadlineState("a\n\"b", "status").status().message(),
            "status: \"a\\n\\\"b\" is not one of SUPERSEDED, SATISFIED, "
            "SATISFIED_LATE, CLOSED, DELIVERY_FAILED, OVERDUE, PENDING");
}

// --- Flags

TEST(DeadlineFlagsTest, NoFlagsWhenEveryRulePasses) {
  EXPECT_THAT(FlagNames(RowOf(Rows(Sent(), Now(kLater)), "DOC-1")), IsEmpty());
}

TEST(DeadlineFlagsTest, BelowPolicyMinimum) {
  CaseBuilder b = Sent();
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-06-10T23:59:59Z");
  b.Verified("2012-06-02T10:00:00Z", "DOC-2");
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-2")),
              ElementsAre("BELOW_POLICY_MINIMUM"));
  // Each request's own: DOC-1 is flagged for nothing (one request's flags
  // given to every request of the case passed; found by a mutation).
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")), IsEmpty());
}

TEST(DeadlineFlagsTest, NotVerified) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")),
              ElementsAre("NOT_VERIFIED"));
}

TEST(DeadlineFlagsTest, AddressMismatchAndNoConsent) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1", "typo@mail.example");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "typo@mail.example");
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")),
              ElementsAre("ADDRESS_MISMATCH", "NO_CONSENT"));
}

TEST(DeadlineFlagsTest, NoRefusalWarning) {
  CaseBuilder b = Sent();
  b.Verified("2012-06-02T10:00:00Z", "DOC-2");
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-16T23:59:59Z")
      .set_refusal_warning_included(false);
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-2")),
              ElementsAre("NO_REFUSAL_WARNING"));
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")), IsEmpty());
}

TEST(DeadlineFlagsTest, NonOrganizationalMailbox) {
  CaseBuilder b = Sent();
  b.Verified("2012-06-02T10:00:00Z", "DOC-2");
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-16T23:59:59Z")
      .set_organizational_mailbox(false);
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-2")),
              ElementsAre("NON_ORGANIZATIONAL_MAILBOX"));
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")), IsEmpty());
}

TEST(DeadlineFlagsTest, AllSixFlagsInSpecOrder) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  auto& request = b.Email("2012-06-01T10:01:00Z", "DOC-1",
                          "2012-06-05T23:59:59Z", "stranger@mail.example");
  request.set_refusal_warning_included(false);
  request.set_organizational_mailbox(false);
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")),
              ElementsAre("BELOW_POLICY_MINIMUM", "NOT_VERIFIED",
                          "ADDRESS_MISMATCH", "NO_REFUSAL_WARNING",
                          "NON_ORGANIZATIONAL_MAILBOX", "NO_CONSENT"));
}

TEST(DeadlineFlagsTest, RulesThatDoNotApplyRaiseNoFlag) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_channel(v1::Channel::POSTAL_MAIL);
  EXPECT_THAT(FlagNames(RowOf(Rows(b, Now(kLater)), "DOC-1")), IsEmpty());
}

TEST(DeadlineFlagsTest, CountryPolicyRaisesTheFlag) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z", "SY");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  DeadlinePolicy policy;
  policy.countries["SY"] = 60;
  EXPECT_THAT(
      FlagNames(RowOf(DeadlinesFor(b.model(), Now(kLater), policy), "DOC-1")),
      ElementsAre("BELOW_POLICY_MINIMUM"));
}

}  // namespace
}  // namespace caseledger::projections
