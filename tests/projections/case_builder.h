// Test fixtures for the projections: a builder that writes realistic case
// histories in a few lines, loaders for the shared examples, and small
// lookup helpers that print well in failures.
#ifndef CASELEDGER_TESTS_PROJECTIONS_CASE_BUILDER_H_
#define CASELEDGER_TESTS_PROJECTIONS_CASE_BUILDER_H_

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ledger/recorded_event.h"
#include "ledger/sha256.h"
#include "ledger/timestamp.h"
#include "projections/case_model.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"
#include "projections/findings.h"
#include "projections/policy.h"
#include "tests/testing/test_util.h"

namespace caseledger::projections::fixture {

// "2012-06-01T10:00:00Z" or "2012-06-01" (midnight UTC) as absl::Time.
inline absl::Time T(std::string_view text) {
  absl::Time t;
  std::string error;
  if (text.size() == 10) {
    if (absl::ParseTime("%Y-%m-%d", std::string(text), &t, &error)) return t;
  } else if (absl::ParseTime(absl::RFC3339_full, std::string(text), &t,
                             &error)) {
    return t;
  }
  ADD_FAILURE() << "bad time in test: " << text << ": " << error;
  return absl::UnixEpoch();
}

inline void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  const int64_t s = absl::ToUnixSeconds(t);
  ts->set_seconds(s);
  ts->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(s))));
}

// Evaluations: deadlines judged at `now` / as of / known at a time.
inline Evaluation Now(std::string_view now) {
  Evaluation e;
  e.now = T(now);
  return e;
}
inline Evaluation AsOf(std::string_view t) {
  Evaluation e;
  e.as_of = T(t);
  return e;
}
inline Evaluation KnownAt(std::string_view t) {
  Evaluation e;
  e.known_at = T(t);
  return e;
}

inline MessageStored AllStored() {
  return [](std::string_view) { return absl::OkStatus(); };
}
inline MessageStored NothingStored() {
  return [](std::string_view) { return absl::NotFoundError("not stored"); };
}

// The SHA-256 (hex) the builder gives the message of a request.
inline std::string BodyOf(std::string_view request_id) {
  return ToHex(Sha256(absl::StrCat("message of ", std::string(request_id))));
}

constexpr char kApplicant[] = "maria.santos@mail.example";
constexpr char kOfficeMailbox[] = "visa-office@office.example";

// Builds one case. Each event gets the next position and case_version and
// recorded_at = occurred_at + 1 minute unless RecordedAt() says otherwise.
class CaseBuilder {
 public:
  explicit CaseBuilder(std::string case_id = "C-1") : case_id_(case_id) {}

  // Adds an event that occurred at `at`; fill its payload through the
  // returned reference (valid for the builder's lifetime).
  v1::Event& At(std::string_view at) {
    RecordedEvent& r = events_.emplace_back();
    r.position = next_position_++;
    r.case_version = events_.size();
    const absl::Time t = T(at);
    r.recorded_at = t + absl::Minutes(1);
    r.event.set_event_id(absl::StrCat("ev-", r.position));
    r.event.set_case_id(case_id_);
    SetTime(r.event.mutable_occurred_at(), t);
    r.event.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
    r.event.mutable_actor()->set_id("off-17");
    r.event.set_source("test");
    return r.event;
  }

  // Sets the recorded_at of the last event.
  CaseBuilder& RecordedAt(std::string_view at) {
    events_.back().recorded_at = T(at);
    return *this;
  }
  CaseBuilder& Opened(std::string_view at, std::string country = "CO") {
    auto* p = At(at).mutable_case_opened();
    p->set_program("TRV");
    p->set_office_id("VO-DELHI");
    p->set_office_mailbox(kOfficeMailbox);
    p->set_applicant_country(country);
    p->set_language("en");
    return *this;
  }

  CaseBuilder& Consent(
      std::string_view at, std::string address = kApplicant,
      v1::ConsentBasis::Value basis = v1::ConsentBasis::APPLICATION_FORM,
      v1::Party::Value party = v1::Party::APPLICANT, bool repeated = false) {
    auto* p = At(at).mutable_email_consent_recorded();
    p->set_party(party);
    p->set_address(address);
    p->set_basis(basis);
    p->set_evidence_ref("application form p.1");
    p->set_representative_email_in_mailing_address(repeated);
    return *this;
  }

