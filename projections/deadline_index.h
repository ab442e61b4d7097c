// The cross-case deadline index, the one projection stored in the ledger
// (the others are folded from a case's events on demand, which is cheap and
// can never disagree with the log).
//
// It holds every deadline ever set for a request: at its send and by each
// extension. Whatever a request's effective deadline is as of some time T,
// it is one of these, so "every request overdue at D" needs only the cases
// with an indexed deadline before D, each then evaluated exactly. State and
// applied position are written in one batch (Ledger::WriteProjection), so a
// runner killed mid-catch-up resumes from a consistent point.
//
// Thread safety: the functions may run concurrently with appends; two
// CatchUp calls on one ledger must not run at once.
#ifndef CASELEDGER_PROJECTIONS_DEADLINE_INDEX_H_
#define CASELEDGER_PROJECTIONS_DEADLINE_INDEX_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/ledger.h"

namespace caseledger::projections {

// Called now and then with (events applied, ledger size).
using Progress = std::function<void(uint64_t, uint64_t)>;

class DeadlineIndex {
 public:
  // The projection's name in the ledger's projection storage.
  static constexpr char kName[] = "deadline_index";

  // The index keys `event` adds: one per deadline it sets. Key grammar:
  // u64 big-endian (deadline unix seconds + 2^63) || case_id || 0x00 ||
  // request_id.
  static std::vector<std::string> KeysOf(const RecordedEvent& event);

  // Applies every event after the stored position (writer only). Returns
  // how many events were applied.
  static absl::StatusOr<uint64_t> CatchUp(Ledger& ledger,
                                          const Progress& progress = nullptr);
  // Drops the index and replays the whole log.
  static absl::StatusOr<uint64_t> Rebuild(Ledger& ledger,
                                          const Progress& progress = nullptr);

  // What Verify found: the index holds every deadline set by the events up
  // to `position`, `deadlines` of them (repeats of a key counted each time).
  struct Verified {
    uint64_t position = 0;
    uint64_t deadlines = 0;
  };
  // Checks the stored index against the log: its position is within the
  // ledger, and every deadline the events up to it set is stored. A missing
  // one would hide its case from "every request overdue on D"; a key no
  // event set costs only an exact evaluation of its case, so it is not
  // looked for. kDataLoss naming the first event whose deadline is missing.
  static absl::StatusOr<Verified> Verify(const Ledger& ledger,
                                         const Progress& progress = nullptr);

  // Cases with a request whose deadline was ever set before `before`: the
  // stored index, plus the events after its position (so a read-only
  // reader of a lagging index still gets every case).
  static absl::StatusOr<std::set<std::string>> CasesWithDeadlineBefore(
      const Ledger& ledger, absl::Time before);
};

}  // namespace caseledger::projections

#endif  // CASELEDGER_PROJECTIONS_DEADLINE_INDEX_H_
