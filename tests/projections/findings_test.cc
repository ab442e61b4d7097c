// Every rule of domain.md §4, where it passes and where it fails or warns,
// on realistic cases modelled on the Federal Court decisions behind it.
#include "projections/findings.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::AllStored;
using fixture::CaseBuilder;
using fixture::FindingOf;
using fixture::FindingsAt;
using fixture::FindingsOf;
using fixture::KaurCase;
using fixture::NothingStored;
using fixture::RequestSentByTheBook;
using fixture::StatusOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kLater[] = "2013-01-01T00:00:00Z";

// ---------------------------------------------------------------------------
// Shape

TEST(FindingsShapeTest, EveryRuleAppearsOnceAsNotApplicableWhenNothingToJudge) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  const Findings f = FindingsAt(b, kLater);
  ASSERT_EQ(f.findings.size(), AllRules().size());
  for (size_t i = 0; i < AllRules().size(); ++i) {
    EXPECT_EQ(f.findings[i].rule, AllRules()[i]);
    EXPECT_EQ(f.findings[i].request_id, "");
    if (AllRules()[i] != Rule::kRecordedPromptly) {
      EXPECT_EQ(f.findings[i].status, FindingStatus::kNotApplicable)
          << RuleName(AllRules()[i]);
    }
  }
}

TEST(FindingsShapeTest, FindingsComeInTableOrderThenSendOrder) {
  CaseBuilder b = KaurCase();
  b.Email("2012-06-02T10:00:00Z", "DOC-2", "2012-08-01T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  std::vector<std::string> order;
  for (const Finding& x : f.findings) {
    if (x.rule == Rule::kRequestRecorded) order.push_back(x.request_id);
  }
  EXPECT_THAT(order, ElementsAre("DOC-1", "DOC-2"));
  for (size_t i = 1; i < f.findings.size(); ++i) {
    EXPECT_LE(static_cast<int>(f.findings[i - 1].rule),
              static_cast<int>(f.findings[i].rule));
  }
}

TEST(FindingsShapeTest, PositionsAreAscendingAndUnique) {
  const Findings f = FindingsAt(KaurCase(), kLater);
  for (const Finding& x : f.findings) {
    for (size_t i = 1; i < x.positions.size(); ++i) {
      EXPECT_LT(x.positions[i - 1], x.positions[i]) << RuleName(x.rule);
    }
  }
}

TEST(FindingsShapeTest, CaseDoneByTheBookHasNoFailOrWarn) {
  // Kaur, 2009 FC 935: with proof of a proper send, non-receipt is the
  // applicant's risk, and the refusal stands.
  const Findings f = FindingsAt(KaurCase(), kLater);
  for (const Finding& x : f.findings) {
    EXPECT_TRUE(x.status == FindingStatus::kPass ||
                x.status == FindingStatus::kNotApplicable)
        << RuleName(x.rule) << ": " << x.message;
  }
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS");
  EXPECT_FALSE(f.HasFail());
}

TEST(FindingsShapeTest, HasFailIsTrueWithOneFail) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REFUSAL_MAINTAINED, "");
  EXPECT_TRUE(FindingsAt(b, kLater).HasFail());
}

// ---------------------------------------------------------------------------
// CONSENT_ESTABLISHED

TEST(ConsentEstablishedTest, PassesForAddressOnFile) {
  const Findings f = FindingsAt(KaurCase(), kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS");
  EXPECT_THAT(FindingOf(f, Rule::kConsentEstablished, "DOC-1")->positions,
              ElementsAre(2, 4));
}

// A copy to counsel whose consent had ended passed as an email "only to
// addresses with consent in force": the copy is named as not judged.
TEST(ConsentEstablishedTest, APassNamesTheCopyItDoesNotJudge) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1", "r@law.example");
  b.RepresentativeWithdrawn("2012-05-20T09:00:00Z", "R1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .add_cc("r@law.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS");
  const std::string& message =
      FindingOf(f, Rule::kConsentEstablished, "DOC-1")->message;
  EXPECT_THAT(message, HasSubstr("went by email to addresses with consent"));
  EXPECT_THAT(message, ::testing::EndsWith(
                           " Its copy (cc) to r@law.example is not judged."));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("only")));
  // Without a copy, as before; a copy to a `to` is judged as that.
  EXPECT_THAT(FindingOf(FindingsAt(KaurCase(), kLater),
                        Rule::kConsentEstablished, "DOC-1")
                  ->message,
              HasSubstr("went by email only to addresses with consent"));
  CaseBuilder repeated;
  repeated.Opened("2012-05-01T09:00:00Z");
  repeated.Consent("2012-05-01T09:05:00Z");
  repeated.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .add_cc(std::string(fixture::kApplicant));
  EXPECT_THAT(FindingOf(FindingsAt(repeated, kLater), Rule::kConsentEstablished,
                        "DOC-1")
                  ->message,
              ::testing::AllOf(
                  HasSubstr("went by email only to addresses with consent"),
                  ::testing::Not(HasSubstr("(cc)"))));
}

TEST(ConsentEstablishedTest, FailsWhenConsentWithdrawnBeforeSend) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Withdrawn("2012-05-20T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kConsentEstablished, "DOC-1")->message,
              HasSubstr("consent ended at #3"));
}

TEST(ConsentEstablishedTest, FailsNamingTheRepresentativeWithdrawal) {
  // domain.md §3: representative_withdrawn takes the representative's
  // addresses off the file; the message names it as the end of consent.
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1", "r@law.example");
  b.RepresentativeWithdrawn("2012-05-20T09:00:00Z", "R1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "r@law.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "FAIL");
  const Finding* consent = FindingOf(f, Rule::kConsentEstablished, "DOC-1");
  EXPECT_THAT(consent->message,
              HasSubstr("r@law.example (consent ended at #4)"));
  EXPECT_THAT(consent->positions, ElementsAre(4, 5));
}

TEST(ConsentEstablishedTest, PassesForARepresentativeStillAppointed) {
  // Withdrawing R1 leaves R2's consent in force: an email to R2 afterwards
  // went to an address on file.
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1", "r1@law.example");
  b.RepresentativeWithConsent("2012-05-03T09:00:00Z", "R2", "r2@law.example");
  b.RepresentativeWithdrawn("2012-05-20T09:00:00Z", "R1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "r2@law.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-1"), "PASS");
}

TEST(ConsentEstablishedTest,
     TheApplicantsConsentOutlivesARepresentativesForOneAddress) {
  // The applicant's mailbox also given as the representative's (IMM 5476
  // repeats it): two consents. Withdrawing the representative ends only
  // theirs, whichever was recorded first; the address was once kept under
  // the consent recorded last, so one order gave FAIL and the other PASS.
  for (const bool applicant_first : {true, false}) {
    CaseBuilder b;
    b.Opened("2012-05-01T09:00:00Z");
    if (applicant_first) b.Consent("2012-05-01T09:05:00Z");
    b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1",
                                fixture::kApplicant);
    if (!applicant_first) b.Consent("2012-05-03T09:05:00Z");
    b.RepresentativeWithdrawn("2012-05-20T09:00:00Z", "R1");
    b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
    const Findings f = FindingsAt(b, kLater);
    EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS")
        << applicant_first;
    EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-1"), "PASS")
        << applicant_first;
    EXPECT_THAT(
        FindingOf(f, Rule::kConsentEstablished, "DOC-1")->message,
        HasSubstr("(consent #" + std::to_string(applicant_first ? 2 : 4) +
                  ", the application form)"))
        << applicant_first;
  }
}

TEST(ConsentEstablishedTest,
     WithdrawingTheApplicantsConsentLeavesTheRepresentatives) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.RepresentativeWithConsent("2012-05-02T09:00:00Z", "R1",
                              fixture::kApplicant);
  b.Withdrawn("2012-05-20T09:00:00Z");  // the applicant's
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.RepresentativeWithdrawn("2012-06-02T09:00:00Z", "R1");
  b.Email("2012-06-03T10:01:00Z", "DOC-2", "2012-07-16T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-2"), "FAIL");
}

TEST(ConsentEstablishedTest, FailsWhenNoConsentWasRecordedBeforeTheSend) {
  // Consent given only after the send (here a day later) did not cover it,
  // and the message must not claim that none was ever recorded.
  for (const bool consent_after : {false, true}) {
    CaseBuilder b;
    b.Opened("2012-05-01T09:00:00Z");
    b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
    if (consent_after) b.Consent("2012-06-02T09:00:00Z");
    const Findings f = FindingsAt(b, kLater);
    EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "FAIL");
    EXPECT_THAT(FindingOf(f, Rule::kConsentEstablished, "DOC-1")->message,
                HasSubstr("maria.santos@mail.example (no consent recorded "
                          "before the send)"))
        << consent_after;
  }
}

TEST(ConsentEstablishedTest, ConsentRecordedLateButGivenBeforeTheSendCounts) {
  // Business time decides: the consent was given (occurred) before the send
  // even though the ledger recorded it afterwards.
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Consent("2012-05-01T09:05:00Z").RecordedAt("2012-06-02T00:00:00Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kConsentEstablished, "DOC-1"),
            "PASS");
}

TEST(ConsentEstablishedTest, ConsentCarriesToTheNewAddress) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.AddressChanged("2012-05-10T09:00:00Z", fixture::kApplicant,
                   "maria.new@mail.example");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "maria.new@mail.example");
  b.Email("2012-06-01T10:02:00Z", "DOC-2", "2012-07-16T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-2"), "FAIL");
}

// Before, the message said "consent ended at #2": the change brought the
// address in and ended nothing.
TEST(ConsentEstablishedTest, ANewAddressWithNoConsentToCarryIsNamedSo) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.AddressChanged("2012-05-10T09:00:00Z", "never.on.file@mail.example",
                   "maria.new@mail.example");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "maria.new@mail.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kConsentEstablished, "DOC-1")->message,
              HasSubstr("maria.new@mail.example (given as a new address at "
                        "#2, with no consent to carry to it)"));
}

TEST(ConsentEstablishedTest, TransferNoticeToAddressWithoutConsentFails) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.TransferNotice("2012-05-02T09:00:00Z", true, "other@mail.example");
  const std::vector<Finding> consent =
      FindingsOf(FindingsAt(b, kLater), Rule::kConsentEstablished);
  ASSERT_EQ(consent.size(), 1u);
  EXPECT_EQ(consent[0].request_id, "");
  EXPECT_EQ(consent[0].status, FindingStatus::kFail);
  EXPECT_THAT(consent[0].message, HasSubstr("transfer notice"));
}

TEST(ConsentEstablishedTest, PostalRequestIsNotJudged) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_channel(v1::Channel::POSTAL_MAIL);
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished), "NOT_APPLICABLE");
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "MISSING");
}

// ---------------------------------------------------------------------------
// REPRESENTATIVE_EMAIL_REPEATED

TEST(RepresentativeEmailRepeatedTest, PassesWhenRepeatedInMailingAddress) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            /*repeated=*/true);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRepresentativeEmailRepeated),
            "PASS");
}

TEST(RepresentativeEmailRepeatedTest,
     FailsWhenNotRepeatedButAddressStaysOnFile) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            /*repeated=*/false);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "counsel@law.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRepresentativeEmailRepeated), "FAIL");
  // Judged only here: the address is on file whatever its basis.
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-1"), "PASS");
}

// ---------------------------------------------------------------------------
// RECIPIENT_MATCHES_FILE

TEST(RecipientMatchesFileTest, FailsOnTypoWhateverTheOfficerAttested) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1", "maria.santos@mail.exmaple",
             /*matches=*/true);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "maria.santos@mail.exmaple");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRecipientMatchesFile, "DOC-1")->message,
              HasSubstr("officer's check (#3) said it matched"));
  EXPECT_THAT(FindingOf(f, Rule::kRecipientMatchesFile, "DOC-1")->positions,
              ElementsAre(3, 4));
}

