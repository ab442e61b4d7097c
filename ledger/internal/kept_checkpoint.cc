#include "ledger/internal/kept_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace caseledger::internal {
namespace {

namespace fs = std::filesystem;

// A signed note is a few hundred bytes; anything much longer is not one,
// and is not read whole.
constexpr size_t kMostKeptBytes = 64 << 10;

}  // namespace

absl::StatusOr<std::optional<std::string>> ReadKeptCheckpoint(
    const fs::path& dir) {
  const fs::path kept = dir / kKeptCheckpointFile;
  int fd = ::open(kept.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT) return std::nullopt;
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot read ", kept.string(),
                                               ": ", std::strerror(errno)));
  }
  std::string note;
  char buffer[4096];
  while (note.size() <= kMostKeptBytes) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot read ", kept.string(),
                                                 ": ", std::strerror(error)));
    }
    if (n == 0) break;
    note.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (note.size() > kMostKeptBytes) {
    return absl::DataLossError(
        absl::StrCat(kept.string(), " holds more than ", kMostKeptBytes,
                     " bytes: it is not a checkpoint the ledger kept"));
  }
  return note;
}

}  // namespace caseledger::internal
