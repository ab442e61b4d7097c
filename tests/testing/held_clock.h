// A clock that holds one read of the time, for tests that make appends
// join a group: the first append is sequenced on its caller's thread, which
// the clock holds while others queue behind it.
#ifndef CASELEDGER_TESTS_TESTING_HELD_CLOCK_H_
#define CASELEDGER_TESTS_TESTING_HELD_CLOCK_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "ledger/clock.h"

namespace caseledger::testing {

// A clock that, once armed, holds the next read made on the thread that
// armed it until released (and then tells it the time it read). Reads on
// other threads (the sequencer's, which wakes to see whether a checkpoint
// is due) pass: the test held one of those, and never made an append join
// a group (found by a mutation).
class HeldClock final : public Clock {
 public:
  absl::Time Now() override {
    const absl::Time now = time.Now();
    if (holder.load() == std::this_thread::get_id() && armed.exchange(false)) {
      reading.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(20));
    }
    return now;
  }
  // Holds the calling thread's next read.
  void Arm() {
    holder = std::this_thread::get_id();
    armed = true;
  }
  // Makes `call(attempt)` on a new thread that arms the clock first, and
  // returns that thread once a call is held at its read. A ledger sequences
  // a call on its caller's thread only when idle: just after the sequencer
  // thread answers (a checkpoint, say), it finishes its pass, and a call
  // arriving meanwhile queues for that thread and is never held (seen on
  // loaded machines). Such a call completes like any other, and the next
  // attempt is made. Unjoinable when none was held within `timeout`.
  std::thread HoldCall(const std::function<void(int attempt)>& call,
                       absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time give_up = absl::Now() + timeout;
    for (int attempt = 0; absl::Now() < give_up; ++attempt) {
      auto done = std::make_shared<absl::Notification>();
      std::thread caller([this, call, done, attempt] {
        Arm();
        call(attempt);
        done->Notify();
      });
      while (!reading.HasBeenNotified() && !done->HasBeenNotified() &&
             absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      if (reading.HasBeenNotified()) return caller;
      caller.join();
    }
    armed = false;  // a later thread may get the last one's id
    return std::thread();
  }
  FakeClock time{absl::FromUnixSeconds(1700000000)};
  std::atomic<std::thread::id> holder;
  std::atomic<bool> armed{false};
  absl::Notification reading, release;
};

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_HELD_CLOCK_H_
