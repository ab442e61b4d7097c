#include "ledger/internal/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ledger/file_sync.h"
#include "ledger/internal/fault_injection.h"
#include "ledger/internal/info_log.h"
#include "ledger/internal/log_records.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/metadata.h"
#include "rocksdb/options.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace caseledger::internal {
namespace {

constexpr const char* kFamilyNames[] = {
    "default",  "entries", "events",      "case_index", "event_ids",
    "requests", "merkle",  "checkpoints", "blobs",      "projections",
};
static_assert(std::size(kFamilyNames) == static_cast<size_t>(Family::kCount));

// How often a reader opens the store when its writer changes the MANIFEST
// during each open. Flushes and compactions come seconds apart even under
// a bulk import, so ten opens in a row that each overlap one take a writer
// doing little else (none failed in 372 verifies beside an import,
// docs/storage.md).
constexpr int kReaderOpenAttempts = 10;

// The first line of the store's CURRENT, which names its MANIFEST; empty
// when there is none to read.
std::string CurrentNames(const std::string& path) {
  std::ifstream current(std::filesystem::path(path) / "CURRENT");
  std::string name;
  std::getline(current, name);
  return name;
}

// Which MANIFEST the store in `path` uses and how long it is: what a
// reader's open depends on. CURRENT names the MANIFEST, which grows with
// every flush and compaction and is replaced (CURRENT renamed over) when it
// is rewritten. An unreadable file reads as its error, so that an open
// racing a rewrite counts as changed.
std::string ManifestState(const std::string& path) {
  const std::string name = CurrentNames(path);
  std::error_code ec;
  uint64_t size =
      std::filesystem::file_size(std::filesystem::path(path) / name, ec);
  return absl::StrCat(name, " ", ec ? ec.message() : absl::StrCat(size));
}

// Why an open failed when the store's CURRENT names no MANIFEST that is
// there: RocksDB reports it as an I/O error, but the store is damaged.
std::optional<absl::Status> NamesAMissingManifest(const std::string& path) {
  const std::string name = CurrentNames(path);
  if (name.empty()) return std::nullopt;  // as RocksDB says
  std::error_code ec;
  if (name.rfind("MANIFEST-", 0) != 0 || name.find('/') != std::string::npos) {
    return absl::DataLossError(
        absl::StrCat("the ledger store at ", path,
                     " is damaged: its CURRENT does not name a MANIFEST"));
  }
  if (std::filesystem::exists(std::filesystem::path(path) / name, ec) || ec) {
    return std::nullopt;
  }
  return absl::DataLossError(absl::StrCat("the ledger store at ", path,
                                          " is damaged: its CURRENT names ",
                                          name, ", which is missing"));
}

// The files of the store at `path` in RocksDB's log format: its
// write-ahead logs, oldest first, then the MANIFEST its CURRENT names.
// Listed with an error code: a range-for over the folder would throw on an
// error; a folder that cannot be listed, or a CURRENT that names no
// MANIFEST, is left to RocksDB's open to report.
std::vector<std::string> FilesInLogFormat(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> files;
  for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".log") files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  const std::string manifest = CurrentNames(path);
  if (manifest.starts_with("MANIFEST-") &&
      manifest.find('/') == std::string::npos) {
    files.push_back((std::filesystem::path(path) / manifest).string());
  }
  return files;
}

// After a write to the log fails on a full disk, RocksDB resumes by itself
// once it can: it flushes each family in turn, first syncing the log that
// holds the failed write, whose bytes then become durable. The families
// flushed before a power loss came back without the failed batch and the
// others replayed it: a batch half stored, which verify reports as damage.
// Found by a test of a failed append run without its pauses: in 100 runs,
// 2 ledgers torn, and the failed batch back whole in 25 where a power loss
// must lose it (FaultInjectionTest, "...WhenAPowerLossCutsTheResume"). The
// store refuses every write after a failed log until reopened anyway
// (NotTriedAfterAFailedLog), so RocksDB is kept from resuming: the reopen
// replays the log in every family alike, the failed batch whole or not at
// all. A failed flush or compaction leaves no such write in the log:
// RocksDB's recovery from those is left as it was.
class NoResumeAfterAFailedLogWrite final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason,
                            rocksdb::Status /*error*/,
                            bool* auto_recovery) override {
    if (reason == rocksdb::BackgroundErrorReason::kWriteCallback ||
        reason == rocksdb::BackgroundErrorReason::kMemTable) {
      *auto_recovery = false;
    }
  }
};

