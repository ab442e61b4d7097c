// Preloaded into `caseledger` by tests (LD_PRELOAD): fsync and fdatasync of
// a RocksDB log file (*.log) fail with EIO from the Nth call on, N being
// CASELEDGER_TEST_FAIL_LOG_SYNC_FROM, as a failing disk's would. What the
// fault injection of the ledger's own tests does inside one process, for
// the built binary: its serve wiring and its exit codes.
// With CASELEDGER_TEST_COUNT_LOG_SYNCS_ONCE naming a file as well, the
// syncs are counted from the first that comes once that file exists, so
// that a test picks the moment the disk starts failing.
// With CASELEDGER_TEST_SLOW_LOG_SYNC_MS, each sync of a log file is that
// many milliseconds slower, as a busy disk's, and first creates the file
// CASELEDGER_TEST_SLOW_LOG_SYNC_MARK, which tells a test that a write waits
// for the disk.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

std::atomic<long> log_syncs{0};

bool IsLogFile(int fd) {
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n < 4) return false;
  return std::string(target, n).ends_with(".log");
}

// Whether this sync fails.
bool Fails(int fd) {
  const char* from = std::getenv("CASELEDGER_TEST_FAIL_LOG_SYNC_FROM");
  if (from == nullptr || !IsLogFile(fd)) return false;
  if (const char* once = std::getenv("CASELEDGER_TEST_COUNT_LOG_SYNCS_ONCE");
      once != nullptr && ::access(once, F_OK) != 0) {
    return false;
  }
  return ++log_syncs >= std::atol(from);
}

// EIO when this sync fails; otherwise the C library's `name` (fsync or
// fdatasync) of `fd`.
int SyncOrFail(int fd, const char* name) {
  if (const char* slow = std::getenv("CASELEDGER_TEST_SLOW_LOG_SYNC_MS");
      slow != nullptr && IsLogFile(fd)) {
    if (const char* mark = std::getenv("CASELEDGER_TEST_SLOW_LOG_SYNC_MARK")) {
      ::close(::open(mark, O_WRONLY | O_CREAT, 0600));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(slow)));
  }
  if (Fails(fd)) {
    errno = EIO;
    return -1;
  }
  using Sync = int (*)(int);
  return reinterpret_cast<Sync>(::dlsym(RTLD_NEXT, name))(fd);
}

}  // namespace

extern "C" int fsync(int fd) { return SyncOrFail(fd, "fsync"); }
extern "C" int fdatasync(int fd) { return SyncOrFail(fd, "fdatasync"); }
