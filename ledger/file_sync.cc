#include "ledger/file_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace caseledger {

absl::Status SyncPath(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open ", path.string(), " to sync it: ", std::strerror(errno)));
  }
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot sync ", path.string(),
                                               ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

bool CreateFoldersDurably(const std::filesystem::path& dir,
                          std::error_code& ec) {
  namespace fs = std::filesystem;
  // The folders missing now, deepest first; what create_directories makes.
  std::vector<fs::path> missing;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (ec) return false;
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  while (fs::status(p, ec).type() == fs::file_type::not_found &&
         p.has_parent_path() && p.parent_path() != p) {
    missing.push_back(p);
    p = p.parent_path();
  }
  ec.clear();
  const bool made = fs::create_directories(dir, ec);
  if (ec) return false;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    const int fd =
        ::open(it->parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      ec.assign(errno, std::generic_category());
      if (fd >= 0) ::close(fd);
      return false;
    }
    ::close(fd);
  }
  return made;
}

}  // namespace caseledger
