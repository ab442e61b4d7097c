// Online backup and restore: a backup is a consistent, verified copy of one
// instant of the ledger that shares no file with it; a restored ledger
// verifies, has the backup's root and signs on; damaged backups are refused.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "tests/reliability/reliability_util.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

namespace fs = std::filesystem;
using testing::CaseEvent;
using testing::CaseEvents;
using ::testing::HasSubstr;

constexpr char kMessage[] = "From: office@visa.example\r\n\r\nSend them.\r\n";

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = Ledger::Create(Live(), "backup.example/log", Options());
    ASSERT_OK(created);
    ledger_ = *std::move(created);
  }

  LedgerOptions Options() {
    LedgerOptions options;
    options.clock = &clock_;
    return options;
  }

  std::string Live() const { return dir_.Sub("live"); }
  std::string Backup() const { return dir_.Sub("backup"); }
  std::string Restored() const { return dir_.Sub("restored"); }

  void Fill(int cases) {
    for (int c = 0; c < cases; ++c) {
      ASSERT_OK(ledger_->Append(CaseEvents(absl::StrCat("CASE-", c), 0, 4)));
    }
  }

  static merkle::Hash RootOf(const std::string& note) {
    auto c = ParseCheckpointBody(note);
    EXPECT_OK(c);
    return c.ok() ? c->root_hash : merkle::Hash{};
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  testing::TempFolder dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(BackupTest, RestoredLedgerVerifiesAndHasTheCheckpointRootOfTheBackup) {
  Fill(5);
  ASSERT_OK(ledger_->StoreMessage(kMessage));
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary backup, ledger_->Backup(Backup()));
  EXPECT_EQ(backup.origin, "backup.example/log");
  EXPECT_EQ(backup.tree_size, 20u);
  EXPECT_EQ(backup.checkpoint_size, 20u);
  ASSERT_OK_AND_ASSIGN(merkle::Hash live_root, ledger_->RootAt(20));
  EXPECT_EQ(backup.root, live_root);
  ASSERT_OK_AND_ASSIGN(std::string live_note, ledger_->CheckpointAt(20));

  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary restored,
                       Ledger::Restore(Backup(), Restored()));
  EXPECT_EQ(restored.tree_size, 20u);
  EXPECT_EQ(restored.root, live_root);

  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Restored(), Options()));
  ASSERT_OK_AND_ASSIGN(auto report, ledger->Verify());
  EXPECT_EQ(report.entries, 20u);
  ASSERT_OK_AND_ASSIGN(std::string note, ledger->LatestCheckpoint());
  EXPECT_EQ(note, live_note);  // the very same signed bytes
  EXPECT_EQ(RootOf(note), live_root);
  ASSERT_OK_AND_ASSIGN(std::string message,
                       ledger->ReadMessage(ToHex(Sha256(kMessage))));
  EXPECT_EQ(message, kMessage);
  ASSERT_OK_AND_ASSIGN(auto key, ledger->VerifierKeyText());
  ASSERT_OK_AND_ASSIGN(auto live_key, ledger_->VerifierKeyText());
  EXPECT_EQ(key, live_key);

  // The restored ledger appends and signs on, consistently with the past.
  ASSERT_OK(ledger->Append(CaseEvents("AFTER", 0, 2)));
  ASSERT_OK_AND_ASSIGN(std::string later, ledger->SignCheckpoint());
  ASSERT_OK_AND_ASSIGN(auto proof, ledger->ConsistencyProof(20, 22));
  EXPECT_OK(merkle::VerifyConsistency(20, 22, live_root, RootOf(later), proof));
}

