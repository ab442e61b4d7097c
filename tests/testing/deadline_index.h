// Plays the tamperer with the deadline index: for the tests of the checks
// that find a deadline missing from it.
#ifndef CASELEDGER_TESTS_TESTING_DEADLINE_INDEX_H_
#define CASELEDGER_TESTS_TESTING_DEADLINE_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "ledger/ledger.h"
#include "projections/deadline_index.h"

namespace caseledger::testing {

// Deletes the first deadline that the events up to `position` set from the
// deadline index of the ledger in `dir` (no ledger open on it), leaving the
// index's position at `position`.
inline absl::Status RemoveTheFirstDeadline(const std::string& dir,
                                           uint64_t position) {
  auto ledger = Ledger::Open(dir);
  if (!ledger.ok()) return ledger.status();
  auto events = (*ledger)->ReadAll(1, position);
  if (!events.ok()) return events.status();
  for (const RecordedEvent& e : *events) {
    auto keys = projections::DeadlineIndex::KeysOf(e);
    if (keys.empty()) continue;
    return (*ledger)->WriteProjection(projections::DeadlineIndex::kName,
                                      {{keys[0], std::nullopt}}, position);
  }
  return absl::NotFoundError("no event up to that position sets a deadline");
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_DEADLINE_INDEX_H_