  CaseBuilder& Withdrawn(std::string_view at,
                         std::string address = kApplicant) {
    auto* p = At(at).mutable_email_consent_withdrawn();
    p->set_party(v1::Party::APPLICANT);
    p->set_address(address);
    p->set_reason("applicant asked for post");
    return *this;
  }

  // A representative appointed (IMM 5476) whose consent is recorded on the
  // representative form, the email repeated in the mailing address.
  CaseBuilder& RepresentativeWithConsent(std::string_view at, std::string id,
                                         std::string email) {
    auto* p = At(at).mutable_representative_appointed();
    p->set_representative_id(id);
    p->set_name(id);
    p->set_email(email);
    return Consent(at, email, v1::ConsentBasis::REPRESENTATIVE_FORM,
                   v1::Party::REPRESENTATIVE, /*repeated=*/true);
  }

  CaseBuilder& RepresentativeWithdrawn(std::string_view at, std::string id) {
    At(at).mutable_representative_withdrawn()->set_representative_id(id);
    return *this;
  }

  CaseBuilder& AddressChanged(std::string_view at, std::string old_address,
                              std::string new_address,
                              v1::Party::Value party = v1::Party::APPLICANT) {
    auto* p = At(at).mutable_contact_address_changed();
    p->set_party(party);
    p->set_old_address(old_address);
    p->set_new_address(new_address);
    p->set_evidence_ref("applicant's email");
    return *this;
  }

  CaseBuilder& Verified(std::string_view at, std::string request,
                        std::string address = kApplicant, bool matches = true) {
    auto* p = At(at).mutable_recipient_address_verified();
    p->set_request_id(request);
    p->set_address(address);
    p->set_matches_address_on_file(matches);
    return *this;
  }

  // An email request done right: from the office mailbox, with the refusal
  // warning and a message digest. Adjust the returned payload for lapses.
  v1::DocumentRequestSent& Email(std::string_view at, std::string request,
                                 std::string_view deadline,
                                 std::string to = kApplicant) {
    auto* p = At(at).mutable_document_request_sent();
    p->set_request_id(request);
    p->set_channel(v1::Channel::EMAIL);
    p->add_to(to);
    p->set_from_mailbox(kOfficeMailbox);
    p->set_organizational_mailbox(true);
    SetTime(p->mutable_deadline(), T(deadline));
    p->add_items("police certificate");
    p->set_refusal_warning_included(true);
    p->set_message_id(absl::StrCat("<", request, "@office.example>"));
    p->set_subject(absl::StrCat("Request ", request));
    p->set_body_sha256(BodyOf(request));
    return *p;
  }

  CaseBuilder& Notice(std::string_view at, std::string request,
                      v1::DeliveryAction::Value action,
                      std::string recipient = kApplicant) {
    auto* p = At(at).mutable_delivery_notice_received();
    p->set_request_id(request);
    p->set_message_id(absl::StrCat("<", request, "@office.example>"));
    p->set_action(action);
    p->set_recipient(recipient);
    p->set_status_code(action == v1::DeliveryAction::FAILED ? "5.1.1"
                                                            : "4.4.7");
    p->set_diagnostic("test notice");
    return *this;
  }

  CaseBuilder& Alternative(std::string_view at, std::string request,
                           bool used = true) {
    auto* p = At(at).mutable_alternative_channel_considered();
    p->set_request_id(request);
    p->set_channel(v1::Channel::POSTAL_MAIL);
    p->set_used(used);
    p->set_rationale("copy mailed to the address on the form");
    return *this;
  }

  CaseBuilder& Received(std::string_view at, std::string request,
                        bool complete = true) {
    auto* p = At(at).mutable_documents_received();
    p->set_request_id(request);
    p->add_items("police certificate");
    p->set_complete(complete);
    p->set_channel(v1::Channel::EMAIL);
    return *this;
  }

  CaseBuilder& ExtensionRequested(std::string_view at, std::string request,
                                  std::string_view to) {
    auto* p = At(at).mutable_extension_requested();
    p->set_request_id(request);
    SetTime(p->mutable_requested_deadline(), T(to));
    p->set_reason("police certificate takes 8 weeks");
    return *this;
  }

