#include "ledger/file_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"

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

absl::Status SyncFolderOf(const std::filesystem::path& path) {
  const std::filesystem::path folder = path.parent_path();
  return SyncPath(folder.empty() ? std::filesystem::path(".") : folder);
}

absl::StatusOr<bool> CreateFoldersDurably(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // The folders missing now, deepest first; what create_directories makes.
  std::vector<fs::path> missing;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (ec) return CannotCreateFolder(dir, ec);
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  while (fs::status(p, ec).type() == fs::file_type::not_found &&
         p.has_parent_path() && p.parent_path() != p) {
    missing.push_back(p);
    p = p.parent_path();
  }
  ec.clear();
  const bool made = fs::create_directories(dir, ec);
  if (ec) return CannotCreateFolder(dir, ec);
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    CASELEDGER_RETURN_IF_ERROR(SyncPath(it->parent_path()));
  }
  return made;
}

absl::Status CannotCreateFolder(const std::filesystem::path& path,
                                const std::error_code& ec) {
  // Found by an outside reading: a read-only target was "internal or
  // storage" (exit 4) for init and bad input (exit 2) for backup.
  const std::string why =
      absl::StrCat("cannot create ", path.string(), ": ", ec.message());
  if (ec == std::errc::permission_denied ||
      ec == std::errc::read_only_file_system ||
      ec == std::errc::not_a_directory) {
    return absl::InvalidArgumentError(why);
  }
  return absl::UnavailableError(why);
}

namespace {

// PathExists's answer from what a look at `path` found.
absl::StatusOr<bool> Found(const std::filesystem::path& path,
                           const std::filesystem::file_status& status,
                           const std::error_code& ec) {
  if (status.type() == std::filesystem::file_type::not_found) return false;
  if (!ec) return true;
  const std::string why = absl::StrCat("cannot tell whether ", path.string(),
                                       " exists: ", ec.message());
  if (ec == std::errc::permission_denied ||
      ec == std::errc::operation_not_permitted) {
    return absl::PermissionDeniedError(why);
  }
  return absl::UnavailableError(why);
}

}  // namespace

absl::StatusOr<bool> PathExists(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  return Found(path, status, ec);
}

absl::StatusOr<bool> NameTaken(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status status =
      std::filesystem::symlink_status(path, ec);
  return Found(path, status, ec);
}

}  // namespace caseledger
