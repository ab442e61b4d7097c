#include "ledger/internal/parallel_loop.h"

#include <algorithm>
#include <utility>

namespace caseledger::internal {

ParallelLoop::Pieces::Pieces(size_t n, size_t piece,
                             absl::FunctionRef<void(size_t, size_t)> body)
    : n_(n), piece_(std::max<size_t>(piece, 1)), body_(body) {}

bool ParallelLoop::Pieces::RunOne() {
  const size_t begin = next_.fetch_add(piece_);
  if (begin >= n_) return false;
  body_(begin, std::min(begin + piece_, n_));
  return true;
}

ParallelLoop::ParallelLoop() : thread_([this] { Serve(); }) {}

ParallelLoop::~ParallelLoop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ParallelLoop::Offer(Pieces& pieces) {
  absl::MutexLock lock(&mu_);
  if (offered_ == nullptr && joined_ == nullptr && !stopping_) {
    offered_ = &pieces;
  }
}

void ParallelLoop::Finish(Pieces& pieces) {
  while (pieces.RunOne()) {
  }
  // Every piece is taken; the standing thread may still be running one.
  absl::MutexLock lock(&mu_);
  if (offered_ == &pieces) offered_ = nullptr;
  struct Left {
    ParallelLoop* self;
    Pieces* pieces;
  } left{this, &pieces};
  mu_.Await(absl::Condition(
      +[](Left* l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l->self->mu_) {
        return l->self->joined_ != l->pieces;
      },
      &left));
}

void ParallelLoop::Run(size_t n, size_t piece,
                       absl::FunctionRef<void(size_t, size_t)> body) {
  Pieces pieces(n, piece, body);
  Offer(pieces);
  Finish(pieces);
}

void ParallelLoop::Serve() {
  while (true) {
    Pieces* pieces;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ParallelLoop* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->offered_ != nullptr || self->stopping_;
          },
          this));
      if (offered_ == nullptr) return;  // stopping
      pieces = std::exchange(offered_, nullptr);
      joined_ = pieces;
    }
    while (pieces->RunOne()) {
    }
    absl::MutexLock lock(&mu_);
    joined_ = nullptr;
  }
}

}  // namespace caseledger::internal
