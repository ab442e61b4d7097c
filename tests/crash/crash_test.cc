// The crash harness: crash_child appends from several threads and the test
// SIGKILLs it at random moments. After every kill the ledger must reopen
// with every acknowledged event present with identical bytes, no batch
// partly present, dense positions and case versions, no event that was
// never appended, and Verify passing; then appending resumes.
//
// Default: 24 kills (well under 90 s). `crash_test --long` (ctest label
// `long`): 1000 kills, over a fresh ledger every 12. CASELEDGER_CRASH_KILLS
// and CASELEDGER_CRASH_SEED override the count and the seed; a failure
// prints the seed to rerun it. docs/reliability.md has the commands.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"
#include "ledger/sha256.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

bool long_mode = false;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  uint64_t out;
  return v != nullptr && absl::SimpleAtoi(v, &out) ? out : fallback;
}

// One batch the child was about to append, and what it was told.
struct Batch {
  std::string case_id;
  std::vector<std::string> events;  // hex of the exact event bytes
  bool acknowledged = false;
  std::vector<std::pair<uint64_t, uint64_t>> acked;  // position, version
};

// Cuts a last line that the kill tore (a write(2) can stop between pages
// when a fatal signal arrives), before the next child appends after it. Its
// write never returned, so the child had not yet called Append (an "I"
// line) or had not recorded the acknowledgement (an "A" line: the batch then
// counts as unacknowledged, which is allowed to be present).
void CutTornLine(const std::string& path) {
  std::string text = testing::FileContents(path);
  if (text.empty() || text.back() == '\n') return;
  size_t end = text.rfind('\n');
  std::filesystem::resize_file(path, end == std::string::npos ? 0 : end + 1);
}

