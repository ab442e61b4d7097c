// The access log's hash chain survives a record that could not be written
// whole: what reached the file is cut off again.
#include "tools/server/access_log.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/clock.h"
#include "tests/testing/test_util.h"
#include "tests/testing/unprivileged_process.h"

namespace caseledger::server {
namespace {

using ::caseledger::testing::InUnprivilegedProcess;
using ::caseledger::testing::kNobody;
using ::testing::HasSubstr;

AccessRecord ReadOf(const std::string& case_id) {
  return {.who = "reader",
          .role = "reader",
          .peer = "ipv4:127.0.0.1:1",
          .rpc = "ReadCase",
          .what = "case_id=" + case_id,
          .outcome = "granted",
          .events = 0};
}

// A log file in a folder of its own, and a clock that stands still.
class AccessLogTest : public ::testing::Test {
 protected:
  caseledger::testing::TempFolder dir_;
  const std::string path_ = dir_.Sub("access-log.jsonl");
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

// Only a file keeps records to continue from: reading /dev/full for its
// last record never ended (the server's start hung, growing, saying
// nothing), and a FIFO nobody reads would block the open for good (found
// by an audit).
// A FIFO nobody reads and a socket were refused with the open's own
// reason, "No such device or address", which named neither (found by an
// audit).
TEST_F(AccessLogTest, APathThatIsNoFileIsRefusedAtOnce) {
  const std::string fifo = dir_.Sub("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string socket_path = dir_.Sub("socket");
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::strcpy(address.sun_path, socket_path.c_str());
  ASSERT_EQ(
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address),
      0);
  for (const std::string& path :
       {std::string("/dev/full"), fifo, socket_path}) {
    auto log = AccessLog::Open(path, &clock_);
    EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument)
        << path << ": " << log.status();
    EXPECT_THAT(std::string(log.status().message()),
                ::testing::HasSubstr(path + " is not a regular file"));
  }
  ::close(listener);
}

// The log names every case read and who read it: a new one is created
// readable and writable by its owner alone, mode 0600 (docs/service.md).
TEST_F(AccessLogTest, ANewLogIsKeptFromOtherUsers) {
  ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(AccessLogTest, AWriteCutShortLeavesNothingOfItsRecord) {
  ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
  ASSERT_OK(log->Record(ReadOf("A")));
  const std::string before = caseledger::testing::FileContents(path_);
  {
    caseledger::testing::FileSizeLimit limit(before.size() + 20);
    absl::Status cut = log->Record(ReadOf("B"));
    EXPECT_FALSE(cut.ok());
    EXPECT_NE(cut.message().find("wrote only 20 of"), std::string::npos) << cut;
  }
  EXPECT_EQ(caseledger::testing::FileContents(path_), before);
  ASSERT_OK(log->Record(ReadOf("C")));
  ASSERT_OK_AND_ASSIGN(AccessLogCheck checked, VerifyAccessLog(path_));
  EXPECT_EQ(checked.records, 2u);
  // A server started on the log later continues the same chain.
  log.reset();
  ASSERT_OK_AND_ASSIGN(log, AccessLog::Open(path_, &clock_));
  ASSERT_OK(log->Record(ReadOf("D")));
  ASSERT_OK_AND_ASSIGN(checked, VerifyAccessLog(path_));
  EXPECT_EQ(checked.records, 3u);
}

// A line that is no record, or whose line end was changed, was reported
// as "expected seq N", of a line that may hold seq N (found by an outside
// reading). Each damage is named for what it is.
TEST_F(AccessLogTest, TheCheckNamesWhatIsWrongWithALine) {
  {
    ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
    ASSERT_OK(log->Record(ReadOf("A")));
    ASSERT_OK(log->Record(ReadOf("B")));
  }
  const std::string whole = caseledger::testing::FileContents(path_);
  const size_t second = whole.find('\n') + 1;
  auto check = [&](const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    return std::string(VerifyAccessLog(path_).status().message());
  };
  const std::string at = absl::StrCat("access log ", path_, " line ");
  EXPECT_EQ(check(whole + "garbage\n"), at + "3: not an access-log record");
  EXPECT_EQ(check(whole.substr(0, second - 1) + "\r\n" + whole.substr(second)),
            at + "1: ends with a carriage return: the file's line ends were "
                 "changed");
  EXPECT_EQ(check(whole.substr(0, second) + whole.substr(0, second)),
            at + "2: seq 1 where 2 belongs");
  // A record cut short with its newline kept, or stripped of its prev.
  EXPECT_EQ(check(whole.substr(0, second) + whole.substr(second, 40) + "\n"),
            at + "2: not an access-log record");
  const size_t prev = whole.rfind(", \"prev\"");
  EXPECT_EQ(check(whole.substr(0, prev) + "}\n"),
            at + "2: not an access-log record");
  EXPECT_EQ(check(whole), "");
  // The server does not chain new records to such a line.
  std::ofstream(path_, std::ios::binary | std::ios::trunc)
      << whole.substr(0, second) << whole.substr(second, 40) << "\n";
  auto reopened = AccessLog::Open(path_, &clock_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(reopened.status().message()),
              HasSubstr("the last line is not a record"));
}

// A record's prev is 64 lowercase hex digits, as Record writes it: one in
// capitals is no record (rather than a record whose prev does not match),
// and a line longer than any record is refused without being read whole.
TEST_F(AccessLogTest, ALineNotFramedAsARecordIsNone) {
  {
    ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
    ASSERT_OK(log->Record(ReadOf("A")));
    ASSERT_OK(log->Record(ReadOf("B")));
  }
  const std::string whole = caseledger::testing::FileContents(path_);
  const size_t prev = whole.rfind("\"prev\": \"") + 9;
  std::string capitals = whole;
  for (size_t i = prev; i < prev + 64; ++i) {
    capitals[i] = absl::ascii_toupper(capitals[i]);
  }
  ASSERT_NE(capitals, whole);
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << capitals;
  EXPECT_EQ(VerifyAccessLog(path_).status(),
            absl::DataLossError(absl::StrCat(
                "access log ", path_, " line 2: not an access-log record")));
  auto reopened = AccessLog::Open(path_, &clock_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);

  std::ofstream(path_, std::ios::binary | std::ios::trunc)
      << std::string((size_t{64} << 20) + 1, 'x');
  EXPECT_EQ(VerifyAccessLog(path_).status(),
            absl::DataLossError(absl::StrCat(
                "access log ", path_,
                " line 1: more than 67108864 bytes, longer than any record")));
}

// A crash during a write leaves the last record without its newline; the
// access was never granted (Record had not returned), and a server started
// on the log cuts it off rather than joining the next record to it.
TEST_F(AccessLogTest, ARecordACrashCutShortIsCutOffWhenTheLogOpens) {
  {
    ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
    ASSERT_OK(log->Record(ReadOf("A")));
    ASSERT_OK(log->Record(ReadOf("B")));
  }
  const std::string whole = caseledger::testing::FileContents(path_);
  std::ofstream(path_, std::ios::app | std::ios::binary)
      << R"({"seq": 3, "time": "2023-11-14T22:13)";
  // Nor is it counted, or taken for an edit, by a check meanwhile.
  ASSERT_OK_AND_ASSIGN(AccessLogCheck before_open, VerifyAccessLog(path_));
  EXPECT_EQ(before_open.records, 2u);
  EXPECT_EQ(before_open.unfinished_bytes, 36u);
  ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
  EXPECT_EQ(caseledger::testing::FileContents(path_), whole);
  EXPECT_EQ(log->BytesCutAtOpen(), 36u);
  ASSERT_OK(log->Record(ReadOf("C")));
  ASSERT_OK_AND_ASSIGN(AccessLogCheck after, VerifyAccessLog(path_));
  EXPECT_EQ(after.records, 3u);
  EXPECT_EQ(after.unfinished_bytes, 0u);
  log.reset();
  ASSERT_OK_AND_ASSIGN(auto whole_log, AccessLog::Open(path_, &clock_));
  EXPECT_EQ(whole_log->BytesCutAtOpen(), 0u);
}

// A log the server could write but not read was taken for an empty one:
// its start cut the whole log to nothing and began a new chain (found by an
// audit). It is refused, by the check serve makes before it opens the
// ledger as by the open, and kept as it was. So is a log in a folder the
// server may write but not read, which the open cannot sync.
TEST_F(AccessLogTest, ALogTheServerMayNotReadIsRefusedAndKept) {
  {
    ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
    ASSERT_OK(log->Record(ReadOf("A")));
  }
  const std::string before = caseledger::testing::FileContents(path_);
  const std::string unreadable_folder = dir_.Sub("unreadable");
  const std::string in_unreadable_folder = unreadable_folder + "/log.jsonl";
  const std::string other_log = dir_.Sub("other.jsonl");
  ASSERT_EQ(::mkdir(unreadable_folder.c_str(), 0300), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0200), 0);
  if (::geteuid() == 0) {
    for (const std::string& p : {dir_.path(), path_, unreadable_folder}) {
      ASSERT_EQ(::chown(p.c_str(), kNobody, kNobody), 0) << p;
    }
  }
  const std::string said = InUnprivilegedProcess([&] {
    // The log beside them opens: the child may work in the folder.
    return absl::StrCat(
        AccessLog::Open(other_log, &clock_).status().ToString(), "\n",
        AccessLog::CheckPath(path_).ToString(), "\n",
        AccessLog::Open(path_, &clock_).status().ToString(), "\n",
        AccessLog::CheckPath(in_unreadable_folder).ToString(), "\n");
  });
  auto refused = [](const std::string& path) {
    return absl::StrCat(
        "INVALID_ARGUMENT: cannot open access log ", path,
        ": Permission denied (the server reads the log to continue its chain, "
        "and writes it: it needs to read and write the file, and to read, "
        "write and search its folder)\n");
  };
  EXPECT_EQ(said, absl::StrCat("OK\n", refused(path_), refused(path_),
                               refused(in_unreadable_folder)));
  EXPECT_EQ(caseledger::testing::FileContents(path_), before);
  EXPECT_FALSE(std::filesystem::exists(in_unreadable_folder));
}

// docs/service.md and `verify` advise making the log append-only for the
// operating system too (`chattr +a`): a server still opens such a log and
// goes on with its chain. The flag takes CAP_LINUX_IMMUTABLE and a file
// system that keeps it; without either the test is skipped.
TEST_F(AccessLogTest, ALogMadeAppendOnlyGoesOnWithItsChain) {
  {
    ASSERT_OK_AND_ASSIGN(auto log, AccessLog::Open(path_, &clock_));
    ASSERT_OK(log->Record(ReadOf("A")));
  }
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  int flags = 0;
  ASSERT_EQ(::ioctl(fd, FS_IOC_GETFLAGS, &flags), 0) << std::strerror(errno);
  auto set_flags = [fd](int to) { return ::ioctl(fd, FS_IOC_SETFLAGS, &to); };
  if (set_flags(flags | FS_APPEND_FL) != 0) {
    const int error = errno;
    ::close(fd);
    GTEST_SKIP() << "cannot make a file append-only here: "
                 << std::strerror(error);
  }
  {
    ASSERT_OK(AccessLog::CheckPath(path_));
    absl::StatusOr<std::unique_ptr<AccessLog>> log =
        AccessLog::Open(path_, &clock_);
    EXPECT_OK(log.status());
    if (log.ok()) EXPECT_OK((*log)->Record(ReadOf("B")));
  }
  absl::StatusOr<AccessLogCheck> check = VerifyAccessLog(path_);
  // Cleared before any assertion may end the test: the folder's removal
  // cannot unlink an append-only file.
  EXPECT_EQ(set_flags(flags), 0) << std::strerror(errno);
  ::close(fd);
  ASSERT_OK(check.status());
  EXPECT_EQ(check->records, 2u);
}

// Two servers given one file (--access-log naming another ledger's) wrote
// two interleaved chains, which verify failed for good: the second open is
// refused while the first holds the log, and writes nothing.
TEST_F(AccessLogTest, OneLogIsKeptByOneServerAtATime) {
  ASSERT_OK_AND_ASSIGN(auto first, AccessLog::Open(path_, &clock_));
  ASSERT_OK(first->Record(ReadOf("A")));
  absl::StatusOr<std::unique_ptr<AccessLog>> second =
      AccessLog::Open(path_, &clock_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("access log ", path_,
                         " is kept by another running server; each server "
                         "keeps its own (--access-log FILE)"));
  ASSERT_OK(first->Record(ReadOf("B")));
  first.reset();
  ASSERT_OK_AND_ASSIGN(auto after, AccessLog::Open(path_, &clock_));
  ASSERT_OK(after->Record(ReadOf("C")));
  ASSERT_OK_AND_ASSIGN(AccessLogCheck check, VerifyAccessLog(path_));
  EXPECT_EQ(check.records, 3u);
}

// A value is written as JSON reads it back, and shows in a terminal as that:
// controls that move or turn text around and invisible characters escaped,
// other text (accents, Arabic, emoji, the zero-width joiner) as it is, and a
// byte that is not UTF-8 (no JSON reader takes one) as U+FFFD.
TEST_F(AccessLogTest, ValuesShowInATerminalAsJsonReadsThem) {
  EXPECT_EQ(JsonQuote("case_id=Dos\u202esier"), R"("case_id=Dos\u202esier")");
  EXPECT_EQ(JsonQuote("a\u200bb\u2066c\u2028d\xc2\x9b["),
            R"("a\u200bb\u2066c\u2028d\u009b[")");
  EXPECT_EQ(JsonQuote("\x1b]0;x\x07\x7f"), R"("\u001b]0;x\u0007\u007f")");
  EXPECT_EQ(JsonQuote("\"q\" \\ \n\t"), R"("\"q\" \\ \n\t")");
  EXPECT_EQ(
      JsonQuote("Zoë \u0645\u062d\u0645\u062f \U0001F468\u200d\U0001F469"),
      "\"Zoë \u0645\u062d\u0645\u062f \U0001F468\u200d\U0001F469\"");
  EXPECT_EQ(JsonQuote("a\xff"
                      "b\xc3"),
            R"("a\ufffdb\ufffd")");
}

}  // namespace
}  // namespace caseledger::server
