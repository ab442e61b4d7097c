// Point-in-time evaluation: for every event kind, the projections as of just
// before the event differ from those as of the event in the way the event
// means; and the two time axes (--as-of, --known-at) select what they say.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/findings.h"
#include "projections/render.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::AllStored;
using fixture::CaseBuilder;
using fixture::T;

constexpr char kNew[] = "maria.new@mail.example";

// One case holding every kind of event, in business-time order.
CaseBuilder EveryKind() {
  CaseBuilder b;
  b.Opened("2012-01-10T09:00:00Z");
  b.Consent("2012-01-11T09:00:00Z");
  auto* rep = b.At("2012-01-12T09:00:00Z").mutable_representative_appointed();
  rep->set_representative_id("R-9");
  rep->set_name("A. Counsel");
  rep->set_email("counsel@law.example");
  b.Consent("2012-01-13T09:00:00Z", "counsel@law.example",
            v1::ConsentBasis::REPRESENTATIVE_FORM, v1::Party::REPRESENTATIVE,
            true);
  b.At("2012-01-20T09:00:00Z")
      .mutable_representative_withdrawn()
      ->set_representative_id("R-9");
  b.AddressChanged("2012-01-25T09:00:00Z", fixture::kApplicant, kNew);
  b.TransferNotice("2012-02-01T09:00:00Z", true, kNew);
  b.Transferred("2012-02-02T09:00:00Z");
  b.Email("2012-03-01T10:00:00Z", "DOC-1", "2012-04-15T23:59:59Z", kNew);
  b.Notice("2012-03-01T10:05:00Z", "DOC-1", v1::DeliveryAction::FAILED, kNew);
  b.Verified("2012-03-02T09:00:00Z", "DOC-1", kNew);
  b.Alternative("2012-03-03T09:00:00Z", "DOC-1");
  b.Email("2012-03-04T09:00:00Z", "DOC-2", "2012-04-20T23:59:59Z", kNew)
      .set_resend_of("DOC-1");
  b.ApplicantEmail("2012-03-10T09:00:00Z", /*reports_problem=*/true);
  b.ExtensionRequested("2012-03-15T09:00:00Z", "DOC-2", "2012-05-20T23:59:59Z");
  b.Extended("2012-03-16T09:00:00Z", "DOC-2", "2012-05-20T23:59:59Z");
  b.ExtensionRequested("2012-03-20T09:00:00Z", "DOC-2", "2012-06-20T23:59:59Z");
  b.ExtensionRefused("2012-03-21T09:00:00Z", "DOC-2");
  b.At("2012-03-25T09:00:00Z")
      .mutable_officer_note_added()
      ->set_text("Called the applicant; no answer.");
  b.Note("2012-05-25T09:00:00Z", "DOC-2");
  b.Refused("2012-05-26T09:00:00Z", "DOC-2");
  b.ReconsiderationRequested("2012-06-01T09:00:00Z");
  b.ReconsiderationDecided("2012-06-10T09:00:00Z",
                           v1::ReconsiderationOutcome::REOPENED);
  b.Received("2012-06-15T09:00:00Z", "DOC-2");
  b.Withdrawn("2012-06-20T09:00:00Z", kNew);
  b.Decided("2012-07-01T09:00:00Z", v1::Decision::APPROVED);
  b.JudicialReview("2012-08-01T09:00:00Z");
  auto* bundle =
      b.At("2012-09-01T09:00:00Z").mutable_evidence_bundle_exported();
  bundle->set_purpose(v1::BundlePurpose::JUDICIAL_REVIEW);
  bundle->set_tree_size(28);
  bundle->set_requested_by("counsel for the Minister");
  return b;
}

struct Snapshot {
  CaseState state;
  std::vector<DeadlineStatus> deadlines;
  Findings findings;
  std::vector<TimelineEntry> timeline;
};

Snapshot Take(const CaseModel& model, const Evaluation& e) {
  return Snapshot{CaseStateFor(model, e),
                  DeadlinesFor(model, e, DefaultPolicy()),
                  FindingsFor(model, e, DefaultPolicy(), AllStored()),
                  TimelineFor(model, e, DefaultPolicy())};
}

std::string Finding(const Snapshot& s, Rule rule, std::string_view request) {
  const projections::Finding* f = fixture::FindingOf(s.findings, rule, request);
  return f == nullptr ? "none"
                      : absl::StrCat(std::string(FindingStatusName(f->status)),
                                     " ", f->message);
}

std::string Row(const Snapshot& s, std::string_view request) {
  for (const DeadlineStatus& r : s.deadlines) {
    if (r.request_id == request) {
      return absl::StrCat(std::string(DeadlineStateName(r.status)), " ",
                          r.deadline ? FormatUtc(*r.deadline) : "-");
    }
  }
  return "none";
}

std::string Addresses(const Snapshot& s) {
  std::vector<std::string> out;
  for (const AddressOnFile& a : s.state.addresses_on_file) {
    out.push_back(a.address);
  }
  return absl::StrJoin(out, ",");
}

