// A loop whose iterations run on the calling thread and on one standing
// thread at once: the append path prepares a large call's events (validate,
// serialize, hash) on both cores instead of one (docs/performance.md).
#ifndef CASELEDGER_LEDGER_INTERNAL_PARALLEL_LOOP_H_
#define CASELEDGER_LEDGER_INTERNAL_PARALLEL_LOOP_H_

#include <cstddef>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace caseledger::internal {

class ParallelLoop {
 public:
  ParallelLoop();   // starts the standing thread
  ~ParallelLoop();  // joins it
  ParallelLoop(const ParallelLoop&) = delete;
  ParallelLoop& operator=(const ParallelLoop&) = delete;

  // Calls body(begin, end) over [0, n) in pieces of `piece` iterations,
  // each piece exactly once, and returns when all are done. The standing
  // thread joins in if it is free; if another caller's loop holds it, this
  // thread runs every piece itself. `body` must be safe to call from two
  // threads at once on different pieces.
  void Run(size_t n, size_t piece,
           absl::FunctionRef<void(size_t begin, size_t end)> body);

 private:
  struct Loop;
  static void RunPieces(Loop& loop);
  void Serve();

  absl::Mutex mu_;
  Loop* offered_ ABSL_GUARDED_BY(mu_) = nullptr;  // waits for the thread
  Loop* joined_ ABSL_GUARDED_BY(mu_) = nullptr;   // the thread works on it
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_PARALLEL_LOOP_H_
