#include "projections/internal/analysis.h"

#include <algorithm>

#include "absl/algorithm/container.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"

namespace caseledger::projections::internal {

bool IsOpen(DeadlineState state) {
  return state == DeadlineState::kPending || state == DeadlineState::kOverdue ||
         state == DeadlineState::kDeliveryFailed;
}

size_t CountBefore(const std::vector<const CaseEvent*>& in_time,
                   const CaseEvent* at) {
  if (at == nullptr) return in_time.size();
  return absl::c_partition_point(
             in_time,
             [&](const CaseEvent* e) { return OccurredBefore(*e, *at); }) -
         in_time.begin();
}

size_t CountNotAfter(const std::vector<const CaseEvent*>& in_time,
                     const CaseEvent* at) {
  return absl::c_partition_point(
             in_time,
             [&](const CaseEvent* e) { return !OccurredBefore(*at, *e); }) -
         in_time.begin();
}

namespace {

// The request a request-scoped payload names, or "" for other payloads.
const std::string* NamedRequest(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kRecipientAddressVerified:
      return &e.recipient_address_verified().request_id();
    case v1::Event::kDocumentRequestSent:
      return &e.document_request_sent().request_id();
    case v1::Event::kDeliveryNoticeReceived:
      return &e.delivery_notice_received().request_id();
    case v1::Event::kAlternativeChannelConsidered:
      return &e.alternative_channel_considered().request_id();
    case v1::Event::kDocumentsReceived:
      return &e.documents_received().request_id();
    case v1::Event::kExtensionRequested:
      return &e.extension_requested().request_id();
    case v1::Event::kDeadlineExtended:
      return &e.deadline_extended().request_id();
    case v1::Event::kExtensionRefused:
      return &e.extension_refused().request_id();
    case v1::Event::kNonComplianceRecorded:
      return &e.non_compliance_recorded().request_id();
    case v1::Event::kCaseDecided:
      return &e.case_decided().request_id();
    default:
      return nullptr;
  }
}

// Puts `entry` on file, in place of the same party's entry for its address.
// One address can be on file twice: the applicant's own consent and a
// representative's for the same mailbox are two consents, and withdrawing
// the representative ends only theirs.
void PutOnFile(Analysis::OnFile& file, AddressOnFile entry) {
  std::string key = NormalizeAddress(entry.address);
  const size_t i = file.FindOf(key, entry.party);
  if (i != std::string::npos) {
    file.addresses[i] = std::move(entry);
    return;
  }
  file.addresses.push_back(std::move(entry));
  ++file.key_counts[key];
  file.keys.push_back(std::move(key));
}

void TakeOffFile(Analysis::OnFile& file, size_t i) {
  if (auto count = file.key_counts.find(file.keys[i]); --count->second == 0) {
    file.key_counts.erase(count);
  }
  file.addresses.erase(file.addresses.begin() + i);
  file.keys.erase(file.keys.begin() + i);
}

// One event applied to the addresses on file and the representatives
// appointed.
void ApplyToFile(const CaseEvent& ce, Analysis::OnFile& file) {
  const v1::Event& e = ce.event;
  switch (e.payload_case()) {
    case v1::Event::kEmailConsentRecorded: {
      const auto& p = e.email_consent_recorded();
      PutOnFile(file, {p.address(), p.party(), p.basis(), ce.position});
      break;
    }
    case v1::Event::kEmailConsentWithdrawn: {
      // The party's consent for the address ends; a withdrawal whose party
      // matches no consent for the address ends every consent for it, as
      // the address is what it names.
      const auto& p = e.email_consent_withdrawn();
      const std::string key = NormalizeAddress(p.address());
      size_t i = file.FindOf(key, p.party());
      if (i != std::string::npos) {
        TakeOffFile(file, i);
      } else {
        while ((i = file.Find(key)) != std::string::npos) TakeOffFile(file, i);
      }
      break;
    }
    case v1::Event::kContactAddressChanged: {
      const auto& p = e.contact_address_changed();
      std::optional<AddressOnFile> carried;
      const std::string old_key = NormalizeAddress(p.old_address());
      size_t old = file.FindOf(old_key, p.party());
      if (old == std::string::npos) old = file.Find(old_key);
      if (old != std::string::npos) {
        carried = file.addresses[old];
        TakeOffFile(file, old);
      } else {
        // No consent on the old address: carry the party's consent, if any.
        for (const AddressOnFile& a : file.addresses) {
          if (a.party == p.party()) {
            carried = a;
            break;
          }
        }
      }
      const v1::Party::Value party =
          p.party() != v1::Party::PARTY_UNSPECIFIED || !carried.has_value()
              ? p.party()
              : carried->party;
      // A representative's new address is theirs: a later withdrawal of
      // another representative took it off as matching no one appointed
      // (found by a domain audit), and the state showed the old one.
      if (party == v1::Party::REPRESENTATIVE && !p.new_address().empty()) {
        for (Representative& r : file.representatives) {
          if (!r.email.empty() && NormalizeAddress(r.email) == old_key) {
            r.email = p.new_address();
          }
        }
      }
      if (!carried.has_value() || p.new_address().empty()) break;
      PutOnFile(file, {p.new_address(), party, carried->basis, ce.position});
      break;
    }
    case v1::Event::kRepresentativeAppointed: {
      const auto& p = e.representative_appointed();
      std::erase_if(file.representatives, [&](const Representative& r) {
        return r.representative_id == p.representative_id();
      });
      file.representatives.push_back(
          Representative{p.representative_id(), p.name(), p.email()});
      break;
    }
    case v1::Event::kRepresentativeWithdrawn: {
      // The withdrawn representative's addresses leave the file; those of
      // a representative still appointed stay. A representative's address
      // is known by its email, so one matching no appointed representative
      // is taken to be the withdrawn one's (a second address, or an
      // appointment never recorded).
      std::erase_if(file.representatives, [&](const Representative& r) {
        return r.representative_id ==
               e.representative_withdrawn().representative_id();
      });
      std::vector<std::string> appointed;
      for (const Representative& r : file.representatives) {
        if (!r.email.empty()) appointed.push_back(NormalizeAddress(r.email));
      }
      for (size_t i = file.addresses.size(); i-- > 0;) {
        if (file.addresses[i].party == v1::Party::REPRESENTATIVE &&
            !absl::c_linear_search(appointed, file.keys[i])) {
          TakeOffFile(file, i);
        }
      }
      break;
    }
    default:
      break;
  }
}

// True for the events ApplyToFile applies.
bool ChangesFile(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kEmailConsentRecorded:
    case v1::Event::kEmailConsentWithdrawn:
    case v1::Event::kContactAddressChanged:
    case v1::Event::kRepresentativeAppointed:
    case v1::Event::kRepresentativeWithdrawn:
      return true;
    default:
      return false;
  }
}

