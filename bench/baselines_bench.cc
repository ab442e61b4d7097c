// Baselines: what the machine and the storage engines allow without the
// ledger, measured in the same run as the ledger so that every target is a
// ratio of two numbers taken under the same noise.
//
// This file includes RocksDB headers. That is the one documented exception
// to "only ledger/internal/store.cc includes RocksDB" (style.md rule 4): a
// raw-RocksDB baseline cannot be measured through the ledger's wrapper.
// Nothing outside bench/ may copy it. It also calls the ledger's internal
// SipHash-2-4, so that the verify ceiling's comparison costs what verify's
// own does.
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_common.h"
#include "bench/bench_events.h"
#include "benchmark/benchmark.h"
#include "caseledger/v1/ledger.pb.h"
#include "ledger/internal/outcome.h"
#include "ledger/internal/siphash.h"
#include "ledger/internal/store.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/recorded_event.h"
#include "ledger/sha256.h"
#include "rocksdb/db.h"
#include "rocksdb/metadata.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/options_util.h"
#include "rocksdb/version.h"

namespace caseledger::bench {
namespace {

// Each benchmark thread of each run takes a distinct stream number, so that
// keys and case ids never repeat within a process.
uint64_t NextStream() {
  static std::atomic<uint64_t> next{0};
  return next.fetch_add(1);
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

// The CPU time the whole process spent per item during a run (measured by
// thread 0 between the start and end barriers), as the ledger's append
// benchmarks report it.
class CpuPerItem {
 public:
  explicit CpuPerItem(const benchmark::State& state)
      : active_(state.thread_index() == 0), before_(ProcessCpuSeconds()) {}
  void Report(benchmark::State& state, int64_t items) const {
    if (!active_ || items <= 0) return;
    state.counters["cpu_us_per_event"] =
        (ProcessCpuSeconds() - before_) * 1e6 / static_cast<double>(items);
  }

 private:
  bool active_;
  double before_;
};

// ---- The disk ------------------------------------------------------------

// One 300-byte append and fdatasync(), the primitive under every synced
// WAL write: the ceiling for one writer that waits for each sync.
void BM_FileSyncWrite(benchmark::State& state) {
  std::string path = NewScratchDir("fsync") + "/log";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) {
    state.SkipWithError("cannot open the scratch file");
    return;
  }
  std::string record = RandomBytes(300, 1);
  for (auto _ : state) {
    if (::write(fd, record.data(), record.size()) !=
            static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}

// ---- RocksDB -------------------------------------------------------------

struct RawDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~RawDb() {
    for (auto* h : handles)
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db->Close().PermitUncheckedError();
  }
};

RawDb* OpenRawDb(const std::string& path,
                 const std::vector<std::string>& families) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : families) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  auto* raw = new RawDb;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, path, descriptors, &raw->handles, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(),
                 s.ToString().c_str());
    std::abort();
  }
  raw->db.reset(db);
  AtRunEnd([raw] { delete raw; });
  return raw;
}

// The key of the i-th single put of `stream`, in `key`; returns its length.
int SinglePutKey(uint64_t stream, uint64_t i, char (&key)[32]) {
  return std::snprintf(key, sizeof key, "%08llx%012llx",
                       static_cast<unsigned long long>(stream),
                       static_cast<unsigned long long>(i));
}

