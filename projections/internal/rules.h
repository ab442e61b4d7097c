// The rules of domain.md §4 evaluated over an Analysis. Internal: the public
// entry points are FindingsFor() (findings.h), which returns them all, and
// DeadlinesFor() (deadlines.h), which turns some into flags.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_RULES_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_RULES_H_

#include <vector>

#include "projections/findings.h"
#include "projections/internal/analysis.h"
#include "projections/policy.h"

namespace caseledger::projections::internal {

// Every finding of the case, in the order FindingsFor() documents.
std::vector<Finding> EvaluateRules(const Analysis& analysis,
                                   const DeadlinePolicy& policy,
                                   const MessageStored& message_stored);

// Calendar days (UTC) from the day of `from` to the day of `to`.
int64_t CalendarDays(absl::Time from, absl::Time to);

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_RULES_H_