TEST_F(BackupTest, BackupTakenWhileAppendsGoOnIsAPrefixOfTheLedger) {
  Fill(2);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      std::string c = absl::StrCat("W", t);
      for (int i = 0; !stop.load(); ++i) {
        ASSERT_OK(ledger_->Append({CaseEvent(c, i)}));
      }
    });
  }
  ledger_->AwaitSize(20, absl::InfiniteFuture());
  auto backup = ledger_->Backup(Backup());
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_OK(backup);
  EXPECT_GE(backup->tree_size, 20u);
  EXPECT_LE(backup->tree_size, ledger_->Size());
  // A signature the backup carries covers every entry it holds, those
  // appended while it was taken included.
  EXPECT_EQ(backup->checkpoint_size, backup->tree_size);
  // The backup is exactly the first tree_size entries of the live ledger.
  ASSERT_OK_AND_ASSIGN(merkle::Hash live_root,
                       ledger_->RootAt(backup->tree_size));
  EXPECT_EQ(backup->root, live_root);
  ASSERT_OK(Ledger::VerifyBackup(Backup()));
}

TEST_F(BackupTest, BackupSharesNoFileWithTheLedgerAndKeepsTheKeyPrivate) {
  Fill(3);
  ASSERT_OK(ledger_->Backup(Backup()));
  for (const auto& f : fs::recursive_directory_iterator(Backup())) {
    if (f.is_regular_file()) {
      EXPECT_EQ(f.hard_link_count(), 1u) << f.path();
    }
  }
  struct stat st;
  ASSERT_EQ(stat((Backup() + "/signing-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(Backup() + ".partial"));
}

TEST_F(BackupTest, TheServersAccessLogTravelsWithTheBackup) {
  Fill(1);
  const std::string log = "{\"rpc\": \"ReadCase\"}\n";
  std::ofstream(Live() + "/access-log.jsonl") << log;
  ASSERT_OK(ledger_->Backup(Backup()));
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
  for (const std::string& dir : {Backup(), Restored()}) {
    std::ifstream in(dir + "/access-log.jsonl");
    std::stringstream copy;
    copy << in.rdbuf();
    EXPECT_EQ(copy.str(), log) << dir;
  }
}

TEST_F(BackupTest, EmptyLedgerBacksUpAndRestores) {
  ASSERT_OK_AND_ASSIGN(auto backup, ledger_->Backup(Backup()));
  EXPECT_EQ(backup.tree_size, 0u);
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Restored(), Options()));
  ASSERT_OK(ledger->Append(CaseEvents("A", 0, 1)));
}

TEST_F(BackupTest, BackupRefusesAnExistingFolder) {
  fs::create_directories(Backup());
  auto backup = ledger_->Backup(Backup());
  EXPECT_EQ(backup.status().code(), absl::StatusCode::kAlreadyExists)
      << backup.status();
}

// A bind mount of the ledger folder shows it under another name: a backup
// through it went into the ledger, key and all (found by an outside
// reading). Needs the right to mount (root, outside most containers).
TEST_F(BackupTest, ABindMountOfTheLedgerIsInsideIt) {
  const std::string view = dir_.Sub("view");
  fs::create_directory(view);
  if (::mount(Live().c_str(), view.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    GTEST_SKIP() << "cannot bind-mount here: " << std::strerror(errno);
  }
  absl::Cleanup unmount = [&] { ::umount2(view.c_str(), MNT_DETACH); };
  const absl::Status inside =
      ledger_->Backup(absl::StrCat(view, "/nightly")).status();
  EXPECT_EQ(inside.code(), absl::StatusCode::kInvalidArgument) << inside;
  EXPECT_THAT(std::string(inside.message()),
              ::testing::HasSubstr("is inside the ledger folder"));
  EXPECT_FALSE(fs::exists(absl::StrCat(Live(), "/nightly.partial")));
  EXPECT_FALSE(fs::exists(absl::StrCat(Live(), "/nightly")));
}

TEST_F(BackupTest, BackupNeedsTheWriter) {
  Fill(1);
  ledger_.reset();
  LedgerOptions options = Options();
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto reader, Ledger::Open(Live(), options));
  auto backup = reader->Backup(Backup());
  EXPECT_EQ(backup.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(Backup()));
}

// A copy cut short by a full disk (here `ulimit -f`) was reported as
// "Input/output error", sending an operator after a failing device (found
// by an audit). The OS's reason is given, and nothing is left.
TEST_F(BackupTest, ARestoreThatRunsOutOfRoomSaysSo) {
  Fill(20);
  ASSERT_OK(ledger_->Backup(Backup()));
  absl::Status restored;
  {
    testing::FileSizeLimit limit(16 << 10);
    restored = Ledger::Restore(Backup(), Restored()).status();
  }
  EXPECT_FALSE(restored.ok());
  EXPECT_THAT(std::string(restored.message()), HasSubstr("File too large"));
  EXPECT_THAT(std::string(restored.message()),
              Not(HasSubstr("Input/output error")));
  EXPECT_FALSE(fs::exists(Restored()));
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
}

TEST_F(BackupTest, RestoreRefusesToOverwriteALedger) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  auto restored = Ledger::Restore(Backup(), Live());
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(restored.status().message()),
              HasSubstr("already holds a ledger"));
}

