// An exclusive lock (flock) on a folder, held while one process fills it:
// init making a ledger folder, a restore filling one, a backup or restore
// writing its partial copy. The kernel drops it when the process ends,
// however it ends, so a second run can tell a folder being filled (refused)
// from one whose run died (started over).
#ifndef CASELEDGER_LEDGER_INTERNAL_FOLDER_LOCK_H_
#define CASELEDGER_LEDGER_INTERNAL_FOLDER_LOCK_H_

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace caseledger::internal {

class FolderLock {
 public:
  // Locks `dir`, which must exist. kFailedPrecondition with the message
  // `busy` when another process holds the lock; kUnavailable when the folder
  // cannot be opened or locked.
  static absl::StatusOr<FolderLock> Take(const std::filesystem::path& dir,
                                         const std::string& busy);

  FolderLock() = default;
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&& other) noexcept;
  ~FolderLock();  // releases the lock

 private:
  int fd_ = -1;
};

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_FOLDER_LOCK_H_