// RocksDB 7.8 begins a new log at each open and keeps the empty one each
// earlier open left until the next flush (facebook/rocksdb#11313, fixed in
// 8.3): a ledger only opened and closed (a refused append, a checkpoint
// with nothing new, a server with no appends) gathered one file per run,
// each listed and checked again by every later open (found by a probe of
// the docs: 58 in one folder). Called by the writer, which holds the
// store's lock and has just recovered them: an empty log older than its
// own holds nothing to replay, its MANIFEST tracks no log
// (track_and_verify_wals_in_manifest is off), and a reader opening beside
// skips it (the open's new MANIFEST puts every family past it) or opens
// again (its MANIFEST changed). Only wasted space is at stake, so a failed
// look or removal leaves the file, said in the store's LOG.
void RemoveEarlierEmptyLogs(rocksdb::DB& db, const std::string& path,
                            rocksdb::Logger* info_log) {
  std::unique_ptr<rocksdb::LogFile> current;
  rocksdb::Status s = db.GetCurrentWalFile(&current);
  if (!s.ok() || current == nullptr) {
    rocksdb::Warn(info_log, "empty logs kept: no current log: %s",
                  s.ToString().c_str());
    return;
  }
  rocksdb::FileSystem& fs = *db.GetEnv()->GetFileSystem();
  std::vector<std::string> names;
  if (s = fs.GetChildren(path, rocksdb::IOOptions(), &names, nullptr);
      !s.ok()) {
    rocksdb::Warn(info_log, "empty logs kept: %s", s.ToString().c_str());
    return;
  }
  for (const std::string& name : names) {
    absl::string_view number = name;
    uint64_t log_number = 0;
    if (!absl::ConsumeSuffix(&number, ".log") || number.empty() ||
        !std::all_of(number.begin(), number.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(number, &log_number) ||
        log_number >= current->LogNumber()) {
      continue;
    }
    const std::string file = (std::filesystem::path(path) / name).string();
    uint64_t size = 0;
    s = fs.GetFileSize(file, rocksdb::IOOptions(), &size, nullptr);
    if (s.ok() && size == 0) {
      s = fs.DeleteFile(file, rocksdb::IOOptions(), nullptr);
    }
    if (!s.ok()) {
      rocksdb::Warn(info_log, "empty log %s kept: %s", name.c_str(),
                    s.ToString().c_str());
    }
  }
}

std::string TablePath(const rocksdb::SstFileMetaData& table) {
  return (std::filesystem::path(table.directory) / table.relative_filename)
      .string();
}

// Reads every block of `table`, of `family`, checking its checksum.
rocksdb::Status CheckTableBlocks(rocksdb::DB& db,
                                 rocksdb::ColumnFamilyHandle* family,
                                 const rocksdb::SstFileMetaData& table) {
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.fill_cache = false;
  return rocksdb::VerifySstFileChecksum(
      rocksdb::Options(db.GetDBOptions(), db.GetOptions(family)),
      rocksdb::EnvOptions(), read, TablePath(table), table.largest_seqno);
}

// A table in a family's last level smaller than this is merged with its
// small neighbours once kSmallTablesToMerge of them are there.
constexpr uint64_t kSmallTableBytes = 1 << 20;
constexpr size_t kSmallTablesToMerge = 16;

// Each writer's open flushes the log the last one left, one table per
// family written. A family whose keys only grow (entries, events,
// checkpoints) overlaps none of its older tables, so RocksDB moves each new
// one to the last level alone, where no compaction of its own ever merges
// it: a ledger appended to one event per process gained five tables per
// append, each held open by every later open, until none got past a limit
// of 1,024 open files (found by a probe of a long life). Called by the
// writer once open and before each backup: each run of adjacent small
// tables in a family's last level is merged into one table there, written
// and checked as RocksDB's own compactions are (a reader opening beside
// opens again, its MANIFEST having changed). Only the number of files is
// at stake, so a merge that fails (a table being compacted meanwhile, a
// full disk) leaves the tables as they were, said in the store's LOG.
void MergeSmallLastLevelTables(
    rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
    rocksdb::Logger* info_log) {
  rocksdb::CompactionOptions merge;
  merge.compression = rocksdb::kDisableCompressionOption;  // the family's
  for (rocksdb::ColumnFamilyHandle* family : families) {
    rocksdb::ColumnFamilyMetaData meta;
    db.GetColumnFamilyMetaData(family, &meta);
    const rocksdb::LevelMetaData* last = nullptr;
    for (const rocksdb::LevelMetaData& level : meta.levels) {
      if (level.level > 0 && !level.files.empty()) last = &level;
    }
    if (last == nullptr) continue;
    // Tables of the size RocksDB's own compactions write, rather than one
    // however long the run (a ledger that gathered thousands).
    merge.output_file_size_limit = db.GetOptions(family).target_file_size_base;
    std::vector<const rocksdb::SstFileMetaData*> tables;
    for (const rocksdb::SstFileMetaData& table : last->files) {
      tables.push_back(&table);
    }
    std::sort(tables.begin(), tables.end(), [](const auto* a, const auto* b) {
      return a->smallestkey < b->smallestkey;
    });
    const auto small = [](const rocksdb::SstFileMetaData* table) {
      return table->size < kSmallTableBytes && !table->being_compacted;
    };
    if (static_cast<size_t>(std::count_if(tables.begin(), tables.end(),
                                          small)) < kSmallTablesToMerge) {
      continue;
    }
    // A damaged table stays as it is, for verify to name: merged, it would
    // fail the merge, and RocksDB then refuses every write until reopened.
    std::vector<std::vector<std::string>> runs(1);
    for (const rocksdb::SstFileMetaData* table : tables) {
      if (small(table)) {
        rocksdb::Status sound = CheckTableBlocks(db, family, *table);
        if (sound.ok()) {
          runs.back().push_back(table->relative_filename);
          continue;
        }
        rocksdb::Warn(info_log, "table %s not merged: %s",
                      table->relative_filename.c_str(),
                      sound.ToString().c_str());
      }
      if (!runs.back().empty()) runs.emplace_back();
    }
    for (const std::vector<std::string>& run : runs) {
      if (run.size() < 2) continue;
      rocksdb::Status s = db.CompactFiles(merge, family, run, last->level);
      if (!s.ok()) {
        rocksdb::Warn(info_log, "%zu small tables of %s kept: %s", run.size(),
                      family->GetName().c_str(), s.ToString().c_str());
      }
    }
  }
}

// RocksDB's refusal of a damaged log record, "Corruption: checksum
// mismatch", names neither the file nor the byte: the first damaged record
// of the store's files in log format, found again. OK when there is none.
absl::Status FindDamagedLogOrManifest(const std::string& path) {
  for (const std::string& file : FilesInLogFormat(path)) {
    CASELEDGER_RETURN_IF_ERROR(
        FindDamagedLogRecord(file, LogCheck::kChecksums));
  }
  return absl::OkStatus();
}

// Why RocksDB cannot read the table file at `path` when its last 8 bytes
// are not a table's magic number: RocksDB reads a table cut short as
// "Corrupt or unsupported format_version". None otherwise.
std::optional<std::string> WithoutAFooter(const std::string& path) {
  // kBlockBasedTableMagicNumber, stored little-endian at the very end.
  constexpr uint64_t kTableMagic = 0x88e241b785f4cff7ull;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return std::nullopt;
  uint64_t last = 0;
  if (size >= 8) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(size - 8));
    unsigned char bytes[8];
    if (!in.read(reinterpret_cast<char*>(bytes), 8)) return std::nullopt;
    for (int i = 7; i >= 0; --i) last = (last << 8) | bytes[i];
  }
  if (last == kTableMagic) return std::nullopt;
  return absl::StrCat("it does not end in a table's footer (its ", size,
                      " bytes do not end in RocksDB's table magic number): it "
                      "was cut short, or its end overwritten");
}

// RocksDB's refusal of a table whose properties block is damaged names the
// MANIFEST ("properties unsorted in file .../MANIFEST-000089", found by a
// sweep of zeroed pages): the first table file that does not open on its
// own. Opening a table reads its footer, index and properties, what an
// open of the store checks of each. OK when every table opens.
absl::Status FindDamagedTable(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> tables;
  for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::filesystem::path& file = it->path();
    if (file.extension() == ".sst" || file.extension() == ".ldb") {
      tables.push_back(file.string());
    }
  }
  std::sort(tables.begin(), tables.end());
  rocksdb::Options options;
  options.paranoid_checks = true;
  for (const std::string& table : tables) {
    rocksdb::SstFileReader reader(options);
    if (rocksdb::Status opened = reader.Open(table); !opened.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the table file ", table,
          " is damaged: ", WithoutAFooter(table).value_or(opened.ToString()),
          "; restore the ledger from a backup"));
    }
  }
  return absl::OkStatus();
}

