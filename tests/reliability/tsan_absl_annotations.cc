// ThreadSanitizer annotations for Debian's Abseil, linked into every binary
// of the TSan build only (.ci/sanitizers; docs/reliability.md).
//
// libabsl_synchronization.so is not built with -fsanitize=thread, so TSan
// cannot see that absl::Mutex orders the critical sections it protects and
// would report every ABSL_GUARDED_BY member as a data race. These
// definitions interpose the Mutex, CondVar and Condition entry points: each
// calls the library's own function (found with dlsym(RTLD_NEXT)) and tells
// TSan what it did, with the mutex as the synchronization object: acquire
// after a lock, release before an unlock or a wait. A Condition is evaluated
// while its mutex is held, inside the library's own lock and unlock, so the
// evaluation acquires and releases the mutex that the evaluating thread is
// waiting on or unlocking.
//
// Not for production builds: it changes nothing but what TSan knows.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

void* Real(const char* symbol) {
  void* f = dlsym(RTLD_NEXT, symbol);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_annotations: %s not found\n", symbol);
    std::abort();
  }
  return f;
}

#define CASELEDGER_REAL(type, symbol) \
  static const auto real = reinterpret_cast<type>(Real(symbol))

// The mutex whose Condition this thread may evaluate inside a library call.
thread_local absl::Mutex* waiting_on = nullptr;

void Acquire(const absl::Mutex* mu) {
  __tsan_acquire(const_cast<absl::Mutex*>(mu));
}
void Release(const absl::Mutex* mu) {
  __tsan_release(const_cast<absl::Mutex*>(mu));
}

class Waiting {
 public:
  explicit Waiting(absl::Mutex* mu) : saved_(waiting_on) { waiting_on = mu; }
  ~Waiting() { waiting_on = saved_; }

 private:
  absl::Mutex* saved_;
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  CASELEDGER_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::Unlock() {
  CASELEDGER_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  Waiting waiting(this);
  real(this);
}

bool Mutex::TryLock() {
  CASELEDGER_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::ReaderLock() {
  CASELEDGER_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderUnlock() {
  CASELEDGER_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  Waiting waiting(this);
  real(this);
}

bool Mutex::ReaderTryLock() {
  CASELEDGER_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  CASELEDGER_REAL(void (*)(Mutex*, const Condition&),
                  "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  {
    Waiting waiting(this);
    real(this, cond);
  }
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  CASELEDGER_REAL(void (*)(Mutex*, const Condition&),
                  "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  {
    Waiting waiting(this);
    real(this, cond);
  }
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  CASELEDGER_REAL(
      bool (*)(Mutex*, const Condition&, absl::Duration),
      "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_"
      "8DurationE");
  bool met;
  {
    Waiting waiting(this);
    met = real(this, cond, timeout);
  }
  Acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  CASELEDGER_REAL(
      bool (*)(Mutex*, const Condition&, absl::Time),
      "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_"
      "4TimeE");
  bool met;
  {
    Waiting waiting(this);
    met = real(this, cond, deadline);
  }
  Acquire(this);
  return met;
}

void Mutex::Await(const Condition& cond) {
  CASELEDGER_REAL(void (*)(Mutex*, const Condition&),
                  "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  {
    Waiting waiting(this);
    real(this, cond);
  }
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  CASELEDGER_REAL(
      bool (*)(Mutex*, const Condition&, absl::Duration),
      "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_"
      "8DurationE");
  Release(this);
  bool met;
  {
    Waiting waiting(this);
    met = real(this, cond, timeout);
  }
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  CASELEDGER_REAL(
      bool (*)(Mutex*, const Condition&, absl::Time),
      "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  bool met;
  {
    Waiting waiting(this);
    met = real(this, cond, deadline);
  }
  Acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  CASELEDGER_REAL(void (*)(CondVar*, Mutex*),
                  "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  CASELEDGER_REAL(
      bool (*)(CondVar*, Mutex*, absl::Duration),
      "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  CASELEDGER_REAL(
      bool (*)(CondVar*, Mutex*, absl::Time),
      "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  bool timed_out = real(this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

bool Condition::Eval() const {
  CASELEDGER_REAL(bool (*)(const Condition*),
                  "_ZNK4absl7debian39Condition4EvalEv");
  if (waiting_on == nullptr) return real(this);
  // Evaluated with the mutex held, often inside the library between its own
  // unannotated lock and unlock: what the condition reads is ordered after
  // earlier critical sections and before later ones.
  Acquire(waiting_on);
  bool result = real(this);
  Release(waiting_on);
  return result;
}

ABSL_NAMESPACE_END
}  // namespace absl
