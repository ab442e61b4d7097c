// The check of RocksDB's write-ahead logs that the store runs before it
// opens them.
//
// The store replays its logs with kTolerateCorruptedTailRecords, so that a
// record cut short by a crash (never acknowledged: every append is synced
// before its answer) is dropped rather than refusing the open. RocksDB takes
// any record that claims to run past the end of the file for such a record.
// A damaged length field does that too, and replaying would then silently
// drop that record and every acknowledged one after it. A record cut short
// by a crash cannot match its checksum; one whose length was damaged still
// does, over the bytes it really has. This tells the two apart.
//
// Log format (RocksDB's db/log_format.h): the file is cut into 32 KiB
// blocks; a physical record never crosses a block and starts with a 7-byte
// header: masked CRC-32C (4 bytes, over the type byte and the payload),
// payload length (2 bytes), type (1 byte), all little-endian.
#ifndef CASELEDGER_LEDGER_INTERNAL_WAL_TAIL_H_
#define CASELEDGER_LEDGER_INTERNAL_WAL_TAIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace caseledger::internal {

// CRC-32C (Castagnoli) of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32c(std::string_view bytes, uint32_t crc = 0);

// Checks the last block of the log file at `path`: kDataLoss naming the file
// and byte when a record there runs past the end of the file although its
// checksum matches the bytes that follow its header (its length was
// damaged); OK when the file ends in whole records or in a record cut short.
absl::Status CheckWalTail(const std::string& path);

enum class WalCheck {
  // Only what RocksDB's replay passes over without a word: a header whose
  // length and type are zero (RocksDB's mark of space written ahead), which
  // drops the rest of its 32 KiB block, with records after it in the file.
  // Run before every open; reads the headers, not the checksums.
  kHeaders,
  // That, and every record against its checksum, and no record running past
  // its block before the last: to name what RocksDB refused. RocksDB's own
  // refusal says "Corruption: checksum mismatch" and names neither file nor
  // byte, and reliability.md promises both (found by an outside reading).
  kChecksums,
};

// Reads the records of the log file at `path`: kDataLoss naming the file
// and byte of the first found damaged by `check`. OK otherwise, a record cut
// short at the end included (CheckWalTail's to judge).
absl::Status FindDamagedWalRecord(const std::string& path, WalCheck check);

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_WAL_TAIL_H_