// Restored from a backup made read-only (chmod -R a-w), a ledger kept the
// modes and could not be appended to by its owner unless root: RocksDB
// opens its LOCK for writing (found by a review running as nobody). Each
// copied file is writable by its owner.
TEST_F(BackupTest, AReadOnlyBackupRestoresAWritableLedger) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  for (const auto& f : fs::recursive_directory_iterator(Backup())) {
    fs::permissions(f.path(),
                    fs::perms::owner_write | fs::perms::group_write |
                        fs::perms::others_write,
                    fs::perm_options::remove);
  }
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
  int files = 0;
  for (const auto& f : fs::directory_iterator(Restored() + "/store")) {
    ++files;
    EXPECT_NE(f.status().permissions() & fs::perms::owner_write,
              fs::perms::none)
        << f.path();
  }
  EXPECT_GT(files, 3);
}

TEST_F(BackupTest, RestoreIntoAnEmptyFolderWorks) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  fs::create_directories(Restored());
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
}

// A link to an empty folder (a disk mounted elsewhere, say) is filled
// through the link, which stays a link.
TEST_F(BackupTest, RestoreThroughALinkToAnEmptyFolderWorks) {
  Fill(1);
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary backup, ledger_->Backup(Backup()));
  fs::create_directories(dir_.Sub("disk"));
  fs::create_directory_symlink(dir_.Sub("disk"), Restored());
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary restored,
                       Ledger::Restore(Backup(), Restored()));
  EXPECT_EQ(restored.root, backup.root);
  EXPECT_TRUE(fs::is_symlink(Restored()));
  EXPECT_TRUE(fs::is_directory(dir_.Sub("disk/store")));
}

// What a restore into an existing folder leaves when it stops before its
// store is renamed into place: part of the store, the key, an access log.
void LeaveAnUnfinishedRestoreIn(const std::string& dir) {
  fs::create_directories(dir + "/store.partial");
  std::ofstream(dir + "/store.partial/000007.sst") << "half a table";
  std::ofstream(dir + "/signing-key.pem") << "half a key";
  std::ofstream(dir + "/access-log.jsonl") << "{\"rpc\": \"Rea";
}

TEST_F(BackupTest, ARestoreThatStoppedPartWayIntoAFolderIsReplaced) {
  Fill(2);
  ASSERT_OK_AND_ASSIGN(auto backup, ledger_->Backup(Backup()));
  LeaveAnUnfinishedRestoreIn(Restored());
  ASSERT_OK_AND_ASSIGN(auto restored, Ledger::Restore(Backup(), Restored()));
  EXPECT_EQ(restored.tree_size, backup.tree_size);
  EXPECT_EQ(testing::FileContents(Restored() + "/signing-key.pem"),
            testing::FileContents(Backup() + "/signing-key.pem"));
  // The backup has no access log: none of the unfinished one is kept.
  EXPECT_FALSE(fs::exists(Restored() + "/access-log.jsonl"));
  EXPECT_FALSE(fs::exists(Restored() + "/store.partial"));
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Restored(), Options()));
  ASSERT_OK(ledger->Verify());
}

