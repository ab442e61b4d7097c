#include "projections/case_state.h"

#include <algorithm>

#include "projections/internal/analysis.h"

namespace caseledger::projections {

std::string_view CaseStatusName(CaseStatus status) {
  switch (status) {
    case CaseStatus::kOpen:
      return "OPEN";
    case CaseStatus::kAwaitingDocuments:
      return "AWAITING_DOCUMENTS";
    case CaseStatus::kRefused:
      return "REFUSED";
    case CaseStatus::kApproved:
      return "APPROVED";
    case CaseStatus::kWithdrawn:
      return "WITHDRAWN";
    case CaseStatus::kReconsiderationPending:
      return "RECONSIDERATION_PENDING";
  }
  return "UNKNOWN";
}

CaseState CaseStateFor(const CaseModel& model, const Evaluation& evaluation) {
  const internal::Analysis analysis(model, evaluation);
  CaseState state;
  state.case_id = analysis.case_id();
  state.status = analysis.status();
  internal::Analysis::OnFile file = analysis.FileBefore(nullptr);
  state.addresses_on_file = std::move(file.addresses);
  if (!file.representatives.empty()) {
    state.representative = std::move(file.representatives.back());
  }
  for (const CaseEvent* ce : analysis.events()) {
    const v1::Event& e = ce->event;
    state.version = std::max(state.version, ce->case_version);
    state.last_position = std::max(state.last_position, ce->position);
    switch (e.payload_case()) {
      case v1::Event::kCaseOpened:
        if (ce == analysis.opened()) {
          state.office_id = e.case_opened().office_id();
          state.applicant_country = e.case_opened().applicant_country();
        }
        break;
      case v1::Event::kCaseTransferred: {
        const auto& p = e.case_transferred();
        state.transfers.push_back(Transfer{p.from_office_id(), p.to_office_id(),
                                           p.reason(), ce->occurred_at,
                                           ce->position});
        if (!p.to_office_id().empty()) state.office_id = p.to_office_id();
        break;
      }
      case v1::Event::kJudicialReviewFiled:
        state.judicial_review = e.judicial_review_filed().court_file_number();
        break;
      default:
        break;
    }
  }
  for (const internal::RequestFacts* r : analysis.requests()) {
    if (internal::IsOpen(r->state)) {
      state.open_requests.push_back(OpenRequest{r->id, r->request().channel(),
                                                r->sent->occurred_at,
                                                r->deadline, r->state});
    }
  }
  return state;
}

absl::StatusOr<CaseState> CaseStateFor(absl::Span<const RecordedEvent> events,
                                       const Evaluation& evaluation) {
  absl::StatusOr<CaseModel> model = FoldCase(events);
  if (!model.ok()) return model.status();
  return CaseStateFor(*model, evaluation);
}

}  // namespace caseledger::projections
