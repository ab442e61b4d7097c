// Backup over the network: an admin has the server write a verified backup
// of the ledger it holds into its --backup-dir, the one way to back up a
// ledger while `caseledger serve` has it open.
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/internal/fault_injection.h"
#include "ledger/sha256.h"
#include "tests/server/server_fixture.h"

namespace caseledger {
namespace {

namespace fs = std::filesystem;
using testing::CaseOpened;
using ::testing::HasSubstr;
using testing::Note;

class BackupRpcTest : public testing::ServerFixture {
 protected:
  BackupRpcTest() {
    start_server_ = false;
    faults_ = std::make_shared<internal::FaultInjection>();
  }
  void SetUp() override {
    ServerFixture::SetUp();
    StartServerWithBackupDir(Backups());
  }
  std::string Backups() const { return dir_.Sub("backups"); }
  std::vector<std::string> Listed(const std::string& dir) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(BackupRpcTest, WritesAVerifiedCopyWhileTheServerHoldsTheLedger) {
  auto admin = Client(tokens_.admin);
  ASSERT_OK(admin->Append({CaseOpened("BK"), Note("BK", "one")}).status());
  ASSERT_OK_AND_ASSIGN(v1::BackupResponse backup, admin->Backup("nightly-1"));
  const std::string path = Backups() + "/nightly-1";
  EXPECT_EQ(backup.path(), path);
  EXPECT_EQ(backup.origin(), "server.test/log");
  EXPECT_EQ(backup.tree_size(), 2u);
  EXPECT_EQ(backup.checkpoint_size(), 2u);
  ASSERT_OK_AND_ASSIGN(merkle::Hash root, ledger_->RootAt(2));
  EXPECT_EQ(backup.root(), DigestBytes(root));
  ASSERT_OK_AND_ASSIGN(Ledger::BackupSummary verified,
                       Ledger::VerifyBackup(path));
  EXPECT_EQ(verified.tree_size, 2u);
  EXPECT_EQ(verified.root, root);
  // The server goes on: appends land in the ledger, not in the backup.
  ASSERT_OK(admin->Append({Note("BK", "two")}).status());
  EXPECT_EQ(ledger_->Size(), 3u);
  EXPECT_EQ(Ledger::VerifyBackup(path)->tree_size, 2u);

  absl::Status again = admin->Backup("nightly-1").status();
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(Listed(Backups()), std::vector<std::string>{"nightly-1"});
}

// A request names a folder, never a path: nothing is written outside
// --backup-dir, nor anything at all for a refused name.
TEST_F(BackupRpcTest, ANameThatIsNotOneFolderIsRefusedAndWritesNothing) {
  auto admin = Client(tokens_.admin);
  ASSERT_OK(admin->Append({CaseOpened("BK")}).status());
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"", "give the new backup folder's name"},
      {"../escape", "starts with '.'"},
      {".hidden", "starts with '.'"},
      {"a/b", "'a/b' has '/' at byte 2"},
      {"/tmp/x", "has '/' at byte 1"},
      {"tab\there", "has '\\t' at byte 4"},
      // Quoted, a space shows (found by an audit: "'a b' has   at byte 2").
      {"a b", "'a b' has ' ' at byte 2"},
      {std::string(129, 'n'), "129 bytes; at most 128"},
      {"b5.partial", "ends in '.partial', the mark of a copy in progress"},
  };
  for (const auto& [name, why] : refused) {
    absl::Status s = admin->Backup(name).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(s.message()), HasSubstr(why)) << name;
  }
  EXPECT_TRUE(Listed(Backups()).empty());
  EXPECT_FALSE(fs::exists(dir_.Sub("escape")));
  EXPECT_FALSE(fs::exists(dir_.Sub("escape.partial")));
  ASSERT_OK(admin->Backup(std::string(128, 'n')).status());
  ASSERT_OK(admin->Backup("2026-12-02_a.b").status());
}

TEST_F(BackupRpcTest, OnlyAnAdminMayAskAndEveryRequestIsInTheAccessLog) {
  for (const std::string* token :
       {&tokens_.appender, &tokens_.reader, &tokens_.exporter}) {
    absl::Status s = Client(*token)->Backup("denied").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("may not call Backup"));
  }
  EXPECT_FALSE(fs::exists(Backups() + "/denied"));
  ASSERT_OK(Client(tokens_.admin)->Backup("allowed").status());

  std::ifstream in(AccessLogPath());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(lines[i],
                HasSubstr(R"("rpc": "Backup", "what": "name=denied")"));
    EXPECT_THAT(lines[i], HasSubstr(R"("outcome": "PERMISSION_DENIED")"));
  }
  EXPECT_THAT(lines[3], HasSubstr(R"("who": "admin", "role": "admin")"));
  EXPECT_THAT(lines[3],
              HasSubstr(R"("what": "name=allowed", "outcome": "granted")"));
  EXPECT_THAT(lines[4],
              HasSubstr(R"("what": "name=allowed", "outcome": "OK")"));
}