// With several addresses off the file, the sentence says it of each.
TEST(RecipientMatchesFileTest, SaysOfEveryAddressItNamesThatItIsOffTheFile) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "a@mail.example")
      .add_to("b@mail.example");
  const Findings f = FindingsAt(b, kLater);
  const Finding* matches = FindingOf(f, Rule::kRecipientMatchesFile, "DOC-1");
  ASSERT_NE(matches, nullptr);
  EXPECT_THAT(
      matches->message,
      HasSubstr("was emailed to a@mail.example, b@mail.example, none of "
                "them an address on file at the send"));
}

TEST(RecipientMatchesFileTest, ComparesAddressesIgnoringCase) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "Maria.Santos@Mail.Example");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kRecipientMatchesFile, "DOC-1"),
      "PASS");
}

// An internationalized domain in its Unicode and its ASCII spelling is one
// mailbox; a different Unicode domain is not.
TEST(RecipientMatchesFileTest, ComparesAnInternationalizedDomainInEitherForm) {
  for (const char* sent_to :
       {"anna@xn--mller-kva.de", "Anna@M\u00fcller.de", "anna@m\u00fcller.de",
        "anna@mu\u0308ller.de", "ANNA@M\u00dcLLER.DE"}) {
    CaseBuilder b;
    b.Opened("2012-05-01T09:00:00Z");
    b.Consent("2012-05-01T09:05:00Z", "anna@m\u00fcller.de");
    b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z", sent_to);
    const Findings f = FindingsAt(b, kLater);
    EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-1"), "PASS")
        << sent_to;
    EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "PASS")
        << sent_to;
  }
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z", "anna@m\u00fcller.de");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "anna@m\u00f6ller.de");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kRecipientMatchesFile, "DOC-1"),
      "FAIL");
}

// Judged on the file at the send: consent ended after it, or given after
// it, changes nothing.
TEST(RecipientMatchesFileTest, IsJudgedOnTheFileAtTheSend) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Email("2012-06-01T10:02:00Z", "DOC-2", "2012-07-16T23:59:59Z",
          "maria.new@mail.example");
  b.Withdrawn("2012-06-05T09:00:00Z");
  b.Consent("2012-06-05T09:05:00Z", "maria.new@mail.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRecipientMatchesFile, "DOC-2"), "FAIL");
}

TEST(RecipientMatchesFileTest,
     RepresentativeAddressLeavesWithTheRepresentative) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.At("2012-05-01T09:01:00Z")
      .mutable_representative_appointed()
      ->set_representative_id("R-9");
  b.Consent("2012-05-01T09:05:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            true);
  b.At("2012-05-20T09:00:00Z")
      .mutable_representative_withdrawn()
      ->set_representative_id("R-9");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "counsel@law.example");
  const Findings f = FindingsAt(b, kLater);
  const Finding* matches = FindingOf(f, Rule::kRecipientMatchesFile, "DOC-1");
  ASSERT_NE(matches, nullptr);
  EXPECT_EQ(FindingStatusName(matches->status), "FAIL");
  // Where the address left the file, which the send alone does not show.
  EXPECT_THAT(matches->message,
              HasSubstr("was emailed to counsel@law.example (consent ended at "
                        "#4), not an address on file at the send"));
  EXPECT_THAT(matches->positions, ElementsAre(4, 5));
}

// ---------------------------------------------------------------------------
// RECIPIENT_VERIFIED

TEST(RecipientVerifiedTest, PassesWithMatchingCheckBeforeSend) {
  const Findings f = FindingsAt(KaurCase(), kLater);
  const Finding* verified = FindingOf(f, Rule::kRecipientVerified, "DOC-1");
  ASSERT_NE(verified, nullptr);
  EXPECT_EQ(FindingStatusName(verified->status), "PASS");
  // What the officer recorded, of the To addresses the rule judges: "the
  // officer checked every recipient" overstated both.
  EXPECT_THAT(verified->message,
              HasSubstr("the officer recorded that every address DOC-1 went to "
                        "(to) matched the address on file."));
}

TEST(RecipientVerifiedTest, WarnsWithoutCheck) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRecipientVerified, "DOC-1"),
            "WARN");
}

TEST(RecipientVerifiedTest, CheckAfterTheSendDoesNotCount) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Verified("2012-06-01T10:05:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRecipientVerified, "DOC-1"),
            "WARN");
}

// A check of another address verifies nothing of the one the request went
// to (no test said so, and counting it passed them all; found by a
// mutation).
TEST(RecipientVerifiedTest, ACheckOfAnotherAddressDoesNotCount) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1", "someone.else@mail.example",
             true);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRecipientVerified, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kRecipientVerified, "DOC-1")->message,
              HasSubstr(absl::StrCat("No check of ", fixture::kApplicant)));
}

TEST(RecipientVerifiedTest, FailsWhenCheckFoundMismatchAndSentAnyway) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1", fixture::kApplicant, false);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRecipientVerified, "DOC-1"),
            "FAIL");
}

TEST(RecipientVerifiedTest, LaterMatchingCheckCorrectsEarlierMismatch) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T09:00:00Z", "DOC-1", fixture::kApplicant, false);
  b.Verified("2012-06-01T10:00:00Z", "DOC-1", fixture::kApplicant, true);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRecipientVerified, "DOC-1"),
            "PASS");
}

// The original was sent unchecked, so the resend's PASS can come only from
// the check made after the bounce (with a check before the original's send,
// the test passed with re-verifications ignored; found by a mutation).
TEST(RecipientVerifiedTest, ResendMayRelyOnReverificationOfTheOriginal) {
  CaseBuilder c;
  c.Opened("2012-05-01T09:00:00Z");
  c.Consent("2012-05-01T09:05:00Z");
  c.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  c.Notice("2012-06-01T10:02:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  c.Verified("2012-06-02T09:00:00Z", "DOC-1");
  c.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  const Findings f = FindingsAt(c, kLater);
  EXPECT_NE(StatusOf(f, Rule::kRecipientVerified, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRecipientVerified, "DOC-2"), "PASS");
}

// The check before the original's send verified the address of that send,
// not the one after the bounce: a resend relies only on a re-verification.
TEST(RecipientVerifiedTest,
     TheOriginalsCheckBeforeItsSendDoesNotVerifyTheResend) {
  CaseBuilder c = RequestSentByTheBook();  // checked #3, sent #4
  c.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  c.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  const Findings f = FindingsAt(c, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRecipientVerified, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRecipientVerified, "DOC-2"), "WARN");
}

// ---------------------------------------------------------------------------
// REQUEST_RECORDED

TEST(RequestRecordedTest, PassesWithRecipientSendTimeAndDeadline) {
  EXPECT_EQ(
      StatusOf(FindingsAt(KaurCase(), kLater), Rule::kRequestRecorded, "DOC-1"),
      "PASS");
}

TEST(RequestRecordedTest, FailsWithoutDeadline) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .clear_deadline();
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRequestRecorded, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRequestRecorded, "DOC-1")->message,
              HasSubstr("lacks its deadline"));
}

TEST(RequestRecordedTest, FailsWithoutRecipient) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  auto& request =
      b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  request.set_channel(v1::Channel::PHONE);
  request.clear_to();
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRequestRecorded, "DOC-1"),
            "FAIL");
}

// ---------------------------------------------------------------------------
// ORGANIZATIONAL_MAILBOX

TEST(OrganizationalMailboxTest, PassesFromTheOfficeMailbox) {
  EXPECT_EQ(StatusOf(FindingsAt(KaurCase(), kLater),
                     Rule::kOrganizationalMailbox, "DOC-1"),
            "PASS");
}

TEST(OrganizationalMailboxTest, WarnsFromAPersonalMailbox) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  auto& request =
      b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  request.set_organizational_mailbox(false);
  request.set_from_mailbox("j.officer@office.example");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kOrganizationalMailbox, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kOrganizationalMailbox, "DOC-1")->message,
              HasSubstr("j.officer@office.example"));
}

// The status follows the request's own flag (domain.md), but the message
// said "sent from the organisation's monitored mailbox" of a Gmail address,
// and "not the organisation's monitored mailbox" of the very mailbox the
// case was opened with (found by an outside reading). It says where the
// case's record of the office mailbox contradicts the flag, citing it.
TEST(OrganizationalMailboxTest,
     SaysWhereTheCasesOfficeMailboxContradictsTheFlag) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_from_mailbox("officer.smith@gmail.example");
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_organizational_mailbox(false);
  const Findings f = FindingsAt(b, kLater);
  const Finding* personal = FindingOf(f, Rule::kOrganizationalMailbox, "DOC-1");
  ASSERT_NE(personal, nullptr);
  EXPECT_EQ(StatusOf(f, Rule::kOrganizationalMailbox, "DOC-1"), "PASS");
  EXPECT_EQ(personal->message,
            "DOC-1 was sent from officer.smith@gmail.example (#3), which the "
            "request records as the organisation's monitored mailbox, though "
            "the office mailbox on record is visa-office@office.example "
            "(#1).");
  EXPECT_THAT(personal->positions, ElementsAre(1, 3));
  const Finding* office = FindingOf(f, Rule::kOrganizationalMailbox, "DOC-2");
  ASSERT_NE(office, nullptr);
  EXPECT_EQ(StatusOf(f, Rule::kOrganizationalMailbox, "DOC-2"), "WARN");
  EXPECT_EQ(office->message,
            "DOC-2 was sent from visa-office@office.example (#4), the office "
            "mailbox on record (#1), but the request records it as not the "
            "organisation's monitored mailbox, so a bounce may go unseen.");
  // After a transfer, both offices' mailboxes are on record.
  CaseBuilder moved;
  moved.Opened("2012-05-01T09:00:00Z");
  moved.Consent("2012-05-01T09:05:00Z");
  moved.TransferNotice("2012-05-02T09:00:00Z");
  moved.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_from_mailbox("officer.smith@gmail.example");
  EXPECT_THAT(FindingOf(FindingsAt(moved, kLater), Rule::kOrganizationalMailbox,
                        "DOC-1")
                  ->message,
              HasSubstr("though the office mailboxes on record are "
                        "visa-office@office.example (#1) and "
                        "ottawa-cpc@office.example (#3)."));
  // Sent from the office mailbox and flagged so: as before.
  EXPECT_EQ(FindingOf(FindingsAt(KaurCase(), kLater),
                      Rule::kOrganizationalMailbox, "DOC-1")
                ->message.find("though"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// REFUSAL_WARNING_GIVEN

TEST(RefusalWarningGivenTest, PassesWithWarning) {
  EXPECT_EQ(StatusOf(FindingsAt(KaurCase(), kLater), Rule::kRefusalWarningGiven,
                     "DOC-1"),
            "PASS");
}

TEST(RefusalWarningGivenTest, WarnsWithoutWarningWhenNothingReliesOnIt) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_refusal_warning_included(false);
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kRefusalWarningGiven, "DOC-1"),
      "WARN");
}

TEST(RefusalWarningGivenTest, FailsWhenRefusalReliesOnRequestWithoutWarning) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_refusal_warning_included(false);
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalWarningGiven, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("REFUSAL_WARNING_GIVEN"));
}

// domain.md §4: a request that grounds a non-compliance note fails the rule
// without the warning, refusal or not (every FAIL above had a refusal too).
TEST(RefusalWarningGivenTest,
     FailsWhenANoteAloneReliesOnRequestWithoutWarning) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .set_refusal_warning_included(false);
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalWarningGiven, "DOC-1"), "FAIL");
  EXPECT_EQ(FindingOf(f, Rule::kRefusalWarningGiven, "DOC-1")->message,
            "DOC-1 (#4) did not warn that failing to provide the documents "
            "could lead to refusal, yet it grounds the non-compliance note or "
            "refusal #5.");
}

