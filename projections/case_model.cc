#include "projections/case_model.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "ledger/timestamp.h"

namespace caseledger::projections {

bool OccurredBefore(const CaseEvent& a, const CaseEvent& b) {
  return std::tie(a.occurred_at, a.case_version) <
         std::tie(b.occurred_at, b.case_version);
}

absl::Status CaseModel::Apply(const RecordedEvent& event) {
  const std::string& case_id = event.event.case_id();
  if (!events_.empty()) {
    if (case_id != case_id_) {
      return absl::InvalidArgumentError(
          absl::StrCat("position ", event.position, ": event of case \"",
                       case_id, "\" folded into case \"", case_id_, "\""));
    }
    const CaseEvent& last = events_.back();
    if (event.case_version <= last.case_version ||
        event.position <= last.position) {
      return absl::InvalidArgumentError(absl::StrCat(
          "position ", event.position, ": case_version ", event.case_version,
          " folded after case_version ", last.case_version, " (position ",
          last.position, "); events must come in case order"));
    }
  }
  CaseEvent e;
  e.position = event.position;
  e.case_version = event.case_version;
  e.occurred_at = FromTimestamp(event.event.occurred_at());
  e.recorded_at = event.recorded_at;
  e.event = event.event;
  if (events_.empty()) case_id_ = case_id;
  events_.push_back(std::move(e));
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
