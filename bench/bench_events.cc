#include "bench/bench_events.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace caseledger::bench {
namespace {

constexpr int64_t kCaseStart = 1325419200;  // 2012-01-01T12:00:00Z
constexpr char kApplicant[] = "maria.santos@mail.example";
constexpr char kOffice[] = "visa-office@office.example";
constexpr char kBodySha[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr char kNoticeSha[] =
    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

// FNV-1a, enough to spread ids; uniqueness comes from (case_id, index).
uint64_t Mix(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::string BenchEventId(const std::string& case_id, uint64_t index) {
  // 32 hex digits: 16 from a hash of the case id, 16 from the index, so two
  // different (case, index) pairs of one case never collide.
  uint64_t a = Mix(case_id, 0x9e3779b97f4a7c15ull);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx",
                static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>((index >> 48) & 0xfff),
                static_cast<unsigned long long>(index & 0xffffffffffffull));
  return buf;
}

v1::Event CaseEvent(const std::string& case_id, uint64_t index) {
  v1::Event e;
  e.set_event_id(BenchEventId(case_id, index));
  e.set_case_id(case_id);
  int64_t when = kCaseStart + static_cast<int64_t>(index) * 3600;
  e.mutable_occurred_at()->set_seconds(when);
  e.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
  e.mutable_actor()->set_id("off-17");
  e.set_source("gcms-bridge");
  if (index == 0) {
    auto* p = e.mutable_case_opened();
    p->set_program("TRV");
    p->set_office_id("VO-DELHI");
    p->set_office_mailbox(kOffice);
    p->set_applicant_country("PH");
    p->set_language("en");
    return e;
  }
  if (index == 1) {
    auto* p = e.mutable_email_consent_recorded();
    p->set_party(v1::Party::APPLICANT);
    p->set_address(kApplicant);
    p->set_basis(v1::ConsentBasis::APPLICATION_FORM);
    return e;
  }
  uint64_t round = (index - 2) / 5;
  std::string request = absl::StrCat("DOC-", round + 1);
  std::string message_id =
      absl::StrCat("<", case_id, ".", request, "@mail.office.example>");
  switch ((index - 2) % 5) {
    case 0: {
      auto* p = e.mutable_document_request_sent();
      p->set_request_id(request);
      p->set_channel(v1::Channel::EMAIL);
      p->add_to(kApplicant);
      p->set_from_mailbox(kOffice);
      p->set_organizational_mailbox(true);
      p->mutable_deadline()->set_seconds(when + 30 * 86400);
      p->add_items("Police certificate (Philippines, NBI clearance)");
      p->add_items("Proof of financial support for the last 6 months");
      p->set_refusal_warning_included(true);
      p->set_message_id(message_id);
      p->set_subject(
          absl::StrCat("Request for additional documents - file ", case_id));
      p->set_body_sha256(kBodySha);
      e.set_correlation_id(request);
      return e;
    }
    case 1: {
      auto* p = e.mutable_delivery_notice_received();
      p->set_request_id(request);
      p->set_message_id(message_id);
      p->set_action(v1::DeliveryAction::DELIVERED);
      p->set_recipient(kApplicant);
      p->set_status_code("2.0.0");
      p->set_notice_sha256(kNoticeSha);
      e.mutable_actor()->set_kind(v1::ActorKind::SYSTEM);
      e.mutable_actor()->set_id("mta-notices");
      return e;
    }
    case 2: {
      auto* p = e.mutable_applicant_email_received();
      p->set_from_address(kApplicant);
      p->set_message_id(absl::StrCat("<reply.", request, "@mail.example>"));
      p->set_in_reply_to(message_id);
      p->set_subject(absl::StrCat(
          "RE: Request for additional documents - file ", case_id));
      p->set_body_sha256(kBodySha);
      e.mutable_actor()->set_kind(v1::ActorKind::APPLICANT);
      e.mutable_actor()->set_id(kApplicant);
      return e;
    }
    case 3: {
      auto* p = e.mutable_documents_received();
      p->set_request_id(request);
      p->add_items("Police certificate (Philippines, NBI clearance)");
      p->add_items("Proof of financial support for the last 6 months");
      p->set_complete(true);
      p->set_channel(v1::Channel::EMAIL);
      return e;
    }
    default: {
      e.mutable_officer_note_added()->set_text(absl::StrCat(
          "Documents for ", request,
          " reviewed; police certificate is valid, funds are sufficient."));
      return e;
    }
  }
}

RoundRobinCases::RoundRobinCases(std::string prefix, size_t width,
                                 uint64_t case_length)
    : prefix_(std::move(prefix)), case_length_(case_length) {
  for (size_t i = 0; i < width; ++i) {
    scripts_.emplace_back(absl::StrCat(prefix_, cases_made_++));
  }
}

void RoundRobinCases::Next(size_t n, std::vector<v1::Event>& out) {
  out.clear();
  for (size_t k = 0; k < n; ++k, next_ = (next_ + 1) % scripts_.size()) {
    if (scripts_[next_].produced() == case_length_) {
      scripts_[next_] = CaseScript(absl::StrCat(prefix_, cases_made_++));
    }
    out.push_back(scripts_[next_].Next());
  }
}

}  // namespace caseledger::bench