// RocksDB's refusal of a table the MANIFEST lists and the folder lacks
// blames the file, though a MANIFEST cut back past its record of the
// table's replacement lists one compacted away long ago (found by a
// sweep); and it names the table by its old name (.ldb), the last it
// tried. OK when `refusal` is not that.
absl::Status NamingAMissingTable(const std::string& refusal) {
  constexpr std::string_view kOpening = "While open a file for random read: ";
  const size_t from = refusal.find(kOpening);
  const size_t to = refusal.find(": No such file", from);
  if (from == std::string::npos || to == std::string::npos) {
    return absl::OkStatus();
  }
  std::string missing =
      refusal.substr(from + kOpening.size(), to - from - kOpening.size());
  if (missing.ends_with(".ldb")) missing.replace(missing.size() - 3, 3, "sst");
  return absl::DataLossError(absl::StrCat(
      "the store's MANIFEST lists the table file ", missing,
      ", which is not there: the file was removed, or the MANIFEST lost its "
      "later records (cut short or damaged), which said what replaced it; "
      "restore the ledger from a backup"));
}

// RocksDB's refusal of a damaged store at open (`refusal`), named by the
// file at fault where one of the above finds it, with RocksDB's words
// after it. OK when none does (RocksDB's words stand).
absl::Status NamingTheDamagedFile(const std::string& path,
                                  const rocksdb::Status& refusal) {
  const std::string said = refusal.ToString();
  absl::Status found = FindDamagedLogOrManifest(path);
  if (found.ok()) found = FindDamagedTable(path);
  if (found.ok()) found = NamingAMissingTable(said);
  if (!found.ok()) {
    return absl::DataLossError(
        absl::StrCat(found.message(), " (RocksDB: ", said, ")"));
  }
  return absl::OkStatus();
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(std::string(what), ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  // ENOSPC: the canonical code for an exhausted file system.
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  // Only a lock held elsewhere is another writer: a LOCK file that cannot
  // be opened (permission denied, a read-only file system) says why itself.
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos &&
      (s.ToString().find("Resource temporarily unavailable") !=
           std::string::npos ||
       s.ToString().find("lock hold by current process") !=
           std::string::npos)) {
    return absl::UnavailableError(absl::StrCat(
        message, " (another process has this ledger open for writing)"));
  }
  // RocksDB's words alone named a LOCK file, not what to do (found by an
  // outside reading).
  if (s.IsIOError() &&
      (s.ToString().find("Permission denied") != std::string::npos ||
       s.ToString().find("Read-only file system") != std::string::npos)) {
    return absl::PermissionDeniedError(absl::StrCat(
        message,
        " (writing needs write access to the ledger's folder; the verbs that "
        "only read, such as read, verify and state, open it read-only)"));
  }
  if (s.IsIOError()) return absl::UnavailableError(message);
  if (s.IsBusy() || s.IsTryAgain()) return absl::AbortedError(message);
  return absl::InternalError(message);
}

// A refused writer's open says who holds the store, and for a server how
// to reach the ledger through it instead (found by an audit: the bare
// RocksDB message named neither).
absl::Status NamingTheWriter(absl::Status refused, const std::string& store) {
  constexpr absl::string_view kHeld = "open for writing)";
  const std::string holder = WriterOf(store);
  if (holder.empty() || !absl::EndsWith(refused.message(), kHeld)) {
    return refused;
  }
  const bool server = absl::StrContains(holder, " serve");
  std::string message(refused.message());
  message.pop_back();
  return absl::Status(
      refused.code(),
      absl::StrCat(message, ": ", holder,
                   server ? "; it serves this ledger: stop it first, or "
                            "run a verb that has a client mode through it "
                            "(--server HOST:PORT --token-file FILE))"
                          : "; wait for it to finish)"));
}

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

// The largest write whose buffers a thread keeps for its next one (~900
// events): any thread that writes keeps up to this much, and a server may
// run many such threads.
constexpr size_t kKeptWriteBytes = 1 << 20;

// RocksDB counts every key comparison in a thread-local perf context unless
// told otherwise (its default level is kEnableCount); nothing reads those
// counters, and on the append path they cost about a tenth of the
// sequencer's time (docs/performance.md). Called on entry to every Store
// operation and by every cursor's Seek; the level is per thread, so each
// thread pays the call once.
void SkipPerfCounters() {
  thread_local const bool skipped = [] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return true;
  }();
  (void)skipped;
}

// Only the projections family receives range deletions (a projection is
// dropped with one). Every other family's iterators leave them out: RocksDB
// 7.8's iterators, when they apply range deletions, end a scan at a table
// whose block they cannot read with their status OK, where without them the
// scan stops with the block's Corruption (a table among others in the last
// level, which is how a store written in many small appends looks).
rocksdb::ReadOptions ScanOf(Family family) {
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.ignore_range_deletions = family != Family::kProjections;
  return read;
}

// The case id and its 0x00 separator: the part of a case-index key (case
// id, 0x00, version) that all of one case's keys share.
class CaseIdOfKey : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "caseledger.CaseIdOfKey"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* end = std::memchr(key.data(), '\0', key.size());
    return {
        key.data(),
        static_cast<size_t>(static_cast<const char*>(end) - key.data()) + 1};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

template <size_t N>
void EncodeBigEndian(uint64_t v, char (&out)[N]) {
  for (size_t i = N; i-- > 0; v >>= 8) out[i] = static_cast<char>(v);
}

template <typename Int>
absl::StatusOr<Int> DecodeBigEndian(std::string_view bytes) {
  if (bytes.size() < sizeof(Int)) {
    return absl::DataLossError(
        absl::StrCat("expected ", sizeof(Int),
                     " bytes of big-endian integer, got ", bytes.size()));
  }
  Int v = 0;
  for (size_t i = 0; i < sizeof(Int); ++i) {
    v = static_cast<Int>(v << 8 | static_cast<uint8_t>(bytes[i]));
  }
  return v;
}

// Keeps `objects` for the life of the process, reachable (LeakSanitizer
// tells a kept object from a lost one by that).
void KeepUntilExit(std::vector<std::shared_ptr<void>> objects) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* kept = new std::vector<std::shared_ptr<void>>();
  absl::MutexLock lock(&mu);
  for (auto& o : objects) kept->push_back(std::move(o));
}

}  // namespace

void EncodeU64(uint64_t v, char (&out)[8]) { EncodeBigEndian(v, out); }
void EncodeU32(uint32_t v, char (&out)[4]) { EncodeBigEndian(v, out); }