// Synced single puts of 300-byte values, default options: RocksDB's own
// group commit shares one WAL sync among the threads waiting at once.
void BM_RocksDBSyncPut(benchmark::State& state) {
  static RawDb* raw = OpenRawDb(NewScratchDir("rocksdb-put"), {"default"});
  const uint64_t stream = NextStream();
  const std::string value = RandomBytes(300, static_cast<uint32_t>(stream));
  rocksdb::WriteOptions write;
  write.sync = true;
  uint64_t i = 0;
  char key[32];
  CpuPerItem cpu(state);
  for (auto _ : state) {
    int n = SinglePutKey(stream, i++, key);
    rocksdb::Status s = raw->db->Put(write, rocksdb::Slice(key, n), value);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  // Every thread did about as many puts as thread 0.
  cpu.Report(state, state.iterations() * state.threads());
}

// The writes the ledger makes for one event, without the ledger: an entry
// (~130 bytes), the salted event bytes, a case-index key, an event-id key, a
// request key for each document request, and the Merkle nodes the leaf
// completes (two on average), into the ledger's column families. `raw` has
// the families in the order of kLedgerFamilies; `position` is unique in it.
// The case-index value is the position alone, as in storage format 1:
// format 2's copies of the entry and event (~450 bytes) are left out, so
// that the batch target's ratio includes what that layout costs. With
// `case_index_copies`, the value holds them as format 2 writes them: what
// that cost is for RocksDB alone.
const std::vector<std::string> kLedgerFamilies = {
    "default",   "entries",  "events", "case_index",
    "event_ids", "requests", "merkle"};

class LedgerShapedWrites {
 public:
  explicit LedgerShapedWrites(bool case_index_copies = false)
      : case_index_copies_(case_index_copies) {
    // One case's worth of real event bytes, reused round robin.
    for (uint64_t i = 0; i < 200; ++i) {
      events_.push_back(absl::StrCat(
          RandomBytes(16, i), CaseEvent("IMM-0000001", i).SerializeAsString()));
    }
    v1::LedgerEntry entry;
    entry.set_position(123456789);
    entry.set_case_id("IMM-0000001");
    entry.set_case_version(57);
    entry.mutable_recorded_at()->set_seconds(1700000000);
    entry.mutable_recorded_at()->set_nanos(123456000);
    entry.set_event_type("document_request_sent");
    entry.set_event_digest(RandomBytes(32, 7));
    entry_ = entry.SerializeAsString();
    digest_ = RandomBytes(32, 9);
    id_value_ = absl::StrCat(RandomBytes(8, 3), digest_);
  }

  void Put(const RawDb& raw, uint64_t stream, uint64_t position,
           rocksdb::WriteBatch& batch) const {
    auto h = [&](int i) { return raw.handles[i]; };
    char pos[8];
    for (int b = 7, v = 0; b >= 0; --b, ++v) {
      pos[b] = static_cast<char>(position >> (8 * v));
    }
    rocksdb::Slice pos_key(pos, 8);
    std::string case_key = absl::StrCat("IMM-", stream, "-", position / 200,
                                        std::string(1, 0), std::string(pos, 8));
    batch.Put(h(1), pos_key, entry_).PermitUncheckedError();
    batch.Put(h(2), pos_key, events_[position % 200]).PermitUncheckedError();
    if (case_index_copies_) {
      // position || entry length (u32) || entry || salt || event.
      const uint32_t n = static_cast<uint32_t>(entry_.size());
      const char length[4] = {static_cast<char>(n >> 24),
                              static_cast<char>(n >> 16),
                              static_cast<char>(n >> 8), static_cast<char>(n)};
      std::string value(pos, 8);
      value.append(length, 4).append(entry_).append(events_[position % 200]);
      batch.Put(h(3), case_key, value).PermitUncheckedError();
    } else {
      batch.Put(h(3), case_key, pos_key).PermitUncheckedError();
    }
    batch.Put(h(4), BenchEventId(case_key, position), id_value_)
        .PermitUncheckedError();
    if (position % 5 == 2) {
      batch.Put(h(5), absl::StrCat(case_key, "DOC-", position), pos_key)
          .PermitUncheckedError();
    }
    // Leaf plus one node per trailing one bit of the leaf index.
    for (uint64_t level = 0, i = position;; ++level, i >>= 1) {
      char node_key[9];
      node_key[0] = static_cast<char>(level);
      std::copy(pos, pos + 8, node_key + 1);
      batch.Put(h(6), rocksdb::Slice(node_key, 9), digest_)
          .PermitUncheckedError();
      if ((i & 1) == 0) break;
    }
  }

 private:
  bool case_index_copies_;
  std::vector<std::string> events_;
  std::string entry_, digest_, id_value_;
};

// The writes of `size` events as one WriteBatch synced once: the ceiling for
// batched appends.
void LedgerShapedWrite(benchmark::State& state, RawDb* raw,
                       const LedgerShapedWrites& writes) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  const uint64_t stream = NextStream();
  rocksdb::WriteOptions write;
  write.sync = true;
  uint64_t position = stream << 40;
  rocksdb::WriteBatch batch;
  CpuPerItem cpu(state);
  for (auto _ : state) {
    batch.Clear();
    for (size_t k = 0; k < batch_size; ++k) {
      writes.Put(*raw, stream, position++, batch);
    }
    rocksdb::Status s = raw->db->Write(write, &batch);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(batch_size));
  cpu.Report(state, state.iterations() * static_cast<int64_t>(batch_size));
}
void BM_RocksDBLedgerShaped(benchmark::State& state) {
  static RawDb* raw =
      OpenRawDb(NewScratchDir("rocksdb-shaped"), kLedgerFamilies);
  static const LedgerShapedWrites writes;
  LedgerShapedWrite(state, raw, writes);
}
void BM_RocksDBLedgerShapedWithCopies(benchmark::State& state) {
  static RawDb* raw =
      OpenRawDb(NewScratchDir("rocksdb-shaped-copies"), kLedgerFamilies);
  static const LedgerShapedWrites writes(/*case_index_copies=*/true);
  LedgerShapedWrite(state, raw, writes);
}

