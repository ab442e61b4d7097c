#include "ledger/file_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace caseledger