void AppendU64(uint64_t v, std::string& out) {
  char bytes[8];
  EncodeU64(v, bytes);
  out.append(bytes, sizeof(bytes));
}

std::string EncodeU64(uint64_t v) {
  std::string out;
  AppendU64(v, out);
  return out;
}

absl::StatusOr<uint64_t> DecodeU64(std::string_view bytes) {
  return DecodeBigEndian<uint64_t>(bytes);
}
absl::StatusOr<uint32_t> DecodeU32(std::string_view bytes) {
  return DecodeBigEndian<uint32_t>(bytes);
}

struct Store::Rep {
  // Declared first so that it outlives the database that runs on its Env.
  std::shared_ptr<FaultInjection> faults;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  bool read_only = false;
  std::string path;
  // The writer's store folder as opened (device, inode). Removed or
  // replaced under a writer (rm -rf, a restore into the same path), the
  // folder took every synced write with it, and RocksDB, which makes and
  // deletes its files by path, flushed and purged into the folder now at
  // that name: a ledger restored there no longer opened (found by an
  // outside reading).
  std::optional<std::pair<dev_t, ino_t>> folder;
  // Writes come from more than one thread (the sequencer; a stored message
  // or a projection from its caller's).
  std::atomic<bool> lost_folder{false};
  // The first write or sync of the log that failed on an I/O error. The
  // log file's writer is then in error, and the next write or sync that
  // reaches it aborts the process (an assertion Debian's RocksDB keeps;
  // found by a review with fsync failing under LD_PRELOAD): every write,
  // sync, flush and backup after it answers with this instead, untried.
  absl::Mutex failed_mu;
  absl::Status failed_log ABSL_GUARDED_BY(failed_mu);
  absl::Status FailedLog() {
    absl::MutexLock lock(&failed_mu);
    return failed_log;
  }
  absl::Status NotTriedAfterAFailedLog(std::string_view doing) {
    absl::Status failed = FailedLog();
    if (failed.ok()) return failed;
    return absl::Status(failed.code(),
                        absl::StrCat(AbslView(doing),
                                     ": not tried, after a write that failed: ",
                                     failed.message()));
  }
  void RememberIfTheLogFailed(const rocksdb::Status& s,
                              const absl::Status& told) {
    if (!s.IsIOError()) return;
    absl::MutexLock lock(&failed_mu);
    if (failed_log.ok()) failed_log = told;
  }

  // kDataLoss once the folder at `path` is no longer the one opened; from
  // then on RocksDB does no background work, and the database is not
  // closed (a close flushes and purges by path too).
  absl::Status CheckFolder() {
    struct stat now;
    if (!folder ||
        (::stat(path.c_str(), &now) == 0 && now.st_dev == folder->first &&
         now.st_ino == folder->second)) {
      return absl::OkStatus();
    }
    if (!lost_folder.exchange(true)) {
      db->PauseBackgroundWork().PermitUncheckedError();
    }
    return absl::DataLossError(absl::StrCat(
        "the store folder ", path,
        " was removed or replaced while this process had it open for "
        "writing: what it wrote since is not on the disk under that name, "
        "and it writes nothing more there; stop it, then verify the ledger "
        "now at that path or restore a backup"));
  }

  ~Rep() {
    if (folder && !CheckFolder().ok()) {
      // Left open, and so untouched, until the process ends, with its
      // handles and the Env it runs on; this process cannot open that path
      // for writing again.
      std::vector<std::shared_ptr<void>> kept = {
          std::shared_ptr<rocksdb::DB>(std::move(db)), faults};
      for (auto* h : handles) {
        kept.push_back(std::shared_ptr<rocksdb::ColumnFamilyHandle>(h));
      }
      KeepUntilExit(std::move(kept));
      return;
    }
    for (auto* h : handles) {
      if (db != nullptr)
        db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    if (db != nullptr) db->Close().PermitUncheckedError();
  }
};

// The writes are kept in one buffer and handed to RocksDB only by
// Store::Write, in (family, key) order: the ledger adds its keys in the
// order it sequences events, which jumps between keys far apart (event ids
// are random, case keys interleave cases); inserting them into each
// family's memtable skip list in key order lets RocksDB reuse the search
// path from one insert to the next (its "splice"), which roughly halves the
// cost of the memtable inserts that dominate the append path
// (docs/performance.md). The order is stable, so of two writes to one key
// the later still wins, and one batch is still written atomically.
struct Batch::Rep {
  enum class Kind { kPut, kDelete, kDeleteRange };
  struct Write {
    Family family;
    Kind kind;
    // For a range: the range's begin and end.
    size_t key_at, key_size, value_at, value_size;
  };
  std::string bytes;  // keys and values, back to back
  std::vector<Write> writes;
  // (writes, bytes) sizes at each SetSavePoint not yet rolled back to.
  std::vector<std::pair<size_t, size_t>> save_points;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles;

