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

}  // namespace
}  // namespace caseledger