// Event `ce` applied to the case_decided in force and the decided status.
void ApplyDecision(const CaseEvent* ce, const CaseEvent** in_force,
                   std::optional<CaseStatus>* decided) {
  const v1::Event& e = ce->event;
  if (e.has_case_decided()) {
    switch (e.case_decided().decision()) {
      case v1::Decision::APPROVED:
        *decided = CaseStatus::kApproved;
        break;
      case v1::Decision::REFUSED:
        *decided = CaseStatus::kRefused;
        break;
      case v1::Decision::WITHDRAWN:
        *decided = CaseStatus::kWithdrawn;
        break;
      default:
        return;  // no decision to apply
    }
    *in_force = ce;
  } else if (e.has_reconsideration_requested()) {
    *decided = CaseStatus::kReconsiderationPending;
  } else if (e.has_reconsideration_decided()) {
    switch (e.reconsideration_decided().outcome()) {
      case v1::ReconsiderationOutcome::REFUSAL_MAINTAINED:
        *decided = CaseStatus::kRefused;
        break;
      case v1::ReconsiderationOutcome::REOPENED:
        decided->reset();
        *in_force = nullptr;
        break;
      default:
        break;
    }
  }
}

}  // namespace

Analysis::Analysis(const CaseModel& model, const Evaluation& evaluation)
    : case_id_(model.case_id()), judged_at_(evaluation.JudgedAt()) {
  for (const CaseEvent& e : model.events()) {
    if (evaluation.Includes(e.occurred_at, e.recorded_at)) {
      events_.push_back(&e);
    }
  }
  std::stable_sort(events_.begin(), events_.end(),
                   [](const CaseEvent* a, const CaseEvent* b) {
                     return OccurredBefore(*a, *b);
                   });
  Index();
}