  void Add(Family family, Kind kind, std::string_view key,
           std::string_view value) {
    writes.push_back({family, kind, bytes.size(), key.size(),
                      bytes.size() + key.size(), value.size()});
    bytes.append(key).append(value);
  }
  std::string_view Key(const Write& w) const {
    return std::string_view(bytes).substr(w.key_at, w.key_size);
  }
  std::string_view Value(const Write& w) const {
    return std::string_view(bytes).substr(w.value_at, w.value_size);
  }
};

Batch::Batch(const Store& store) : rep_(std::make_unique<Rep>()) {
  rep_->handles = &store.rep_->handles;
}
Batch::~Batch() = default;
void Batch::SetSavePoint() {
  rep_->save_points.emplace_back(rep_->writes.size(), rep_->bytes.size());
}
void Batch::RollbackToSavePoint() {
  if (rep_->save_points.empty()) return;  // a caller bug; nothing to undo
  auto [writes, bytes] = rep_->save_points.back();
  rep_->save_points.pop_back();
  rep_->writes.resize(writes);
  rep_->bytes.resize(bytes);
}
size_t Batch::Count() const { return rep_->writes.size(); }
void Batch::Clear() {
  if (rep_->bytes.capacity() > kKeptWriteBytes) {
    rep_->bytes = std::string();
    rep_->writes = {};
  }
  rep_->writes.clear();
  rep_->bytes.clear();
  rep_->save_points.clear();
}

void Batch::Put(Family family, std::string_view key, std::string_view value) {
  rep_->Add(family, Rep::Kind::kPut, key, value);
}

void Batch::Delete(Family family, std::string_view key) {
  rep_->Add(family, Rep::Kind::kDelete, key, {});
}

void Batch::DeleteRange(Family family, std::string_view begin,
                        std::string_view end) {
  rep_->Add(family, Rep::Kind::kDeleteRange, begin, end);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   StoreOptions options) {
  bool has_current = true;
  if (!options.create_if_missing) {
    // A store folder one may not search reads as no CURRENT: "the store's
    // files were deleted" (found by an audit).
    CASELEDGER_ASSIGN_OR_RETURN(
        has_current, PathExists(std::filesystem::path(path) / "CURRENT"));
  }
  if (!has_current) {
    // RocksDB never leaves a store it made without the file that names its
    // MANIFEST: a folder with files but no CURRENT was damaged.
    std::error_code ec;
    if (!std::filesystem::is_empty(path, ec) && !ec) {
      return absl::DataLossError(absl::StrCat(
          "the ledger store at ", path,
          " is damaged: it holds files but not CURRENT, which names its "
          "MANIFEST"));
    }
    return absl::NotFoundError(absl::StrCat("no ledger store at ", path));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.paranoid_checks = true;
  // Replaying the WAL tolerates only an incomplete last record (a write cut
  // short by a crash; CheckLogTail below makes sure it is one) and refuses
  // to open on any other damage. The default,
  // kPointInTimeRecovery, stops at the first bad record and silently drops
  // every acknowledged append after it (tests/reliability/corruption_test).
  db_options.wal_recovery_mode =
      rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.max_background_jobs = 2;
  // Every open replays the log not yet in table files, and so does every
  // reader's: a long-running writer flushes once this much has piled up.
  // The limit and the level-0 trigger below set how much log passes between
  // two merges of level 0 into the level below, each of which rewrites the
  // families written in random key order (case index, event ids, Merkle
  // nodes) whole while they fit in one level: at 32 MiB and RocksDB's four
  // files, background work took a sixth of the append path's CPU. 64 MiB
  // costs a reader's open at most ~0.4 s of replay and that much memory
  // (docs/performance.md).
  db_options.max_total_wal_size = 64 << 20;
  db_options.listeners.push_back(
      std::make_shared<NoResumeAfterAFailedLogWrite>());
  // Errors a file system marks retryable (a POSIX one marks none) are
  // resumed from by another path, kept off for the same reason.
  db_options.max_bgerror_resume_count = 0;
  if (options.faults != nullptr) db_options.env = options.faults->env();
  // A reader keeps no info log: it would write into a folder it only reads
  // (a backup, a read-only medium).
  db_options.info_log = std::make_shared<InfoLog>(
      db_options.env->GetFileSystem().get(),
      options.read_only ? "" : (std::filesystem::path(path) / "LOG").string());
  // Checksums on every read, so corrupted data is never served as good.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  // A hash index in each data block finds a key without the binary search
  // and the linear scan of a restart interval: point reads (the sequencer's
  // index probes, ReadCase, Verify) spent a third of their time there
  // (docs/performance.md). Readable by any RocksDB since 6.0; tables written
  // before keep their binary index.
  table.data_block_index_type =
      rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  table.data_block_hash_table_util_ratio = 0.75;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.level_compaction_dynamic_level_bytes = true;
  // Sixteen flushes gather in level 0 before a merge, rather than four:
  // point reads check one more bloom filter per level-0 file and scans merge
  // one more cursor, which measured below the noise (docs/performance.md).
  // Writes slow down and stop correspondingly later.
  cf_options.level0_file_num_compaction_trigger = 16;
  cf_options.level0_slowdown_writes_trigger = 40;
  cf_options.level0_stop_writes_trigger = 56;
  // LZ4 rather than RocksDB's default Snappy: as compact on our events and
  // faster to decompress, which every replay, verify and cold point read
  // pays per block (docs/performance.md). Tables written before keep their
  // compression; both are read. A RocksDB built without LZ4 keeps its
  // default.
  for (rocksdb::CompressionType c : rocksdb::GetSupportedCompressions()) {
    if (c == rocksdb::kLZ4Compression) cf_options.compression = c;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilyNames) families.emplace_back(name, cf_options);
  // The families the append path probes for keys that are usually absent
  // (a new event id, a new request, a new message) get a bloom filter in
  // the memtable too, so that a miss skips the memtable's skip list the way
  // the SST filters let it skip the files. Costs 1/50 of the write buffer
  // per family.
  for (Family f : {Family::kEventIds, Family::kRequests, Family::kBlobs}) {
    rocksdb::ColumnFamilyOptions& o = families[static_cast<size_t>(f)].options;
    o.memtable_whole_key_filtering = true;
    o.memtable_prefix_bloom_size_ratio = 0.02;
  }

  // Each Merkle level, and each case's index keys, are written in
  // ascending order, but one append's keys land in several of them: the
  // memtable's last insert position fits none of them, and every insert
  // searched its skip list from the top. A hint per level and per case
  // starts it where that level's or case's previous key went (unsynced
  // single appends +17%, docs/performance.md). Each hint takes ~220 bytes of
  // the memtable, which therefore flushes sooner when a memtable holds
  // mostly one-event cases.
  families[static_cast<size_t>(Family::kMerkle)]
      .options.memtable_insert_with_hint_prefix_extractor.reset(
          rocksdb::NewFixedPrefixTransform(1));
  families[static_cast<size_t>(Family::kCaseIndex)]
      .options.memtable_insert_with_hint_prefix_extractor =
      std::make_shared<CaseIdOfKey>();

  // A reader's open reads the MANIFEST, then opens the tables and replays
  // the logs it names. A flush or compaction the writer finishes meanwhile
  // removes some of them: the open then fails on a table, or, worse,
  // replays a log of later writes without the one just flushed, and the
  // view misses writes silently (StoreReaderTest). Every such change is
  // recorded in the MANIFEST first, so an open during which the MANIFEST
  // stayed as it was read what belongs together; otherwise it is made
  // again. Once open, the reader holds every table and log it read.
  for (int attempt = 1;; ++attempt) {
    const std::string manifest_before =
        options.read_only ? ManifestState(path) : "";
    // What the open below would take for a crash's cut-short record, in the
    // logs or the MANIFEST, must be one, and what it would skip without a
    // word must be nothing (log_records.h). Again at each attempt: the
    // writer beside a reader may have begun a new MANIFEST.
    for (const std::string& file : FilesInLogFormat(path)) {
      CASELEDGER_RETURN_IF_ERROR(CheckLogTail(file));
      CASELEDGER_RETURN_IF_ERROR(
          FindDamagedLogRecord(file, LogCheck::kHeaders));
    }
    auto rep = std::make_unique<Rep>();
    rep->faults = options.faults;
    rep->read_only = options.read_only;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s =
        options.read_only
            ? rocksdb::DB::OpenForReadOnly(db_options, path, families,
                                           &rep->handles, &db)
            : rocksdb::DB::Open(db_options, path, families, &rep->handles, &db);
    rep->db.reset(db);
    rep->path = path;
    if (s.ok() && !options.read_only) {
      struct stat opened;
      if (::stat(path.c_str(), &opened) == 0) {
        rep->folder = std::make_pair(opened.st_dev, opened.st_ino);
      }
    }
    if (!options.read_only || ManifestState(path) == manifest_before) {
      if (s.IsCorruption()) {
        CASELEDGER_RETURN_IF_ERROR(NamingTheDamagedFile(path, s));
      }
      if (!s.ok() && !options.create_if_missing) {
        return NamesAMissingManifest(path).value_or(NamingTheWriter(
            FromRocks(s, absl::StrCat("opening ", path)), path));
      }
      if (!s.ok()) return FromRocks(s, absl::StrCat("opening ", path));
      if (!options.read_only) {
        RemoveEarlierEmptyLogs(*rep->db, path, db_options.info_log.get());
        MergeSmallLastLevelTables(*rep->db, rep->handles,
                                  db_options.info_log.get());
      }
      return std::unique_ptr<Store>(new Store(std::move(rep)));
    }
    if (attempt == kReaderOpenAttempts) {
      return absl::UnavailableError(
          absl::StrCat("opening ", path,
                       " to read: its writer flushed or compacted during "
                       "each of ",
                       kReaderOpenAttempts,
                       " attempts; try again, or read "
                       "through the server that holds it"));
    }
    absl::SleepFor(absl::Milliseconds(10 * attempt));
  }
}

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Store::~Store() = default;

absl::Status Store::Write(Batch& batch, bool sync) {
  if (rep_->read_only) {
    return absl::FailedPreconditionError("ledger is open read-only");
  }
  SkipPerfCounters();
  CASELEDGER_RETURN_IF_ERROR(rep_->NotTriedAfterAFailedLog("writing"));
  if (sync) CASELEDGER_RETURN_IF_ERROR(rep_->CheckFolder());
  rocksdb::WriteOptions options;
  options.sync = sync;
  Batch::Rep& rep = *batch.rep_;
  // Reused by each thread's writes: a batch of 100 events is ~100 KiB, and
  // allocating it anew made glibc consolidate its free lists and fault the
  // pages in again for every group (docs/performance.md). Buffers past
  // kKeptWriteBytes are let go after their write.
  thread_local std::vector<const Batch::Rep::Write*> order;
  thread_local rocksdb::WriteBatch write;
  write.Clear();
  for (const Batch::Rep::Write& w : rep.writes) {
    if (w.kind == Batch::Rep::Kind::kDeleteRange &&
        w.family != Family::kProjections) {
      // Scans of the other families leave range deletions out (ScanOf).
      return absl::InternalError(
          absl::StrCat("a range deletion in family ",
                       kFamilyNames[static_cast<size_t>(w.family)],
                       ", whose scans would not apply it"));
    }
  }
  order.resize(rep.writes.size());
  if (order.size() < 16) {  // ordering a handful of keys gains nothing
    for (size_t i = 0; i < order.size(); ++i) order[i] = &rep.writes[i];
  } else {
    // By family first (a stable counting sort), then each family's writes
    // by key, where they are not in order already: the log's own families
    // (entries, events) are written in position order, and sorting them
    // with the rest cost a batch of 100 events ~30 us.
    constexpr size_t kFamilies = static_cast<size_t>(Family::kCount);
    std::array<size_t, kFamilies + 1> start{};
    // A range deletion applies to the writes before it and not after; moved
    // among them by key, it could delete a later put.
    std::array<bool, kFamilies> keeps_order{};
    for (const Batch::Rep::Write& w : rep.writes) {
      ++start[static_cast<size_t>(w.family) + 1];
      if (w.kind == Batch::Rep::Kind::kDeleteRange) {
        keeps_order[static_cast<size_t>(w.family)] = true;
      }
    }
    for (size_t f = 0; f < kFamilies; ++f) start[f + 1] += start[f];
    std::array<size_t, kFamilies> next;
    std::copy(start.begin(), start.end() - 1, next.begin());
    for (const Batch::Rep::Write& w : rep.writes) {
      order[next[static_cast<size_t>(w.family)]++] = &w;
    }
    auto by_key = [&rep](const Batch::Rep::Write* a,
                         const Batch::Rep::Write* b) {
      return rep.Key(*a) < rep.Key(*b);
    };
    for (size_t f = 0; f < kFamilies; ++f) {
      auto first = order.begin() + start[f],
           last = order.begin() + start[f + 1];
      if (!keeps_order[f] && !std::is_sorted(first, last, by_key)) {
        std::stable_sort(first, last, by_key);
      }
    }
  }
  for (const Batch::Rep::Write* w : order) {
    rocksdb::ColumnFamilyHandle* family =
        (*rep.handles)[static_cast<size_t>(w->family)];
    // Fails only past a batch size limit, which we never set.
    const rocksdb::Slice key = ToSlice(rep.Key(*w));
    const rocksdb::Slice value = ToSlice(rep.Value(*w));
    rocksdb::Status s;
    switch (w->kind) {
      case Batch::Rep::Kind::kPut:
        s = write.Put(family, key, value);
        break;
      case Batch::Rep::Kind::kDelete:
        s = write.Delete(family, key);
        break;
      case Batch::Rep::Kind::kDeleteRange:
        s = write.DeleteRange(family, key, value);
        break;
    }
    if (!s.ok()) return FromRocks(s, "collecting the writes");
  }
  const rocksdb::Status rocks_written = rep_->db->Write(options, &write);
  absl::Status written = FromRocks(rocks_written, "writing");
  rep_->RememberIfTheLogFailed(rocks_written, written);
  if (write.GetDataSize() > kKeptWriteBytes) {
    write = rocksdb::WriteBatch();
    order = {};
  }
  // A synced write is acknowledged as durable: only if it went to the
  // folder that has the ledger's name (one stat, beside a sync's ~200 us).
  // Asked before too: the write can switch to a new log file, which RocksDB
  // makes by path.
  if (written.ok() && sync) written = rep_->CheckFolder();
  return written;
}

absl::StatusOr<std::optional<std::string>> Store::Get(
    Family family, std::string_view key) const {
  SkipPerfCounters();
  std::string value;
  rocksdb::Status s = rep_->db->Get(rocksdb::ReadOptions(),
                                    rep_->handles[static_cast<size_t>(family)],
                                    ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, "reading");
  return value;
}

absl::StatusOr<bool> Store::Holds(Family family, std::string_view key) const {
  SkipPerfCounters();
  rocksdb::PinnableSlice value;
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  rocksdb::Status s =
      rep_->db->Get(options, rep_->handles[static_cast<size_t>(family)],
                    ToSlice(key), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, "reading");
  return true;
}

absl::Status Store::MultiGet(
    std::initializer_list<Family> families,
    const std::vector<std::string>& keys,
    const std::function<absl::Status(
        size_t i, const std::vector<std::optional<std::string_view>>& found)>&
        visit) const {
  SkipPerfCounters();
  const size_t n = keys.size();
  const size_t lookups = n * families.size();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::vector<rocksdb::Slice> slices;
  handles.reserve(lookups);
  slices.reserve(lookups);
  // RocksDB takes the lookups as sorted when they are ordered by family
  // and then by key; otherwise it sorts a copy.
  bool sorted = std::is_sorted(keys.begin(), keys.end());
  uint32_t last_family_id = 0;
  for (Family f : families) {
    rocksdb::ColumnFamilyHandle* handle = rep_->handles[static_cast<size_t>(f)];
    if (!handles.empty() && handle->GetID() <= last_family_id) sorted = false;
    last_family_id = handle->GetID();
    for (const std::string& key : keys) {
      handles.push_back(handle);
      slices.push_back(ToSlice(key));
    }
  }
  std::vector<rocksdb::PinnableSlice> values(lookups);
  std::vector<rocksdb::Status> statuses(lookups);
  rep_->db->MultiGet(rocksdb::ReadOptions(), lookups, handles.data(),
                     slices.data(), values.data(), statuses.data(), sorted);
  std::vector<std::optional<std::string_view>> found(families.size());
  for (size_t i = 0; i < n; ++i) {
    for (size_t f = 0; f < families.size(); ++f) {
      const size_t k = f * n + i;
      if (statuses[k].IsNotFound()) {
        found[f].reset();
      } else if (!statuses[k].ok()) {
        return FromRocks(statuses[k], "reading");
      } else {
        found[f].emplace(values[k].data(), values[k].size());
      }
    }
    absl::Status s = visit(i, found);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
Store::LastAtMost(Family family, std::optional<std::string_view> key) const {
  SkipPerfCounters();
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(
      ScanOf(family), rep_->handles[static_cast<size_t>(family)]));
  if (key) {
    it->SeekForPrev(ToSlice(*key));
  } else {
    it->SeekToLast();
  }
  if (!it->status().ok()) return FromRocks(it->status(), "seeking");
  if (!it->Valid()) return std::nullopt;
  return std::make_pair(it->key().ToString(), it->value().ToString());
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
Store::LastWithPrefix(Family family, std::string_view prefix) const {
  std::optional<std::string> upper;
  if (!prefix.empty()) {
    // The largest key with this prefix sorts before prefix || 0xff... .
    upper = std::string(prefix).append(16, '\xff');
  }
  CASELEDGER_ASSIGN_OR_RETURN(auto last, LastAtMost(family, upper));
  if (last && !absl::StartsWith(last->first, AbslView(prefix))) {
    return std::nullopt;
  }
  return last;
}

absl::Status Store::Scan(
    Family family, std::string_view from, std::string_view prefix,
    const std::function<absl::StatusOr<bool>(std::string_view,
                                             std::string_view)>& visit) const {
  SkipPerfCounters();
  rocksdb::ColumnFamilyHandle* handle =
      rep_->handles[static_cast<size_t>(family)];
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(ScanOf(family), handle));
  std::optional<std::string> stopped_at;
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    if (!it->key().starts_with(ToSlice(prefix))) break;
    auto more = visit(std::string_view(it->key().data(), it->key().size()),
                      std::string_view(it->value().data(), it->value().size()));
    if (!more.ok()) return more.status();
    if (!*more) {
      stopped_at = it->key().ToString();
      break;
    }
  }
  CASELEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "scanning"));
  if (family != Family::kProjections) return absl::OkStatus();
  // This scan applied range deletions, and may have ended or gone on past a
  // block it could not read without a word (ScanOf). The same range read
  // again without them reports such a block; the one family that needs
  // them pays a second read.
  rocksdb::ReadOptions again = ScanOf(family);
  again.ignore_range_deletions = true;
  again.fill_cache = false;
  it.reset(rep_->db->NewIterator(again, handle));
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    if (!it->key().starts_with(ToSlice(prefix)) ||
        (stopped_at && it->key().compare(ToSlice(*stopped_at)) > 0)) {
      break;
    }
  }
  return FromRocks(it->status(), "scanning");
}