TEST_F(BackupTest, ARestoreRunningIntoAFolderKeepsASecondOneOut) {
  // What the first restore has copied so far looks like an unfinished one:
  // the second must not take it for that and remove it.
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  LeaveAnUnfinishedRestoreIn(Restored());
  const int first = ::open(Restored().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(first, 0);
  ASSERT_EQ(::flock(first, LOCK_EX | LOCK_NB), 0);
  auto second = Ledger::Restore(Backup(), Restored());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("another init or restore into"));
  EXPECT_EQ(testing::FileContents(Restored() + "/store.partial/000007.sst"),
            "half a table");
  ::close(first);
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
}

// What a backup or restore into a new folder leaves when it is killed part
// way: `folder`.partial with the mark it writes first and part of a copy (a
// real backup, one table cut in half, and RocksDB's staging folder for a
// checkpoint).
void LeaveAPartialCopy(const std::string& backup, const std::string& folder) {
  const std::string partial = folder + ".partial";
  fs::copy(backup, partial, fs::copy_options::recursive);
  std::ofstream(partial + "/unfinished-copy") << "";
  for (const auto& f : fs::directory_iterator(partial + "/store")) {
    if (f.path().extension() != ".sst") continue;
    fs::resize_file(f.path(), f.file_size() / 2);
    break;
  }
  fs::create_directories(partial + "/store.tmp");
}

// Before, a killed backup's B.partial refused every later backup to B until
// someone removed it by hand (found by a crash audit). Its run's lock died
// with it, so the next run starts the copy over.
TEST_F(BackupTest, ACopyLeftByABackupThatDiedIsStartedOver) {
  Fill(2);
  ASSERT_OK(ledger_->Backup(dir_.Sub("earlier")));
  LeaveAPartialCopy(dir_.Sub("earlier"), Backup());
  ASSERT_OK(ledger_->Append(CaseEvents("LATER", 0, 4)));
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary backup, ledger_->Backup(Backup()));
  EXPECT_EQ(backup.tree_size, 12u);
  EXPECT_FALSE(fs::exists(Backup() + ".partial"));
  EXPECT_FALSE(fs::exists(Backup() + "/store.tmp"));
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary verified,
                       Ledger::VerifyBackup(Backup()));
  EXPECT_EQ(verified.root, backup.root);
}

// A restore fills its folder in place, as init does: one killed part way
// leaves part of the store in store.partial and the key beside it.
TEST_F(BackupTest, ACopyLeftByARestoreThatDiedIsStartedOver) {
  Fill(2);
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary backup, ledger_->Backup(Backup()));
  LeaveAPartialCopy(Backup(), Restored());
  fs::create_directories(Restored());
  fs::rename(Restored() + ".partial/store", Restored() + "/store.partial");
  fs::rename(Restored() + ".partial/signing-key.pem",
             Restored() + "/signing-key.pem");
  fs::remove_all(Restored() + ".partial");
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary restored,
                       Ledger::Restore(Backup(), Restored()));
  EXPECT_EQ(restored.tree_size, backup.tree_size);
  EXPECT_EQ(restored.root, backup.root);
  EXPECT_FALSE(fs::exists(Restored() + "/store.partial"));
}