// A refusal on another ground that names the request does not rest on the
// warning (found by an audit: INELIGIBLE naming DOC-1 failed it).
TEST(RefusalWarningGivenTest, ARefusalOnAnotherGroundGroundsNothing) {
  CaseBuilder b = RequestSentByTheBook();
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_refusal_warning_included(false);
  b.Decided("2012-07-21T09:00:00Z", v1::Decision::REFUSED,
            v1::DecisionGround::INELIGIBLE, "DOC-2");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kRefusalWarningGiven, "DOC-2"),
      "WARN");
}

// ---------------------------------------------------------------------------
// DEADLINE_REASONABLE

TEST(DeadlineReasonableTest, PassesAtExactlyThePolicyMinimum) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2011-02-01T10:00:00Z", "DOC-1", "2011-03-03T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeadlineReasonable, "DOC-1"),
            "PASS");
  // Calendar days, not whole days elapsed: late on the 1st to early on the
  // 3rd of March is 30 days, though 29 days and 2 hours pass (the example
  // above gave 30 either way; found by a mutation).
  b.Email("2011-02-01T23:00:00Z", "DOC-2", "2011-03-03T01:00:00Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeadlineReasonable, "DOC-2"),
            "PASS");
}

TEST(DeadlineReasonableTest, WarnsBelowTheDefaultMinimum) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-06-15T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeadlineReasonable, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kDeadlineReasonable, "DOC-1")->message,
              HasSubstr("gave 14 days"));
}

TEST(DeadlineReasonableTest, CountryMinimumOfThePolicyApplies) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z", "SY");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");  // 45 d
  DeadlinePolicy policy;
  policy.countries["SY"] = 60;
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater, AllStored(), policy),
                     Rule::kDeadlineReasonable, "DOC-1"),
            "WARN");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeadlineReasonable, "DOC-1"),
            "PASS");
}

TEST(DeadlineReasonableTest, ExtensionCanBringTheDeadlineToTheMinimum) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-06-15T23:59:59Z");
  b.Extended("2012-06-05T10:00:00Z", "DOC-1", "2012-07-15T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeadlineReasonable, "DOC-1"),
            "PASS");
}

// An extension to an earlier date shortens nothing: the finding said
// "after extension" and cited it, though the original deadline stood (found
// by an audit).
TEST(DeadlineReasonableTest, AnExtensionThatMovedNothingIsNotNamed) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-20T23:59:59Z");
  b.Extended("2012-06-05T10:00:00Z", "DOC-1", "2012-07-01T23:59:59Z");
  const Findings earlier = FindingsAt(b, kLater);
  const Finding* f = FindingOf(earlier, Rule::kDeadlineReasonable, "DOC-1");
  ASSERT_NE(f, nullptr);
  EXPECT_THAT(f->message, HasSubstr("deadline 2012-07-20T23:59:59Z)"));
  EXPECT_THAT(f->message, Not(HasSubstr("after extension")));
  EXPECT_EQ(f->positions.size(), 2u) << "the send and the opening only";

  b.Extended("2012-06-06T10:00:00Z", "DOC-1", "2012-08-01T23:59:59Z");
  const Findings later = FindingsAt(b, kLater);
  f = FindingOf(later, Rule::kDeadlineReasonable, "DOC-1");
  ASSERT_NE(f, nullptr);
  EXPECT_THAT(f->message,
              HasSubstr("deadline 2012-08-01T23:59:59Z after extension)"));
  EXPECT_EQ(f->positions.size(), 4u);
}

TEST(DeadlineReasonableTest, RequestWithoutDeadlineIsNotJudged) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-06-15T23:59:59Z")
      .clear_deadline();
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeadlineReasonable),
            "NOT_APPLICABLE");
}

// ---------------------------------------------------------------------------
// BOUNCE_FOLLOWED_UP (Asoyan, 2015 FC 206: a known problem must be followed)

// Consent, DOC-1 sent and bounced.
CaseBuilder Bounced() {
  CaseBuilder b = RequestSentByTheBook();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  return b;
}

TEST(BounceFollowedUpTest, PassesWhenReverifiedResentAndAlternativeConsidered) {
  CaseBuilder b = Bounced();
  b.Verified("2012-06-02T09:00:00Z", "DOC-2");
  b.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Alternative("2012-06-02T09:05:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-1"), "PASS");
  EXPECT_THAT(FindingOf(f, Rule::kBounceFollowedUp, "DOC-1")->positions,
              ElementsAre(4, 5, 6, 7, 8));
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-2"), "MISSING");
}

// Only a FAILED notice is a bounce: a delayed one is a warning sign
// (DELIVERY_WARNING_HEEDED), not a bounce to follow up.
TEST(BounceFollowedUpTest, ADelayedNoticeIsNoBounce) {
  CaseBuilder b = RequestSentByTheBook();
  b.Notice("2012-06-02T10:03:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kBounceFollowedUp),
            "NOT_APPLICABLE");
}

TEST(BounceFollowedUpTest, WarnsWhenOnlyResent) {
  CaseBuilder b = Bounced();
  b.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kBounceFollowedUp, "DOC-1")->message,
              HasSubstr("re-verification of the address, consideration of "
                        "another channel"));
}

TEST(BounceFollowedUpTest, ResendToAddressNotOnFileDoesNotResolve) {
  CaseBuilder b = Bounced();
  b.Verified("2012-06-02T09:00:00Z", "DOC-1");
  b.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z",
          "guess@mail.example")
      .set_resend_of("DOC-1");
  b.Alternative("2012-06-02T09:05:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kBounceFollowedUp, "DOC-1"),
            "WARN");
}

// A resend by post goes to no address on file: it is not the email resend
// the bounce asks for.
TEST(BounceFollowedUpTest, AResendWithoutARecipientDoesNotResolve) {
  CaseBuilder b = Bounced();
  b.Verified("2012-06-02T09:00:00Z", "DOC-1");
  auto& resend =
      b.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z");
  resend.set_resend_of("DOC-1");
  resend.set_channel(v1::Channel::POSTAL_MAIL);
  resend.clear_to();
  b.Alternative("2012-06-02T09:05:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-1"), "WARN");
  EXPECT_EQ(FindingOf(f, Rule::kBounceFollowedUp, "DOC-1")->message,
            "The bounce #5 of DOC-1 lacks a resend to an address on file.");
}

// A check that found the address not matching the file verified nothing:
// the bounce stays unresolved (no test said so, and counting any check
// passed them all; found by a mutation).
TEST(BounceFollowedUpTest, ACheckThatFoundNoMatchDoesNotResolve) {
  CaseBuilder b = Bounced();
  b.Verified("2012-06-02T09:00:00Z", "DOC-1", fixture::kApplicant, false);
  b.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Alternative("2012-06-02T09:05:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kBounceFollowedUp, "DOC-1")->message,
              HasSubstr("re-verification of the address"));
}

TEST(BounceFollowedUpTest, FailsWhenRefusalReliesOnUnresolvedBounce) {
  CaseBuilder b = Bounced();
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

TEST(BounceFollowedUpTest, StepsAfterTheNoteDoNotRescueIt) {
  CaseBuilder b = Bounced();
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Verified("2012-07-21T09:00:00Z", "DOC-2");
  b.Email("2012-07-21T09:01:00Z", "DOC-2", "2012-08-30T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Alternative("2012-07-21T09:05:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kBounceFollowedUp, "DOC-1"),
            "FAIL");
}

// The bulletin asks three steps after a bounce; a resend is one. A refusal
// on the resend rests on the other two as much as one on the original:
// before, it passed while the original's bounce lacked them (found by an
// audit against the procedure).
TEST(BounceFollowedUpTest, ARefusalOnTheResendReliesOnTheOriginalsBounce) {
  CaseBuilder b = Bounced();
  b.Verified("2012-06-02T09:00:00Z", "DOC-2");
  b.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  CaseBuilder heeded = b;
  heeded.Alternative("2012-06-02T09:05:00Z", "DOC-1");
  for (CaseBuilder* c : {&b, &heeded}) {
    c->Note("2012-07-20T09:00:00Z", "DOC-2");
    c->Refused("2012-07-21T09:00:00Z", "DOC-2");
  }
  const Findings f = FindingsAt(b, kLater);
  const Finding* bounce = FindingOf(f, Rule::kBounceFollowedUp, "DOC-1");
  ASSERT_NE(bounce, nullptr);
  EXPECT_EQ(FindingStatusName(bounce->status), "FAIL");
  EXPECT_THAT(bounce->message,
              HasSubstr("The note or refusal #8 (naming DOC-2, a resend of "
                        "DOC-1) relies on DOC-1, whose bounce #5 was not "
                        "resolved by then (missing: consideration of another "
                        "channel)."));
  const Finding* refusal = FindingOf(f, Rule::kRefusalSupported, "DOC-2");
  ASSERT_NE(refusal, nullptr);
  EXPECT_EQ(FindingStatusName(refusal->status), "FAIL");
  EXPECT_THAT(refusal->message,
              HasSubstr("BOUNCE_FOLLOWED_UP of DOC-1, which DOC-2 resends"));
  const Findings h = FindingsAt(heeded, kLater);
  EXPECT_EQ(StatusOf(h, Rule::kBounceFollowedUp, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(h, Rule::kRefusalSupported, "DOC-2"), "PASS");
}

// A bounce that comes after the refusal relying on the request: the email
// the refusal rests on did not arrive. Before, only a WARN, while a relayed
// notice at the same place failed (found by an audit against the procedure).
TEST(BounceFollowedUpTest, ABounceAfterTheRefusalFailsUntilFollowedUp) {
  CaseBuilder b = KaurCase();
  b.Notice("2012-08-01T09:00:00Z", "DOC-1", v1::DeliveryAction::FAILED);
  Findings f = FindingsAt(b, kLater);
  const Finding* bounce = FindingOf(f, Rule::kBounceFollowedUp, "DOC-1");
  ASSERT_NE(bounce, nullptr);
  EXPECT_EQ(FindingStatusName(bounce->status), "FAIL");
  // "which relies on it" read as if the refusal relied on the later bounce.
  EXPECT_THAT(bounce->message,
              HasSubstr("came after the refusal #6, which relies on DOC-1, and "
                        "was not followed up"));
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  b.Verified("2012-08-02T09:00:00Z", "DOC-2");
  b.Email("2012-08-02T09:01:00Z", "DOC-2", "2012-09-17T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Alternative("2012-08-02T09:05:00Z", "DOC-1");
  f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-1"), "PASS");
}

// Only a refusal that relies on the request makes a later bounce of it a
// FAIL: a refusal on another request does not rest on this email.
TEST(BounceFollowedUpTest, ABounceAfterARefusalOnAnotherRequestOnlyWarns) {
  CaseBuilder b = KaurCase();  // DOC-1 #4, refused #6
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-08-30T23:59:59Z");       // #7
  b.Notice("2012-08-01T09:00:00Z", "DOC-2", v1::DeliveryAction::FAILED);  // #8
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kBounceFollowedUp, "DOC-2"), "WARN");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS");
}

// The finding is the worst of its bounces: a later bounce that only warns
// does not lower the FAIL of one a note relied on unresolved.
TEST(BounceFollowedUpTest, ALaterBounceDoesNotLowerAFail) {
  CaseBuilder b = Bounced();                                              // #5
  b.Note("2012-07-20T09:00:00Z", "DOC-1");                                // #6
  b.Notice("2012-07-25T09:00:00Z", "DOC-1", v1::DeliveryAction::FAILED);  // #7
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kBounceFollowedUp, "DOC-1"),
            "FAIL");
}