// A target's two sides measured in turn within each iteration, so that
// both meet the same spells of the shared disk. `side` writes `size`
// events in one call; the baseline is, with size 1, one RocksDB synced put
// of a 300-byte value (the one-appender target's), and with size 100 one
// synced ledger-shaped write of 100 events (the batch target's). The side
// that goes first alternates. `ratio` is the side's events/s over the
// baseline's: the target's ratio with the disk's noise shared by both
// sides rather than sampled apart. `prepare`, if set, runs untimed before
// each iteration; `side_counter` names the side's own events/s.
void MeasureInTurn(benchmark::State& state, size_t size, uint64_t stream,
                   const std::function<void()>& prepare,
                   const std::function<absl::Status()>& side,
                   const std::string& side_counter) {
  static RawDb* raw =
      OpenRawDb(NewScratchDir("rocksdb-paired"), kLedgerFamilies);
  static const LedgerShapedWrites shaped;
  const std::string value = RandomBytes(300, static_cast<uint32_t>(stream));
  rocksdb::WriteOptions write;
  write.sync = true;
  rocksdb::WriteBatch batch;
  uint64_t position = stream << 40;
  std::chrono::steady_clock::duration side_time{}, base_time{};
  uint64_t rounds = 0;
  for (auto _ : state) {
    if (prepare) {
      state.PauseTiming();
      prepare();
      state.ResumeTiming();
    }
    auto measured = [&]() -> bool {
      auto start = std::chrono::steady_clock::now();
      absl::Status s = side();
      side_time += std::chrono::steady_clock::now() - start;
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
      return s.ok();
    };
    auto baseline = [&]() -> bool {
      // As BM_RocksDBSyncPut and BM_RocksDBLedgerShaped do, timed.
      auto start = std::chrono::steady_clock::now();
      rocksdb::Status s;
      if (size > 1) {
        batch.Clear();
        for (size_t k = 0; k < size; ++k) {
          shaped.Put(*raw, stream, position++, batch);
        }
        s = raw->db->Write(write, &batch);
      } else {
        char key[32];
        int n = SinglePutKey(stream, position++, key);
        s = raw->db->Put(write, raw->handles[0], rocksdb::Slice(key, n), value);
      }
      base_time += std::chrono::steady_clock::now() - start;
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
      return s.ok();
    };
    bool ok =
        rounds++ % 2 == 0 ? measured() && baseline() : baseline() && measured();
    if (!ok) break;
  }
  // No events/s: an iteration is both sides; `ratio` is the result. Each
  // side's own rate shows what the pairing changes: the two sides share
  // the machine, and so the background work each leaves.
  if (side_time.count() > 0 && base_time.count() > 0) {
    const double side_s = std::chrono::duration<double>(side_time).count();
    const double base_s = std::chrono::duration<double>(base_time).count();
    const double events = static_cast<double>(rounds * size);
    state.counters["ratio"] = base_s / side_s;
    state.counters[side_counter] = events / side_s;
    state.counters["baseline_events_per_s"] = events / base_s;
  }
}

// The side is one ledger append of `size` events (10 cases round robin).
void BM_Paired(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  // One ledger per size for the whole run, as the other append benchmarks
  // keep theirs: an empty ledger each repetition would flatter it.
  static std::map<size_t, Ledger*> ledgers;
  Ledger*& ledger = ledgers[size];
  if (ledger == nullptr) {
    const std::string name = absl::StrCat("paired-", size);
    auto created = Ledger::Create(NewScratchDir(name) + "/ledger",
                                  absl::StrCat("bench.example/", name));
    if (!created.ok()) {
      state.SkipWithError(created.status().ToString().c_str());
      return;
    }
    ledger = created->release();
    AtRunEnd([ledger] { delete ledger; });
  }
  const uint64_t stream = NextStream();
  RoundRobinCases cases(absl::StrCat("P-", stream, "-"),
                        std::min<size_t>(size, 10), Settings().case_length);
  std::vector<v1::Event> events;
  MeasureInTurn(
      state, size, stream, [&] { cases.Next(size, events); },
      [&] { return ledger->Append(events).status(); }, "ledger_events_per_s");
}

// The side is raw RocksDB syncing the keys and values the ledger writes for
// `size` events in one write, storage format 2's case-index copies
// included, and nothing else: what the ratio of the one-appender target
// (size 1) or the batch target (size 100) can be on this disk for the bytes
// the ledger syncs, steadier than the ratio of two medians.
void BM_PairedRawCopies(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  static RawDb* raw =
      OpenRawDb(NewScratchDir("rocksdb-paired-copies"), kLedgerFamilies);
  static const LedgerShapedWrites copies(/*case_index_copies=*/true);
  const uint64_t stream = NextStream();
  uint64_t position = stream << 40;
  rocksdb::WriteOptions write;
  write.sync = true;
  rocksdb::WriteBatch batch;
  MeasureInTurn(
      state, size, stream, nullptr,
      [&]() -> absl::Status {
        batch.Clear();
        for (size_t k = 0; k < size; ++k) {
          copies.Put(*raw, stream, position++, batch);
        }
        rocksdb::Status s = raw->db->Write(write, &batch);
        return s.ok() ? absl::OkStatus() : absl::InternalError(s.ToString());
      },
      "raw_events_per_s");
}

