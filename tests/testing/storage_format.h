// Writes to a ledger's store behind the ledger's back: as storage format 1
// left it (docs/storage.md), for the tests of reading and upgrading such
// ledgers, or any change a test makes to play the tamperer.
#ifndef CASELEDGER_TESTS_TESTING_STORAGE_FORMAT_H_
#define CASELEDGER_TESTS_TESTING_STORAGE_FORMAT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/internal/fault_injection.h"
#include "ledger/internal/store.h"

namespace caseledger::testing {

// Leaves only the position under each case-index key of the store in
// `store_dir` (a ledger's `store/`, with no ledger open on it) and records
// format 1. The first `keep_copies` keys keep their format-2 value, as an
// upgrade stopped part way leaves them. Runs on `faults`' Env when given.
inline absl::Status RewriteAsFormatOne(
    const std::string& store_dir, size_t keep_copies = 0,
    std::shared_ptr<internal::FaultInjection> faults = nullptr) {
  auto store = internal::Store::Open(store_dir, {.faults = std::move(faults)});
  if (!store.ok()) return store.status();
  internal::Batch batch(**store);
  size_t seen = 0;
  absl::Status scanned = (*store)->Scan(
      internal::Family::kCaseIndex, "", "",
      [&](std::string_view key,
          std::string_view value) -> absl::StatusOr<bool> {
        if (seen++ >= keep_copies) {
          batch.Put(internal::Family::kCaseIndex, key, value.substr(0, 8));
        }
        return true;
      });
  if (!scanned.ok()) return scanned;
  batch.Put(internal::Family::kMeta, "format_version", "1");
  return (*store)->Write(batch, /*sync=*/true);
}

// Applies `mutate` to the store in `store_dir` (a ledger's `store/`, with no
// ledger open on it) and writes what it put in the batch, synced.
inline absl::Status AlterStore(
    const std::string& store_dir,
    const std::function<void(internal::Store&, internal::Batch&)>& mutate) {
  auto store = internal::Store::Open(store_dir, {});
  if (!store.ok()) return store.status();
  internal::Batch batch(**store);
  mutate(**store, batch);
  return (*store)->Write(batch, /*sync=*/true);
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_STORAGE_FORMAT_H_