// ---------------------------------------------------------------------------
// NON_COMPLIANCE_AFTER_DEADLINE

TEST(NonComplianceAfterDeadlineTest, PassesAfterTheDeadline) {
  EXPECT_EQ(StatusOf(FindingsAt(KaurCase(), kLater),
                     Rule::kNonComplianceAfterDeadline, "DOC-1"),
            "PASS");
}

// DOC-1, due 2012-07-16T23:59:59Z, with a non-compliance note at `note_at`.
CaseBuilder NotedAt(std::string_view note_at) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Note(note_at, "DOC-1");
  return b;
}

TEST(NonComplianceAfterDeadlineTest, CitesTheExtensionThatSetTheDeadline) {
  // The deadline a finding quotes is supported by the event that set it
  // (found by an audit: the extension was left out).
  CaseBuilder b = RequestSentByTheBook();                               // #4
  b.Extended("2012-07-01T09:00:00Z", "DOC-1", "2012-08-16T23:59:59Z");  // #5
  b.Note("2012-07-20T09:00:00Z", "DOC-1");                              // #6
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");                           // #7
  const Findings f = FindingsAt(b, kLater);
  const Finding* note =
      FindingOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1");
  ASSERT_NE(note, nullptr);
  EXPECT_EQ(FindingStatusName(note->status), "FAIL");
  EXPECT_THAT(note->message, HasSubstr("2012-08-16T23:59:59Z"));
  EXPECT_THAT(note->positions, ElementsAre(4, 5, 6));
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->positions,
              ElementsAre(4, 5, 6, 7));
}

TEST(NonComplianceAfterDeadlineTest, FailsBeforeTheDeadline) {
  const Findings f = FindingsAt(NotedAt("2012-07-10T09:00:00Z"), kLater);
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1")->message,
              HasSubstr("before the deadline 2012-07-16T23:59:59Z"));
}

// A note dated before its request's send, seen as of a time between them:
// the note rules said "No non-compliance note was recorded" beside it
// (found by a domain audit). It names a request not sent.
TEST(NonComplianceAfterDeadlineTest, FailsForANoteOnARequestNotYetSent) {
  const CaseBuilder b = NotedAt("2012-05-20T09:00:00Z");
  const Findings f =
      FindingsFor(b.model(), fixture::AsOf("2012-05-25T00:00:00Z"),
                  DefaultPolicy(), AllStored());
  const Finding* note =
      FindingOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1");
  ASSERT_NE(note, nullptr);
  EXPECT_EQ(FindingStatusName(note->status), "FAIL");
  EXPECT_EQ(note->message,
            "The note #4 names request \"DOC-1\", which was not sent.");
  EXPECT_THAT(note->positions, ElementsAre(4));
  EXPECT_EQ(StatusOf(f, Rule::kStandardNoteUsed, "DOC-1"), "PASS");
  // With the send, the note is judged against its deadline.
  EXPECT_THAT(FindingOf(FindingsAt(b, kLater),
                        Rule::kNonComplianceAfterDeadline, "DOC-1")
                  ->message,
              HasSubstr("before the deadline 2012-07-16T23:59:59Z"));
}

// An "extension" to an earlier date does not shorten the time the applicant
// was given: before, it moved the deadline to 2012-06-05 and a refusal seven
// weeks before the deadline of the email passed (found by an audit against
// the procedure).
TEST(NonComplianceAfterDeadlineTest,
     AnExtensionToAnEarlierDateShortensNothing) {
  CaseBuilder b = RequestSentByTheBook();
  b.Extended("2012-06-02T09:00:00Z", "DOC-1", "2012-06-05T23:59:59Z");
  b.Note("2012-06-10T09:00:00Z", "DOC-1");
  b.Refused("2012-06-11T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("the deadline 2012-07-16T23:59:59Z had not passed"));
}

// The deadline's own instant is still the applicant's: the deadline is
// PENDING then, documents arriving then are on time, and a refusal then is
// premature; so is a note.
TEST(NonComplianceAfterDeadlineTest, FailsAtTheDeadlinesInstant) {
  const Findings at = FindingsAt(NotedAt("2012-07-16T23:59:59Z"), kLater);
  EXPECT_EQ(StatusOf(at, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
  EXPECT_THAT(
      FindingOf(at, Rule::kNonComplianceAfterDeadline, "DOC-1")->message,
      HasSubstr("was written at 2012-07-16T23:59:59Z, at the deadline "
                "2012-07-16T23:59:59Z, which had not passed."));
  EXPECT_EQ(StatusOf(FindingsAt(NotedAt("2012-07-17T00:00:00Z"), kLater),
                     Rule::kNonComplianceAfterDeadline, "DOC-1"),
            "PASS");
}

// Judged on the deadline in force when the note was written: an extension
// granted after it does not make it premature.
TEST(NonComplianceAfterDeadlineTest,
     AnExtensionAfterTheNoteDoesNotMakeItEarly) {
  CaseBuilder b = NotedAt("2012-07-20T09:00:00Z");
  b.Extended("2012-07-25T09:00:00Z", "DOC-1", "2012-08-31T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kNonComplianceAfterDeadline,
                     "DOC-1"),
            "PASS");
}

TEST(NonComplianceAfterDeadlineTest, FailsBeforeAnExtendedDeadline) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Extended("2012-07-10T09:00:00Z", "DOC-1", "2012-08-16T23:59:59Z");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kNonComplianceAfterDeadline,
                     "DOC-1"),
            "FAIL");
}

TEST(NonComplianceAfterDeadlineTest, FailsWhenTheRequestSetNoDeadline) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .clear_deadline();
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
  EXPECT_EQ(FindingOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1")->message,
            "The note #4 on DOC-1 was written though the request set no "
            "deadline.");
}

TEST(NonComplianceAfterDeadlineTest, FailsAfterCompleteDocumentsArrived) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Received("2012-07-18T09:00:00Z", "DOC-1");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1")->message,
              HasSubstr("after complete documents arrived (#4)"));
}

TEST(NonComplianceAfterDeadlineTest, PartialDocumentsDoNotPreventTheNote) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Received("2012-07-10T09:00:00Z", "DOC-1", /*complete=*/false);
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kNonComplianceAfterDeadline,
                     "DOC-1"),
            "PASS");
}

TEST(NonComplianceAfterDeadlineTest, DocumentsDatedBeforeTheSendDoNotCount) {
  // Business time: documents received before DOC-1 was sent cannot answer it.
  CaseBuilder b = KaurCase();
  b.Received("2012-05-20T09:00:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kNonComplianceAfterDeadline,
                     "DOC-1"),
            "PASS");
}

// ---------------------------------------------------------------------------
// STANDARD_NOTE_USED

TEST(StandardNoteUsedTest, PassesWithTheEnglishText) {
  EXPECT_EQ(StatusOf(FindingsAt(KaurCase(), kLater), Rule::kStandardNoteUsed,
                     "DOC-1"),
            "PASS");
}

TEST(StandardNoteUsedTest, PassesWithTheFrenchTextInGuillemets) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  // As the bulletin prints it: guillemets, no-break spaces, ’.
  b.Note("2012-07-20T09:00:00Z", "DOC-1",
         "\u00ab\u00a0Un courriel a \u00e9t\u00e9 envoy\u00e9 au demandeur "
         "dans le but d\u2019obtenir des documents suppl\u00e9mentaires. Le "
         "demandeur a \u00e9galement \u00e9t\u00e9 inform\u00e9 que le "
         "d\u00e9faut de fournir les documents requis pouvait entra\u00eener "
         "le rejet de sa demande. Le demandeur a omis de se conformer \u00e0 "
         "la demande.\u00a0\u00bb");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kStandardNoteUsed, "DOC-1"), "PASS");
  EXPECT_THAT(FindingOf(f, Rule::kStandardNoteUsed, "DOC-1")->message,
              HasSubstr("in French"));
}

TEST(StandardNoteUsedTest, WarnsWhenTheNoteIsFreeText) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Note("2012-07-20T09:00:00Z", "DOC-1", "No docs, refuse.");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kStandardNoteUsed, "DOC-1"),
            "WARN");
}

// Step 4 has the officer enter the standard note when no reply came; a
// refusal for non-compliance without one passed every rule, the note rules
// saying only that no note was recorded (found by a domain audit). A note
// on a resend of the request counts.
TEST(StandardNoteUsedTest, WarnsWhenARefusalHasNoNoteBeforeIt) {
  CaseBuilder b = RequestSentByTheBook();      // DOC-1 #4
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");  // #5
  Findings f = FindingsAt(b, kLater);
  const Finding* warned = FindingOf(f, Rule::kStandardNoteUsed, "DOC-1");
  ASSERT_NE(warned, nullptr);
  EXPECT_EQ(FindingStatusName(warned->status), "WARN");
  EXPECT_EQ(warned->message,
            "The refusal #5 for non-compliance with DOC-1 was made with no "
            "non-compliance note before it (step 4: the officer enters the "
            "standard note when no reply came by the deadline).");
  EXPECT_THAT(warned->positions, ElementsAre(5));
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS")
      << "a warning does not undermine the refusal";

  // A note after the refusal does not make it one made on a note.
  CaseBuilder late = b;
  late.Note("2012-07-22T09:00:00Z", "DOC-1");
  f = FindingsAt(late, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kStandardNoteUsed, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kStandardNoteUsed, "DOC-1")->message,
              HasSubstr("is the standard text (#6 in English). The refusal "
                        "#5 for non-compliance"));

  CaseBuilder resent = RequestSentByTheBook();
  resent.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  resent.Note("2012-07-20T09:00:00Z", "DOC-2");
  resent.Refused("2012-07-21T09:00:00Z", "DOC-1");
  f = FindingsAt(resent, kLater);
  std::vector<std::string> judged;
  for (const Finding& x : FindingsOf(f, Rule::kStandardNoteUsed)) {
    judged.push_back(x.request_id + " " +
                     std::string(FindingStatusName(x.status)));
  }
  EXPECT_THAT(judged, ElementsAre("DOC-2 PASS"));
}

// Step 4's note precedes a refusal for non-compliance only: a refusal on
// another ground naming the request needs none.
TEST(StandardNoteUsedTest, ARefusalOnAnotherGroundNeedsNoNote) {
  CaseBuilder b = RequestSentByTheBook();
  b.Decided("2012-07-21T09:00:00Z", v1::Decision::REFUSED,
            v1::DecisionGround::INELIGIBLE, "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kStandardNoteUsed),
            "NOT_APPLICABLE");
}

// ---------------------------------------------------------------------------
// REFUSAL_SUPPORTED

