#include "ledger/clock.h"

#include "absl/time/clock.h"

namespace caseledger {
namespace {
class WallClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};
}  // namespace

Clock& SystemClock() {
  static WallClock* clock = new WallClock();
  return *clock;
}

}  // namespace caseledger