  CaseBuilder& Extended(std::string_view at, std::string request,
                        std::string_view to) {
    auto* p = At(at).mutable_deadline_extended();
    p->set_request_id(request);
    SetTime(p->mutable_new_deadline(), T(to));
    p->set_reason("granted");
    return *this;
  }

  CaseBuilder& ExtensionRefused(std::string_view at, std::string request) {
    auto* p = At(at).mutable_extension_refused();
    p->set_request_id(request);
    p->set_reason("enough time given");
    return *this;
  }

  CaseBuilder& Note(std::string_view at, std::string request,
                    std::string text = kStandardNoteEnglish) {
    auto* p = At(at).mutable_non_compliance_recorded();
    p->set_request_id(request);
    p->set_note(text);
    return *this;
  }

  CaseBuilder& ApplicantEmail(std::string_view at, bool reports_problem) {
    auto* p = At(at).mutable_applicant_email_received();
    p->set_from_address(kApplicant);
    p->set_message_id("<reply@mail.example>");
    p->set_subject("About my file");
    p->set_reports_delivery_problem(reports_problem);
    return *this;
  }

  CaseBuilder& TransferNotice(std::string_view at, bool copy_new_office = true,
                              std::string to = kApplicant) {
    auto* p = At(at).mutable_transfer_notice_sent();
    p->add_to(to);
    if (copy_new_office) p->add_cc("ottawa-cpc@office.example");
    p->set_from_mailbox(kOfficeMailbox);
    p->set_new_office_id("CPC-OTTAWA");
    p->set_new_office_mailbox("ottawa-cpc@office.example");
    p->set_body_sha256(BodyOf("transfer"));
    return *this;
  }

  // A transfer notice to the applicant that names no office, copying
  // `mailbox` as the new office's.
  CaseBuilder& NoticeNamingNoOffice(std::string_view at,
                                    const std::string& mailbox) {
    auto* p = At(at).mutable_transfer_notice_sent();
    p->add_to(kApplicant);
    p->add_cc(mailbox);
    p->set_from_mailbox(kOfficeMailbox);
    p->set_new_office_mailbox(mailbox);
    return *this;
  }

  CaseBuilder& TransferredBetween(std::string_view at, const std::string& from,
                                  const std::string& to) {
    auto* p = At(at).mutable_case_transferred();
    p->set_from_office_id(from);
    p->set_to_office_id(to);
    return *this;
  }

  CaseBuilder& Transferred(std::string_view at) {
    auto* p = At(at).mutable_case_transferred();
    p->set_from_office_id("VO-DELHI");
    p->set_to_office_id("CPC-OTTAWA");
    p->set_reason("processing moved");
    return *this;
  }

  CaseBuilder& Decided(
      std::string_view at, v1::Decision::Value decision,
      v1::DecisionGround::Value ground = v1::DecisionGround::OTHER,
      std::string request = "") {
    auto* p = At(at).mutable_case_decided();
    p->set_decision(decision);
    p->set_ground(ground);
    p->set_request_id(request);
    p->set_reasons("Reasons given.");
    return *this;
  }

  // Refusal for non-compliance with `request`.
  CaseBuilder& Refused(std::string_view at, std::string request) {
    return Decided(at, v1::Decision::REFUSED,
                   v1::DecisionGround::NON_COMPLIANCE, request);
  }

  CaseBuilder& ReconsiderationRequested(
      std::string_view at, v1::ReconsiderationGround::Value ground =
                               v1::ReconsiderationGround::EMAIL_NOT_RECEIVED) {
    auto* p = At(at).mutable_reconsideration_requested();
    p->set_ground(ground);
    p->set_statement("I never received the email.");
    return *this;
  }

  CaseBuilder& ReconsiderationDecided(
      std::string_view at, v1::ReconsiderationOutcome::Value outcome,
      std::string reasons = "Circumstances weighed.") {
    auto* p = At(at).mutable_reconsideration_decided();
    p->set_outcome(outcome);
    p->set_reasons(reasons);
    p->add_circumstances_considered("bounce record");
    return *this;
  }

  CaseBuilder& JudicialReview(std::string_view at) {
    At(at).mutable_judicial_review_filed()->set_court_file_number(
        "IMM-1234-12");
    return *this;
  }

