// Property tests on random valid case histories: the fold caught up event by
// event, the fold of the whole history at once, and point-in-time evaluation
// on either time axis all agree.
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/timestamp.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/findings.h"
#include "projections/render.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::SetTime;

constexpr int kHistories = 250;

// Everything the projections say about a case, rendered, so that a
// difference prints readably.
struct Projection {
  std::string state;
  std::string deadlines;
  std::string findings;
  std::string timeline;
  bool operator==(const Projection&) const = default;
};

void PrintTo(const Projection& p, std::ostream* os) {
  *os << p.state << p.deadlines << p.findings << p.timeline;
}

Projection Project(const CaseModel& model, const Evaluation& e) {
  const MessageStored stored = [](std::string_view sha) {
    // About half the messages are stored.
    return sha.back() < '8' ? absl::OkStatus() : absl::NotFoundError("no");
  };
  DeadlinePolicy policy;
  policy.countries["SY"] = 60;
  return Projection{
      RenderStateJson(CaseStateFor(model, e)),
      RenderDeadlinesJson(DeadlinesFor(model, e, policy)),
      RenderFindingsJson(FindingsFor(model, e, policy, stored)),
      RenderTimelineText(model, e, policy),
  };
}

// Generates histories that pass the ledger's validation (domain.md §3) but
// follow no good practice: any event may come at any time.
class HistoryGenerator {
 public:
  explicit HistoryGenerator(uint64_t seed) : rng_(seed) {}

  std::vector<RecordedEvent> Next() {
    events_.clear();
    requests_.clear();
    const absl::Time start =
        absl::FromUnixSeconds(1293840000 + Uniform(0, 365) * 86400);
    now_ = start;
    recorded_ = start;
    opened_ = start;
    auto* opened = Add().mutable_case_opened();
    opened->set_office_id("VO-DELHI");
    opened->set_office_mailbox("office@office.example");
    opened->set_applicant_country(Uniform(0, 1) ? "SY" : "PH");
    opened->set_language("en");
    const int n = Uniform(1, 40);
    for (int i = 0; i < n; ++i) AddRandom();
    return events_;
  }

