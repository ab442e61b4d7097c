// SyncPath is how init, backup and restore make a new file or a rename
// durable; a path it cannot sync must be an error naming the path, never a
// silent success.
#include "ledger/file_sync.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
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
// what it says is kept: whether the last was made, and its error, naming
// the folder asked for.
TEST(FileSyncTest, CreateFoldersDurablyMakesEveryFolderOnTheWay) {
  caseledger::testing::TempFolder dir;
  const fs::path deep = fs::path(dir.path()) / "a" / "b" / "c";
  ASSERT_OK_AND_ASSIGN(bool made, CreateFoldersDurably(deep.string() + "/"));
  EXPECT_TRUE(made);
  EXPECT_TRUE(fs::is_directory(deep));
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
