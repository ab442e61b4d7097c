// SyncPath is how init, backup and restore make a new file or a rename
// durable; a path it cannot sync must be an error naming the path, never a
// silent success.
#include "ledger/file_sync.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

// This binary's own fsync stands before the C library's for the code linked
// into it: it notes each path synced, and fails while `fail_syncs` is set.
// Tests that only saw SyncPath return OK passed with its fsync taken out
// (found by a mutation).
namespace {
std::mutex synced_mu;
std::vector<std::string> synced;  // guarded by synced_mu
bool fail_syncs = false;          // guarded by synced_mu
}  // namespace

extern "C" int fsync(int fd) {
  {
    std::lock_guard<std::mutex> lock(synced_mu);
    char target[4096];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0) synced.emplace_back(target, static_cast<size_t>(n));
    if (fail_syncs) {
      errno = EIO;
      return -1;
    }
  }
  using Sync = int (*)(int);
  static const Sync real = reinterpret_cast<Sync>(::dlsym(RTLD_NEXT, "fsync"));
  return real(fd);
}

namespace caseledger {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;

// The paths synced since the last call (canonical: the temporary folder
// may stand behind a link).
std::vector<std::string> TakeSynced() {
  std::lock_guard<std::mutex> lock(synced_mu);
  return std::exchange(synced, {});
}
std::string Canonical(const fs::path& p) { return fs::canonical(p).string(); }

TEST(FileSyncTest, SyncsAFileAndAFolder) {
  caseledger::testing::TempFolder dir;
  const fs::path file = fs::path(dir.path()) / "note";
  std::ofstream(file) << "kept";
  TakeSynced();
  EXPECT_TRUE(SyncPath(file).ok());
  EXPECT_TRUE(SyncPath(dir.path()).ok());
  EXPECT_EQ(TakeSynced(),
            (std::vector<std::string>{Canonical(file), Canonical(dir.path())}));
}

// The folder holding a file, or the working folder for a bare name (the
// bundle's --out, the access log's --access-log, as given).
TEST(FileSyncTest, SyncsTheFolderHoldingAPath) {
  caseledger::testing::TempFolder dir;
  const fs::path file = fs::path(dir.path()) / "note";
  std::ofstream(file) << "kept";
  TakeSynced();
  EXPECT_TRUE(SyncFolderOf(file).ok());
  EXPECT_TRUE(SyncFolderOf("note").ok());
  EXPECT_EQ(TakeSynced(),
            (std::vector<std::string>{Canonical(dir.path()), Canonical(".")}));
}

TEST(FileSyncTest, AFailedSyncIsAnErrorNamingThePath) {
  caseledger::testing::TempFolder dir;
  const fs::path file = fs::path(dir.path()) / "note";
  std::ofstream(file) << "kept";
  {
    std::lock_guard<std::mutex> lock(synced_mu);
    fail_syncs = true;
  }
  absl::Status s = SyncPath(file);
  {
    std::lock_guard<std::mutex> lock(synced_mu);
    fail_syncs = false;
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), absl::StrCat("cannot sync ", file.string(),
                                      ": Input/output error"));
}

TEST(FileSyncTest, AMissingPathIsAnErrorNamingIt) {
  caseledger::testing::TempFolder dir;
  const fs::path missing = fs::path(dir.path()) / "never-written";
  absl::Status s = SyncPath(missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(missing.string()), std::string::npos)
      << s.message();
}

// The folders on the way are made as create_directories makes them, and
// what it says is kept: whether the last was made, and its error, naming
// the folder asked for.
TEST(FileSyncTest, CreateFoldersDurablyMakesEveryFolderOnTheWay) {
  caseledger::testing::TempFolder dir;
  const fs::path deep = fs::path(dir.path()) / "a" / "b" / "c";
  TakeSynced();
  ASSERT_OK_AND_ASSIGN(bool made, CreateFoldersDurably(deep.string() + "/"));
  EXPECT_TRUE(made);
  EXPECT_TRUE(fs::is_directory(deep));
  // Each new folder's entry is made durable in the folder that holds it.
  const std::vector<std::string> synced_now = TakeSynced();
  for (const fs::path& holder :
       {fs::path(dir.path()), fs::path(dir.path()) / "a",
        fs::path(dir.path()) / "a" / "b"}) {
    EXPECT_THAT(synced_now, Contains(Canonical(holder)));
  }
  ASSERT_OK_AND_ASSIGN(made, CreateFoldersDurably(deep));
  EXPECT_FALSE(made);
  std::ofstream(fs::path(dir.path()) / "file") << "x";
  const fs::path under_a_file = fs::path(dir.path()) / "file" / "d";
  absl::StatusOr<bool> refused = CreateFoldersDurably(under_a_file);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
      << refused.status();
  EXPECT_EQ(refused.status().message(),
            absl::StrCat("cannot create ", under_a_file.string(),
                         ": Not a directory"));
  EXPECT_FALSE(fs::exists(under_a_file));
}

}  // namespace
}  // namespace caseledger
