// Preloaded into `caseledger_bench` by tests (LD_PRELOAD): opening for
// reading a path that ends with CASELEDGER_TEST_FAIL_READ_OF fails with EIO,
// as a failing disk may answer, while the folder still takes a new file.
#include <dlfcn.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

bool FailsToRead(const char* path, const char* mode) {
  const char* suffix = std::getenv("CASELEDGER_TEST_FAIL_READ_OF");
  return suffix != nullptr && mode[0] == 'r' &&
         std::string_view(path).ends_with(suffix);
}

using FileOpen = std::FILE* (*)(const char*, const char*);

FileOpen Next(const char* name) {
  return reinterpret_cast<FileOpen>(::dlsym(RTLD_NEXT, name));
}

std::FILE* OpenUnlessFailing(FileOpen real, const char* path,
                             const char* mode) {
  if (FailsToRead(path, mode)) {
    errno = EIO;
    return nullptr;
  }
  return real(path, mode);
}

}  // namespace

extern "C" std::FILE* fopen(const char* path, const char* mode) {
  static const FileOpen real = Next("fopen");
  return OpenUnlessFailing(real, path, mode);
}

extern "C" std::FILE* fopen64(const char* path, const char* mode) {
  static const FileOpen real = Next("fopen64");
  return OpenUnlessFailing(real, path, mode);
}