// A ledger some process has open for writing changes as it is copied: it
// is not a backup, and restore refuses it, naming the process. Before, a
// restore from a served ledger failed its last check ("the restored ledger
// has N entries ... but the backup has M") and left the copy in place as a
// second ledger with the same key (found by an audit).
TEST_F(BackupTest, RestoreRefusesALedgerOpenForWriting) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  // Another process locks the store as RocksDB's writer does (fcntl locks
  // are per process, so this one's own would not count).
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const std::string lock_file = Backup() + "/store/LOCK";
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char locked = fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0 ? 'y' : 'n';
    if (::write(ready[1], &locked, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  char locked = 0;
  ASSERT_EQ(::read(ready[0], &locked, 1), 1);
  auto restored = Ledger::Restore(Backup(), Restored());
  ::kill(writer, SIGKILL);
  ::waitpid(writer, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_EQ(locked, 'y');
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kFailedPrecondition)
      << restored.status();
  EXPECT_THAT(std::string(restored.status().message()),
              HasSubstr(absl::StrCat(
                  "is a ledger in use, not a backup (process ", writer)));
  EXPECT_FALSE(fs::exists(Restored()));
  ASSERT_OK(Ledger::Restore(Backup(), Restored()));
}

// An init and a restore into one new folder at once: one makes the ledger,
// the other is refused, and the ledger holds the key of the run that made
// it. Before, a restore that found no folder, then verified its backup,
// filled the folder an init had finished meanwhile and copied the backup's
// key over the init's (found by an audit, the two started 0.02-0.05 s
// apart): a ledger whose checkpoints no longer verified with its key.
TEST_F(BackupTest, AnInitBesideARestoreLeavesOneLedgerWithItsOwnKey) {
  Fill(300);  // a backup that takes longer to verify than an init to run
  ASSERT_OK(ledger_->Backup(Backup()));
  const std::string backup_key =
      testing::FileContents(Backup() + "/signing-key.pem");
  // Even rounds start the restore first, odd rounds the init, the other
  // following after a delay that grows with the round.
  for (int round = 0; round < 12; ++round) {
    const std::string target = dir_.Sub(absl::StrCat("race-", round));
    absl::StatusOr<Ledger::BackupSummary> restored =
        absl::UnknownError("not run");
    absl::StatusOr<std::unique_ptr<Ledger>> made =
        absl::UnknownError("not run");
    auto restore = [&] { restored = Ledger::Restore(Backup(), target); };
    auto init = [&] {
      made = Ledger::Create(target, "race.example/log", Options());
    };
    std::thread first(round % 2 == 0 ? std::function<void()>(restore)
                                     : std::function<void()>(init));
    std::this_thread::sleep_for(std::chrono::milliseconds(4 * (round / 2)));
    (round % 2 == 0 ? std::function<void()>(init)
                    : std::function<void()>(restore))();
    first.join();
    ASSERT_NE(restored.ok(), made.ok())
        << "round " << round << ": restore " << restored.status() << "; init "
        << made.status();
    std::string made_key;
    if (made.ok()) {
      ASSERT_OK_AND_ASSIGN(made_key, (*made)->VerifierKeyText());
      made->reset();
    }
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(target, Options()));
    const absl::Status verified = ledger->Verify().status();
    ASSERT_TRUE(verified.ok()) << "round " << round << ": " << verified;
    if (restored.ok()) {
      EXPECT_EQ(testing::FileContents(target + "/signing-key.pem"), backup_key)
          << "round " << round;
    } else {
      EXPECT_THAT(std::string(restored.status().message()),
                  ::testing::AnyOf(HasSubstr("another init or restore into"),
                                   HasSubstr("already holds a ledger")))
          << "round " << round;
      ASSERT_OK_AND_ASSIGN(std::string key, ledger->VerifierKeyText());
      EXPECT_EQ(key, made_key) << "round " << round;
      EXPECT_EQ(ledger->Size(), 0u) << "round " << round;
    }
    EXPECT_FALSE(fs::exists(target + "/store.partial")) << "round " << round;
  }
}

// A copy still being written holds its lock: a second run into the same name
// is refused and leaves it alone.
TEST_F(BackupTest, ACopyBeingWrittenKeepsASecondRunOut) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(dir_.Sub("source")));
  const std::string partial = Backup() + ".partial";
  fs::create_directories(partial + "/store");
  std::ofstream(partial + "/unfinished-copy") << "";
  std::ofstream(partial + "/store/000009.sst") << "being written";
  const int first = ::open(partial.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(first, 0);
  ASSERT_EQ(::flock(first, LOCK_EX | LOCK_NB), 0);
  auto backup = ledger_->Backup(Backup());
  EXPECT_EQ(backup.status().code(), absl::StatusCode::kFailedPrecondition)
      << backup.status();
  EXPECT_THAT(
      std::string(backup.status().message()),
      HasSubstr(absl::StrCat("another backup or restore is writing ",
                             fs::path(partial).lexically_normal().string(),
                             "; wait for it to finish")));
  EXPECT_EQ(testing::FileContents(partial + "/store/000009.sst"),
            "being written");
  EXPECT_FALSE(fs::exists(Backup()));
  ::close(first);
  ASSERT_OK(ledger_->Backup(Backup()));
}

