// fsync(2) of files and folders, for the steps that create or rename them
// (init, backup, restore, an exported bundle) and must survive a power loss.
#ifndef CASELEDGER_LEDGER_FILE_SYNC_H_
#define CASELEDGER_LEDGER_FILE_SYNC_H_

#include <filesystem>

#include "absl/status/status.h"

namespace caseledger {

// Syncs the file or folder at `path`: its data, or a folder's entries (so
// that a rename or a new file inside it is durable).
absl::Status SyncPath(const std::filesystem::path& path);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_FILE_SYNC_H_