Analysis::Analysis(const Analysis& whole, std::vector<const CaseEvent*> events,
                   absl::Time judged_at)
    : case_id_(whole.case_id_),
      judged_at_(judged_at),
      events_(std::move(events)) {
  Index();
}

void Analysis::Index() {
  decisions_.assign(1, Decided{});
  for (const CaseEvent* ce : events_) {
    Decided next = decisions_.back();
    ApplyDecision(ce, &next.in_force, &next.status);
    decisions_.push_back(next);
  }
  for (const CaseEvent* ce : events_) {
    const v1::Event& e = ce->event;
    if (e.has_case_opened() && opened_ == nullptr) opened_ = ce;
    if (ChangesFile(e)) file_events_.push_back(ce);
    const std::string* id = NamedRequest(e);
    if (id == nullptr) continue;
    if (e.has_case_decided() && id->empty()) continue;
    RequestFacts& r = by_id_[*id];
    r.id = *id;
    switch (e.payload_case()) {
      case v1::Event::kRecipientAddressVerified:
        r.verifications.push_back(ce);
        break;
      case v1::Event::kDocumentRequestSent:
        if (r.sent == nullptr) r.sent = ce;
        break;
      case v1::Event::kDeliveryNoticeReceived:
        r.notices.push_back(ce);
        break;
      case v1::Event::kAlternativeChannelConsidered:
        r.alternatives.push_back(ce);
        break;
      case v1::Event::kDocumentsReceived:
        r.receipts.push_back(ce);
        break;
      case v1::Event::kExtensionRequested:
        r.extension_requests.push_back(ce);
        break;
      case v1::Event::kDeadlineExtended:
        r.extensions.push_back(ce);
        break;
      case v1::Event::kExtensionRefused:
        r.extension_refusals.push_back(ce);
        break;
      case v1::Event::kNonComplianceRecorded:
        r.notes.push_back(ce);
        break;
      case v1::Event::kCaseDecided:
        r.decisions.push_back(ce);
        break;
      default:
        break;
    }
  }
  // Documents dated before a request's send cannot answer it.
  for (auto& [id, r] : by_id_) {
    // The send is captured by name: clang 14 cannot capture a structured
    // binding, and the fuzz targets build with it.
    std::erase_if(r.receipts, [sent = r.sent](const CaseEvent* e) {
      return sent == nullptr || OccurredBefore(*e, *sent);
    });
    const auto complete = absl::c_find_if(r.receipts, [](const CaseEvent* e) {
      return e->event.documents_received().complete();
    });
    if (complete != r.receipts.end()) r.first_complete_receipt = *complete;
    const auto bounce = absl::c_find_if(r.notices, [](const CaseEvent* e) {
      return e->event.delivery_notice_received().action() ==
             v1::DeliveryAction::FAILED;
    });
    if (bounce != r.notices.end()) r.first_bounce = *bounce;
    if (r.sent == nullptr) continue;
    // DeadlineBefore's answers (analysis.h).
    RequestFacts::DeadlineSet in_force;
    if (r.request().has_deadline()) {
      in_force.deadline = FromTimestamp(r.request().deadline());
    }
    r.deadlines.push_back(in_force);
    for (const CaseEvent* e : r.extensions) {
      if (e->event.deadline_extended().has_new_deadline()) {
        const absl::Time extended =
            FromTimestamp(e->event.deadline_extended().new_deadline());
        if (!in_force.deadline.has_value() || extended > *in_force.deadline) {
          in_force = {extended, e};
        }
      }
      r.deadlines.push_back(in_force);
    }
  }
  // Resends, and the send order.
  for (const CaseEvent* ce : events_) {
    if (!ce->event.has_document_request_sent()) continue;
    const auto& p = ce->event.document_request_sent();
    auto self = by_id_.find(p.request_id());
    if (self == by_id_.end() || self->second.sent != ce) continue;
    requests_.push_back(&self->second);
    if (!p.resend_of().empty()) {
      auto original = by_id_.find(p.resend_of());
      if (original != by_id_.end() && original->second.sent != nullptr) {
        self->second.resends_request = &original->second;
        // Only a resend sent at or after the original supersedes it; one
        // dated before it (recorded before the ledger refused such resends)
        // does not.
        if (OccurredBefore(*original->second.sent, *ce)) {
          original->second.resends.push_back(ce);
        }
      }
    }
  }

  // relied_resent (analysis.h), a request after the one it resends: the
  // ledger takes a resend only of a request it has sent (domain.md §3).
  std::vector<RequestFacts*> in_log_order;
  for (auto& [id, r] : by_id_) {
    if (r.sent != nullptr) in_log_order.push_back(&r);
  }
  absl::c_sort(in_log_order, [](const RequestFacts* x, const RequestFacts* y) {
    return x->sent->position < y->sent->position;
  });
  auto relied = [](const RequestFacts* m) {
    return !m->notes.empty() || !m->decisions.empty();
  };
  for (RequestFacts* r : in_log_order) {
    const RequestFacts* p = r->resends_request;
    if (p == nullptr) continue;
    if (relied(p)) {
      r->relied_resent = p;
    } else if (p->sent->position < r->sent->position) {
      r->relied_resent = p->relied_resent;
    } else {
      // Named before it was sent, which no ledger took: the walk itself.
      for (const RequestFacts* m : Resent(*r)) {
        if (relied(m)) {
          r->relied_resent = m;
          break;
        }
      }
    }
  }

  // Each request's deadline and state, then the case's status.
  for (auto& [id, r] : by_id_) {
    if (r.sent == nullptr) continue;
    r.deadline = DeadlineBefore(r, nullptr);
    r.state = StateBefore(r, nullptr);
  }
  const CaseEvent* in_force = nullptr;
  std::optional<CaseStatus> decided;
  ReplayDecisions(nullptr, &in_force, &decided);
  if (decided.has_value()) {
    status_ = *decided;
  } else {
    status_ = CaseStatus::kOpen;
    for (const RequestFacts* r : requests_) {
      if (IsOpen(r->state)) {
        status_ = CaseStatus::kAwaitingDocuments;
        break;
      }
    }
  }
}