// The work no append can skip before its write, on one core, for batches
// of 100 client events: each event serialized (the bytes stored), SHA-256
// of salt || event (the digest its entry commits to) and of the event (the
// event-id index's), its entry built and serialized, the leaf hash and the
// Merkle nodes the leaf completes. Left out, since their cost depends on
// how they are done: validation, the event-id look-up, the sequencing
// checks and the copies into the batch (the raw write makes its own). With
// the raw write of the ledger's bytes (`BM_RocksDBLedgerShapedWithCopies`),
// the ceiling of the batch target.
void BM_AppendHashFloor(benchmark::State& state) {
  RoundRobinCases cases("F-", 10, Settings().case_length);
  std::vector<v1::Event> events;
  const std::string salt = RandomBytes(16, 5);
  merkle::MerkleFrontier tree;
  v1::LedgerEntry entry;
  entry.mutable_recorded_at()->set_seconds(1700000000);
  std::string event_bytes, entry_bytes;
  int64_t items = 0;
  uint64_t acc = 0;
  for (auto _ : state) {
    state.PauseTiming();
    cases.Next(100, events);
    state.ResumeTiming();
    for (const v1::Event& event : events) {
      event_bytes.clear();
      event.AppendToString(&event_bytes);
      const Sha256Digest salted = Sha256(salt, event_bytes);
      const Sha256Digest content = Sha256(event_bytes);
      entry.set_position(tree.size() + 1);
      entry.set_case_id(event.case_id());
      entry.set_case_version(tree.size() / 10 + 1);
      entry.set_event_type(EventType(event));
      entry.set_event_digest(salted.data(), salted.size());
      entry_bytes.clear();
      entry.AppendToString(&entry_bytes);
      acc += content[0] + tree.Append(merkle::LeafHash(entry_bytes)).size();
    }
    items += static_cast<int64_t>(events.size());
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(items);
}

// The smallest group commit of the ledger's design: each caller queues one
// event for a single writer thread, which writes the ledger-shaped keys of
// everything waiting as one synced WriteBatch and then wakes each caller
// through the same hand-off as the ledger's sequencer, but with no
// validation, hashing, sequencing checks or Merkle tree. With N callers that
// each wait for their own event, the ceiling of the append path's design
// for N appenders on this disk. With `whole_groups` set to N, the writer
// also waits (up to 1 ms) until all N callers are waiting, so that every
// sync carries every caller's event: the best grouping there is. With
// `case_index_copies`, each event's keys carry storage format 2's copies,
// as the ledger writes them.
class RawGroupCommit {
 public:
  RawGroupCommit(size_t whole_groups, bool case_index_copies)
      : whole_groups_(whole_groups),
        case_index_copies_(case_index_copies),
        raw_(OpenRawDb(NewScratchDir("rocksdb-group-commit"), kLedgerFamilies)),
        writer_([this] { Run(); }) {}
  ~RawGroupCommit() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_.notify_one();
    writer_.join();
  }

  // Synced writes made so far.
  uint64_t Syncs() const { return syncs_.load(); }

  rocksdb::Status Commit(uint64_t stream) {
    Waiting w{stream, {}};
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(&w);
    }
    work_.notify_one();
    return w.done.Take();
  }

 private:
  struct Waiting {
    uint64_t stream;
    internal::Outcome<rocksdb::Status> done;
  };

  void Run() {
    const LedgerShapedWrites writes(case_index_copies_);
    std::vector<Waiting*> group;
    rocksdb::WriteBatch batch;
    rocksdb::WriteOptions write;
    write.sync = true;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        work_.wait_for(lock, std::chrono::milliseconds(1),
                       [&] { return stop_ || queue_.size() >= whole_groups_; });
        group.assign(queue_.begin(), queue_.end());
        queue_.clear();
      }
      batch.Clear();
      for (Waiting* w : group) writes.Put(*raw_, w->stream, ++position_, batch);
      rocksdb::Status s = raw_->db->Write(write, &batch);
      syncs_.fetch_add(1);
      for (Waiting* w : group) w->done.Set(s);
    }
  }

  const size_t whole_groups_;
  const bool case_index_copies_;
  RawDb* raw_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Waiting*> queue_;
  bool stop_ = false;
  uint64_t position_ = 0;
  std::atomic<uint64_t> syncs_{0};
  std::thread writer_;  // last: it starts running at construction
};

// range(0): 1 to write whatever is waiting, as the ledger does; N to wait
// for all N callers.
void MeasureGroupCommit(benchmark::State& state, bool case_index_copies) {
  static std::map<std::pair<int64_t, bool>, RawGroupCommit*> writers;
  static std::mutex writers_mu;
  RawGroupCommit* commit;
  {
    std::lock_guard<std::mutex> lock(writers_mu);
    RawGroupCommit*& c = writers[{state.range(0), case_index_copies}];
    if (c == nullptr) {
      c = new RawGroupCommit(static_cast<size_t>(state.range(0)),
                             case_index_copies);
      AtRunEnd([c] { delete c; });
    }
    commit = c;
  }
  const uint64_t stream = NextStream();
  const uint64_t syncs_before = commit->Syncs();
  CpuPerItem cpu(state);
  for (auto _ : state) {
    rocksdb::Status s = commit->Commit(stream);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const uint64_t syncs = commit->Syncs() - syncs_before;
    if (syncs > 0) {
      state.counters["events_per_sync"] =
          static_cast<double>(state.iterations() * state.threads()) /
          static_cast<double>(syncs);
    }
  }
  cpu.Report(state, state.iterations() * state.threads());
}
void BM_RawGroupCommit(benchmark::State& state) {
  MeasureGroupCommit(state, /*case_index_copies=*/false);
}
void BM_RawGroupCommitWithCopies(benchmark::State& state) {
  MeasureGroupCommit(state, /*case_index_copies=*/true);
}

// ---- SQLite --------------------------------------------------------------

void SqliteOrDie(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite %s: %s\n", what,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    std::abort();
  }
}

sqlite3* OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  SqliteOrDie(sqlite3_open_v2(path.c_str(), &db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                  SQLITE_OPEN_NOMUTEX,
                              nullptr),
              db, "open");
  SqliteOrDie(sqlite3_busy_timeout(db, 60000), db, "busy_timeout");
  SqliteOrDie(
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                   nullptr, nullptr, nullptr),
      db, "pragmas");
  return db;
}