namespace {
class RocksCursor final : public Cursor {
 public:
  RocksCursor(rocksdb::Iterator* it, std::shared_ptr<const void> snapshot)
      : it_(it), snapshot_(std::move(snapshot)) {}
  // Cursors are often used on a thread other than the one that made them
  // (verify's index scan), which no other Store operation has reached.
  void Seek(std::string_view key) override {
    SkipPerfCounters();
    it_->Seek(ToSlice(key));
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override {
    return {it_->key().data(), it_->key().size()};
  }
  std::string_view value() const override {
    return {it_->value().data(), it_->value().size()};
  }
  absl::Status status() const override {
    return FromRocks(it_->status(), "scanning");
  }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
  std::shared_ptr<const void> snapshot_;  // released after the last cursor
};
}  // namespace

std::vector<std::unique_ptr<Cursor>> Store::NewCursors(
    std::initializer_list<Family> families) const {
  SkipPerfCounters();
  rocksdb::DB* db = rep_->db.get();
  std::shared_ptr<const void> snapshot(db->GetSnapshot(), [db](const void* s) {
    db->ReleaseSnapshot(static_cast<const rocksdb::Snapshot*>(s));
  });
  rocksdb::ReadOptions read;
  read.snapshot = static_cast<const rocksdb::Snapshot*>(snapshot.get());
  read.readahead_size = kCursorReadahead;
  // Cursors walk long ranges (replay, verify, rebuild): their blocks are
  // read once, so they bypass the block cache instead of evicting the
  // blocks that point reads reuse, and a full walk stays within the memory
  // it started with (docs/performance.md).
  read.fill_cache = false;
  std::vector<std::unique_ptr<Cursor>> out;
  for (Family f : families) {
    const rocksdb::ReadOptions family_read = ScanOf(f);
    read.verify_checksums = family_read.verify_checksums;
    read.ignore_range_deletions = family_read.ignore_range_deletions;
    // A cursor cannot read a range twice as Scan does (ScanOf).
    out.push_back(std::make_unique<RocksCursor>(
        read.ignore_range_deletions
            ? db->NewIterator(read, rep_->handles[static_cast<size_t>(f)])
            : rocksdb::NewErrorIterator(rocksdb::Status::NotSupported(
                  "no cursor reads the projections; Store::Scan does")),
        snapshot));
  }
  return out;
}

absl::Status Store::LogFailure() const { return rep_->FailedLog(); }

absl::Status Store::SyncLog() {
  if (rep_->read_only) return absl::OkStatus();
  CASELEDGER_RETURN_IF_ERROR(rep_->NotTriedAfterAFailedLog("syncing the log"));
  SkipPerfCounters();
  const rocksdb::Status s = rep_->db->SyncWAL();
  absl::Status synced = FromRocks(s, "syncing the log");
  rep_->RememberIfTheLogFailed(s, synced);
  return synced;
}

absl::Status Store::ReplaceFile(const std::string& path,
                                const std::string& temp,
                                std::string_view bytes) {
  rocksdb::Env* env = rep_->db->GetEnv();
  const std::string what = absl::StrCat("writing ", path);
  std::unique_ptr<rocksdb::WritableFile> file;
  CASELEDGER_RETURN_IF_ERROR(FromRocks(
      env->NewWritableFile(temp, &file, rocksdb::EnvOptions()), what));
  CASELEDGER_RETURN_IF_ERROR(FromRocks(
      file->Append(rocksdb::Slice(bytes.data(), bytes.size())), what));
  CASELEDGER_RETURN_IF_ERROR(FromRocks(file->Sync(), what));
  CASELEDGER_RETURN_IF_ERROR(FromRocks(file->Close(), what));
  CASELEDGER_RETURN_IF_ERROR(FromRocks(env->RenameFile(temp, path), what));
  std::unique_ptr<rocksdb::Directory> folder;
  CASELEDGER_RETURN_IF_ERROR(FromRocks(
      env->NewDirectory(std::filesystem::path(path).parent_path().string(),
                        &folder),
      what));
  return FromRocks(folder->Fsync(), what);
}

absl::Status Store::FlushIfOver(uint64_t threshold) {
  if (rep_->read_only) return absl::OkStatus();
  uint64_t held = 0;
  if (!rep_->db->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables",
                                          &held) ||
      held <= threshold) {
    return absl::OkStatus();
  }
  CASELEDGER_RETURN_IF_ERROR(rep_->NotTriedAfterAFailedLog("flushing"));
  rocksdb::FlushOptions flush;
  return FromRocks(rep_->db->Flush(flush, rep_->handles), "flushing");
}

