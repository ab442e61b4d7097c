// fsync(2) of files and folders, for the steps that create or rename them
// (init, backup, restore, an exported bundle) and must survive a power loss.
#ifndef CASELEDGER_LEDGER_FILE_SYNC_H_
#define CASELEDGER_LEDGER_FILE_SYNC_H_

#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace caseledger {

// Syncs the file or folder at `path`: its data, or a folder's entries (so
// that a rename or a new file inside it is durable).
absl::Status SyncPath(const std::filesystem::path& path);

// Syncs the folder holding `path` ("." for a bare name): what keeps a file
// made or renamed there under its name through a power loss.
absl::Status SyncFolderOf(const std::filesystem::path& path);

// std::filesystem::create_directories(dir), then the folder holding each
// folder it made is synced, so that a folder made for a ledger is still
// there after a power loss that the files synced inside it survive.
// Whether `dir` itself was made; CannotCreateFolder's errors otherwise.
absl::StatusOr<bool> CreateFoldersDurably(const std::filesystem::path& dir);

// Why the folder `path`, one a caller named or one on its way, could not be
// made: for want of permission, on a read-only file system or for a file on
// the way, kInvalidArgument (the caller's to change: exit 2, as export
// --out's is); anything else (a full or failing disk, a name too long, a
// loop of links), kUnavailable.
absl::Status CannotCreateFolder(const std::filesystem::path& path,
                                const std::error_code& ec);

// Whether `path` names a file or folder (through a link, what it leads
// to). An error looking, such as a folder one may not search or a failing
// disk, is an error, never "absent": taken for one, it let a writer into a
// backup's copy in progress and excused a damaged table (found by an
// audit). Permission denied is kPermissionDenied, anything else
// kUnavailable.
absl::StatusOr<bool> PathExists(const std::filesystem::path& path);

// PathExists of the name itself, not followed: a link that leads nowhere
// takes its name. What a rename or a removal must not take for free.
absl::StatusOr<bool> NameTaken(const std::filesystem::path& path);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_FILE_SYNC_H_