 private:
  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }
  std::string Address() {
    static const char* kAddresses[] = {"a@mail.example", "b@mail.example",
                                       "C@Mail.Example", "rep@law.example"};
    return kAddresses[Uniform(0, 3)];
  }
  std::string AnyRequest() {
    return requests_[Uniform(0, static_cast<int>(requests_.size()) - 1)];
  }

  // A new event at a random business time: usually later than the last,
  // sometimes at the same instant, sometimes backfilled (earlier).
  v1::Event& Add() {
    absl::Time occurred = now_;
    if (!events_.empty()) {
      const int roll = Uniform(0, 9);
      if (roll == 0) {
        occurred = std::max(opened_, now_ - absl::Hours(Uniform(1, 120)));
      } else if (roll > 1) {
        occurred = now_ + absl::Hours(Uniform(1, 24 * 12));
      }
    }
    now_ = std::max(now_, occurred);
    recorded_ = std::max(recorded_ + absl::Seconds(1),
                         occurred + absl::Minutes(Uniform(1, 60 * 24 * 9)));
    RecordedEvent& r = events_.emplace_back();
    r.position = events_.size() * 3;  // other cases' events in between
    r.case_version = events_.size();
    r.recorded_at = recorded_;
    r.event.set_case_id("C-RANDOM");
    SetTime(r.event.mutable_occurred_at(), occurred);
    last_occurred_ = occurred;
    return r.event;
  }

  void SetDeadline(google::protobuf::Timestamp* ts) {
    SetTime(ts, last_occurred_ + absl::Hours(Uniform(1, 24 * 70)));
  }

  void AddRandom() {
    const bool any = !requests_.empty();
    switch (Uniform(0, 23)) {
      case 0: {
        auto* p = Add().mutable_email_consent_recorded();
        p->set_address(Address());
        p->set_party(Chance(70) ? v1::Party::APPLICANT
                                : v1::Party::REPRESENTATIVE);
        p->set_basis(static_cast<v1::ConsentBasis::Value>(Uniform(1, 3)));
        p->set_representative_email_in_mailing_address(Chance(50));
        break;
      }
      case 1: {
        auto* p = Add().mutable_email_consent_withdrawn();
        p->set_party(v1::Party::APPLICANT);
        p->set_address(Address());
        break;
      }
      case 2: {
        auto* p = Add().mutable_contact_address_changed();
        p->set_party(v1::Party::APPLICANT);
        p->set_old_address(Address());
        p->set_new_address(Address());
        break;
      }
      case 3: {
        auto* p = Add().mutable_representative_appointed();
        p->set_representative_id("R-1");
        p->set_email("rep@law.example");
        break;
      }
      case 4:
        Add().mutable_representative_withdrawn()->set_representative_id("R-1");
        break;
      case 5: {
        auto* p = Add().mutable_recipient_address_verified();
        p->set_request_id(any && Chance(50)
                              ? AnyRequest()
                              : absl::StrCat("DOC-", requests_.size() + 1));
        p->set_address(Address());
        p->set_matches_address_on_file(Chance(80));
        break;
      }
      case 6:
      case 7:
      case 8: {
        const std::string id = absl::StrCat("DOC-", requests_.size() + 1);
        auto* p = Add().mutable_document_request_sent();
        p->set_request_id(id);
        p->set_channel(Chance(80) ? v1::Channel::EMAIL
                                  : v1::Channel::POSTAL_MAIL);
        p->add_to(Address());
        if (Chance(20)) p->add_to(Address());
        p->set_organizational_mailbox(Chance(80));
        if (Chance(90)) SetDeadline(p->mutable_deadline());
        p->set_refusal_warning_included(Chance(80));
        p->set_body_sha256(ToHex(Sha256(id)));
        if (any && Chance(30)) p->set_resend_of(AnyRequest());
        requests_.push_back(id);
        break;
      }
      case 9:
      case 10:
        if (!any) break;
        {
          auto* p = Add().mutable_delivery_notice_received();
          p->set_request_id(AnyRequest());
          p->set_action(static_cast<v1::DeliveryAction::Value>(Uniform(1, 5)));
        }
        break;
      case 11:
        if (!any) break;
        {
          auto* p = Add().mutable_alternative_channel_considered();
          p->set_request_id(AnyRequest());
          p->set_channel(v1::Channel::POSTAL_MAIL);
          p->set_used(Chance(50));
        }
        break;
      case 12:
        if (!any) break;
        {
          auto* p = Add().mutable_documents_received();
          p->set_request_id(AnyRequest());
          p->set_complete(Chance(60));
        }
        break;
      case 13:
        if (!any) break;
        {
          auto* p = Add().mutable_extension_requested();
          p->set_request_id(AnyRequest());
          SetDeadline(p->mutable_requested_deadline());
        }
        break;
      case 14:
        if (!any) break;
        {
          auto* p = Add().mutable_deadline_extended();
          p->set_request_id(AnyRequest());
          SetDeadline(p->mutable_new_deadline());
        }
        break;
      case 15:
        if (!any) break;
        Add().mutable_extension_refused()->set_request_id(AnyRequest());
        break;
      case 16:
        if (!any) break;
        {
          auto* p = Add().mutable_non_compliance_recorded();
          p->set_request_id(AnyRequest());
          p->set_note(Chance(50) ? kStandardNoteFrench : "no answer");
        }
        break;
      case 17: {
        auto* p = Add().mutable_applicant_email_received();
        p->set_from_address(Address());
        p->set_reports_delivery_problem(Chance(50));
        break;
      }
      case 18: {
        auto* p = Add().mutable_transfer_notice_sent();
        p->add_to(Address());
        if (Chance(70)) p->add_cc("new@office.example");
        p->set_new_office_id("CPC");
        p->set_new_office_mailbox("new@office.example");
        break;
      }
      case 19: {
        auto* p = Add().mutable_case_transferred();
        p->set_from_office_id("VO-DELHI");
        p->set_to_office_id("CPC");
        break;
      }
      case 20: {
        auto* p = Add().mutable_case_decided();
        p->set_decision(static_cast<v1::Decision::Value>(Uniform(1, 3)));
        if (any && Chance(60)) {
          p->set_decision(v1::Decision::REFUSED);
          p->set_ground(v1::DecisionGround::NON_COMPLIANCE);
          p->set_request_id(AnyRequest());
        } else {
          p->set_ground(v1::DecisionGround::OTHER);
        }
        p->set_reasons("reasons");
        break;
      }
      case 21:
        Add().mutable_reconsideration_requested()->set_ground(
            v1::ReconsiderationGround::EMAIL_NOT_RECEIVED);
        break;
      case 22: {
        auto* p = Add().mutable_reconsideration_decided();
        p->set_outcome(
            static_cast<v1::ReconsiderationOutcome::Value>(Uniform(1, 2)));
        if (Chance(70)) p->set_reasons("weighed");
        break;
      }
      case 23:
        if (Chance(50)) {
          Add().mutable_judicial_review_filed()->set_court_file_number(
              "IMM-1-12");
        } else {
          Add().mutable_officer_note_added()->set_text("note");
        }
        break;
    }
  }

  std::mt19937_64 rng_;
  std::vector<RecordedEvent> events_;
  std::vector<std::string> requests_;
  absl::Time opened_;
  absl::Time now_;
  absl::Time recorded_;
  absl::Time last_occurred_;
};

absl::Time LastOccurred(const std::vector<RecordedEvent>& events) {
  absl::Time t = absl::InfinitePast();
  for (const RecordedEvent& e : events) {
    t = std::max(t, FromTimestamp(e.event.occurred_at()));
  }
  return t;
}

