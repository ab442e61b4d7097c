// Case state (domain.md §4): status transitions, addresses on file,
// representative, transfers, judicial review, version.
#include "projections/case_state.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::AsOf;
using fixture::CaseBuilder;
using fixture::KaurCase;
using fixture::Now;
using fixture::T;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kLater[] = "2013-01-01T00:00:00Z";

CaseState StateAt(const CaseBuilder& b, const Evaluation& e) {
  return CaseStateFor(b.model(), e);
}

std::vector<std::string> Addresses(const CaseState& s) {
  std::vector<std::string> out;
  for (const AddressOnFile& a : s.addresses_on_file) {
    out.push_back(a.address + " " + v1::Party::Value_Name(a.party) + " " +
                  v1::ConsentBasis::Value_Name(a.basis));
  }
  return out;
}

CaseBuilder Opened() {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  return b;
}

TEST(CaseStatusTest, OpenWithoutRequests) {
  EXPECT_EQ(StateAt(Opened(), Now(kLater)).status, CaseStatus::kOpen);
}

TEST(CaseStatusTest, AwaitingDocumentsWhileARequestIsPending) {
  CaseBuilder b = Opened();
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StateAt(b, Now("2012-06-05T00:00:00Z")).status,
            CaseStatus::kAwaitingDocuments);
}

TEST(CaseStatusTest, AwaitingDocumentsWhileARequestIsOverdue) {
  CaseBuilder b = Opened();
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StateAt(b, Now(kLater)).status, CaseStatus::kAwaitingDocuments);
}

TEST(CaseStatusTest, AwaitingDocumentsAfterABounce) {
  CaseBuilder b = Opened();
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  const CaseState s = StateAt(b, Now("2012-06-05T00:00:00Z"));
  EXPECT_EQ(s.status, CaseStatus::kAwaitingDocuments);
  ASSERT_EQ(s.open_requests.size(), 1u);
  EXPECT_EQ(s.open_requests[0].status, DeadlineState::kDeliveryFailed);
}

TEST(CaseStatusTest, OpenAgainOnceDocumentsArrive) {
  CaseBuilder b = Opened();
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Received("2012-06-20T09:00:00Z", "DOC-1");
  const CaseState s = StateAt(b, Now(kLater));
  EXPECT_EQ(s.status, CaseStatus::kOpen);
  EXPECT_THAT(s.open_requests, IsEmpty());
}

TEST(CaseStatusTest, DecisionSetsStatus) {
  for (auto [decision, status] :
       std::vector<std::pair<v1::Decision::Value, CaseStatus>>{
           {v1::Decision::APPROVED, CaseStatus::kApproved},
           {v1::Decision::REFUSED, CaseStatus::kRefused},
           {v1::Decision::WITHDRAWN, CaseStatus::kWithdrawn}}) {
    CaseBuilder b = Opened();
    b.Decided("2012-06-01T09:00:00Z", decision);
    EXPECT_EQ(StateAt(b, Now(kLater)).status, status)
        << v1::Decision::Value_Name(decision);
  }
}

TEST(CaseStatusTest, ReconsiderationRequestedIsPending) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  EXPECT_EQ(StateAt(b, Now(kLater)).status,
            CaseStatus::kReconsiderationPending);
}

TEST(CaseStatusTest, RefusalMaintainedReturnsToRefused) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REFUSAL_MAINTAINED);
  EXPECT_EQ(StateAt(b, Now(kLater)).status, CaseStatus::kRefused);
}

TEST(CaseStatusTest, ReopenedReturnsToUndecided) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  // DOC-1 is overdue again, so the reopened case awaits documents.
  EXPECT_EQ(StateAt(b, Now(kLater)).status, CaseStatus::kAwaitingDocuments);
  b.Email("2012-08-11T09:00:00Z", "DOC-2", "2012-09-30T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Received("2012-08-20T09:00:00Z", "DOC-2");
  EXPECT_EQ(StateAt(b, Now(kLater)).status, CaseStatus::kOpen);
}