// A B.partial that is not what a backup writes may be someone's: it is
// never removed. A restore fills its folder in place and leaves a
// R.partial beside it alone.
TEST_F(BackupTest, APartialNameHoldingSomethingElseIsLeftAlone) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(dir_.Sub("source")));
  fs::create_directories(Backup() + ".partial/store");
  std::ofstream(Backup() + ".partial/notes.txt") << "mine";
  fs::create_directories(dir_.Sub("elsewhere/store"));
  fs::create_directory_symlink(dir_.Sub("elsewhere"), Restored() + ".partial");
  const absl::Status refused = ledger_->Backup(Backup()).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr(".partial exists and is not a copy a backup or "
                        "restore left"));
  EXPECT_EQ(testing::FileContents(Backup() + ".partial/notes.txt"), "mine");
  EXPECT_TRUE(fs::is_directory(Backup() + ".partial/store"));
  EXPECT_FALSE(fs::exists(Backup()));
  ASSERT_OK(Ledger::Restore(dir_.Sub("source"), Restored()));
  EXPECT_TRUE(fs::is_symlink(Restored() + ".partial"));
  EXPECT_TRUE(fs::is_directory(dir_.Sub("elsewhere/store")));
}

// A ledger folder named B.partial holds nothing a copy does not: a backup
// to B emptied it, key included, though a process was writing it. Only a
// folder with the mark a copy writes first, or an empty one, is started
// over; backing a ledger up under its own partial name is refused.
TEST_F(BackupTest, ALedgerNamedLikeAPartialCopyIsNeverEmptied) {
  Fill(1);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Ledger> other,
      Ledger::Create(Backup() + ".partial", "other.example/log", Options()));
  ASSERT_OK(other->Append(CaseEvents("OTHER", 0, 3)));
  const absl::Status refused = ledger_->Backup(Backup()).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("without the 'unfinished-copy' file those write "
                        "first"));
  EXPECT_EQ(other->Size(), 3u);
  EXPECT_TRUE(fs::exists(Backup() + ".partial/signing-key.pem"));

  const absl::Status beside = other->Backup(Backup()).status();
  EXPECT_EQ(beside.code(), absl::StatusCode::kInvalidArgument) << beside;
  EXPECT_THAT(std::string(beside.message()),
              HasSubstr("back up to another name"));
  other.reset();
  ASSERT_OK_AND_ASSIGN(other, Ledger::Open(Backup() + ".partial", Options()));
  EXPECT_EQ(other->Size(), 3u);
  EXPECT_FALSE(fs::exists(Backup()));

  // Made, but killed before its mark was written: empty, and taken.
  fs::create_directory(Live() + "-copy.partial");
  ASSERT_OK(ledger_->Backup(Live() + "-copy"));
  EXPECT_FALSE(fs::exists(Live() + "-copy/unfinished-copy"));
  EXPECT_FALSE(fs::exists(Live() + "-copy.partial"));
}

// A ledger folder removed under its writer (rm -rf) took every synced
// write with it, yet the writer acknowledged appends; at its close RocksDB
// flushed and purged by path into the ledger restored there meanwhile,
// which then no longer opened (found by an outside reading). The first
// synced write after is refused, and the folder now at that name is left
// alone.
TEST_F(BackupTest, AFolderRemovedUnderItsWriterTakesNoAppendAndIsNotTouched) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  fs::remove_all(Live());
  const absl::Status lost = ledger_->Append(CaseEvents("AFTER", 0, 3)).status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kDataLoss) << lost;
  EXPECT_THAT(std::string(lost.message()),
              HasSubstr("was removed or replaced while this process had it "
                        "open for writing"));
  ASSERT_OK(Ledger::Restore(Backup(), Live()));
  ledger_.reset();
  // Read-only: the lost writer's lock on that path stays with this process
  // until it ends (another process may open it for writing).
  LedgerOptions reading = Options();
  reading.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ledger> restored,
                       Ledger::Open(Live(), reading));
  EXPECT_EQ(restored->Size(), 4u);
  EXPECT_OK(restored->Verify().status());
  EXPECT_OK(restored->VerifyFiles());
}