std::string Analysis::applicant_country() const {
  return opened_ == nullptr ? ""
                            : opened_->event.case_opened().applicant_country();
}

const RequestFacts* Analysis::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<const RequestFacts*> Analysis::Resent(const RequestFacts& r) const {
  std::vector<const RequestFacts*> resent;
  for (const RequestFacts* m = r.resends_request;
       m != nullptr && resent.size() < requests_.size();
       m = m->resends_request) {
    resent.push_back(m);
  }
  return resent;
}

Analysis::OnFile Analysis::FileBefore(const CaseEvent* at) const {
  OnFile file;
  for (const CaseEvent* e : file_events_) {
    if (!IsBefore(e, at)) break;
    ApplyToFile(*e, file);
  }
  return file;
}

std::vector<AddressOnFile> Analysis::AddressesBefore(
    const CaseEvent* at) const {
  return FileBefore(at).addresses;
}

size_t Analysis::OnFile::Find(std::string_view key) const {
  if (!key_counts.contains(AbslView(key))) return std::string::npos;
  const auto it = absl::c_find(keys, key);
  return it == keys.end() ? std::string::npos : it - keys.begin();
}

size_t Analysis::OnFile::FindOf(std::string_view key,
                                v1::Party::Value party) const {
  if (!key_counts.contains(AbslView(key))) return std::string::npos;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (addresses[i].party == party && keys[i] == key) return i;
  }
  return std::string::npos;
}

bool Analysis::TakesOffFile(const CaseEvent* e,
                            std::string_view address) const {
  OnFile file = FileBefore(e);
  const std::string key = NormalizeAddress(address);
  if (file.Find(key) == std::string::npos) return false;
  ApplyToFile(*e, file);
  return file.Find(key) == std::string::npos;
}

