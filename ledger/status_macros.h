// Small status helpers: Abseil 20220623 ships none.
#ifndef CASELEDGER_LEDGER_STATUS_MACROS_H_
#define CASELEDGER_LEDGER_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CASELEDGER_CONCAT_INNER_(a, b) a##b
#define CASELEDGER_CONCAT_(a, b) CASELEDGER_CONCAT_INNER_(a, b)

// Returns from the calling function with `expr`'s status when it is not OK.
#define CASELEDGER_RETURN_IF_ERROR(expr)                \
  do {                                                  \
    if (absl::Status status_ = (expr); !status_.ok()) { \
      return status_;                                   \
    }                                                   \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define CASELEDGER_ASSIGN_OR_RETURN(lhs, rexpr)                              \
  CASELEDGER_ASSIGN_OR_RETURN_IMPL_(CASELEDGER_CONCAT_(statusor_, __LINE__), \
                                    lhs, rexpr)
#define CASELEDGER_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                      \
  if (!statusor.ok()) return std::move(statusor).status();      \
  lhs = std::move(statusor).value()

#endif  // CASELEDGER_LEDGER_STATUS_MACROS_H_
