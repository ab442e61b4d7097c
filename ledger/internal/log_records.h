// The checks of the files in RocksDB's log format, its write-ahead logs
// and its MANIFEST (the record of its table files), that the store runs
// before it opens them.
//
// RocksDB reads both with kTolerateCorruptedTailRecords (the store sets it
// for the logs; the MANIFEST is always read so), so that a record cut short
// by a crash (never acknowledged: every append is synced before its answer)
// is dropped rather than refusing the open. RocksDB takes any record that
// claims to run past the end of the file for such a record. A damaged
// length field does that too, and reading would then silently drop that
// record and every one after it. A record cut short by a crash cannot match
// its checksum; one whose length was damaged still does, over the bytes it
// really has. CheckLogTail tells the two apart. RocksDB also skips, without
// a word, the rest of a 32 KiB block after a header whose length and type
// are zero; FindDamagedLogRecord finds those.
//
// Log format (RocksDB's db/log_format.h): the file is cut into 32 KiB
// blocks; a physical record never crosses a block and starts with a 7-byte
// header: masked CRC-32C (4 bytes, over the type byte and the payload),
// payload length (2 bytes), type (1 byte), all little-endian.
#ifndef CASELEDGER_LEDGER_INTERNAL_LOG_RECORDS_H_
#define CASELEDGER_LEDGER_INTERNAL_LOG_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace caseledger::internal {

// CRC-32C (Castagnoli) of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32c(std::string_view bytes, uint32_t crc = 0);

// Checks the last block of the file at `path`: kDataLoss naming the file
// and byte when a record there runs past the end of the file although its
// checksum matches the bytes that follow its header (its length was
// damaged); OK when the file ends in whole records or in a record cut short.
absl::Status CheckLogTail(const std::string& path);

enum class LogCheck {
  // Only what RocksDB's reading passes over without a word: a header whose
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

// Reads the records of the file at `path`: kDataLoss naming the file
// and byte of the first found damaged by `check`. OK otherwise, a record cut
// short at the end included (CheckLogTail's to judge).
absl::Status FindDamagedLogRecord(const std::string& path, LogCheck check);

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_LOG_RECORDS_H_
