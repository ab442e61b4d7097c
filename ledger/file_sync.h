// fsync(2) of files and folders, for the steps that create or rename them
// (init, backup, restore, an exported bundle) and must survive a power loss.
#ifndef CASELEDGER_LEDGER_FILE_SYNC_H_
#define CASELEDGER_LEDGER_FILE_SYNC_H_

#include <filesystem>
#include <system_error>

#include "absl/status/status.h"

namespace caseledger {

// Syncs the file or folder at `path`: its data, or a folder's entries (so
// that a rename or a new file inside it is durable).
absl::Status SyncPath(const std::filesystem::path& path);

// std::filesystem::create_directories(dir, ec), then the folder holding each
// folder it made is synced, so that a folder made for a ledger is still
// there after a power loss that the files synced inside it survive. A
// failed sync sets `ec` to its error. Returns whether `dir` itself was made.
bool CreateFoldersDurably(const std::filesystem::path& dir,
                          std::error_code& ec);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_FILE_SYNC_H_
