// The folded case model: the pure fold of one case's recorded events, from
// which every projection of the case is derived (case state, deadline status,
// findings, timeline) at any evaluation point.
//
// The fold keeps the case's decoded history rather than a running summary,
// because the projections are asked "as of" any time on two axes
// (occurred_at, recorded_at) and judge business-time order (domain.md §4:
// "rules compare business times"). Apply() is the only way in, so a model
// caught up event by event (live), rebuilt from the log in one go, or folded
// from a filtered prefix is the same value for the same events; the
// projection functions in case_state.h, deadlines.h and findings.h take the
// model plus an Evaluation and filter it on the fly.
//
// Thread safety: a CaseModel is a value. Const methods may be called from
// several threads; Apply() needs exclusive access.
#ifndef CASELEDGER_PROJECTIONS_CASE_MODEL_H_
#define CASELEDGER_PROJECTIONS_CASE_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "caseledger/v1/events.pb.h"
#include "ledger/recorded_event.h"

namespace caseledger::projections {

// One event of the case as the projections see it.
struct CaseEvent {
  uint64_t position = 0;
  uint64_t case_version = 0;
  absl::Time occurred_at;
  absl::Time recorded_at;
  v1::Event event;
};

// Business-time order: occurred_at, then case_version for equal times. Every
// "before"/"after" of a rule uses this order.
bool OccurredBefore(const CaseEvent& a, const CaseEvent& b);

class CaseModel {
 public:
  CaseModel() = default;

  // Folds one event into the model. Events come in case_version order and
  // belong to one case; an event of another case, or whose case_version or
  // position is not greater than the last one's, is kInvalidArgument and
  // leaves the model unchanged. Versions may skip (a filtered stream).
  absl::Status Apply(const RecordedEvent& event);
  // The same, taking `event`'s decoded event rather than copying it.
  absl::Status Apply(RecordedEvent&& event);

  // The case's id ("" until the first event).
  const std::string& case_id() const { return case_id_; }
  bool empty() const { return events_.empty(); }
  // Every folded event, in case_version order.
  const std::vector<CaseEvent>& events() const { return events_; }

 private:
  // Checks that `event` may come next (Apply's errors).
  absl::Status CheckNext(const RecordedEvent& event) const;
  void Append(const RecordedEvent& event, v1::Event decoded);

  std::string case_id_;
  std::vector<CaseEvent> events_;
};

// Folds `events` (one case, case_version order) into a new model. Errors as
// for CaseModel::Apply, naming the position.
absl::StatusOr<CaseModel> FoldCase(absl::Span<const RecordedEvent> events);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_CASE_MODEL_H_
