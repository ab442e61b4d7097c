#include "ledger/internal/parallel_loop.h"

#include <algorithm>
#include <atomic>
#include <utility>

namespace caseledger::internal {

struct ParallelLoop::Loop {
  ParallelLoop* owner;
  size_t n;
  size_t piece;
  absl::FunctionRef<void(size_t, size_t)> body;
  // The start of the next piece nobody has taken.
  std::atomic<size_t> next{0};
};

ParallelLoop::ParallelLoop() : thread_([this] { Serve(); }) {}

ParallelLoop::~ParallelLoop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ParallelLoop::RunPieces(Loop& loop) {
  for (size_t begin = loop.next.fetch_add(loop.piece); begin < loop.n;
       begin = loop.next.fetch_add(loop.piece)) {
    loop.body(begin, std::min(begin + loop.piece, loop.n));
  }
}

void ParallelLoop::Run(size_t n, size_t piece,
                       absl::FunctionRef<void(size_t, size_t)> body) {
  Loop loop{this, n, std::max<size_t>(piece, 1), body};
  {
    absl::MutexLock lock(&mu_);
    if (offered_ == nullptr && joined_ == nullptr && !stopping_) {
      offered_ = &loop;
    }
  }
  RunPieces(loop);
  // Every piece is taken; the standing thread may still be running one.
  absl::MutexLock lock(&mu_);
  if (offered_ == &loop) offered_ = nullptr;
  mu_.Await(absl::Condition(
      +[](Loop* l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l->owner->mu_) {
        return l->owner->joined_ != l;
      },
      &loop));
}

void ParallelLoop::Serve() {
  while (true) {
    Loop* loop;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ParallelLoop* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->offered_ != nullptr || self->stopping_;
          },
          this));
      if (offered_ == nullptr) return;  // stopping
      loop = std::exchange(offered_, nullptr);
      joined_ = loop;
    }
    RunPieces(*loop);
    absl::MutexLock lock(&mu_);
    joined_ = nullptr;
  }
}

}  // namespace caseledger::internal
