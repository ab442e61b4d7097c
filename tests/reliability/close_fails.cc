// Preloaded into `caseledger` by tests (LD_PRELOAD): the close of a file
// open for writing whose path ends with CASELEDGER_TEST_FAIL_CLOSE_OF
// fails with EIO after the file is closed, as on a network file system,
// where close is where a write's error may first be told.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace {

// Whether `fd` is open for writing on a path ending with `suffix`.
bool WrittenFileEndingWith(int fd, const char* suffix) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) return false;
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 && std::string(target, n).ends_with(suffix);
}

}  // namespace

extern "C" int close(int fd) {
  using Close = int (*)(int);
  static const auto real = reinterpret_cast<Close>(::dlsym(RTLD_NEXT, "close"));
  const char* suffix = std::getenv("CASELEDGER_TEST_FAIL_CLOSE_OF");
  const bool fails = suffix != nullptr && WrittenFileEndingWith(fd, suffix);
  const int closed = real(fd);
  if (closed != 0 || !fails) return closed;
  errno = EIO;
  return -1;
}
