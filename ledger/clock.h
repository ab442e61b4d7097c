// Time is injected: library code reads time only through a Clock, so tests
// are deterministic and replays can be evaluated at any moment.
//
// Thread safety: every Clock is safe to call from several threads.
#ifndef CASELEDGER_LEDGER_CLOCK_H_
#define CASELEDGER_LEDGER_CLOCK_H_

#include <atomic>

#include "absl/time/time.h"

namespace caseledger {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current time.
  virtual absl::Time Now() = 0;
};

// The wall clock. The only reading of it that reaches the ledger's data;
// the RocksDB info log (internal/info_log.h) stamps its own lines.
Clock& SystemClock();

// A clock that stands still until told to move; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() override { return absl::FromUnixNanos(nanos_.load()); }
  void Advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d));
  }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_CLOCK_H_