absl::Status Store::CompactAll() {
  // Tables already in the last level are left as they are: a newer one
  // goes beside them, as a store's compactions put them.
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kSkip;
  for (rocksdb::ColumnFamilyHandle* family : rep_->handles) {
    CASELEDGER_RETURN_IF_ERROR(
        FromRocks(rep_->db->CompactRange(compact, family, nullptr, nullptr),
                  "compacting"));
  }
  return absl::OkStatus();
}

absl::Status Store::Backup(const std::string& dir) {
  if (rep_->read_only) {
    return absl::FailedPreconditionError(
        "a backup needs the ledger open for writing");
  }
  CASELEDGER_RETURN_IF_ERROR(
      rep_->NotTriedAfterAFailedLog(absl::StrCat("backing up to ", dir)));
  // A server runs for months between opens, and each backup flushes: the
  // small tables that gathered are merged before they are copied.
  MergeSmallLastLevelTables(*rep_->db, rep_->handles,
                            rep_->db->GetDBOptions().info_log.get());
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(rep_->db.get(), &raw);
  if (!s.ok()) return FromRocks(s, "starting a backup");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // RocksDB wants an absolute path; the default flushes memtables first.
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(dir, ec).string();
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot back up to ", dir, ": ", ec.message()));
  }
  return FromRocks(checkpoint->CreateCheckpoint(absolute),
                   absl::StrCat("backing up to ", dir));
}