TEST(RefusalSupportedTest, FailsWhenDecidedBeforeTheDeadlinePassed) {
  CaseBuilder b = RequestSentByTheBook();
  b.Refused("2012-07-10T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("had not passed"));
}

// The deadline's own instant is still the applicant's, for the refusal as
// for the note (NonComplianceAfterDeadlineTest.FailsAtTheDeadlinesInstant).
TEST(RefusalSupportedTest, FailsWhenDecidedAtTheDeadlinesInstant) {
  CaseBuilder b = RequestSentByTheBook();
  b.Refused("2012-07-16T23:59:59Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
            "The refusal for non-compliance (#5) with DOC-1 is not supported: "
            "the deadline 2012-07-16T23:59:59Z had not passed when the case "
            "was decided (2012-07-16T23:59:59Z).");
}

// Each refusal is judged on the case as it stood while it did: a
// reconsideration that reopens the case ends that, and what follows belongs
// to the next decision (found by an audit: both refusals read FAIL below).
// Reopened on a ground other than non-receipt, which would make the second
// refusals fail DELIVERY_WARNING_HEEDED without a resend.
TEST(RefusalSupportedTest, EachRefusalIsJudgedOnTheCaseAsItStood) {
  constexpr auto kOther = v1::ReconsiderationGround::OTHER;
  {
    // A refusal made by the book, reopened; then an extension request left
    // undecided and a second refusal.
    CaseBuilder b = KaurCase();  // refusal #6
    b.ReconsiderationRequested("2012-08-01T09:00:00Z", kOther);
    b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                             v1::ReconsiderationOutcome::REOPENED);
    b.ExtensionRequested("2012-08-12T09:00:00Z", "DOC-1",
                         "2012-10-01T23:59:59Z");  // #9
    b.Refused("2012-08-20T09:00:00Z", "DOC-1");    // #10
    const std::vector<Finding> f =
        FindingsOf(FindingsAt(b, kLater), Rule::kRefusalSupported);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(FindingStatusName(f[0].status), "PASS") << f[0].message;
    EXPECT_THAT(f[0].message, HasSubstr("(#6)"));
    EXPECT_EQ(FindingStatusName(f[1].status), "FAIL") << f[1].message;
    EXPECT_THAT(f[1].message, HasSubstr("(#10) with DOC-1 is not supported: "
                                        "EXTENSION_REQUEST_DECIDED"));
  }
  {
    // A premature note and refusal, reopened; the deadline extended, a note
    // after it and a second refusal, which the premature note does not
    // undermine.
    CaseBuilder b = RequestSentByTheBook();
    b.Note("2012-07-01T09:00:00Z", "DOC-1");     // #5, premature
    b.Refused("2012-07-02T09:00:00Z", "DOC-1");  // #6
    b.ReconsiderationRequested("2012-07-10T09:00:00Z", kOther);
    b.ReconsiderationDecided("2012-07-12T09:00:00Z",
                             v1::ReconsiderationOutcome::REOPENED);
    b.Extended("2012-07-12T10:00:00Z", "DOC-1", "2012-08-31T23:59:59Z");
    b.Note("2012-09-02T09:00:00Z", "DOC-1");     // #10
    b.Refused("2012-09-03T09:00:00Z", "DOC-1");  // #11
    const Findings all = FindingsAt(b, kLater);
    const std::vector<Finding> f = FindingsOf(all, Rule::kRefusalSupported);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(FindingStatusName(f[0].status), "FAIL") << f[0].message;
    EXPECT_THAT(f[0].message, HasSubstr("NON_COMPLIANCE_AFTER_DEADLINE"));
    EXPECT_EQ(FindingStatusName(f[1].status), "PASS") << f[1].message;
    // The premature note is still a FAIL of its own rule.
    EXPECT_EQ(StatusOf(all, Rule::kNonComplianceAfterDeadline, "DOC-1"),
              "FAIL");
  }
}

TEST(RefusalSupportedTest, FailsWhenARuleItRestsOnFails) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("CONSENT_ESTABLISHED; RECIPIENT_MATCHES_FILE"));
}

// Sent though the officer's own check found the address did not match:
// the refusal rests on RECIPIENT_VERIFIED alone.
TEST(RefusalSupportedTest, FailsWhenTheCheckFoundAMismatch) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1", fixture::kApplicant, false);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
            "The refusal for non-compliance (#6) with DOC-1 is not supported: "
            "RECIPIENT_VERIFIED.");
}

// A request with no recipient on record (here by phone): the refusal rests
// on REQUEST_RECORDED alone.
TEST(RefusalSupportedTest, FailsWhenTheRequestLacksItsRecipient) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  auto& request =
      b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  request.set_channel(v1::Channel::PHONE);
  request.clear_to();
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
            "The refusal for non-compliance (#4) with DOC-1 is not supported: "
            "REQUEST_RECORDED.");
}

TEST(RefusalSupportedTest, WarningsElsewhereDoNotUndermineIt) {
  CaseBuilder b = KaurCase();
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-06-10T23:59:59Z")
      .set_organizational_mailbox(false);
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kOrganizationalMailbox, "DOC-2"), "WARN");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS");
}

// « si le demandeur omet de fournir les documents »: an applicant who sent
// them did not fail to. Before, with no non-compliance note, nothing looked
// at the documents and the refusal passed.
TEST(RefusalSupportedTest, FailsWhenCompleteDocumentsArrivedBeforeTheDecision) {
  CaseBuilder b = RequestSentByTheBook();
  b.Received("2012-07-01T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("complete documents arrived (#5) before the decision"));
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->positions,
              ElementsAre(4, 5, 6));
}

// Documents that came only after the note and the refusal do not undo them.
TEST(RefusalSupportedTest, DocumentsAfterTheDecisionDoNotUndermineIt) {
  CaseBuilder b = KaurCase();
  b.Received("2012-08-01T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS");
}

// Judged on the deadline in force at the decision: an extension granted
// after it does not make it premature.
TEST(RefusalSupportedTest, AnExtensionAfterTheDecisionDoesNotUndermineIt) {
  CaseBuilder b = KaurCase();
  b.Extended("2012-07-25T09:00:00Z", "DOC-1", "2012-08-31T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRefusalSupported, "DOC-1"),
            "PASS");
}

TEST(RefusalSupportedTest, PartialDocumentsDoNotUndermineIt) {
  CaseBuilder b = KaurCase();
  b.Received("2012-07-01T09:00:00Z", "DOC-1", /*complete=*/false);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRefusalSupported, "DOC-1"),
            "PASS");
}

// A case whose DOC-1 was resent as DOC-2 on 1 July with a deadline of
// `resend_deadline`, and refused on 21 July naming DOC-1.
// DOC-1 emailed on 1 June, due 16 July, and resent as DOC-2 on 1 July with
// a deadline of `resend_deadline`.
CaseBuilder Resent(std::string_view resend_deadline = "2012-07-10T23:59:59Z") {
  CaseBuilder b = RequestSentByTheBook();
  b.Verified("2012-07-01T10:00:00Z", "DOC-2");
  b.Email("2012-07-01T10:01:00Z", "DOC-2", resend_deadline)
      .set_resend_of("DOC-1");
  return b;
}

CaseBuilder ResentThenRefused(std::string_view resend_deadline,
                              bool documents_for_the_resend) {
  CaseBuilder b = Resent(resend_deadline);
  if (documents_for_the_resend) b.Received("2012-07-05T09:00:00Z", "DOC-2");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  return b;
}

// A resend is the same request sent again: the refusal of the original
// answers for the resend's deadline and documents too.
TEST(RefusalSupportedTest, FailsWhenTheResendsDeadlineHadNotPassed) {
  const Findings f =
      FindingsAt(ResentThenRefused("2012-08-30T23:59:59Z", false), kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("the deadline 2012-08-30T23:59:59Z of its resend DOC-2 "
                        "had not passed"));
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
  EXPECT_THAT(
      FindingOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1")->message,
      HasSubstr(
          "before the deadline 2012-08-30T23:59:59Z of its resend DOC-2"));
}

TEST(RefusalSupportedTest, FailsWhenTheResendWasAnswered) {
  const Findings f =
      FindingsAt(ResentThenRefused("2012-07-10T23:59:59Z", true), kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("complete documents arrived (#7) for its resend DOC-2 "
                        "before the decision"));
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "FAIL");
}