TEST_F(BackupTest, RestoreLeavesAnUnfinishedStoreAloneBesideOtherFiles) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  LeaveAnUnfinishedRestoreIn(Restored());
  std::ofstream(Restored() + "/notes.txt") << "someone's";
  auto restored = Ledger::Restore(Backup(), Restored());
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("not empty"));
  EXPECT_EQ(testing::FileContents(Restored() + "/store.partial/000007.sst"),
            "half a table");
  EXPECT_EQ(testing::FileContents(Restored() + "/signing-key.pem"),
            "half a key");
}

TEST_F(BackupTest, DamagedBackupFailsVerificationAndIsNotRestored) {
  Fill(4);
  ASSERT_OK(ledger_->Backup(Backup()));
  // Flip a byte in the middle of every table file of the backup.
  for (const auto& f : fs::directory_iterator(Backup() + "/store")) {
    if (f.path().extension() != ".sst") continue;
    ASSERT_NO_FATAL_FAILURE(
        testing::FlipBit(f.path().string(),
                         static_cast<std::streamoff>(f.file_size() / 2), 0x10));
  }
  auto verified = Ledger::VerifyBackup(Backup());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss)
      << verified.status();
  auto restored = Ledger::Restore(Backup(), Restored());
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss)
      << restored.status();
  EXPECT_FALSE(fs::exists(Restored()));
  EXPECT_FALSE(fs::exists(Restored() + ".partial"));
}

// Damage anywhere in a table, but in the padding of its footer, fails the
// check, whichever block it falls in: the test above damages the middle of
// every table, which the entries' own check reads, and passed with the
// checksum walk of every block taken out; so did damage to a table's
// filter block (found by a mutation).
TEST_F(BackupTest, DamageAnywhereInATableFailsVerification) {
  constexpr size_t kFooterBytes = 53;  // RocksDB's block-based table footer
  Fill(4);
  ASSERT_OK(ledger_->StoreMessage(kMessage));
  ASSERT_OK(ledger_->Backup(Backup()));
  std::vector<fs::path> tables;
  for (const auto& f : fs::directory_iterator(Backup() + "/store")) {
    if (f.path().extension() == ".sst") tables.push_back(f.path());
  }
  ASSERT_FALSE(tables.empty());
  for (const fs::path& table : tables) {
    const std::string intact = testing::FileContents(table.string());
    ASSERT_GT(intact.size(), kFooterBytes) << table;
    for (size_t at = 0; at < intact.size() - kFooterBytes; at += 17) {
      ASSERT_NO_FATAL_FAILURE(testing::FlipBit(
          table.string(), static_cast<std::streamoff>(at), 0x10));
      auto verified = Ledger::VerifyBackup(Backup());
      EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss)
          << table << ", byte " << at << ": " << verified.status();
      std::ofstream(table, std::ios::binary | std::ios::trunc) << intact;
    }
  }
  ASSERT_OK(Ledger::VerifyBackup(Backup()));
}

// A store folder that lost its CURRENT file is a damaged ledger, not a
// missing one: the check fails (exit 1) rather than calling it bad usage.
TEST_F(BackupTest, BackupWithoutItsCurrentFileFailsVerification) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  fs::remove(Backup() + "/store/CURRENT");
  auto verified = Ledger::VerifyBackup(Backup());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss)
      << verified.status();
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr("CURRENT"));
}