std::string LastSentence(const Snapshot& s) {
  return s.timeline.empty() ? "" : s.timeline.back().sentence;
}

// What each kind of event changes, in the domain's terms.
const std::map<std::string, std::function<std::string(const Snapshot&)>>&
Observables() {
  static const auto* m = new std::map<
      std::string, std::function<std::string(const Snapshot&)>>{
      {"case_opened", [](const Snapshot& s) { return s.state.office_id; }},
      {"email_consent_recorded", Addresses},
      {"email_consent_withdrawn", Addresses},
      {"contact_address_changed", Addresses},
      {"representative_appointed",
       [](const Snapshot& s) {
         return s.state.representative ? s.state.representative->name : "";
       }},
      {"representative_withdrawn",
       [](const Snapshot& s) {
         return absl::StrCat(s.state.representative.has_value(), Addresses(s));
       }},
      {"recipient_address_verified",
       [](const Snapshot& s) {
         return Finding(s, Rule::kBounceFollowedUp, "DOC-1");
       }},
      {"document_request_sent",
       [](const Snapshot& s) { return absl::StrCat(s.deadlines.size()); }},
      {"delivery_notice_received",
       [](const Snapshot& s) { return Row(s, "DOC-1"); }},
      {"alternative_channel_considered",
       [](const Snapshot& s) {
         return Finding(s, Rule::kBounceFollowedUp, "DOC-1");
       }},
      {"documents_received", [](const Snapshot& s) { return Row(s, "DOC-2"); }},
      {"extension_requested",
       [](const Snapshot& s) {
         return Finding(s, Rule::kExtensionRequestDecided, "DOC-2");
       }},
      {"deadline_extended", [](const Snapshot& s) { return Row(s, "DOC-2"); }},
      {"extension_refused",
       [](const Snapshot& s) {
         return Finding(s, Rule::kExtensionRequestDecided, "DOC-2");
       }},
      {"non_compliance_recorded",
       [](const Snapshot& s) {
         return Finding(s, Rule::kNonComplianceAfterDeadline, "DOC-2");
       }},
      {"officer_note_added", LastSentence},
      {"applicant_email_received",
       [](const Snapshot& s) {
         return Finding(s, Rule::kDeliveryWarningHeeded, "DOC-2");
       }},
      {"transfer_notice_sent",
       [](const Snapshot& s) {
         return absl::StrCat(
             fixture::FindingsOf(s.findings, Rule::kConsentEstablished).size(),
             Finding(s, Rule::kConsentEstablished, ""));
       }},
      {"case_transferred", [](const Snapshot& s) { return s.state.office_id; }},
      {"case_decided",
       [](const Snapshot& s) {
         return std::string(CaseStatusName(s.state.status));
       }},
      {"reconsideration_requested",
       [](const Snapshot& s) {
         return std::string(CaseStatusName(s.state.status));
       }},
      {"reconsideration_decided",
       [](const Snapshot& s) {
         return std::string(CaseStatusName(s.state.status));
       }},
      {"judicial_review_filed",
       [](const Snapshot& s) { return s.state.judicial_review; }},
      {"evidence_bundle_exported", LastSentence},
  };
  return *m;
}

TEST(AsOfTest, TheFixtureHoldsEveryKindOfEvent) {
  std::set<std::string> kinds;
  for (const RecordedEvent& e : EveryKind().events()) {
    kinds.insert(EventType(e.event));
  }
  const auto* oneof = v1::Event::descriptor()->FindOneofByName("payload");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i) {
    const std::string name = oneof->field(i)->name();
    EXPECT_TRUE(kinds.contains(name)) << name;
    EXPECT_TRUE(Observables().contains(name)) << name;
  }
}

class AsOfEachEventTest : public ::testing::TestWithParam<int> {};

TEST_P(AsOfEachEventTest, EventChangesItsProjectionExactlyAtItsTime) {
  const CaseBuilder b = EveryKind();
  const CaseModel model = b.model();
  const CaseEvent& e = model.events()[GetParam()];
  const std::string kind = EventType(e.event);
  Evaluation before;
  before.as_of = e.occurred_at - absl::Nanoseconds(1);
  Evaluation at;
  at.as_of = e.occurred_at;
  const Snapshot s_before = Take(model, before);
  const Snapshot s_at = Take(model, at);
  EXPECT_EQ(s_at.timeline.size(), s_before.timeline.size() + 1) << kind;
  EXPECT_EQ(s_at.state.last_position, e.position) << kind;
  const auto& observe = Observables().at(kind);
  EXPECT_NE(observe(s_before), observe(s_at))
      << kind << " at #" << e.position << " changed nothing it should";
}

