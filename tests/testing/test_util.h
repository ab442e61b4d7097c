// Small helpers shared by the suites: status assertions that print the
// message, fresh temporary folders, the shared folder, whole files.
#ifndef CASELEDGER_TESTS_TESTING_TEST_UTIL_H_
#define CASELEDGER_TESTS_TESTING_TEST_UTIL_H_

#include <signal.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

#define CASELEDGER_TEST_CONCAT_INNER_(a, b) a##b
#define CASELEDGER_TEST_CONCAT_(a, b) CASELEDGER_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr)                                            \
  do {                                                             \
    const absl::Status s_ = ::caseledger::testing::AsStatus(expr); \
    ASSERT_TRUE(s_.ok()) << #expr << ": " << s_;                   \
  } while (false)
#define EXPECT_OK(expr)                                            \
  do {                                                             \
    const absl::Status s_ = ::caseledger::testing::AsStatus(expr); \
    EXPECT_TRUE(s_.ok()) << #expr << ": " << s_;                   \
  } while (false)
// Asserts that `rexpr` (a StatusOr) is OK and moves its value into `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                   \
  ASSERT_OK_AND_ASSIGN_IMPL_(CASELEDGER_TEST_CONCAT_(sor_, __LINE__), lhs, \
                             rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(sor, lhs, rexpr)        \
  auto sor = (rexpr);                                      \
  ASSERT_TRUE(sor.ok()) << #rexpr << ": " << sor.status(); \
  lhs = std::move(sor).value()

namespace caseledger::testing {

inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Whether this build runs under AddressSanitizer, which needs more address
// space than any `ulimit -v` a test sets.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// A new empty folder under the test's temp dir, removed at destruction.
class TempFolder {
 public:
  TempFolder() {
    std::string base = ::testing::TempDir();
    std::string pattern = base + "/caseledger-XXXXXX";
    char* made = mkdtemp(pattern.data());
    if (made == nullptr) abort();
    path_ = made;
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Limits the size of files this process writes, as a full disk would, and
// lifts the limit again on destruction. SIGXFSZ is ignored meanwhile, so a
// write past the limit is cut short instead of killing the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_;
  sighandler_t old_handler_;
};

// Every byte of the file at `path`; empty when it cannot be read.
inline std::string FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Flips the bit `mask` (the lowest by default) of the byte at `offset` of
// the file at `path`, as a disk's bit rot would.
inline void FlipBit(const std::string& path, std::streamoff offset,
                    char mask = 0x01) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.read(&c, 1);
  c ^= mask;
  f.seekp(offset);
  f.write(&c, 1);
  ASSERT_TRUE(f.good()) << "cannot flip byte " << offset << " of " << path;
}

// The shared/ folder beside the repository (examples, spec):
// $CASELEDGER_SHARED, which ctest sets, else the one the build saw.
inline std::string SharedDir() {
  const char* env = std::getenv("CASELEDGER_SHARED");
  if (env != nullptr && std::filesystem::exists(env)) return env;
#ifdef CASELEDGER_SHARED_DIR
  return CASELEDGER_SHARED_DIR;
#else
  return "../shared";
#endif
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_TEST_UTIL_H_