const std::string& SqlitePath() {
  static const std::string* path = [] {
    auto* p = new std::string(NewScratchDir("sqlite") + "/events.db");
    sqlite3* db = OpenSqlite(*p);
    SqliteOrDie(sqlite3_exec(db,
                             "CREATE TABLE events ("
                             " position INTEGER PRIMARY KEY,"
                             " event_id TEXT NOT NULL UNIQUE,"
                             " case_id TEXT NOT NULL,"
                             " version INTEGER NOT NULL,"
                             " body BLOB NOT NULL,"
                             " UNIQUE (case_id, version))",
                             nullptr, nullptr, nullptr),
                db, "create table");
    sqlite3_close(db);
    return p;
  }();
  return *path;
}

// The same events as BM_LedgerAppend, one per transaction, into a table with
// the ledger's dense position, unique event id and unique (case, version):
// the well-known embedded alternative, with its own connection per thread.
// SQLite lets one writer in at a time; the threads take turns through one
// lock in the process, as an application would, rather than through
// SQLite's busy handler, whose sleeps (up to 100 ms each) left 64 threads
// ~30 events/s: a baseline that weak would flatter the ledger.
void BM_SQLiteAppend(benchmark::State& state) {
  static std::mutex writer_turn;
  sqlite3* db = OpenSqlite(SqlitePath());
  const uint64_t stream = NextStream();
  sqlite3_stmt *begin, *insert, *commit;
  SqliteOrDie(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr),
              db, "prepare");
  SqliteOrDie(
      sqlite3_prepare_v2(
          db,
          "INSERT INTO events (event_id, case_id, version, body) VALUES (?1, "
          "?2, (SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE "
          "case_id = ?2), ?3)",
          -1, &insert, nullptr),
      db, "prepare");
  SqliteOrDie(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr), db,
              "prepare");
  uint64_t case_number = 0;
  CaseScript script(absl::StrCat("SQ-", stream, "-", case_number));
  for (auto _ : state) {
    if (script.produced() == Settings().case_length) {
      script = CaseScript(absl::StrCat("SQ-", stream, "-", ++case_number));
    }
    v1::Event event = script.Next();
    std::string body = event.SerializeAsString();
    std::lock_guard<std::mutex> turn(writer_turn);
    int rc;
    while ((rc = sqlite3_step(begin)) == SQLITE_BUSY) sqlite3_reset(begin);
    SqliteOrDie(rc, db, "begin");
    sqlite3_reset(begin);
    sqlite3_bind_text(insert, 1, event.event_id().data(),
                      static_cast<int>(event.event_id().size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, event.case_id().data(),
                      static_cast<int>(event.case_id().size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 3, body.data(), static_cast<int>(body.size()),
                      SQLITE_TRANSIENT);
    SqliteOrDie(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
    while ((rc = sqlite3_step(commit)) == SQLITE_BUSY) sqlite3_reset(commit);
    SqliteOrDie(rc, db, "commit");
    sqlite3_reset(commit);
  }
  sqlite3_finalize(begin);
  sqlite3_finalize(insert);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  state.SetItemsProcessed(state.iterations());
}

// ---- Reading -------------------------------------------------------------

// The read fixture's RocksDB opened read-only with the options the ledger
// stored (same table format, block cache size and checksums).
RawDb& FixtureDb() {
  static RawDb* raw = [] {
    const ReadFixture& fixture = GetReadFixture();
    rocksdb::ConfigOptions config;
    rocksdb::DBOptions db_options;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    rocksdb::Status s = rocksdb::LoadLatestOptions(config, fixture.store_dir,
                                                   &db_options, &descriptors);
    auto* out = new RawDb;
    rocksdb::DB* db = nullptr;
    if (s.ok()) {
      s = rocksdb::DB::OpenForReadOnly(db_options, fixture.store_dir,
                                       descriptors, &out->handles, &db);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "cannot open the fixture store: %s\n",
                   s.ToString().c_str());
      std::abort();
    }
    out->db.reset(db);
    AtRunEnd([out] { delete out; });
    // The shape of the LSM tree the reads see (files per level), and the
    // size of the store: both explain read costs.
    std::vector<std::string> shape;
    uint64_t total_bytes = 0;
    for (auto* h : out->handles) {
      rocksdb::ColumnFamilyMetaData meta;
      db->GetColumnFamilyMetaData(h, &meta);
      total_bytes += meta.size;
      if (h->GetName() != "entries" && h->GetName() != "events") continue;
      std::vector<std::string> levels;
      for (const auto& level : meta.levels) {
        if (!level.files.empty()) {
          levels.push_back(
              absl::StrCat("L", level.level, ":", level.files.size()));
        }
      }
      shape.push_back(
          absl::StrCat(h->GetName(), " ", absl::StrJoin(levels, " ")));
    }
    NoteFact(
        "Read fixture store",
        absl::StrFormat("%.0f MiB on disk; SST files per level: %s",
                        total_bytes / 1048576.0, absl::StrJoin(shape, "; ")));
    return out;
  }();
  return *raw;
}

// Index of a column family of the fixture store, by name.
rocksdb::ColumnFamilyHandle* FixtureFamily(const std::string& name) {
  for (auto* h : FixtureDb().handles) {
    if (h->GetName() == name) return h;
  }
  std::fprintf(stderr, "the fixture store has no family %s\n", name.c_str());
  std::abort();
}

// Visits every (entry, event) pair of the fixture with two forward
// iterators, as every full replay must; `visit` gets the values.
template <typename Visit>
int64_t ScanFixture(Visit&& visit) {
  RawDb& raw = FixtureDb();
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.readahead_size = internal::kCursorReadahead;
  read.fill_cache = false;  // both as the ledger's cursors (store.cc)
  std::unique_ptr<rocksdb::Iterator> entries(
      raw.db->NewIterator(read, FixtureFamily("entries")));
  std::unique_ptr<rocksdb::Iterator> events(
      raw.db->NewIterator(read, FixtureFamily("events")));
  int64_t n = 0;
  for (entries->SeekToFirst(), events->SeekToFirst();
       entries->Valid() && events->Valid(); entries->Next(), events->Next()) {
    visit(entries->value(), events->value());
    ++n;
  }
  return n;
}

// The floor of any replay: a forward scan of the entries and the events
// (checksums verified), touching every byte's length, nothing decoded.
void BM_RawIterate(benchmark::State& state) {
  FixtureDb();
  int64_t items = 0;
  for (auto _ : state) {
    uint64_t bytes = 0;
    items += ScanFixture(
        [&](const rocksdb::Slice& entry, const rocksdb::Slice& event) {
          bytes += entry.size() + event.size();
        });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(items);
}

// A forward scan of the four index families (case index, event ids,
// requests, Merkle nodes), checksums verified, each key and value handed to
// `visit`. Returns the events they index (one case-index key each), so that
// a rate of it adds to BM_VerifyHashFloor's in the verify ceiling.
template <typename Visit>
int64_t ScanFixtureIndexes(benchmark::State& state, Visit&& visit) {
  RawDb& raw = FixtureDb();
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.readahead_size = internal::kCursorReadahead;
  read.fill_cache = false;
  int64_t items = 0;
  for (const char* family : {"case_index", "event_ids", "requests", "merkle"}) {
    std::unique_ptr<rocksdb::Iterator> it(
        raw.db->NewIterator(read, FixtureFamily(family)));
    int64_t keys = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++keys) {
      visit(it->key(), it->value());
    }
    if (!it->status().ok()) {
      state.SkipWithError(it->status().ToString().c_str());
      return items;
    }
    if (std::string_view(family) == "case_index") items += keys;
  }
  return items;
}

// The other reads a full verify cannot avoid: the index families, nothing
// decoded.
void BM_RawIterateIndexes(benchmark::State& state) {
  int64_t items = 0;
  for (auto _ : state) {
    uint64_t bytes = 0;
    items += ScanFixtureIndexes(
        state, [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
          bytes += key.size() + value.size();
        });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(items);
}

// The same reads with each key and value compared, in the cheapest way
// that holds neither the log nor the indexes in memory: once through
// SipHash-2-4 under a random key, as Verify's tallies do (with the key's
// length first, so no two pairs share bytes). On the AMD machine it costs
// about half of SHA-256 per byte, the other hash a comparison could use
// (docs/performance.md). Only the stored side is charged: a verify must
// also derive what the log says each item is, which this leaves out.
void BM_IndexTallyFloor(benchmark::State& state) {
  internal::SipHashKey key;
  std::random_device random;
  for (uint8_t& b : key) b = static_cast<uint8_t>(random());
  int64_t items = 0;
  for (auto _ : state) {
    uint64_t sum = 0;
    items += ScanFixtureIndexes(state, [&](const rocksdb::Slice& k,
                                           const rocksdb::Slice& value) {
      // The key's length first, 8 bytes, as the tallies hash it (the
      // byte order does not change the cost), then key and value, each
      // where it lies.
      const uint64_t length = k.size();
      internal::SipHasher hasher(key);
      hasher.Update({reinterpret_cast<const char*>(&length), sizeof length});
      hasher.Update({k.data(), k.size()});
      hasher.Update({value.data(), value.size()});
      sum += hasher.Finish();
    });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(items);
}

// The hashing a full verify cannot avoid, on one core, over the same scan:
// SHA-256 of salt || event (the entry's digest), of the event (the id
// index's digest), the leaf hash and the Merkle nodes each leaf completes.
// Shows whether a verify target is reachable on this machine at all.
void BM_VerifyHashFloor(benchmark::State& state) {
  FixtureDb();
  int64_t items = 0;
  for (auto _ : state) {
    merkle::MerkleFrontier tree;
    uint64_t acc = 0;
    items += ScanFixture([&](const rocksdb::Slice& entry,
                             const rocksdb::Slice& event) {
      std::string_view value(event.data(), event.size());
      Sha256Digest salted = Sha256(value.substr(0, 16), value.substr(16));
      Sha256Digest content = Sha256(value.substr(16));
      auto nodes = tree.Append(merkle::LeafHash({entry.data(), entry.size()}));
      acc += salted[0] + content[0] + nodes.size();
    });
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(items);
}

// How a raw read of a case finds its entries and events.
enum class RawCaseRead {
  // The case index's values in one scan of the case's adjacent keys: what
  // ReadCase reads (storage format 2, docs/storage.md).
  kScan,
  // By position, as format 1 did: the case index for the positions, then
  // a point read of the entry and of the event at each position.
  kGets,
  // The same with one batched MultiGet per family (sorted keys).
  kMultiGet,
};

// The reads a ReadCase of one whole case needs, through raw RocksDB and
// nothing else (zero-copy values, no decoding). Reports the same latency
// percentiles as BM_ReadCase: kScan is the floor under its p99; the other
// two are the floor the layout of format 1 had.
void ReadCaseRaw(benchmark::State& state, RawCaseRead how) {
  RawDb& raw = FixtureDb();
  const std::vector<std::string>& cases = GetReadFixture().case_ids;
  rocksdb::ColumnFamilyHandle* index = FixtureFamily("case_index");
  rocksdb::ColumnFamilyHandle* entries = FixtureFamily("entries");
  rocksdb::ColumnFamilyHandle* events = FixtureFamily("events");
  static std::atomic<uint64_t> runs{0};
  std::mt19937_64 gen(4242 + runs.fetch_add(1));
  std::uniform_int_distribution<size_t> pick(0, cases.size() - 1);
  std::vector<double> millis;
  std::vector<std::string> positions;
  std::vector<rocksdb::Slice> keys;
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<rocksdb::Status> statuses;
  int64_t items = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::string prefix = cases[pick(gen)];
    prefix.push_back('\0');
    auto start = std::chrono::steady_clock::now();
    positions.clear();
    {
      std::unique_ptr<rocksdb::Iterator> it(
          raw.db->NewIterator(rocksdb::ReadOptions(), index));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
           it->Next()) {
        // A value starts with its position; in a scan, the rest is what
        // the read is for.
        const rocksdb::Slice value = it->value();
        bytes += value.size();
        positions.emplace_back(value.data(), std::min<size_t>(8, value.size()));
      }
    }
    if (how == RawCaseRead::kMultiGet) {
      keys.assign(positions.begin(), positions.end());
      values.resize(keys.size());
      statuses.resize(keys.size());
      for (auto* family : {entries, events}) {
        raw.db->MultiGet(rocksdb::ReadOptions(), family, keys.size(),
                         keys.data(), values.data(), statuses.data(),
                         /*sorted_input=*/true);
        for (size_t i = 0; i < keys.size(); ++i) {
          bytes += values[i].size();
          values[i].Reset();
        }
      }
    } else if (how == RawCaseRead::kGets) {
      rocksdb::PinnableSlice value;
      for (const std::string& pos : positions) {
        for (auto* family : {entries, events}) {
          if (raw.db->Get(rocksdb::ReadOptions(), family, pos, &value).ok()) {
            bytes += value.size();
          }
          value.Reset();
        }
      }
    }
    auto end = std::chrono::steady_clock::now();
    items += static_cast<int64_t>(positions.size());
    millis.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(items);
  state.counters["p50_ms"] = Percentile(millis, 50);
  state.counters["p99_ms"] = Percentile(millis, 99);
}
void BM_ReadCaseRawScan(benchmark::State& state) {
  ReadCaseRaw(state, RawCaseRead::kScan);
}
void BM_ReadCaseRawGets(benchmark::State& state) {
  ReadCaseRaw(state, RawCaseRead::kGets);
}
void BM_ReadCaseRawMultiGet(benchmark::State& state) {
  ReadCaseRaw(state, RawCaseRead::kMultiGet);
}

// Short-message SHA-256 through the ledger's one-shot helper (OpenSSL's
// SHA256_* calls): the per-core hashing rate every number above depends on.
void BM_Sha256Short(benchmark::State& state) {
  std::string message = RandomBytes(100, 5);
  for (auto _ : state) {
    Sha256Digest d = Sha256(message);
    benchmark::DoNotOptimize(d);
    message[0] = static_cast<char>(d[0]);
  }
  state.SetItemsProcessed(state.iterations());
}

// The same through EVP with the digest fetched once and one context
// reused, as the helper hashed until 2026-12-05 (EVP allocates its state at
// every init): the report's rate of the machine, so that runs before and
// after stay comparable.
void BM_Sha256ShortPrefetched(benchmark::State& state) {
  std::string message = RandomBytes(100, 5);
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[32];
  for (auto _ : state) {
    if (EVP_DigestInit_ex(ctx, md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, message.data(), message.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, out, nullptr) != 1) {
      state.SkipWithError("EVP digest failed");
      break;
    }
    message[0] = static_cast<char>(out[0]);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  state.SetItemsProcessed(state.iterations());
}

// Waking a thread that sleeps on a mutex condition, as the append path
// wakes its second thread for each large call, and the sequencer each
// appender of a group: the waker's time in the unlock that wakes it
// (`signal_us`), and how long after the wake-up began the woken thread runs
// (`wake_us`, also the iteration time). The sleeper is left alone for 1 ms
// first, as the second thread is while a batch is written. `pinned:1` keeps
// the two threads on different cores, as when both have work (the append
// path's case); `pinned:0` lets the kernel place them, and it puts two
// threads that take turns on one core. On a virtual machine a wake-up across
// cores includes the hypervisor delivering an interrupt to an idle core.
void BM_ThreadWake(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const bool pinned = state.range(0) != 0;
  if (pinned && std::thread::hardware_concurrency() < 2) {
    state.SkipWithError("needs two cores");
    return;
  }
  auto pin_to = [pinned](int core) {
    if (!pinned) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  };
  struct Shared {
    absl::Mutex mu;
    bool go ABSL_GUARDED_BY(mu) = false;
    bool woken ABSL_GUARDED_BY(mu) = false;
    bool stop ABSL_GUARDED_BY(mu) = false;
    Clock::time_point woke_at ABSL_GUARDED_BY(mu);
  } shared;
  std::thread sleeper([&shared, &pin_to] {
    pin_to(1);
    while (true) {
      absl::MutexLock lock(&shared.mu);
      shared.mu.Await(absl::Condition(
          +[](Shared* s)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->go || s->stop; },
          &shared));
      if (shared.stop) return;
      shared.woke_at = Clock::now();
      shared.go = false;
      shared.woken = true;
    }
  });
  pin_to(0);
  double signal_us = 0, wake_us = 0;
  for (auto _ : state) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const Clock::time_point start = Clock::now();
    {
      absl::MutexLock lock(&shared.mu);
      shared.go = true;
    }
    const Clock::time_point signalled = Clock::now();
    absl::MutexLock lock(&shared.mu);
    shared.mu.Await(absl::Condition(&shared.woken));
    shared.woken = false;
    const double woke =
        std::chrono::duration<double>(shared.woke_at - start).count();
    state.SetIterationTime(woke);
    wake_us += woke * 1e6;
    signal_us +=
        std::chrono::duration<double, std::micro>(signalled - start).count();
  }
  {
    absl::MutexLock lock(&shared.mu);
    shared.stop = true;
  }
  sleeper.join();
  // Back to every core for the benchmarks that follow on this thread.
  if (pinned) {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (unsigned c = 0; c < std::thread::hardware_concurrency(); ++c) {
      CPU_SET(c, &all);
    }
    pthread_setaffinity_np(pthread_self(), sizeof all, &all);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["signal_us"] = signal_us / n;
  state.counters["wake_us"] = wake_us / n;
}

}  // namespace

void RegisterBaselineBenchmarks() {
  const double min_time = Settings().write_min_time;
  NoteFact("RocksDB",
           absl::StrFormat("%d.%d.%d (Debian package)", ROCKSDB_MAJOR,
                           ROCKSDB_MINOR, ROCKSDB_PATCH));
  NoteFact("SQLite",
           absl::StrCat(sqlite3_libversion(), " (WAL, synchronous=FULL)"));
  benchmark::RegisterBenchmark("BM_FileSyncWrite", BM_FileSyncWrite)
      ->UseRealTime()
      ->MinTime(min_time);
  auto* put =
      benchmark::RegisterBenchmark("BM_RocksDBSyncPut", BM_RocksDBSyncPut);
  auto* sqlite =
      benchmark::RegisterBenchmark("BM_SQLiteAppend", BM_SQLiteAppend);
  for (int threads : {1, 4, 16, 64}) {
    put->Threads(threads);
    sqlite->Threads(threads);
  }
  for (auto* b : {put, sqlite}) b->UseRealTime()->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_RocksDBLedgerShaped", BM_RocksDBLedgerShaped)
      ->ArgName("size")
      ->Arg(1)
      ->Arg(10)
      ->Arg(16)
      ->Arg(100)
      ->UseRealTime()
      ->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_RocksDBLedgerShapedWithCopies",
                               BM_RocksDBLedgerShapedWithCopies)
      ->ArgName("size")
      ->Arg(1)
      ->Arg(100)
      ->UseRealTime()
      ->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_Paired", BM_Paired)
      ->ArgName("size")
      ->Arg(1)
      ->Arg(100)
      ->UseRealTime()
      ->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_PairedRawCopies", BM_PairedRawCopies)
      ->ArgName("size")
      ->Arg(1)
      ->Arg(100)
      ->UseRealTime()
      ->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_AppendHashFloor", BM_AppendHashFloor)
      ->UseRealTime()
      ->MinTime(min_time);
  benchmark::RegisterBenchmark("BM_RawGroupCommit", BM_RawGroupCommit)
      ->ArgName("whole_groups")
      ->Arg(1)
      ->Arg(16)
      ->Threads(16)
      ->UseRealTime()
      ->MinTime(min_time);
  // 64 callers: only writing whatever waits, as the ledger does.
  for (auto [name, fn] :
       {std::pair{"BM_RawGroupCommit", &BM_RawGroupCommit},
        {"BM_RawGroupCommitWithCopies", &BM_RawGroupCommitWithCopies}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->ArgName("whole_groups")
        ->Arg(1)
        ->Threads(64)
        ->UseRealTime()
        ->MinTime(min_time);
  }
  benchmark::RegisterBenchmark("BM_RawIterate", BM_RawIterate)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_RawIterateIndexes", BM_RawIterateIndexes)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_IndexTallyFloor", BM_IndexTallyFloor)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_VerifyHashFloor", BM_VerifyHashFloor)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (auto [name, fn] :
       {std::pair{"BM_ReadCaseRawScan", &BM_ReadCaseRawScan},
        {"BM_ReadCaseRawGets", &BM_ReadCaseRawGets},
        {"BM_ReadCaseRawMultiGet", &BM_ReadCaseRawMultiGet}}) {
    benchmark::RegisterBenchmark(name, fn)
        ->Iterations(Settings().read_case_calls)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_ThreadWake", BM_ThreadWake)
      ->ArgName("pinned")
      ->Arg(0)
      ->Arg(1)
      ->Iterations(300)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Sha256Short", BM_Sha256Short)->MinTime(0.2);
  benchmark::RegisterBenchmark("BM_Sha256ShortPrefetched",
                               BM_Sha256ShortPrefetched)
      ->MinTime(0.2);
}

}  // namespace caseledger::bench