TEST_P(AsOfEachEventTest, KnownAtIncludesTheEventOnceRecorded) {
  const CaseModel model = EveryKind().model();
  const CaseEvent& e = model.events()[GetParam()];
  Evaluation before;
  before.known_at = e.recorded_at - absl::Nanoseconds(1);
  Evaluation at;
  at.known_at = e.recorded_at;
  auto positions = [&](const Evaluation& ev) {
    std::set<uint64_t> out;
    for (const TimelineEntry& t : TimelineFor(model, ev, DefaultPolicy())) {
      out.insert(t.position);
    }
    return out;
  };
  EXPECT_FALSE(positions(before).contains(e.position));
  EXPECT_TRUE(positions(at).contains(e.position));
}

INSTANTIATE_TEST_SUITE_P(EveryKind, AsOfEachEventTest, ::testing::Range(0, 28),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat(
                               "Event", info.param + 1, "_",
                               EventType(
                                   EveryKind().events()[info.param].event));
                         });

TEST(TimeAxesTest, KnownAtExcludesABackfilledEventThatAsOfIncludes) {
  CaseBuilder b = fixture::KaurCase();
  // An alternative channel considered in June, recorded only in September.
  b.Alternative("2012-06-10T09:00:00Z", "DOC-1")
      .RecordedAt("2012-09-01T09:00:00Z");
  const CaseModel model = b.model();
  Evaluation as_of;
  as_of.as_of = T("2012-08-01T00:00:00Z");
  Evaluation known_at;
  known_at.known_at = T("2012-08-01T00:00:00Z");
  EXPECT_EQ(TimelineFor(model, as_of, DefaultPolicy()).size(), 7u);
  EXPECT_EQ(TimelineFor(model, known_at, DefaultPolicy()).size(), 6u);
}

// domain.md §4: projections are evaluated as of a time T, "default: now".
// A decision dated in the future has not happened yet.
TEST(TimeAxesTest, WithoutAsOfOnlyWhatOccurredByNowCounts) {
  CaseBuilder b = fixture::KaurCase();
  b.Decided("2099-01-01T09:00:00Z", v1::Decision::APPROVED);
  const CaseModel model = b.model();
  const Evaluation now = fixture::Now("2012-07-10T00:00:00Z");
  const CaseState state = CaseStateFor(model, now);
  EXPECT_EQ(CaseStatusName(state.status), "AWAITING_DOCUMENTS");
  ASSERT_EQ(state.open_requests.size(), 1u);
  const std::vector<DeadlineStatus> rows =
      DeadlinesFor(model, now, DefaultPolicy());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(DeadlineStateName(rows[0].status), "PENDING");
  // Opened, consent, check, request: not the note, refusal or approval.
  EXPECT_EQ(TimelineFor(model, now, DefaultPolicy()).size(), 4u);
  EXPECT_EQ(
      fixture::StatusOf(FindingsFor(model, now, DefaultPolicy(), AllStored()),
                        Rule::kRefusalSupported),
      "NOT_APPLICABLE");
}

// --known-at alone judges deadlines at that instant, but as of now: what
// the ledger knew then of what had happened by now.
TEST(TimeAxesTest, KnownAtWithoutAsOfStillLeavesOutWhatOccursAfterNow) {
  CaseBuilder b = fixture::KaurCase();
  b.Decided("2099-01-01T09:00:00Z", v1::Decision::APPROVED)
      .RecordedAt("2012-08-01T00:00:00Z");
  Evaluation e = fixture::Now("2013-01-01T00:00:00Z");
  e.known_at = T("2012-09-01T00:00:00Z");
  EXPECT_EQ(CaseStatusName(CaseStateFor(b.model(), e).status), "REFUSED");
  EXPECT_EQ(e.JudgedAt(), T("2012-09-01T00:00:00Z"));
}

TEST(TimeAxesTest, BothAxesTogetherTakeTheIntersection) {
  CaseBuilder b = fixture::KaurCase();
  b.Alternative("2012-06-10T09:00:00Z", "DOC-1")
      .RecordedAt("2012-09-01T09:00:00Z");
  // Occurred by the as-of instant, recorded after the known-at one: out
  // (without it, known-at was ignored beside as-of and the test passed;
  // found by a mutation).
  b.Alternative("2012-06-20T09:00:00Z", "DOC-1")
      .RecordedAt("2012-11-01T09:00:00Z");
  Evaluation e;
  e.as_of = T("2012-07-01T00:00:00Z");
  e.known_at = T("2012-10-01T00:00:00Z");
  // Opened, consent, check, request, the first alternative; not the note,
  // the refusal or the second alternative.
  const std::vector<TimelineEntry> timeline =
      TimelineFor(b.model(), e, DefaultPolicy());
  EXPECT_EQ(timeline.size(), 5u);
  for (const TimelineEntry& t : timeline) {
    EXPECT_NE(t.occurred_at, T("2012-06-20T09:00:00Z"));
  }
  EXPECT_EQ(e.JudgedAt(), T("2012-07-01T00:00:00Z"));
}

}  // namespace
}  // namespace caseledger::projections