TEST(CaseStatusTest, StatusFollowsBusinessTimeNotRecordingOrder) {
  // The approval is recorded before a backfilled reconsideration request
  // that occurred earlier and was decided (REOPENED) before the approval.
  CaseBuilder b = Opened();
  b.Decided("2012-06-01T09:00:00Z", v1::Decision::REFUSED,
            v1::DecisionGround::INELIGIBLE);
  b.Decided("2012-07-01T09:00:00Z", v1::Decision::APPROVED);
  b.ReconsiderationRequested("2012-06-10T09:00:00Z");
  b.ReconsiderationDecided("2012-06-20T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  EXPECT_EQ(StateAt(b, Now(kLater)).status, CaseStatus::kApproved);
}

TEST(CaseStatusTest, NamesAreThoseOfTheSpec) {
  EXPECT_EQ(CaseStatusName(CaseStatus::kOpen), "OPEN");
  EXPECT_EQ(CaseStatusName(CaseStatus::kAwaitingDocuments),
            "AWAITING_DOCUMENTS");
  EXPECT_EQ(CaseStatusName(CaseStatus::kRefused), "REFUSED");
  EXPECT_EQ(CaseStatusName(CaseStatus::kApproved), "APPROVED");
  EXPECT_EQ(CaseStatusName(CaseStatus::kWithdrawn), "WITHDRAWN");
  EXPECT_EQ(CaseStatusName(CaseStatus::kReconsiderationPending),
            "RECONSIDERATION_PENDING");
}

TEST(AddressesOnFileTest, ConsentPutsAddressOnFileWithPartyAndBasis) {
  EXPECT_THAT(Addresses(StateAt(Opened(), Now(kLater))),
              ElementsAre("maria.santos@mail.example APPLICANT "
                          "APPLICATION_FORM"));
}

TEST(AddressesOnFileTest, AnyBasisPutsTheAddressOnFile) {
  CaseBuilder b = Opened();
  b.Consent("2012-05-02T09:00:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            /*repeated=*/false);
  EXPECT_THAT(Addresses(StateAt(b, Now(kLater))),
              ElementsAre("maria.santos@mail.example APPLICANT "
                          "APPLICATION_FORM",
                          "counsel@law.example REPRESENTATIVE "
                          "REPRESENTATIVE_FORM"));
  // The third basis too (only two were tried, and consent by the
  // applicant's email left off the file passed; found by a mutation).
  b.Consent("2012-05-03T09:00:00Z", "maria.home@mail.example",
            v1::ConsentBasis::APPLICANT_EMAIL, v1::Party::APPLICANT,
            /*repeated=*/false);
  EXPECT_THAT(Addresses(StateAt(b, Now(kLater))),
              ::testing::Contains("maria.home@mail.example APPLICANT "
                                  "APPLICANT_EMAIL"));
}

TEST(AddressesOnFileTest, WithdrawalTakesTheAddressOff) {
  CaseBuilder b = Opened();
  b.Withdrawn("2012-05-02T09:00:00Z", "MARIA.SANTOS@mail.example");
  EXPECT_THAT(StateAt(b, Now(kLater)).addresses_on_file, IsEmpty());
}

// A withdrawal naming the address under another party than its consent's
// ends every consent for it: the address is what it names.
TEST(AddressesOnFileTest, AWithdrawalUnderAnotherPartyTakesTheAddressOff) {
  CaseBuilder b = Opened();
  b.Consent("2012-05-02T09:00:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            true);
  b.Withdrawn("2012-05-03T09:00:00Z", "counsel@law.example");  // APPLICANT
  EXPECT_THAT(Addresses(StateAt(b, Now(kLater))),
              ElementsAre("maria.santos@mail.example APPLICANT "
                          "APPLICATION_FORM"));
}

// A consent recorded again for the same address and party replaces the
// first: it is on file once, and one withdrawal ends it.
TEST(AddressesOnFileTest, AConsentRecordedTwiceEndsWithOneWithdrawal) {
  CaseBuilder b = Opened();
  b.Consent("2012-05-02T09:00:00Z");
  EXPECT_EQ(StateAt(b, Now(kLater)).addresses_on_file.size(), 1u);
  b.Withdrawn("2012-05-03T09:00:00Z");
  EXPECT_THAT(StateAt(b, Now(kLater)).addresses_on_file, IsEmpty());
}

TEST(AddressesOnFileTest, AddressChangeCarriesConsentToTheNewAddress) {
  CaseBuilder b = Opened();
  b.AddressChanged("2012-05-02T09:00:00Z", fixture::kApplicant,
                   "maria.new@mail.example");
  const CaseState s = StateAt(b, Now(kLater));
  EXPECT_THAT(Addresses(s), ElementsAre("maria.new@mail.example APPLICANT "
                                        "APPLICATION_FORM"));
  EXPECT_EQ(s.addresses_on_file[0].position, 3u);
}

// The party's consent carries to the new address even when the old one
// given in the change was not the one on file.
TEST(AddressesOnFileTest, AChangeFromAnotherAddressCarriesThePartysConsent) {
  CaseBuilder b = Opened();
  b.AddressChanged("2012-05-02T09:00:00Z", "maria.old@mail.example",
                   "maria.new@mail.example");
  EXPECT_THAT(Addresses(StateAt(b, Now(kLater))),
              ::testing::Contains("maria.new@mail.example APPLICANT "
                                  "APPLICATION_FORM"));
}

TEST(AddressesOnFileTest, ChangeWithoutAnyConsentPutsNothingOnFile) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.AddressChanged("2012-05-02T09:00:00Z", "old@mail.example",
                   "new@mail.example");
  EXPECT_THAT(StateAt(b, Now(kLater)).addresses_on_file, IsEmpty());
}

TEST(AddressesOnFileTest, RepresentativeWithdrawalTakesItsAddressesOff) {
  CaseBuilder b = Opened();
  auto* appointed =
      b.At("2012-05-02T09:00:00Z").mutable_representative_appointed();
  appointed->set_representative_id("R-9");
  appointed->set_name("A. Counsel");
  appointed->set_email("counsel@law.example");
  b.Consent("2012-05-02T09:05:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            true);
  CaseState before = StateAt(b, Now(kLater));
  ASSERT_TRUE(before.representative.has_value());
  EXPECT_EQ(before.representative->name, "A. Counsel");
  EXPECT_EQ(before.addresses_on_file.size(), 2u);

  b.At("2012-06-01T09:00:00Z")
      .mutable_representative_withdrawn()
      ->set_representative_id("R-9");
  const CaseState after = StateAt(b, Now(kLater));
  EXPECT_FALSE(after.representative.has_value());
  EXPECT_THAT(Addresses(after), ElementsAre("maria.santos@mail.example "
                                            "APPLICANT APPLICATION_FORM"));
}

// domain.md §3: a withdrawal takes off the file the addresses of the
// representative it names, not those of another still appointed.
TEST(AddressesOnFileTest, WithdrawingOneRepresentativeKeepsAnother) {
  CaseBuilder b = Opened();
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1", "r1@law.example");
  b.RepresentativeWithConsent("2012-05-03T09:00:00Z", "R2", "R2@law.example");
  // Never appointed: nothing leaves.
  b.RepresentativeWithdrawn("2012-05-04T09:00:00Z", "R9");
  b.RepresentativeWithdrawn("2012-05-05T09:00:00Z", "R1");
  CaseState s = StateAt(b, Now(kLater));
  ASSERT_TRUE(s.representative.has_value());
  EXPECT_EQ(s.representative->representative_id, "R2");
  EXPECT_THAT(
      Addresses(s),
      ElementsAre("maria.santos@mail.example APPLICANT APPLICATION_FORM",
                  "R2@law.example REPRESENTATIVE REPRESENTATIVE_FORM"));
  EXPECT_EQ(StateAt(b, AsOf("2012-05-04T12:00:00Z")).addresses_on_file.size(),
            3u);

  b.RepresentativeWithdrawn("2012-05-06T09:00:00Z", "R2");
  s = StateAt(b, Now(kLater));
  EXPECT_FALSE(s.representative.has_value());
  EXPECT_THAT(Addresses(s), ElementsAre("maria.santos@mail.example "
                                        "APPLICANT APPLICATION_FORM"));
}

// A representative's changed address stays theirs: withdrawing another
// representative took it off the file, as matching no one appointed, and
// the state named the old address (found by a domain audit).
TEST(AddressesOnFileTest,
     ARepresentativesNewAddressOutlivesAnothersWithdrawal) {
  CaseBuilder b = Opened();
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1", "old@law.example");
  b.AddressChanged("2012-05-05T09:00:00Z", "OLD@law.example", "new@law.example",
                   v1::Party::REPRESENTATIVE);
  b.RepresentativeWithConsent("2012-05-06T09:00:00Z", "R2", "r2@law.example");
  b.RepresentativeWithdrawn("2012-05-20T09:00:00Z", "R2");
  const CaseState s = StateAt(b, Now(kLater));
  ASSERT_TRUE(s.representative.has_value());
  EXPECT_EQ(s.representative->representative_id, "R1");
  EXPECT_EQ(s.representative->email, "new@law.example");
  EXPECT_THAT(
      Addresses(s),
      ElementsAre("maria.santos@mail.example APPLICANT APPLICATION_FORM",
                  "new@law.example REPRESENTATIVE REPRESENTATIVE_FORM"));
  // The applicant's change of an address a representative also gave is
  // the applicant's: the representative keeps theirs.
  CaseBuilder applicant = Opened();
  applicant.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1",
                                      fixture::kApplicant);
  applicant.AddressChanged("2012-05-05T09:00:00Z", fixture::kApplicant,
                           "new@mail.example");
  EXPECT_EQ(StateAt(applicant, Now(kLater)).representative->email,
            fixture::kApplicant);
}

TEST(CaseStateTest, TransfersMoveTheOffice) {
  CaseBuilder b = Opened();
  b.TransferNotice("2012-05-02T09:00:00Z");
  b.Transferred("2012-05-03T09:00:00Z");
  const CaseState s = StateAt(b, Now(kLater));
  EXPECT_EQ(s.office_id, "CPC-OTTAWA");
  ASSERT_EQ(s.transfers.size(), 1u);
  EXPECT_EQ(s.transfers[0].from_office_id, "VO-DELHI");
  EXPECT_EQ(s.transfers[0].occurred_at, T("2012-05-03T09:00:00Z"));
  EXPECT_EQ(s.transfers[0].position, 4u);
  EXPECT_EQ(StateAt(b, AsOf("2012-05-02T23:59:59Z")).office_id, "VO-DELHI");
}

TEST(CaseStateTest, JudicialReviewShowsTheCourtFileNumber) {
  CaseBuilder b = KaurCase();
  EXPECT_EQ(StateAt(b, Now(kLater)).judicial_review, "");
  b.JudicialReview("2012-09-01T09:00:00Z");
  EXPECT_EQ(StateAt(b, Now(kLater)).judicial_review, "IMM-1234-12");
}

TEST(CaseStateTest, CarriesCaseIdentityAndCountry) {
  const CaseState s = StateAt(KaurCase(), Now(kLater));
  EXPECT_EQ(s.case_id, "C-1");
  EXPECT_EQ(s.office_id, "VO-DELHI");
  EXPECT_EQ(s.applicant_country, "CO");
}

TEST(CaseStateTest, VersionAndLastPositionAreThoseOfTheEvaluatedEvents) {
  const CaseBuilder b = KaurCase();
  const CaseState all = StateAt(b, Now(kLater));
  EXPECT_EQ(all.version, 6u);
  EXPECT_EQ(all.last_position, 6u);
  const CaseState early = StateAt(b, AsOf("2012-06-01T10:00:00Z"));
  EXPECT_EQ(early.version, 3u);
  EXPECT_EQ(early.last_position, 3u);
}

// The representative shown is the one appointed last.
TEST(CaseStateTest, RepresentativeIsTheLatestAppointed) {
  CaseBuilder b = Opened();
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1", "r1@law.example");
  b.RepresentativeWithConsent("2012-05-03T09:00:00Z", "R2", "r2@law.example");
  const CaseState s = StateAt(b, Now(kLater));
  ASSERT_TRUE(s.representative.has_value());
  EXPECT_EQ(s.representative->representative_id, "R2");
}

// A late record of an earlier action is the case's latest version still.
TEST(CaseStateTest, VersionIsTheLatestRecordedWhateverTheBusinessTime) {
  CaseBuilder b = KaurCase();                      // #6 occurred 2012-07-21
  b.Alternative("2012-07-01T09:00:00Z", "DOC-1");  // #7
  const CaseState s = StateAt(b, Now(kLater));
  EXPECT_EQ(s.version, 7u);
  EXPECT_EQ(s.last_position, 7u);
}

TEST(CaseStateTest, NothingBeforeTheCaseWasOpened) {
  const CaseState s = StateAt(KaurCase(), AsOf("2012-01-01T00:00:00Z"));
  EXPECT_EQ(s.version, 0u);
  EXPECT_EQ(s.last_position, 0u);
  EXPECT_EQ(s.case_id, "C-1");
  EXPECT_EQ(s.office_id, "");
  EXPECT_EQ(s.status, CaseStatus::kOpen);
}

TEST(CaseStateTest, OpenRequestsShowDeadlineAndStatus) {
  CaseBuilder b = Opened();
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  const CaseState s = StateAt(b, Now(kLater));
  ASSERT_EQ(s.open_requests.size(), 1u);
  EXPECT_EQ(s.open_requests[0].request_id, "DOC-1");
  EXPECT_EQ(s.open_requests[0].channel, v1::Channel::EMAIL);
  EXPECT_EQ(s.open_requests[0].sent_at, T("2012-06-01T10:01:00Z"));
  EXPECT_EQ(s.open_requests[0].deadline, T("2012-07-16T23:59:59Z"));
  EXPECT_EQ(s.open_requests[0].status, DeadlineState::kOverdue);
}

TEST(CaseStateTest, FoldOfEventsGivesTheSameStateAsTheModel) {
  const CaseBuilder b = KaurCase();
  auto state = CaseStateFor(b.events(), Now(kLater));
  ASSERT_OK(state);
  EXPECT_EQ(*state, StateAt(b, Now(kLater)));
}

}  // namespace
}  // namespace caseledger::projections