// DOC-1 resent as DOC-2 on 1 July (deadline 10 July), a note and a refusal
// naming the resend; complete documents came on 5 July for `answered`.
CaseBuilder ResendRefusedAfterAnAnswerTo(const std::string& answered) {
  CaseBuilder b = Resent();
  b.Email("2012-07-02T10:01:00Z", "DOC-3", "2012-07-10T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Received("2012-07-05T09:00:00Z", answered);
  b.Note("2012-07-20T09:00:00Z", "DOC-2");
  b.Refused("2012-07-21T09:00:00Z", "DOC-2");
  return b;
}

// Documents that answer an earlier sending of the request (the original, or
// another resend of it) answer the request: the note and the refusal on the
// resend fail, though the original's deadline no longer governs.
TEST(RefusalSupportedTest, FailsWhenAnEarlierSendingWasAnswered) {
  const Findings original =
      FindingsAt(ResendRefusedAfterAnAnswerTo("DOC-1"), kLater);
  EXPECT_EQ(StatusOf(original, Rule::kNonComplianceAfterDeadline, "DOC-2"),
            "FAIL");
  EXPECT_THAT(
      FindingOf(original, Rule::kNonComplianceAfterDeadline, "DOC-2")->message,
      HasSubstr("The note #9 on DOC-2 was written after complete documents "
                "arrived (#8) for DOC-1, which DOC-2 resends."));
  EXPECT_EQ(StatusOf(original, Rule::kRefusalSupported, "DOC-2"), "FAIL");
  EXPECT_THAT(
      FindingOf(original, Rule::kRefusalSupported, "DOC-2")->message,
      HasSubstr("complete documents arrived (#8) for DOC-1, which DOC-2 "
                "resends, before the decision"));
  EXPECT_THAT(FindingOf(original, Rule::kRefusalSupported, "DOC-2")->positions,
              ::testing::Contains(8));

  const Findings sibling =
      FindingsAt(ResendRefusedAfterAnAnswerTo("DOC-3"), kLater);
  EXPECT_EQ(StatusOf(sibling, Rule::kRefusalSupported, "DOC-2"), "FAIL");
  EXPECT_THAT(FindingOf(sibling, Rule::kRefusalSupported, "DOC-2")->message,
              HasSubstr("complete documents arrived (#8) for DOC-3, another "
                        "sending of the same request, before the decision"));

  // The resend answered itself, as before.
  const Findings own =
      FindingsAt(ResendRefusedAfterAnAnswerTo("DOC-2"), kLater);
  EXPECT_EQ(StatusOf(own, Rule::kRefusalSupported, "DOC-2"), "FAIL");
}

// A note or refusal naming a request relies on its resends sent before it
// too (the resend may be the only email that reached the applicant): a
// resend without the warning, or whose bounce went unanswered, fails the
// rule for the resend and so the refusal. A resend sent after the note
// grounds nothing.
TEST(RefusalSupportedTest, ReliesOnTheResendsItAnswersFor) {
  CaseBuilder unwarned = Bounced();
  unwarned.Verified("2012-06-02T09:00:00Z", "DOC-2");
  v1::DocumentRequestSent& unwarned_resend =
      unwarned.Email("2012-06-02T09:01:00Z", "DOC-2", "2012-07-17T23:59:59Z");
  unwarned_resend.set_resend_of("DOC-1");
  unwarned_resend.set_refusal_warning_included(false);
  unwarned.Alternative("2012-06-02T09:05:00Z", "DOC-1");
  unwarned.Note("2012-07-20T09:00:00Z", "DOC-1");
  unwarned.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings a = FindingsAt(unwarned, kLater);
  EXPECT_EQ(StatusOf(a, Rule::kBounceFollowedUp, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(a, Rule::kRefusalWarningGiven, "DOC-2"), "FAIL");
  EXPECT_THAT(FindingOf(a, Rule::kRefusalWarningGiven, "DOC-2")->message,
              HasSubstr("grounds the non-compliance note or refusal #9, #10 "
                        "(naming DOC-1, which DOC-2 resends)."));
  EXPECT_EQ(StatusOf(a, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(a, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("is not supported: REFUSAL_WARNING_GIVEN of its resend "
                        "DOC-2."));

  CaseBuilder bounced = Resent();
  bounced.Notice("2012-07-01T10:03:00Z", "DOC-2", v1::DeliveryAction::FAILED);
  bounced.Note("2012-07-20T09:00:00Z", "DOC-1");
  bounced.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings c = FindingsAt(bounced, kLater);
  EXPECT_EQ(StatusOf(c, Rule::kBounceFollowedUp, "DOC-2"), "FAIL");
  EXPECT_THAT(FindingOf(c, Rule::kBounceFollowedUp, "DOC-2")->message,
              HasSubstr("The note or refusal #8 (naming DOC-1, which DOC-2 "
                        "resends) relies on DOC-2, whose bounce #7"));
  EXPECT_EQ(StatusOf(c, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_THAT(FindingOf(c, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("BOUNCE_FOLLOWED_UP of its resend DOC-2"));

  CaseBuilder late;
  late.Opened("2012-05-01T09:00:00Z");
  late.Consent("2012-05-01T09:05:00Z");
  late.Verified("2012-06-01T10:00:00Z", "DOC-1");
  late.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  late.Note("2012-07-20T09:00:00Z", "DOC-1");
  late.Verified("2012-07-25T10:00:00Z", "DOC-2");
  v1::DocumentRequestSent& late_resend =
      late.Email("2012-07-25T10:01:00Z", "DOC-2", "2012-08-30T23:59:59Z");
  late_resend.set_resend_of("DOC-1");
  late_resend.set_refusal_warning_included(false);
  EXPECT_EQ(
      StatusOf(FindingsAt(late, kLater), Rule::kRefusalWarningGiven, "DOC-2"),
      "WARN");
}

// A failure of the request the refused one resends that the refusal has
// no part in (an email without consent, corrected by the resend) does not
// undermine it.
TEST(RefusalSupportedTest, AnEarlierSendingsOwnFailureDoesNotUndermineIt) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z",
          "maria.santos@mail.exmaple");
  b.Verified("2012-06-02T10:00:00Z", "DOC-2");
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-07-17T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Note("2012-07-20T09:00:00Z", "DOC-2");
  b.Refused("2012-07-21T09:00:00Z", "DOC-2");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kConsentEstablished, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-2"), "PASS");
}

TEST(RefusalSupportedTest, PassesWhenTheResendWentUnansweredPastItsDeadline) {
  const Findings f =
      FindingsAt(ResentThenRefused("2012-07-10T23:59:59Z", false), kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS");
  EXPECT_THAT(FindingOf(f, Rule::kRefusalSupported, "DOC-1")->message,
              HasSubstr("its deadline 2012-07-16T23:59:59Z and "
                        "2012-07-10T23:59:59Z of its resend DOC-2 had passed"));
  EXPECT_EQ(StatusOf(f, Rule::kNonComplianceAfterDeadline, "DOC-1"), "PASS");
}

TEST(RefusalSupportedTest, OtherDecisionsAreNotJudged) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Decided("2012-06-01T09:00:00Z", v1::Decision::REFUSED,
            v1::DecisionGround::INADMISSIBLE);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRefusalSupported),
            "NOT_APPLICABLE");
}

// ---------------------------------------------------------------------------
// TRANSFER_NOTICE_GIVEN

TEST(TransferNoticeGivenTest, FailsWithoutNotice) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Transferred("2012-05-03T09:00:00Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kTransferNoticeGiven),
            "FAIL");
}

TEST(TransferNoticeGivenTest, FailsWhenNewOfficeNotInCopy) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.TransferNotice("2012-05-02T09:00:00Z", /*copy_new_office=*/false);
  b.Transferred("2012-05-03T09:00:00Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kTransferNoticeGiven), "FAIL");
  EXPECT_THAT(FindingOf(f, Rule::kTransferNoticeGiven)->message,
              HasSubstr("did not copy the new office's mailbox"));
}

TEST(TransferNoticeGivenTest, FailsWhenTheNoticeWentToAnAddressNotOnFile) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.TransferNotice("2012-05-02T09:00:00Z", true, "other@mail.example");
  b.Transferred("2012-05-03T09:00:00Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(FindingOf(f, Rule::kTransferNoticeGiven)->message,
            "The case was transferred to CPC-OTTAWA (#4) with email consent "
            "in force, without an earlier email notice to the applicant "
            "copying the new office's mailbox (the notice #3 did not go to an "
            "address on file).");
}

// A copy to another mailbox than the new office's is no copy to it.
TEST(TransferNoticeGivenTest, FailsWhenTheCopyWentElsewhere) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  auto* notice = b.At("2012-05-02T09:00:00Z").mutable_transfer_notice_sent();
  notice->add_to(fixture::kApplicant);
  notice->add_cc("records@office.example");
  notice->set_from_mailbox(fixture::kOfficeMailbox);
  notice->set_new_office_id("CPC-OTTAWA");
  notice->set_new_office_mailbox("ottawa-cpc@office.example");
  b.Transferred("2012-05-03T09:00:00Z");
  EXPECT_EQ(
      FindingOf(FindingsAt(b, kLater), Rule::kTransferNoticeGiven)->message,
      "The case was transferred to CPC-OTTAWA (#4) with email consent "
      "in force, without an earlier email notice to the applicant "
      "copying the new office's mailbox (the notice #3 did not copy the "
      "new office's mailbox).");
}

// A notice naming no office announced the transfer it preceded, not a later
// one: it passed a second transfer to another office, and the finding said
// the first office's mailbox, copied, was the new office's (found by an
// audit of docs/findings.md).
TEST(TransferNoticeGivenTest,
     ANoticeNamingNoOfficeAnnouncesOnlyTheNextTransfer) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.NoticeNamingNoOffice("2012-05-02T09:00:00Z", "cpc3@office.example");
  b.TransferredBetween("2012-05-03T09:00:00Z", "VO-DELHI", "CPC3");
  b.TransferredBetween("2012-05-04T09:00:00Z", "CPC3", "CPC4");
  const std::vector<Finding> f =
      FindingsOf(FindingsAt(b, kLater), Rule::kTransferNoticeGiven);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(FindingStatusName(f[0].status), "PASS") << f[0].message;
  EXPECT_EQ(FindingStatusName(f[1].status), "FAIL") << f[1].message;
  EXPECT_THAT(f[1].message, HasSubstr("transferred to CPC4 (#5)"));
}

// A notice naming another office than the transfer's was skipped as if it
// were about another transfer, so the finding said no notice was given and
// did not cite the one that told the applicant the wrong office.
TEST(TransferNoticeGivenTest, ANoticeNamingTheWrongOfficeIsCitedAsSuch) {
  auto notice_for = [](CaseBuilder& b, const char* at, const char* office) {
    auto* notice = b.At(at).mutable_transfer_notice_sent();
    notice->add_to(fixture::kApplicant);
    notice->add_cc("cpc4@office.example");
    notice->set_from_mailbox(fixture::kOfficeMailbox);
    notice->set_new_office_id(office);
    notice->set_new_office_mailbox("cpc4@office.example");
  };
  auto transfer_to = [](CaseBuilder& b, const char* at, const char* office) {
    auto* transfer = b.At(at).mutable_case_transferred();
    transfer->set_from_office_id("VO-DELHI");
    transfer->set_to_office_id(office);
  };
  CaseBuilder wrong;
  wrong.Opened("2012-05-01T09:00:00Z");
  wrong.Consent("2012-05-01T09:05:00Z");
  notice_for(wrong, "2012-05-02T09:00:00Z", "CPC4");
  transfer_to(wrong, "2012-05-03T09:00:00Z", "CPC3");
  const Findings findings = FindingsAt(wrong, kLater);
  const Finding* f = FindingOf(findings, Rule::kTransferNoticeGiven);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(FindingStatusName(f->status), "FAIL");
  EXPECT_THAT(f->message,
              HasSubstr("(the notice #3 named the office CPC4, not CPC3)"));
  EXPECT_THAT(f->positions, Contains(3u));

  // Announcing an earlier transfer, it is not this one's problem.
  CaseBuilder announced;
  announced.Opened("2012-05-01T09:00:00Z");
  announced.Consent("2012-05-01T09:05:00Z");
  notice_for(announced, "2012-05-02T09:00:00Z", "CPC4");
  transfer_to(announced, "2012-05-03T09:00:00Z", "CPC4");
  transfer_to(announced, "2012-05-04T09:00:00Z", "CPC3");
  const std::vector<Finding> both =
      FindingsOf(FindingsAt(announced, kLater), Rule::kTransferNoticeGiven);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(FindingStatusName(both[0].status), "PASS") << both[0].message;
  EXPECT_EQ(FindingStatusName(both[1].status), "FAIL") << both[1].message;
  EXPECT_THAT(both[1].message, Not(HasSubstr("#3")));
}

TEST(TransferNoticeGivenTest, NoticeAfterTheTransferIsTooLate) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Transferred("2012-05-03T09:00:00Z");
  b.TransferNotice("2012-05-04T09:00:00Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kTransferNoticeGiven), "FAIL");
  // Said, so that it does not read as if no notice was ever sent (found by
  // an audit).
  EXPECT_THAT(FindingOf(f, Rule::kTransferNoticeGiven)->message,
              HasSubstr("(the notice #4 came after the transfer, too late)"));
  EXPECT_EQ(FindingOf(f, Rule::kTransferNoticeGiven)->positions.size(), 2u);
}

// A notice naming no office after one transfer and before the next
// announced the next: it is not the first one's late notice.
TEST(TransferNoticeGivenTest,
     ANoticeBeforeTheNextTransferIsNotTheLastOnesLate) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Transferred("2012-05-03T09:00:00Z");  // to CPC-OTTAWA
  b.NoticeNamingNoOffice("2012-05-04T09:00:00Z", "cpc4@office.example");
  b.TransferredBetween("2012-05-05T09:00:00Z", "CPC-OTTAWA", "CPC4");
  const std::vector<Finding> f =
      FindingsOf(FindingsAt(b, kLater), Rule::kTransferNoticeGiven);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(FindingStatusName(f[0].status), "FAIL") << f[0].message;
  EXPECT_THAT(f[0].message, Not(HasSubstr("too late")));
  EXPECT_EQ(FindingStatusName(f[1].status), "PASS") << f[1].message;
}

TEST(TransferNoticeGivenTest, NotApplicableWithoutEmailConsent) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Transferred("2012-05-03T09:00:00Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kTransferNoticeGiven),
            "NOT_APPLICABLE");
}

// ---------------------------------------------------------------------------
// RECONSIDERATION_ADDRESSED (Kurukkal, 2010 FCA 230: discretion to reopen)

TEST(ReconsiderationAddressedTest, PassesWhenDecidedWithReasons) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kReconsiderationAddressed),
            "PASS");
}

// Blank in any script: a no-break space passed as reasons (found by an
// audit), and U+0085, next line (found by a conformance probe).
TEST(ReconsiderationAddressedTest, FailsWhenDecidedWithoutReasons) {
  for (const char* blank : {"  ", "\u00a0\u3000 ", "\u0085"}) {
    CaseBuilder b = KaurCase();
    b.ReconsiderationRequested("2012-08-01T09:00:00Z");
    b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                             v1::ReconsiderationOutcome::REFUSAL_MAINTAINED,
                             blank);
    EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kReconsiderationAddressed),
              "FAIL")
        << blank;
  }
}

// A decision no request came before is judged too: without reasons it was
// NOT_APPLICABLE, "no reconsideration was requested" (a reading against
// domain.md §4).
TEST(ReconsiderationAddressedTest, JudgesADecisionNoRequestCameBefore) {
  for (const char* reasons : {"", "The address on file was outdated."}) {
    CaseBuilder b = KaurCase();
    b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                             v1::ReconsiderationOutcome::REFUSAL_MAINTAINED,
                             reasons);
    EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kReconsiderationAddressed),
              *reasons ? "PASS" : "FAIL")
        << reasons;
  }
}

