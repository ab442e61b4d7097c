// The projections as the CLI and the network service answer them: read a
// case (or the cases that matter) from the ledger, fold, evaluate, render.
// Both front ends call these, so their outputs are byte-identical.
//
// Thread safety: safe to call concurrently on one Ledger.
#ifndef CASELEDGER_PROJECTIONS_QUERIES_H_
#define CASELEDGER_PROJECTIONS_QUERIES_H_

#include <cstdint>
#include <functional>
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
  // Asked before each page of a case is read (kCasePageEvents events) and
  // once the case is folded: an error from it (the caller has left) ends
  // the answer with that error, so that an answer across many cases, or of
  // one long case, stops soon after nobody waits for it. A case's
  // evaluation runs to its end. Null: always wanted.
  std::function<absl::Status()> still_wanted;
  // Told how many cases have been read, every kCasesPerProgress, by the
  // answers that read more than one case. May be null.
  std::function<void(uint64_t cases_read)> progress;
};

inline constexpr uint64_t kCasesPerProgress = 10'000;

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