// Reads the side log; a last line cut by the kill (no newline) is ignored,
// as its write never completed.
std::map<std::string, Batch> ReadSideLog(const std::string& path) {
  std::map<std::string, Batch> batches;
  std::string text = testing::FileContents(path);
  size_t end = text.rfind('\n');
  if (end == std::string::npos) return batches;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text).substr(0, end), '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() == 4 && f[0] == "I") {
      Batch& b = batches[f[1]];
      b.case_id = f[2];
      b.events = absl::StrSplit(f[3], ',');
    } else if (f.size() == 3 && f[0] == "A") {
      Batch& b = batches[f[1]];
      b.acknowledged = true;
      for (absl::string_view pv : absl::StrSplit(f[2], ',')) {
        std::pair<std::string, std::string> p = absl::StrSplit(pv, ':');
        uint64_t position = 0, version = 0;
        EXPECT_TRUE(absl::SimpleAtoi(p.first, &position) &&
                    absl::SimpleAtoi(p.second, &version))
            << line;
        b.acked.emplace_back(position, version);
      }
    } else {
      ADD_FAILURE() << "malformed side log line: " << line;
    }
  }
  return batches;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = EnvOr("CASELEDGER_CRASH_SEED", std::random_device()());
    rng_.seed(seed_);
    std::cout << "crash harness seed " << seed_
              << " (rerun: CASELEDGER_CRASH_SEED=" << seed_ << ")\n";
  }

  void NewLedger() {
    if (!db_.empty()) {  // checked after its last kill; free the space
      std::error_code ec;
      std::filesystem::remove_all(db_, ec);
      std::filesystem::remove(log_, ec);
    }
    ++ledgers_;
    db_ = dir_.Sub(absl::StrCat("ledger-", ledgers_));
    log_ = dir_.Sub(absl::StrCat("side-", ledgers_, ".log"));
    LedgerOptions options;
    auto created = Ledger::Create(db_, "crash.example/log", options);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Starts the child and kills it at a random moment: a fifth of the kills
  // land 0-40 ms after the start (while it opens and recovers the store),
  // the rest 0-360 ms after it says its appenders run (so that a slow
  // machine or a sanitizer build still kills appends, not only opens).
  void RunAndKill(int run) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    std::string err = dir_.Sub("child.err");
    std::vector<std::string> args = {CASELEDGER_CRASH_CHILD,
                                     "--db",
                                     db_,
                                     "--log",
                                     log_,
                                     "--run",
                                     absl::StrCat(run),
                                     "--seed",
                                     absl::StrCat(rng_()),
                                     "--threads",
                                     "4",
                                     "--checkpoint-every",
                                     absl::StrCat(4 + rng_() % 40),
                                     "--ready-fd",
                                     absl::StrCat(ready[1])};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FILE* f = std::freopen(err.c_str(), "w", stderr);
      (void)f;
      close(ready[0]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(ready[1]);
    const bool early = rng_() % 5 == 0;
    int delay_ms = static_cast<int>(rng_() % (early ? 40 : 360));
    if (!early) {
      // Returns when the child is ready, or (0 bytes) when it died first.
      char byte;
      (void)!read(ready[0], &byte, 1);
    }
    // Not a wait for an event: the random moment of the crash itself.
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    // Open until the child is dead, so that its readiness byte never meets
    // a closed pipe (SIGPIPE) after an early kill's delay.
    close(ready[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended by itself (status " << status
        << "): " << testing::FileContents(err);
    CutTornLine(log_);
  }

  // Everything the harness promises, after a kill.
  void CheckAfterKill(int kill_number) {
    SCOPED_TRACE(absl::StrCat("after kill ", kill_number, ", seed ", seed_));
    std::map<std::string, Batch> batches = ReadSideLog(log_);
    auto opened = Ledger::Open(db_);
    ASSERT_TRUE(opened.ok())
        << "the ledger does not reopen: " << opened.status();
    Ledger& ledger = **opened;

    auto all = ledger.ReadAll(1, 0);  // ReadAll checks positions are dense
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(all->size(), ledger.Size());
    std::map<std::string, size_t> by_bytes;  // hex event bytes -> index
    std::map<std::string, uint64_t> versions;
    for (size_t i = 0; i < all->size(); ++i) {
      const RecordedEvent& e = (*all)[i];
      ASSERT_EQ(e.position, i + 1);
      ASSERT_EQ(e.case_version, ++versions[e.event.case_id()])
          << "case " << e.event.case_id() << " at position " << e.position;
      by_bytes[ToHex(e.event_bytes)] = i;
    }

    size_t present_events = 0;
    for (const auto& [key, b] : batches) {
      size_t present = 0;
      for (const std::string& hex : b.events) present += by_bytes.count(hex);
      if (b.acknowledged) {
        ASSERT_EQ(present, b.events.size())
            << "acknowledged batch " << key << " lost events";
      }
      ASSERT_TRUE(present == 0 || present == b.events.size())
          << "batch " << key << " is partly present: " << present << " of "
          << b.events.size();
      if (present == 0) continue;
      present_events += present;
      size_t first = by_bytes[b.events[0]];
      for (size_t i = 0; i < b.events.size(); ++i) {
        const RecordedEvent& e = (*all)[by_bytes[b.events[i]]];
        // One call's events are consecutive, in the caller's order, with
        // exactly the bytes the caller sent.
        ASSERT_EQ(e.position, (*all)[first].position + i) << key;
        ASSERT_EQ(e.event.case_id(), b.case_id) << key;
        if (b.acknowledged) {
          ASSERT_EQ(e.position, b.acked[i].first) << key;
          ASSERT_EQ(e.case_version, b.acked[i].second) << key;
        }
      }
    }
    // Nothing in the ledger that nobody appended.
    ASSERT_EQ(present_events + parent_events_, all->size())
        << "events in the ledger that no batch holds";

    auto report = ledger.Verify();
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->entries, all->size());

    // Appending resumes.
    auto e = ParseEventJson(
        absl::StrCat(R"({"case_id": "P-)", kill_number,
                     R"(", "occurred_at": "2011-06-01T10:00:00Z", )",
                     R"("actor": {"kind": "SYSTEM", "id": "harness"}, )",
                     R"("case_opened": {"office_id": "VO-1"}})"));
    ASSERT_TRUE(e.ok());
    auto appended = ledger.Append({*e});
    ASSERT_TRUE(appended.ok()) << appended.status();
    ASSERT_EQ(appended->events[0].position, all->size() + 1);
    ++parent_events_;

    acknowledged_ = 0;
    for (const auto& [key, b] : batches) {
      if (b.acknowledged) acknowledged_ += b.events.size();
    }
    events_ = all->size() + 1;
  }

  testing::TempFolder dir_;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  int ledgers_ = 0;
  std::string db_, log_;
  uint64_t parent_events_ = 0;
  uint64_t acknowledged_ = 0;
  uint64_t events_ = 0;
};

TEST_F(CrashTest, SigkilledAppendersLoseNothingAcknowledged) {
  const uint64_t kills = EnvOr("CASELEDGER_CRASH_KILLS", long_mode ? 1000 : 24);
  const uint64_t per_ledger = 12;
  uint64_t total_acknowledged = 0, total_events = 0;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t k = 1; k <= kills; ++k) {
    if ((k - 1) % per_ledger == 0) {
      total_acknowledged += acknowledged_;
      total_events += events_;
      acknowledged_ = events_ = parent_events_ = 0;
      if (k > 1) {
        std::cout << "  " << k - 1 << " kills, " << total_acknowledged
                  << " acknowledged events checked so far" << std::endl;
      }
      ASSERT_NO_FATAL_FAILURE(NewLedger());
    }
    ASSERT_NO_FATAL_FAILURE(RunAndKill(static_cast<int>(k)));
    ASSERT_NO_FATAL_FAILURE(CheckAfterKill(static_cast<int>(k)));
  }
  total_acknowledged += acknowledged_;
  total_events += events_;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "crash harness: " << kills << " kills over " << ledgers_
            << " ledgers, " << total_acknowledged
            << " acknowledged events checked, " << total_events
            << " events in the ledgers at the end, " << seconds << " s\n";
  // Children that acknowledged nothing would leave nothing to lose, and
  // the checks above nothing to find (about 1,500 a kill here).
  EXPECT_GE(total_acknowledged, kills);
}

}  // namespace
}  // namespace caseledger

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--long") caseledger::long_mode = true;
  }
  return RUN_ALL_TESTS();
}
