// A loop whose iterations run on the calling thread and on one standing
// thread at once: the append path prepares a large call's events (validate,
// serialize, hash) on both cores instead of one, and can sequence the first
// events while the rest are being prepared (docs/performance.md).
#ifndef CASELEDGER_LEDGER_INTERNAL_PARALLEL_LOOP_H_
#define CASELEDGER_LEDGER_INTERNAL_PARALLEL_LOOP_H_

#include <atomic>
#include <cstddef>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace caseledger::internal {

class ParallelLoop {
 public:
  // The iterations [0, n) of one loop, in pieces of `piece` iterations
  // taken in order, each exactly once, by whichever thread asks first.
  // `body(begin, end)` must be safe to call from two threads at once on
  // different pieces, and must outlive the Pieces: it is referred to, not
  // copied (so not a temporary lambda).
  class Pieces {
   public:
    Pieces(size_t n, size_t piece,
           absl::FunctionRef<void(size_t begin, size_t end)> body);
    // Runs the next piece nobody has taken, in the calling thread; false
    // when every piece is taken (some may still be running elsewhere).
    bool RunOne();

   private:
    friend class ParallelLoop;
    const size_t n_, piece_;
    const absl::FunctionRef<void(size_t, size_t)> body_;
    std::atomic<size_t> next_{0};  // the start of the next untaken piece
  };

  ParallelLoop();   // starts the standing thread
  ~ParallelLoop();  // joins it
  ParallelLoop(const ParallelLoop&) = delete;
  ParallelLoop& operator=(const ParallelLoop&) = delete;

  // The standing thread takes pieces of `pieces` until none is left, if it
  // is free; if another caller's loop holds it, it does not. Returns at
  // once; the caller takes pieces with RunOne, and must call Finish before
  // `pieces` goes away.
  void Offer(Pieces& pieces);
  // Runs every piece not yet taken in the calling thread, then waits until
  // the standing thread has left `pieces`: on return every piece is done.
  void Finish(Pieces& pieces);
  // Offer, then Finish.
  void Run(size_t n, size_t piece,
           absl::FunctionRef<void(size_t begin, size_t end)> body);

 private:
  void Serve();

  absl::Mutex mu_;
  Pieces* offered_ ABSL_GUARDED_BY(mu_) = nullptr;  // waits for the thread
  Pieces* joined_ ABSL_GUARDED_BY(mu_) = nullptr;   // the thread works on it
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_PARALLEL_LOOP_H_