TEST(FoldPropertyTest, IncrementalEqualsAllAtOnceEqualsAsOfAtTheEnd) {
  HistoryGenerator gen(20120121);
  for (int h = 0; h < kHistories; ++h) {
    const std::vector<RecordedEvent> events = gen.Next();
    SCOPED_TRACE(absl::StrCat("history ", h, ", ", events.size(), " events"));
    const absl::Time end = LastOccurred(events);
    Evaluation at_end;
    at_end.now = end;

    CaseModel incremental;
    for (const RecordedEvent& e : events) ASSERT_OK(incremental.Apply(e));
    ASSERT_OK_AND_ASSIGN(const CaseModel all_at_once, FoldCase(events));
    Evaluation as_of_end;
    as_of_end.as_of = end;

    const Projection expected = Project(all_at_once, at_end);
    EXPECT_EQ(Project(incremental, at_end), expected);
    EXPECT_EQ(Project(all_at_once, as_of_end), expected);
  }
}

TEST(FoldPropertyTest, KnownAtEachRecordingEqualsTheFoldOfThePrefix) {
  HistoryGenerator gen(4242);
  for (int h = 0; h < kHistories / 5; ++h) {
    const std::vector<RecordedEvent> events = gen.Next();
    SCOPED_TRACE(absl::StrCat("history ", h));
    ASSERT_OK_AND_ASSIGN(const CaseModel full, FoldCase(events));
    CaseModel caught_up;
    for (size_t k = 0; k < events.size(); ++k) {
      ASSERT_OK(caught_up.Apply(events[k]));
      Evaluation known_at;
      known_at.known_at = events[k].recorded_at;
      Evaluation now;
      now.now = events[k].recorded_at;
      ASSERT_EQ(Project(full, known_at), Project(caught_up, now))
          << "after event " << k + 1;
    }
  }
}

TEST(FoldPropertyTest, AsOfEqualsTheFoldOfWhatHadOccurred) {
  HistoryGenerator gen(265);
  std::mt19937_64 rng(7);
  for (int h = 0; h < kHistories / 2; ++h) {
    const std::vector<RecordedEvent> events = gen.Next();
    SCOPED_TRACE(absl::StrCat("history ", h));
    ASSERT_OK_AND_ASSIGN(const CaseModel full, FoldCase(events));
    const RecordedEvent& pivot = events[std::uniform_int_distribution<size_t>(
        0, events.size() - 1)(rng)];
    const absl::Time t = FromTimestamp(pivot.event.occurred_at());
    std::vector<RecordedEvent> occurred;
    for (const RecordedEvent& e : events) {
      if (FromTimestamp(e.event.occurred_at()) <= t) occurred.push_back(e);
    }
    ASSERT_OK_AND_ASSIGN(const CaseModel prefix, FoldCase(occurred));
    Evaluation as_of;
    as_of.as_of = t;
    Evaluation now;
    now.now = t;
    EXPECT_EQ(Project(full, as_of), Project(prefix, now));
  }
}

TEST(FoldPropertyTest, FindingsKeepTheirShapeOnAnyHistory) {
  HistoryGenerator gen(1024);
  for (int h = 0; h < kHistories; ++h) {
    const std::vector<RecordedEvent> events = gen.Next();
    SCOPED_TRACE(absl::StrCat("history ", h));
    ASSERT_OK_AND_ASSIGN(const CaseModel model, FoldCase(events));
    const Evaluation e = fixture::Now("2014-01-01T00:00:00Z");
    const Findings f = FindingsFor(model, e, DefaultPolicy(), MessageStored());
    const auto rows = DeadlinesFor(model, e, DefaultPolicy());
    std::set<uint64_t> positions;
    for (const RecordedEvent& r : events) positions.insert(r.position);
    std::set<std::string> requests;
    for (const DeadlineStatus& r : rows) requests.insert(r.request_id);

    size_t rule_index = 0;
    for (const Finding& x : f.findings) {
      // Table order, every rule present.
      while (rule_index < AllRules().size() &&
             AllRules()[rule_index] != x.rule) {
        ++rule_index;
      }
      ASSERT_LT(rule_index, AllRules().size()) << "out of table order";
      EXPECT_FALSE(x.message.empty());
      for (uint64_t p : x.positions) EXPECT_TRUE(positions.contains(p));
      if (!x.request_id.empty() && x.rule != Rule::kRefusalSupported) {
        EXPECT_TRUE(requests.contains(x.request_id)) << x.request_id;
      }
    }
    std::set<Rule> seen;
    for (const Finding& x : f.findings) seen.insert(x.rule);
    EXPECT_EQ(seen.size(), AllRules().size());
  }
}

}  // namespace
}  // namespace caseledger::projections
