// The loop that prepares a large append's events on two threads.
#include "ledger/internal/parallel_loop.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace caseledger::internal {
namespace {

// How many times each index was visited, checked to be exactly once.
void ExpectEachIndexOnce(const std::vector<std::atomic<int>>& visits) {
  for (size_t i = 0; i < visits.size(); ++i) {
    ASSERT_EQ(visits[i].load(), 1) << "index " << i;
  }
}

TEST(ParallelLoopTest, VisitsEveryIndexExactlyOnce) {
  ParallelLoop loop;
  for (size_t n : {0, 1, 7, 8, 9, 100, 1000}) {
    for (size_t piece : {0, 1, 8, 1000}) {
      std::vector<std::atomic<int>> visits(n);
      loop.Run(n, piece, [&](size_t begin, size_t end) {
        ASSERT_LT(begin, end);
        ASSERT_LE(end, n);
        for (size_t i = begin; i < end; ++i) visits[i].fetch_add(1);
      });
      ExpectEachIndexOnce(visits);
    }
  }
}

TEST(ParallelLoopTest, TheStandingThreadTakesPieces) {
  ParallelLoop loop;
  std::mutex mu;
  std::set<std::thread::id> threads;
  // Slow pieces, so that the standing thread wakes while some are left.
  loop.Run(200, 1, [&](size_t, size_t) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::lock_guard<std::mutex> lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u);
}

// The way the append path uses it: offer the pieces, take some between other
// work, and rely on Finish for the rest.
TEST(ParallelLoopTest, OfferedPiecesAreAllDoneAfterFinish) {
  ParallelLoop loop;
  constexpr size_t kN = 1000;
  std::vector<std::atomic<int>> visits(kN);
  auto visit = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) visits[i].fetch_add(1);
  };
  ParallelLoop::Pieces pieces(kN, 8, visit);
  loop.Offer(pieces);
  int taken_here = 0;
  while (taken_here < 3 && pieces.RunOne()) ++taken_here;
  loop.Finish(pieces);
  ExpectEachIndexOnce(visits);
  EXPECT_FALSE(pieces.RunOne());  // nothing left to take
}

TEST(ParallelLoopTest, CallersAtOnceEachGetEveryIndexDone) {
  ParallelLoop loop;
  constexpr size_t kN = 5000;
  std::vector<std::atomic<int>> a(kN), b(kN);
  auto run = [&](std::vector<std::atomic<int>>& visits) {
    for (int round = 0; round < 20; ++round) {
      for (auto& v : visits) v.store(0);
      loop.Run(kN, 16, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) visits[i].fetch_add(1);
      });
      ExpectEachIndexOnce(visits);
    }
  };
  std::thread other([&] { run(b); });
  run(a);
  other.join();
}

}  // namespace
}  // namespace caseledger::internal
