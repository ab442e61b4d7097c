// The projections as the CLI and the network service answer them: read a
// case (or the cases that matter) from the ledger, fold, evaluate, render.
// Both front ends call these, so their outputs are byte-identical.
//
// Thread safety: safe to call concurrently on one Ledger.
#ifndef CASELEDGER_PROJECTIONS_QUERIES_H_
#define CASELEDGER_PROJECTIONS_QUERIES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/ledger.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"
#include "projections/policy.h"

namespace caseledger::projections {

enum class OutputFormat { kText, kJson };

struct Query {
  Evaluation evaluation;
  DeadlinePolicy policy = DefaultPolicy();
  OutputFormat format = OutputFormat::kText;
};

// `state --case C`.
absl::StatusOr<std::string> StateOutput(const Ledger& ledger,
                                        const std::string& case_id,
                                        const Query& query);
// `timeline --case C`.
absl::StatusOr<std::string> TimelineOutput(const Ledger& ledger,
                                           const std::string& case_id,
                                           const Query& query);

// `deadlines [--case C] [--status S]`: one case, or every case. For
// OVERDUE across cases only the cases the deadline index names are read.
absl::StatusOr<std::string> DeadlinesOutput(
    const Ledger& ledger, const std::optional<std::string>& case_id,
    const std::optional<DeadlineState>& status, const Query& query);

struct FindingsResult {
  std::string output;
  bool has_fail = false;  // for `findings --strict`
};
// `findings --case C`; SENT_MESSAGE_PRESERVED asks the ledger's blobs.
absl::StatusOr<FindingsResult> FindingsOutput(const Ledger& ledger,
                                              const std::string& case_id,
                                              const Query& query);

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_QUERIES_H_