// Likewise a MANIFEST gone, or a CURRENT naming one that is not there, which
// RocksDB reports as an I/O error (exit 4); found by an audit.
TEST_F(BackupTest, BackupWithoutItsManifestFailsVerification) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  const std::string store = Backup() + "/store/";
  std::string named;
  std::getline(std::ifstream(store + "CURRENT") >> std::ws, named);
  ASSERT_TRUE(named.starts_with("MANIFEST-")) << named;
  std::ofstream(store + "CURRENT", std::ios::trunc) << "MANIFEST-000099\n";
  auto verified = Ledger::VerifyBackup(Backup());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss)
      << verified.status();
  EXPECT_THAT(std::string(verified.status().message()),
              HasSubstr("its CURRENT names MANIFEST-000099, which is missing"));
  std::ofstream(store + "CURRENT", std::ios::trunc) << named << "\n";
  ASSERT_OK(Ledger::VerifyBackup(Backup()));
  fs::remove(store + named);
  verified = Ledger::VerifyBackup(Backup());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss)
      << verified.status();
  EXPECT_THAT(std::string(verified.status().message()),
              HasSubstr(absl::StrCat(named, ", which is missing")));
}

// A backup that fails part way (here: its key cannot be copied) leaves no
// B.partial to refuse the next backup to B (found by an audit on a full
// disk, where a remote admin could not remove it).
TEST_F(BackupTest, AFailedBackupLeavesNothingBehind) {
  Fill(1);
  const std::string key = Live() + "/signing-key.pem";
  fs::rename(key, key + ".away");
  absl::Status failed = ledger_->Backup(Backup()).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kFailedPrecondition) << failed;
  EXPECT_FALSE(fs::exists(Backup()));
  EXPECT_FALSE(fs::exists(Backup() + ".partial"));
  fs::rename(key + ".away", key);
  ASSERT_OK(ledger_->Backup(Backup()));
}

// A link to nowhere was taken for a free name, and the rename onto it failed
// only after the whole copy, leaving B.partial (found by an audit).
TEST_F(BackupTest, ALinkToNowhereIsRefusedBeforeAnythingIsCopied) {
  Fill(1);
  fs::create_symlink(dir_.Sub("nowhere"), Backup());
  absl::Status refused = ledger_->Backup(Backup()).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kAlreadyExists) << refused;
  EXPECT_FALSE(fs::exists(Backup() + ".partial"));
  absl::Status restored = Ledger::Restore(Backup(), Backup()).status();
  EXPECT_EQ(restored.code(), absl::StatusCode::kAlreadyExists) << restored;
  EXPECT_THAT(std::string(restored.message()), HasSubstr("a link to nowhere"));
  EXPECT_FALSE(fs::exists(dir_.Sub("nowhere")));
}

TEST_F(BackupTest, BackupWithoutItsKeyIsRefused) {
  Fill(1);
  ASSERT_OK(ledger_->Backup(Backup()));
  fs::remove(Backup() + "/signing-key.pem");
  auto verified = Ledger::VerifyBackup(Backup());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(verified.status().message()),
              HasSubstr("signing key"));
}

// Every file under `dir` (its path below `dir`) and its bytes.
std::map<std::string, std::string> FilesUnder(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    files[fs::relative(e.path(), dir).string()] =
        testing::FileContents(e.path().string());
  }
  return files;
}

TEST_F(BackupTest, VerifyingABackupLeavesItsDataUnchanged) {
  Fill(2);
  ASSERT_OK_AND_ASSIGN(auto first, ledger_->Backup(Backup()));
  const std::map<std::string, std::string> files = FilesUnder(Backup());
  ASSERT_OK_AND_ASSIGN(auto again, Ledger::VerifyBackup(Backup()));
  ASSERT_OK_AND_ASSIGN(auto third, Ledger::VerifyBackup(Backup()));
  EXPECT_EQ(first.root, again.root);
  EXPECT_EQ(again.root, third.root);
  EXPECT_EQ(third.tree_size, 8u);
  // Not a byte of any file: the roots alone came out the same from a
  // backup its verification had opened for writing and compacted anew
  // (found by a mutation).
  const std::map<std::string, std::string> after = FilesUnder(Backup());
  EXPECT_EQ(files.size(), after.size());
  for (const auto& [name, bytes] : files) {
    auto it = after.find(name);
    EXPECT_TRUE(it != after.end() && it->second == bytes)
        << name << (it == after.end() ? " is gone" : " changed");
  }
}

}  // namespace
}  // namespace caseledger
