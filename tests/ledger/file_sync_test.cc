// SyncPath is how init, backup and restore make a new file or a rename
// durable; a path it cannot sync must be an error naming the path, never a
// silent success.
#include "ledger/file_sync.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

namespace fs = std::filesystem;

TEST(FileSyncTest, SyncsAFileAndAFolder) {
  caseledger::testing::TempFolder dir;
  const fs::path file = fs::path(dir.path()) / "note";
  std::ofstream(file) << "kept";
  EXPECT_TRUE(SyncPath(file).ok());
  EXPECT_TRUE(SyncPath(dir.path()).ok());
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
// what it says is kept: whether the last was made, and its error.
TEST(FileSyncTest, CreateFoldersDurablyMakesEveryFolderOnTheWay) {
  caseledger::testing::TempFolder dir;
  const fs::path deep = fs::path(dir.path()) / "a" / "b" / "c";
  std::error_code ec;
  EXPECT_TRUE(CreateFoldersDurably(deep.string() + "/", ec));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(fs::is_directory(deep));
  EXPECT_FALSE(CreateFoldersDurably(deep, ec));
  EXPECT_FALSE(ec) << ec.message();
  std::ofstream(fs::path(dir.path()) / "file") << "x";
  EXPECT_FALSE(CreateFoldersDurably(fs::path(dir.path()) / "file" / "d", ec));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "file" / "d"));
}

}  // namespace
}  // namespace caseledger
