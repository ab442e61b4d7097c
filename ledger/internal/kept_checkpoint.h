// The latest checkpoint the writer signed, kept in a file of the ledger
// folder beside the store (docs/storage.md, "The ledger folder").
//
// The store holds its checkpoints with its entries, so a log file of the
// store removed or cut short takes both, and the store alone then opens
// smaller without a trace, handing the lost positions out again
// (docs/reliability.md §3). The kept file names a size the store reached:
// it is written only once every entry it signs is durable, so a store
// smaller than it lost entries.
#ifndef CASELEDGER_LEDGER_INTERNAL_KEPT_CHECKPOINT_H_
#define CASELEDGER_LEDGER_INTERNAL_KEPT_CHECKPOINT_H_

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace caseledger::internal {

inline constexpr char kKeptCheckpointFile[] = "latest-checkpoint";
// Written first, then renamed onto kKeptCheckpointFile (Store::ReplaceFile).
inline constexpr char kKeptCheckpointTempFile[] = "latest-checkpoint.tmp";

// The kept checkpoint of `dir`, or nullopt when there is none (a ledger
// that never signed one, or written by a build before 2026-12-04).
absl::StatusOr<std::optional<std::string>> ReadKeptCheckpoint(
    const std::filesystem::path& dir);

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_KEPT_CHECKPOINT_H_
