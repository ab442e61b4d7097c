// The rules of domain.md §4 evaluated over an Analysis. Internal: the public
// entry points are FindingsFor() (findings.h), which returns them all, and
// DeadlinesFor() (deadlines.h), which turns some into flags.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_RULES_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_RULES_H_

#include <vector>

#include "absl/time/time.h"
#include "projections/findings.h"
#include "projections/internal/analysis.h"
#include "projections/policy.h"

namespace caseledger::projections::internal {

// Every finding of the case, in the order FindingsFor() documents.
std::vector<Finding> EvaluateRules(const Analysis& analysis,
                                   const DeadlinePolicy& policy,
                                   const MessageStored& message_stored);

// RECORDED_PROMPTLY warns of an event recorded more than this after it
// occurred, and the timeline marks such an event where it lists it.
inline constexpr absl::Duration kLateRecording = absl::Hours(24 * 7);

// Calendar days (UTC) from the day of `from` to the day of `to`.
int64_t CalendarDays(absl::Time from, absl::Time to);

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_RULES_H_