// A second decision after one request answers none of its own; it was said
// to answer "no request on record before it" (found by a review).
TEST(ReconsiderationAddressedTest, ASecondDecisionIsJudgedOnItsOwn) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  b.ReconsiderationDecided("2012-08-20T09:00:00Z",
                           v1::ReconsiderationOutcome::REFUSAL_MAINTAINED, "");
  std::vector<std::string> messages;
  for (const Finding& f : FindingsAt(b, kLater).findings) {
    if (f.rule == Rule::kReconsiderationAddressed) {
      messages.push_back(std::string(FindingStatusName(f.status)) + " " +
                         f.message);
    }
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_THAT(messages[0], HasSubstr("PASS The reconsideration request"));
  EXPECT_THAT(messages[1], HasSubstr("FAIL The reconsideration decision #"));
  EXPECT_THAT(messages[1],
              HasSubstr("answers no request of its own (an earlier decision "
                        "answered those before it), gives no reasons."));
}

TEST(ReconsiderationAddressedTest, WarnsWhileUndecided) {
  CaseBuilder b = KaurCase();
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kReconsiderationAddressed),
            "WARN");
}

// ---------------------------------------------------------------------------
// SENT_MESSAGE_PRESERVED (Patel, 2015 FC 900: a note is weaker than a copy)

TEST(SentMessagePreservedTest, PassesWhenStoredAndAsksByLowercaseHex) {
  CaseBuilder b = KaurCase();
  std::vector<std::string> asked;
  const MessageStored stored = [&asked](std::string_view sha) {
    asked.emplace_back(sha);
    return absl::OkStatus();
  };
  const Findings f = FindingsAt(b, kLater, stored);
  EXPECT_EQ(StatusOf(f, Rule::kSentMessagePreserved, "DOC-1"), "PASS");
  EXPECT_THAT(asked, ElementsAre(fixture::BodyOf("DOC-1")));
}

TEST(SentMessagePreservedTest, FailsWhenRefusalReliesOnUnstoredMessage) {
  const Findings f = FindingsAt(KaurCase(), kLater, NothingStored());
  EXPECT_EQ(StatusOf(f, Rule::kSentMessagePreserved, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

TEST(SentMessagePreservedTest, WarnsWhenUnstoredAndNothingReliesOnIt) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater, NothingStored()),
                     Rule::kSentMessagePreserved, "DOC-1"),
            "WARN");
}

// Only a refusal for non-compliance rests on the message it refuses on.
TEST(SentMessagePreservedTest, ARefusalOnAnotherGroundReliesOnNoMessage) {
  CaseBuilder b = RequestSentByTheBook();
  b.Decided("2012-07-21T09:00:00Z", v1::Decision::REFUSED,
            v1::DecisionGround::INELIGIBLE, "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater, NothingStored()),
                     Rule::kSentMessagePreserved, "DOC-1"),
            "WARN");
}

TEST(SentMessagePreservedTest, EmptyCallbackMeansNothingIsStored) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater, MessageStored()),
                     Rule::kSentMessagePreserved, "DOC-1"),
            "WARN");
}

TEST(SentMessagePreservedTest, MissingDigestIsNotStored) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .clear_body_sha256();
  const Findings f = FindingsAt(b, kLater, AllStored());
  EXPECT_EQ(StatusOf(f, Rule::kSentMessagePreserved, "DOC-1"), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kSentMessagePreserved, "DOC-1")->message,
              HasSubstr("no recorded digest"));
}

// A copy altered under its name is not the message sent, and the finding
// says so rather than that no copy was kept: the two mean different things
// to a court (tampering against negligence).
TEST(SentMessagePreservedTest, AnAlteredCopyFailsAndIsCalledAltered) {
  const Findings f = FindingsAt(KaurCase(), kLater, [](std::string_view) {
    return absl::DataLossError("no longer has that SHA-256");
  });
  EXPECT_EQ(StatusOf(f, Rule::kSentMessagePreserved, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  const std::string& message =
      FindingOf(f, Rule::kSentMessagePreserved, "DOC-1")->message;
  EXPECT_THAT(message, HasSubstr("is stored in the ledger altered"));
  EXPECT_THAT(message, Not(HasSubstr("is not stored")));
}

TEST(SentMessagePreservedTest, AnUnreadableCopyIsNotPassedAndSaysWhy) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  const Findings f = FindingsAt(b, kLater, [](std::string_view) {
    return absl::UnavailableError("disk read failed");
  });
  EXPECT_EQ(StatusOf(f, Rule::kSentMessagePreserved, "DOC-1"), "WARN");
  EXPECT_THAT(
      FindingOf(f, Rule::kSentMessagePreserved, "DOC-1")->message,
      HasSubstr("could not be read from the ledger (disk read failed)"));
}

// ---------------------------------------------------------------------------
// DELIVERY_WARNING_HEEDED (Zare, 2010 FC 1024; Abboud, 2010 FC 876)

TEST(DeliveryWarningHeededTest, FailsWhenRefusedAfterRelayedNoticeIgnored) {
  CaseBuilder b = RequestSentByTheBook();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::RELAYED);
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

// Heeded before the refusal, the sign does not undermine it: only a refusal
// between the sign and its heed fails the rule.
TEST(DeliveryWarningHeededTest, ARefusalAfterTheSignWasHeededPasses) {
  CaseBuilder b = RequestSentByTheBook();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::RELAYED);
  b.Alternative("2012-06-02T09:00:00Z", "DOC-1");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "PASS");
}

TEST(DeliveryWarningHeededTest, PassesWhenDelayedNoticeLedToAlternative) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Notice("2012-06-02T10:03:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  b.Alternative("2012-06-03T09:00:00Z", "DOC-1");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded, "DOC-1"),
      "PASS");
}

TEST(DeliveryWarningHeededTest, WarnsWhenApplicantReportsProblemWhileOpen) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.ApplicantEmail("2012-06-10T09:00:00Z", /*reports_problem=*/true);
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded, "DOC-1"),
      "WARN");
}

// The applicant said the email never arrived (#7) and the office reopened
// the refusal (#8): refusing again on the same request (#9), with neither a
// resend nor another channel, passed every rule (found by a domain audit).
// A refusal maintained is the officer's weighing: no sign.
TEST(DeliveryWarningHeededTest, ARefusalAgainAfterReopeningOnNonReceiptFails) {
  CaseBuilder b = KaurCase();                          // DOC-1 #4, refused #6
  b.ReconsiderationRequested("2012-08-01T09:00:00Z");  // #7
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",     // #8
                           v1::ReconsiderationOutcome::REOPENED);
  const Findings reopened = FindingsAt(b, kLater);
  const Finding* waiting =
      FindingOf(reopened, Rule::kDeliveryWarningHeeded, "DOC-1");
  ASSERT_NE(waiting, nullptr);
  EXPECT_EQ(FindingStatusName(waiting->status), "WARN");
  EXPECT_EQ(waiting->message,
            "The reconsideration request #7 (email not received, reopened at "
            "#8) for DOC-1 has no resend or alternative channel after it yet.");
  EXPECT_THAT(waiting->positions, ElementsAre(4, 7, 8));

  CaseBuilder again = b;
  again.Refused("2012-08-11T09:00:00Z", "DOC-1");  // #9
  Findings f = FindingsAt(again, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-1"), "FAIL");
  std::vector<std::string> refusals;
  for (const Finding& x : FindingsOf(f, Rule::kRefusalSupported)) {
    refusals.push_back(std::string(FindingStatusName(x.status)));
  }
  EXPECT_THAT(refusals, ElementsAre("PASS", "FAIL"))
      << "the refusal reopened stood on the case before the request";

  // A new deadline without a resend reaches no one who never got the email;
  // the refusal is judged without the notes before the reopening, and
  // still fails.
  CaseBuilder extended = b;
  extended.Extended("2012-08-11T09:00:00Z", "DOC-1", "2012-09-30T23:59:59Z");
  extended.Note("2012-10-02T09:00:00Z", "DOC-1");
  extended.Refused("2012-10-03T09:00:00Z", "DOC-1");
  refusals.clear();
  for (const Finding& x :
       FindingsOf(FindingsAt(extended, kLater), Rule::kRefusalSupported)) {
    refusals.push_back(std::string(FindingStatusName(x.status)));
  }
  EXPECT_THAT(refusals, ElementsAre("PASS", "FAIL"));

  // Resent with a new deadline after the reopening: heeded.
  CaseBuilder resent = b;
  resent.Email("2012-08-12T09:00:00Z", "DOC-2", "2012-09-30T23:59:59Z")
      .set_resend_of("DOC-1");
  resent.Note("2012-10-02T09:00:00Z", "DOC-2");
  resent.Refused("2012-10-03T09:00:00Z", "DOC-2");
  f = FindingsAt(resent, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-1"), "PASS");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-2"), "PASS");

  CaseBuilder maintained = KaurCase();
  maintained.ReconsiderationRequested("2012-08-01T09:00:00Z");
  maintained.ReconsiderationDecided(
      "2012-08-10T09:00:00Z", v1::ReconsiderationOutcome::REFUSAL_MAINTAINED);
  EXPECT_EQ(
      StatusOf(FindingsAt(maintained, kLater), Rule::kDeliveryWarningHeeded),
      "NOT_APPLICABLE");
}

// A NON_COMPLIANCE refusal on DOC-1 (#6) leaves it open (OVERDUE, listed in
// state.open_requests): an applicant's report of a delivery problem then
// (#7) is a sign, and the refusal relies on a request whose sign went
// unheeded.
CaseBuilder RefusedThenApplicantReportsProblem() {
  CaseBuilder b = KaurCase();
  b.ApplicantEmail("2012-08-01T09:00:00Z", /*reports_problem=*/true);
  return b;
}

TEST(DeliveryWarningHeededTest, ReportAfterARefusalOnTheRequestFailsUnheeded) {
  const CaseBuilder b = RefusedThenApplicantReportsProblem();
  const Findings f = FindingsAt(b, kLater);
  const Finding* heeded = FindingOf(f, Rule::kDeliveryWarningHeeded, "DOC-1");
  ASSERT_NE(heeded, nullptr);
  EXPECT_EQ(FindingStatusName(heeded->status), "FAIL");
  EXPECT_THAT(heeded->positions, ElementsAre(4, 6, 7));
  EXPECT_THAT(heeded->message,
              HasSubstr("came after the refusal #6, which relies on DOC-1, and "
                        "no resend or other channel was considered since."));
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
  EXPECT_EQ(fixture::StateOf(b, "DOC-1", fixture::Now(kLater)), "OVERDUE");
}

TEST(DeliveryWarningHeededTest, ReportAfterARefusalPassesOnceHeeded) {
  CaseBuilder b = RefusedThenApplicantReportsProblem();
  b.Alternative("2012-08-02T09:00:00Z", "DOC-1");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded, "DOC-1"),
      "PASS");
}

TEST(DeliveryWarningHeededTest, ReportAfterARefusalOnAnotherRequestIsNoSign) {
  // The refusal on DOC-1 closes DOC-2 (CLOSED): nothing relies on DOC-2.
  CaseBuilder b = RefusedThenApplicantReportsProblem();
  b.Email("2012-06-02T10:01:00Z", "DOC-2", "2012-08-30T23:59:59Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-2"), "MISSING");
}

// DOC-1, then DOC-2 resending it, and the refusal naming DOC-1: the refusal
// relies on DOC-2 too (the email that may be the only one to have arrived).
CaseBuilder RefusedAfterAResend() {
  CaseBuilder b = RequestSentByTheBook();
  b.Email("2012-06-10T10:01:00Z", "DOC-2", "2012-07-25T23:59:59Z")
      .set_resend_of("DOC-1");
  return b;
}

