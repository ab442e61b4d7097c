// store/LOG must stay bounded however long a writer runs (a server runs for
// months between opens), keep the latest lines, and never take the process
// down when it cannot be written.
#include "ledger/internal/info_log.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger::internal {
namespace {

namespace fs = std::filesystem;
using ::caseledger::testing::FileContents;
using ::caseledger::testing::TempFolder;

constexpr uint64_t kLimit = 4096;

rocksdb::FileSystem* Disk() { return rocksdb::FileSystem::Default().get(); }

// Logs lines "line 0" .. "line count-1", each padded to ~100 bytes.
void LogLines(InfoLog& log, int from, int count) {
  const std::string padding(80, '.');
  for (int i = from; i < from + count; ++i) {
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, &log, "line %d %s", i,
                 padding.c_str());
  }
}

// The numbers of the lines in `text`, in order.
std::vector<int> LineNumbers(const std::string& text) {
  std::vector<int> numbers;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t at = line.find("line ");
    if (at == absl::string_view::npos) continue;
    numbers.push_back(std::stoi(std::string(line.substr(at + 5))));
  }
  return numbers;
}

TEST(InfoLogTest, ALongRunStartsTheLogOverAndKeepsTheLatestLines) {
  TempFolder dir;
  const std::string path = dir.Sub("LOG");
  {
    InfoLog log(Disk(), path, kLimit);
    LogLines(log, 0, 500);  // ~50 KB: twelve times the limit
    ASSERT_TRUE(log.Close().ok());
  }
  ASSERT_TRUE(fs::exists(path + ".old"));
  EXPECT_LE(fs::file_size(path), kLimit);
  EXPECT_LE(fs::file_size(path + ".old"), kLimit);
  // The two files hold the latest lines, unbroken, the last one included.
  std::vector<int> kept = LineNumbers(FileContents(path + ".old"));
  const std::vector<int> latest = LineNumbers(FileContents(path));
  kept.insert(kept.end(), latest.begin(), latest.end());
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept.back(), 499);
  for (size_t i = 1; i < kept.size(); ++i) {
    ASSERT_EQ(kept[i], kept[i - 1] + 1) << "at " << i;
  }
  EXPECT_GT(kept.size(), kLimit / 100);  // more than one file's worth
}

TEST(InfoLogTest, ALogFullAtOpenIsStartedOverAndOneBelowItIsContinued) {
  TempFolder dir;
  const std::string path = dir.Sub("LOG");
  {
    InfoLog log(Disk(), path, kLimit);
    LogLines(log, 0, 10);
  }
  {
    InfoLog log(Disk(), path, kLimit);
    LogLines(log, 10, 5);
  }
  EXPECT_EQ(LineNumbers(FileContents(path)).size(), 15u);
  EXPECT_FALSE(fs::exists(path + ".old"));

  std::ofstream(path, std::ios::app) << std::string(2 * kLimit, 'x') << "\n";
  {
    InfoLog log(Disk(), path, kLimit);
    LogLines(log, 15, 1);
  }
  EXPECT_EQ(LineNumbers(FileContents(path)), std::vector<int>{15});
  EXPECT_GT(fs::file_size(path + ".old"), 2 * kLimit);
}

TEST(InfoLogTest, ALogItCannotWriteDropsItsLines) {
  TempFolder dir;
  InfoLog nowhere(Disk(), dir.Sub("missing-folder/LOG"), kLimit);
  LogLines(nowhere, 0, 100);
  InfoLog none(Disk(), "", kLimit);
  LogLines(none, 0, 100);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace caseledger::internal