std::optional<AddressOnFile> Analysis::OnFileBefore(std::string_view address,
                                                    const CaseEvent* at) const {
  OnFile file = FileBefore(at);
  const size_t i = file.Find(NormalizeAddress(address));
  if (i == std::string::npos) return std::nullopt;
  return std::move(file.addresses[i]);
}

std::optional<absl::Time> Analysis::DeadlineBefore(
    const RequestFacts& r, const CaseEvent* at,
    const CaseEvent** extended_by) const {
  if (extended_by != nullptr) *extended_by = nullptr;
  if (r.sent == nullptr) return std::nullopt;
  const size_t before = CountBefore(r.extensions, at);
  if (extended_by != nullptr) *extended_by = r.deadlines[before].by;
  return r.deadlines[before].deadline;
}

void Analysis::ReplayDecisions(const CaseEvent* at, const CaseEvent** in_force,
                               std::optional<CaseStatus>* decided) const {
  const size_t before = CountBefore(events_, at);
  *in_force = decisions_[before].in_force;
  *decided = decisions_[before].status;
}

const CaseEvent* Analysis::DecisionBefore(const CaseEvent* at) const {
  const CaseEvent* in_force = nullptr;
  std::optional<CaseStatus> decided;
  ReplayDecisions(at, &in_force, &decided);
  return in_force;
}

DeadlineState Analysis::StateBefore(const RequestFacts& r,
                                    const CaseEvent* at) const {
  // Each list is in business-time order: its first is the earliest.
  if (!r.resends.empty() && IsBefore(r.resends.front(), at)) {
    return DeadlineState::kSuperseded;
  }
  const std::optional<absl::Time> deadline = DeadlineBefore(r, at);
  // `r` and the requests it resends are one request sent more than once. An
  // applicant who answered the first email complied, as
  // NON_COMPLIANCE_AFTER_DEADLINE counts it (found by an audit: such
  // documents left the resend OVERDUE and the case AWAITING_DOCUMENTS).
  // Resent() allocates nothing for a request that resends none.
  const std::vector<const RequestFacts*> resent = Resent(r);
  std::optional<absl::Time> complete_at;
  auto take_receipts = [&](const RequestFacts& m) {
    const CaseEvent* e = m.first_complete_receipt;
    if (e != nullptr && IsBefore(e, at) &&
        (!complete_at || e->occurred_at < *complete_at)) {
      complete_at = e->occurred_at;
    }
  };
  take_receipts(r);
  for (const RequestFacts* m : resent) take_receipts(*m);
  if (complete_at) {
    return !deadline.has_value() || *complete_at <= *deadline
               ? DeadlineState::kSatisfied
               : DeadlineState::kSatisfiedLate;
  }
  if (const CaseEvent* in_force = DecisionBefore(at); in_force != nullptr) {
    const auto& decision = in_force->event.case_decided();
    // A refusal naming a request `r` resends refuses on `r` as well: it
    // stays OVERDUE, as the request the refusal rests on (found by an
    // audit: it was CLOSED, and left open_requests).
    const bool refused_on_this =
        decision.decision() == v1::Decision::REFUSED &&
        decision.ground() == v1::DecisionGround::NON_COMPLIANCE &&
        (decision.request_id() == r.id ||
         absl::c_any_of(resent, [&](const RequestFacts* m) {
           return decision.request_id() == m->id;
         }));
    if (!refused_on_this) return DeadlineState::kClosed;
  }
  if (r.first_bounce != nullptr && IsBefore(r.first_bounce, at)) {
    return DeadlineState::kDeliveryFailed;
  }
  const absl::Time judged_at = at == nullptr ? judged_at_ : at->occurred_at;
  if (deadline.has_value() && *deadline < judged_at) {
    return DeadlineState::kOverdue;
  }
  return DeadlineState::kPending;
}

bool Analysis::OpenBefore(const RequestFacts& r, const CaseEvent* at) const {
  return r.sent != nullptr && IsBefore(r.sent, at) &&
         IsOpen(StateBefore(r, at));
}

}  // namespace caseledger::projections::internal
