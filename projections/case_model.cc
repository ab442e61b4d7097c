#include "projections/case_model.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"
#include "ledger/timestamp.h"

namespace caseledger::projections {

bool OccurredBefore(const CaseEvent& a, const CaseEvent& b) {
  return std::tie(a.occurred_at, a.case_version) <
         std::tie(b.occurred_at, b.case_version);
}

absl::Status CaseModel::CheckNext(const RecordedEvent& event) const {
  if (events_.empty()) return absl::OkStatus();
  const std::string& case_id = event.event.case_id();
  if (case_id != case_id_) {
    return absl::InvalidArgumentError(
        absl::StrCat("position ", event.position, ": event of case \"", case_id,
                     "\" folded into case \"", case_id_, "\""));
  }
  const CaseEvent& last = events_.back();
  if (event.case_version <= last.case_version ||
      event.position <= last.position) {
    return absl::InvalidArgumentError(absl::StrCat(
        "position ", event.position, ": case_version ", event.case_version,
        " folded after case_version ", last.case_version, " (position ",
        last.position, "); events must come in case order"));
  }
  return absl::OkStatus();
}

void CaseModel::Append(const RecordedEvent& event, v1::Event decoded) {
  if (events_.empty()) case_id_ = decoded.case_id();
  CaseEvent& e = events_.emplace_back();
  e.position = event.position;
  e.case_version = event.case_version;
  e.occurred_at = FromTimestamp(decoded.occurred_at());
  e.recorded_at = event.recorded_at;
  e.event = std::move(decoded);
}

absl::Status CaseModel::Apply(const RecordedEvent& event) {
  CASELEDGER_RETURN_IF_ERROR(CheckNext(event));
  Append(event, event.event);
  return absl::OkStatus();
}

absl::Status CaseModel::Apply(RecordedEvent&& event) {
  CASELEDGER_RETURN_IF_ERROR(CheckNext(event));
  Append(event, std::move(event.event));
  return absl::OkStatus();
}

absl::StatusOr<CaseModel> FoldCase(absl::Span<const RecordedEvent> events) {
  CaseModel model;
  for (const RecordedEvent& e : events) {
    if (absl::Status s = model.Apply(e); !s.ok()) return s;
  }
  return model;
}

}  // namespace caseledger::projections
