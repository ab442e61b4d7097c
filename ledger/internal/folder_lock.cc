#include "ledger/internal/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace caseledger::internal {

absl::StatusOr<FolderLock> FolderLock::Take(const std::filesystem::path& dir,
                                            const std::string& busy) {
  FolderLock lock;
  lock.fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock.fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", dir.string(), ": ", std::strerror(errno)));
  }
  if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) {
    return errno == EWOULDBLOCK
               ? absl::FailedPreconditionError(busy)
               : absl::UnavailableError(absl::StrCat(
                     "cannot lock ", dir.string(), ": ", std::strerror(errno)));
  }
  return lock;
}

FolderLock::FolderLock(FolderLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

FolderLock& FolderLock::operator=(FolderLock&& other) noexcept {
  std::swap(fd_, other.fd_);
  return *this;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace caseledger::internal