  std::vector<RecordedEvent> events() const {
    return std::vector<RecordedEvent>(events_.begin(), events_.end());
  }

  CaseModel model() const {
    CaseModel m;
    for (const RecordedEvent& e : events_) {
      const absl::Status s = m.Apply(e);
      EXPECT_TRUE(s.ok()) << s;
    }
    return m;
  }

 private:
  std::string case_id_;
  uint64_t next_position_ = 1;
  std::deque<RecordedEvent> events_;
};

// Consent on the application form, the address checked, DOC-1 emailed from
// the office mailbox on 2012-06-01 with a 45-day deadline (2012-07-16) and
// the warning.
inline CaseBuilder RequestSentByTheBook() {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Consent("2012-05-01T09:05:00Z");
  b.Verified("2012-06-01T10:00:00Z", "DOC-1");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z");
  return b;
}

// A case done by the book (Kaur, 2009 FC 935): RequestSentByTheBook, no
// reply, the standard note after the deadline, refusal for non-compliance.
inline CaseBuilder KaurCase() {
  CaseBuilder b = RequestSentByTheBook();
  b.Note("2012-07-20T09:00:00Z", "DOC-1");
  b.Refused("2012-07-21T09:00:00Z", "DOC-1");
  return b;
}

using ::caseledger::testing::SharedDir;

// Reads a JSON Lines example of shared/examples as recorded events:
// positions and versions 1, 2, 3 ..., recorded_at = occurred_at + 1 minute.
inline std::vector<RecordedEvent> LoadExample(std::string_view name) {
  const std::string path = SharedDir() + "/examples/" + std::string(name);
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<RecordedEvent> events;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    RecordedEvent r;
    const auto status =
        google::protobuf::util::JsonStringToMessage(line, &r.event);
    EXPECT_TRUE(status.ok()) << path << ": " << status.ToString();
    r.position = events.size() + 1;
    r.case_version = events.size() + 1;
    r.recorded_at = FromTimestamp(r.event.occurred_at()) + absl::Minutes(1);
    events.push_back(std::move(r));
  }
  return events;
}

// The status name of the finding of `rule` for `request_id` ("" for a
// case-level finding), or "MISSING".
inline std::string StatusOf(const Findings& findings, Rule rule,
                            std::string_view request_id = "") {
  for (const Finding& f : findings.findings) {
    if (f.rule == rule && f.request_id == request_id) {
      return std::string(FindingStatusName(f.status));
    }
  }
  return "MISSING";
}

inline const Finding* FindingOf(const Findings& findings, Rule rule,
                                std::string_view request_id = "") {
  for (const Finding& f : findings.findings) {
    if (f.rule == rule && f.request_id == request_id) return &f;
  }
  return nullptr;
}

// Every finding of `rule`.
inline std::vector<Finding> FindingsOf(const Findings& findings, Rule rule) {
  std::vector<Finding> out;
  for (const Finding& f : findings.findings) {
    if (f.rule == rule) out.push_back(f);
  }
  return out;
}

inline Findings FindingsAt(const CaseBuilder& b, std::string_view now,
                           const MessageStored& stored = AllStored(),
                           const DeadlinePolicy& policy = DefaultPolicy()) {
  return FindingsFor(b.model(), Now(now), policy, stored);
}

inline std::vector<std::string> FlagNames(const DeadlineStatus& row) {
  std::vector<std::string> names;
  for (DeadlineFlag f : row.flags) names.emplace_back(DeadlineFlagName(f));
  return names;
}

// The row for `request_id`; a default row (request_id "") if none.
inline DeadlineStatus RowOf(const std::vector<DeadlineStatus>& rows,
                            std::string_view request_id) {
  for (const DeadlineStatus& r : rows) {
    if (r.request_id == request_id) return r;
  }
  ADD_FAILURE() << "no deadline row for " << request_id;
  return {};
}

inline std::string StateOf(const CaseBuilder& b, std::string_view request_id,
                           const Evaluation& evaluation) {
  const auto rows = DeadlinesFor(b.model(), evaluation, DefaultPolicy());
  return std::string(DeadlineStateName(RowOf(rows, request_id).status));
}

}  // namespace caseledger::projections::fixture

#endif  // CASELEDGER_TESTS_PROJECTIONS_CASE_BUILDER_H_