// Before, a sign on the resend gave only a WARN and the refusal passed
// (found by an audit against the procedure).
TEST(DeliveryWarningHeededTest, ASignOnAResendFailsTheRefusalOfTheOriginal) {
  CaseBuilder b = RefusedAfterAResend();
  b.Notice("2012-06-11T10:03:00Z", "DOC-2", v1::DeliveryAction::RELAYED);
  b.Note("2012-07-26T09:00:00Z", "DOC-1");
  b.Refused("2012-07-27T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  const Finding* heeded = FindingOf(f, Rule::kDeliveryWarningHeeded, "DOC-2");
  ASSERT_NE(heeded, nullptr);
  EXPECT_EQ(FindingStatusName(heeded->status), "FAIL");
  EXPECT_THAT(heeded->message,
              HasSubstr("followed by the refusal #8 (naming DOC-1, which "
                        "DOC-2 resends)"));
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

// Before, the report reached neither request (DOC-1 superseded, DOC-2
// closed by a refusal naming DOC-1), and the refusal passed.
TEST(DeliveryWarningHeededTest, AReportAfterTheRefusalReachesTheResend) {
  CaseBuilder b = RefusedAfterAResend();
  b.Note("2012-07-26T09:00:00Z", "DOC-1");
  b.Refused("2012-07-27T09:00:00Z", "DOC-1");
  b.ApplicantEmail("2012-08-01T09:00:00Z", /*reports_problem=*/true);
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-2"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kDeliveryWarningHeeded, "DOC-1"), "MISSING");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

TEST(DeliveryWarningHeededTest, ReportAfterTheRequestClosedIsNoSign) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Received("2012-06-05T09:00:00Z", "DOC-1");
  b.ApplicantEmail("2012-06-10T09:00:00Z", /*reports_problem=*/true);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded),
            "NOT_APPLICABLE");
}

// A delayed or relayed notice that comes once complete documents answered
// the request warns of nothing left to deliver, as an applicant's report
// then does not; it gave a WARN asking for a resend. One before the
// documents still counts.
TEST(DeliveryWarningHeededTest, ANoticeAfterTheDocumentsCameIsNoSign) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  CaseBuilder before = b;
  b.Received("2012-06-05T09:00:00Z", "DOC-1");
  b.Notice("2012-06-06T10:03:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded),
            "NOT_APPLICABLE");
  before.Notice("2012-06-04T10:03:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  before.Received("2012-06-05T09:00:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(before, kLater), Rule::kDeliveryWarningHeeded,
                     "DOC-1"),
            "WARN");
}

// Documents that came after the deadline answered the request all the
// same: a notice after them is no sign either.
TEST(DeliveryWarningHeededTest, ANoticeAfterLateDocumentsIsNoSign) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Received("2012-07-20T09:00:00Z", "DOC-1");
  b.Notice("2012-07-21T10:03:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded),
            "NOT_APPLICABLE");
}

// A report of a delivery problem before the request was sent is about
// another email.
TEST(DeliveryWarningHeededTest, AReportBeforeTheSendIsNoSignForIt) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.ApplicantEmail("2012-05-20T09:00:00Z", /*reports_problem=*/true);
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded),
            "NOT_APPLICABLE");
}

// The finding is the worst of its signs: a sign after a reopening that
// only warns does not lower the FAIL of one the refusal ignored.
TEST(DeliveryWarningHeededTest, ALaterSignDoesNotLowerAFail) {
  CaseBuilder b = RequestSentByTheBook();
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::RELAYED);
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  b.ReconsiderationRequested("2012-08-01T09:00:00Z",
                             v1::ReconsiderationGround::OTHER);
  b.ReconsiderationDecided("2012-08-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  b.Notice("2012-08-11T09:00:00Z", "DOC-1", v1::DeliveryAction::DELAYED);
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded, "DOC-1"),
      "FAIL");
}

TEST(DeliveryWarningHeededTest, DeliveredNoticeIsNoSign) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.Notice("2012-06-01T10:03:00Z", "DOC-1", v1::DeliveryAction::DELIVERED);
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kDeliveryWarningHeeded),
            "NOT_APPLICABLE");
}

// ---------------------------------------------------------------------------
// EXTENSION_REQUEST_DECIDED (Lee, 2024 FC 913)

TEST(ExtensionRequestDecidedTest, EachRequestIsDecidedByWhatAnsweredItFirst) {
  // A request refused, a second one granted: the first was decided by the
  // refusal, not by the later extension.
  CaseBuilder b = RequestSentByTheBook();
  b.ExtensionRequested("2012-06-10T09:00:00Z", "DOC-1",
                       "2012-08-16T23:59:59Z");         // #5
  b.ExtensionRefused("2012-06-11T09:00:00Z", "DOC-1");  // #6
  b.ExtensionRequested("2012-06-20T09:00:00Z", "DOC-1",
                       "2012-08-01T23:59:59Z");                         // #7
  b.Extended("2012-06-21T09:00:00Z", "DOC-1", "2012-08-01T23:59:59Z");  // #8
  const Findings f = FindingsAt(b, kLater);
  const Finding* x = FindingOf(f, Rule::kExtensionRequestDecided, "DOC-1");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(FindingStatusName(x->status), "PASS");
  EXPECT_THAT(x->message, HasSubstr("#5 for DOC-1 was decided (#6, refused)"));
  EXPECT_THAT(x->message, HasSubstr("#7 for DOC-1 was decided (#8, extended)"));
  EXPECT_THAT(x->positions, ElementsAre(4, 5, 6, 7, 8));
}

TEST(ExtensionRequestDecidedTest, FailsWhenRefusedWithExtensionUndecided) {
  CaseBuilder b = RequestSentByTheBook();
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kExtensionRequestDecided, "DOC-1"), "FAIL");
  EXPECT_EQ(StatusOf(f, Rule::kRefusalSupported, "DOC-1"), "FAIL");
}

// The refusal names the resend; the extension request on the original was
// never answered. Before, EXTENSION_REQUEST_DECIDED failed citing the
// refusal while REFUSAL_SUPPORTED passed it (found by an audit).
TEST(ExtensionRequestDecidedTest,
     AnUndecidedRequestOnTheOriginalFailsTheResends) {
  CaseBuilder b = RequestSentByTheBook();
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.Email("2012-07-11T10:01:00Z", "DOC-2", "2012-08-11T23:59:59Z")
      .set_resend_of("DOC-1");
  b.Note("2012-08-20T09:00:00Z", "DOC-2");
  b.Refused("2012-08-21T09:00:00Z", "DOC-2");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kExtensionRequestDecided, "DOC-1"), "FAIL");
  const Finding* refusal = FindingOf(f, Rule::kRefusalSupported, "DOC-2");
  ASSERT_NE(refusal, nullptr);
  EXPECT_EQ(FindingStatusName(refusal->status), "FAIL");
  EXPECT_THAT(refusal->message,
              HasSubstr("EXTENSION_REQUEST_DECIDED of DOC-1, which DOC-2 "
                        "resends"));
}

// An answer that comes only after the refusal cannot undo having refused
// while the request sat unanswered (docs/findings.md).
TEST(ExtensionRequestDecidedTest, ADecisionAfterTheRefusalDoesNotCureIt) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  b.ExtensionRefused("2012-07-22T09:00:00Z", "DOC-1");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "FAIL");
}

// Only a refusal fails the rule (Lee, 2024 FC 913): an approval with the
// request undecided leaves a WARN.
TEST(ExtensionRequestDecidedTest, AnApprovalIsNotARefusal) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.Decided("2012-07-21T09:00:00Z", v1::Decision::APPROVED);
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "WARN");
}

// An extension requested after the refusal was not ignored by it:
// undecided, it warns.
TEST(ExtensionRequestDecidedTest, ARequestAfterTheRefusalOnlyWarns) {
  CaseBuilder b = KaurCase();  // refused 2012-07-21
  b.ExtensionRequested("2012-07-25T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "WARN");
}

// The finding is the worst of its requests: one made after the refusal,
// undecided, does not lower the FAIL of one the refusal ignored.
TEST(ExtensionRequestDecidedTest, ALaterRequestDoesNotLowerAFail) {
  CaseBuilder b = RequestSentByTheBook();
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  b.ExtensionRequested("2012-07-25T09:00:00Z", "DOC-1", "2012-09-15T23:59:59Z");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "FAIL");
}

TEST(ExtensionRequestDecidedTest, WarnsWhileUndecided) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "WARN");
}

TEST(ExtensionRequestDecidedTest, PassesWhenRefusedWithReasonsBeforeRefusal) {
  CaseBuilder b = KaurCase();
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.ExtensionRefused("2012-07-11T09:00:00Z", "DOC-1");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "PASS");
}

TEST(ExtensionRequestDecidedTest, PassesWhenGranted) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  b.ExtensionRequested("2012-07-10T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  b.Extended("2012-07-11T09:00:00Z", "DOC-1", "2012-09-01T23:59:59Z");
  EXPECT_EQ(
      StatusOf(FindingsAt(b, kLater), Rule::kExtensionRequestDecided, "DOC-1"),
      "PASS");
}

// ---------------------------------------------------------------------------
// RECORDED_PROMPTLY

TEST(RecordedPromptlyTest, PassesWithinSevenDays) {
  CaseBuilder b = KaurCase();
  b.Received("2012-07-01T09:00:00Z", "DOC-1", false)
      .RecordedAt("2012-07-08T09:00:00Z");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRecordedPromptly), "PASS");
}

TEST(RecordedPromptlyTest, WarnsWhenRecordedMoreThanSevenDaysLate) {
  CaseBuilder b = KaurCase();
  b.Received("2012-07-01T09:00:00Z", "DOC-1", false)
      .RecordedAt("2012-07-08T09:00:01Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRecordedPromptly), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kRecordedPromptly)->positions, ElementsAre(7));
}

// Walked in the order they occurred, late records were named out of
// position order ("#1, #2, #4, #6, #3, #5"; found by an audit).
TEST(RecordedPromptlyTest, NamesLateRecordsInPositionOrder) {
  CaseBuilder b = KaurCase();
  b.Alternative("2012-07-20T09:00:00Z", "DOC-1")
      .RecordedAt("2012-08-20T09:00:00Z");
  b.Alternative("2012-07-10T09:00:00Z", "DOC-1")
      .RecordedAt("2012-08-20T09:00:01Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_THAT(FindingOf(f, Rule::kRecordedPromptly)->positions,
              ElementsAre(7, 8));
  EXPECT_THAT(FindingOf(f, Rule::kRecordedPromptly)->message,
              HasSubstr("occurred: #7, #8."));
}

TEST(RecordedPromptlyTest,
     WarnsWhenRecordedAfterJudicialReviewForEarlierAction) {
  CaseBuilder b = KaurCase();
  b.JudicialReview("2012-09-01T09:00:00Z");
  b.Alternative("2012-08-31T09:00:00Z", "DOC-1")
      .RecordedAt("2012-09-02T09:00:00Z");
  const Findings f = FindingsAt(b, kLater);
  EXPECT_EQ(StatusOf(f, Rule::kRecordedPromptly), "WARN");
  EXPECT_THAT(FindingOf(f, Rule::kRecordedPromptly)->message,
              HasSubstr("after a judicial review was filed"));
  EXPECT_THAT(FindingOf(f, Rule::kRecordedPromptly)->positions,
              ElementsAre(7, 8));
}

// What happened after the review was filed is recorded after it in any
// case: only a record of an earlier action warns.
TEST(RecordedPromptlyTest, ActionsAfterTheJudicialReviewDoNotWarn) {
  CaseBuilder b = KaurCase();
  b.JudicialReview("2012-09-01T09:00:00Z");
  b.Alternative("2012-09-05T09:00:00Z", "DOC-1");
  EXPECT_EQ(StatusOf(FindingsAt(b, kLater), Rule::kRecordedPromptly), "PASS");
}

}  // namespace
}  // namespace caseledger::projections