// A caller whose token is unknown is recorded as nobody: "-" for its name
// and for its role, not the name or role of any token.
TEST_F(BackupRpcTest, AnUnknownTokensRequestIsRecordedAsNobodys) {
  absl::Status s = Client("clt_not-a-real-token")->Backup("unknown").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_EQ(s.message(), "unknown token");
  EXPECT_FALSE(fs::exists(Backups() + "/unknown"));
  std::ifstream in(AccessLogPath());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0],
              HasSubstr(R"(", "who": "-", "role": "-", "peer": "ipv4:)"));
  EXPECT_THAT(lines[0],
              HasSubstr(absl::StrCat(
                  R"(", "rpc": "Backup", "what": "name=unknown", )",
                  R"("outcome": "UNAUTHENTICATED", "events": 0, "prev": ")",
                  std::string(64, '0'), "\"}")));
}

TEST_F(BackupRpcTest, AServerWithoutABackupDirTakesNoBackups) {
  server_.reset();
  StartServer();
  absl::Status s = Client(tokens_.admin)->Backup("nightly").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("--backup-dir"));
  EXPECT_TRUE(Listed(Backups()).empty());
}

// A --backup-dir removed while the server runs (its disk came unmounted)
// was made again on the disk below, and the backup reported made there
// (found by an outside reading).
TEST_F(BackupRpcTest, ABackupDirGoneWhileServingIsNotMadeAgain) {
  auto admin = Client(tokens_.admin);
  ASSERT_OK(admin->Append({CaseOpened("BK")}).status());
  fs::remove_all(Backups());
  absl::Status s = admin->Backup("nightly").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("/backups that would hold the backup does not exist: "
                        "create it (or mount the disk it is on)"));
  EXPECT_FALSE(fs::exists(Backups()));
}

// A disk mounted at --backup-dir that comes unmounted leaves an empty
// folder of the disk below, where backups went unnoticed (found by a
// review). A tmpfs plays the disk. A disk mounted again, on whatever device,
// is taken. Needs the right to mount.
TEST_F(BackupRpcTest, ABackupDirNoLongerAMountPointIsRefused) {
  server_.reset();
  if (::mount("tmpfs", Backups().c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount here: " << std::strerror(errno);
  }
  absl::Cleanup unmount = [&] { ::umount2(Backups().c_str(), MNT_DETACH); };
  StartServerWithBackupDir(Backups());
  auto admin = Client(tokens_.admin);
  ASSERT_OK(admin->Append({CaseOpened("BK")}).status());
  ASSERT_EQ(::umount2(Backups().c_str(), MNT_DETACH), 0);
  absl::Status s = admin->Backup("nightly").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("/backups was a mount point when the server started "
                        "and is not one now (its disk unmounted?): the backup "
                        "is not made"));
  EXPECT_TRUE(Listed(Backups()).empty());
  ASSERT_EQ(::mount("tmpfs", Backups().c_str(), "tmpfs", 0, "size=4m"), 0);
  EXPECT_OK(admin->Backup("nightly").status());
}

// A second request while a backup runs is refused at once, rather than
// left waiting for the first one's copy and verify. The first is held in
// its flush (the copy flushes the memtable first, and RocksDB opens the new
// table to check it).
TEST_F(BackupRpcTest, ASecondBackupWhileOneRunsIsRefused) {
  auto admin = Client(tokens_.admin);
  ASSERT_OK(admin->Append({CaseOpened("BK"), Note("BK", "one")}).status());
  absl::Notification flushing, release;
  faults_->BeforeNextRead(internal::FaultInjection::Files::kTable, [&] {
    flushing.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(60));
  });
  absl::Status first;
  std::thread running([&] { first = admin->Backup("first").status(); });
  ASSERT_TRUE(flushing.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::Status second = Client(tokens_.admin)->Backup("second").status();
  release.Notify();
  running.join();
  EXPECT_EQ(second.code(), absl::StatusCode::kAborted) << second;
  EXPECT_EQ(second.message(),
            "another backup is running; ask again once it has finished");
  ASSERT_OK(first);
  EXPECT_EQ(Listed(Backups()), std::vector<std::string>{"first"});
  // Once it has finished, the next one runs.
  ASSERT_OK(admin->Backup("second").status());
}

}  // namespace
}  // namespace caseledger