absl::Status Store::VerifyChecksums() const {
  // File by file rather than RocksDB's VerifyChecksum, which stops at a
  // table that a live writer compacted away since this reader opened. Such a
  // table is no longer part of the ledger; the walk of Ledger::Verify read
  // what this view holds of it. Every block is checked, as VerifyChecksum
  // does (a scan of the families instead missed two flips in 96,
  // tests/reliability/corruption_test).
  std::vector<rocksdb::LiveFileMetaData> tables;
  rep_->db->GetLiveFilesMetaData(&tables);
  for (const rocksdb::LiveFileMetaData& table : tables) {
    auto family = std::find(std::begin(kFamilyNames), std::end(kFamilyNames),
                            table.column_family_name);
    if (family == std::end(kFamilyNames)) continue;  // not the ledger's
    rocksdb::Status s = CheckTableBlocks(
        *rep_->db, rep_->handles[family - std::begin(kFamilyNames)], table);
    if (s.ok()) continue;
    const std::string path = TablePath(table);
    // A reader's table may have been compacted away by the writer since it
    // was listed: only its absence excuses the failure, not an error
    // looking for it (found by an audit).
    absl::StatusOr<bool> still_there = PathExists(path);
    if (!rep_->read_only || !still_there.ok() || *still_there) {
      return FromRocks(s, absl::StrCat("checking table checksums of ", path));
    }
  }
  return absl::OkStatus();
}

std::string WriterOf(const std::string& store) {
  const std::string lock_file =
      (std::filesystem::path(store) / "LOCK").string();
  const int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct flock asked = {};
  asked.l_type = F_WRLCK;
  asked.l_whence = SEEK_SET;
  const bool known = ::fcntl(fd, F_GETLK, &asked) == 0;
  ::close(fd);
  if (!known || asked.l_type == F_UNLCK) return "";
  // An open file description's lock has no process: restore's, which keeps
  // writers out of the store it has just put in place until it is checked.
  if (asked.l_pid == -1) return "a restore into this folder, checking its copy";
  if (asked.l_pid <= 0) return "";
  std::ifstream file(absl::StrCat("/proc/", asked.l_pid, "/cmdline"),
                     std::ios::binary);
  std::string argv((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  while (!argv.empty() && argv.back() == '\0') argv.pop_back();
  constexpr size_t kShown = 200;
  if (argv.size() > kShown) argv = absl::StrCat(argv.substr(0, kShown), "...");
  // Arguments are anyone's text: no control byte reaches the terminal.
  for (char& c : argv) {
    if (c == '\0') c = ' ';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return argv.empty() ? absl::StrCat("process ", asked.l_pid)
                      : absl::StrCat("process ", asked.l_pid, ": ", argv);
}

}  // namespace caseledger::internal
