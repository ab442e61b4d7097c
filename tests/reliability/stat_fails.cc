// Preloaded into `caseledger` by tests (LD_PRELOAD): a look (stat) at a
// path ending with CASELEDGER_TEST_FAIL_STAT_OF fails with EIO, as a
// failing disk or a network file system may answer one look while the
// folder that holds the file still lists it.
#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

struct stat;

extern "C" int stat(const char* path, struct stat* out) noexcept {
  using Stat = int (*)(const char*, struct stat*);
  static const auto real = reinterpret_cast<Stat>(::dlsym(RTLD_NEXT, "stat"));
  const char* suffix = std::getenv("CASELEDGER_TEST_FAIL_STAT_OF");
  if (suffix != nullptr && std::string_view(path).ends_with(suffix)) {
    errno = EIO;
    return -1;
  }
  return real(path, out);
}
