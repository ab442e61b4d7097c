#include "ledger/internal/log_records.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"

namespace caseledger::internal {
namespace {

constexpr uint64_t kBlockBytes = 32768;
constexpr size_t kHeaderBytes = 7;
constexpr uint8_t kWholeRecord = 1;
constexpr uint8_t kFirstPart = 2;
constexpr uint8_t kLastPart = 4;
// Record types with the 7-byte header: full, first, middle, last, and the
// compression and timestamp-size records. The recyclable types (5 to 8,
// and 11 on) carry a log number as well; the store never recycles logs.
bool HasShortHeader(uint8_t type) {
  return (type >= 1 && type <= 4) || type == 9 || type == 10;
}

// RocksDB stores CRCs rotated and offset, since a CRC of bytes that hold
// CRCs is weak (util/crc32c.h).
uint32_t Masked(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

const std::array<uint32_t, 256>& Table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t Little(std::string_view bytes, size_t at, size_t width) {
  uint32_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  }
  return v;
}

// What a damaged record of the file at `path` costs, by the kind of file:
// its name in messages, what is lost when a record cannot be read, and what
// reading on would drop without a word.
struct KindOfFile {
  std::string_view name;
  std::string_view lost;
  std::string_view dropped;
};

bool IsManifest(const std::string& path) {
  return std::filesystem::path(path).filename().string().starts_with(
      "MANIFEST-");
}

KindOfFile KindOf(const std::string& path) {
  if (IsManifest(path)) {
    return {"the MANIFEST",
            "the table files it and the records after it list are lost to "
            "the store",
            "reading it would silently drop it and every record after it, "
            "and the table files they list"};
  }
  return {"the write-ahead log",
          "the appends in it and in the records after it cannot be read back",
          "replaying the log would silently drop it and every append after "
          "it"};
}

// Why a file in log format could not be read for its check. Taken for an
// empty or whole file, a failed read let a record whose length was altered
// pass for one a crash cut short, which RocksDB then drops without a word
// (found by an audit).
absl::Status CannotCheck(const std::string& path, std::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("cannot read ", AbslView(KindOf(path).name), " ", path,
                   " to check it: ", AbslView(why)));
}

// Opens `path` to check it; nullopt when it is gone: a writer beside a
// reader removes each log once its appends are in table files, maybe after
// the reader listed it (whose open lists the files again).
absl::StatusOr<std::optional<std::ifstream>> OpenToCheck(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) return std::optional<std::ifstream>(std::move(in));
  if (errno == ENOENT) return std::nullopt;
  return CannotCheck(path, std::strerror(errno));
}

}  // namespace

uint32_t Crc32c(std::string_view bytes, uint32_t crc) {
  const std::array<uint32_t, 256>& table = Table();
  crc = ~crc;
  for (char c : bytes) {
    crc = table[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

absl::Status CheckLogTail(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec == std::errc::no_such_file_or_directory) return absl::OkStatus();
  if (ec) return CannotCheck(path, ec.message());
  if (size == 0) return absl::OkStatus();
  const uint64_t block_start = (size - 1) / kBlockBytes * kBlockBytes;
  std::string block(size - block_start, '\0');
  CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::ifstream> in,
                              OpenToCheck(path));
  if (!in) return absl::OkStatus();
  in->seekg(static_cast<std::streamoff>(block_start));
  in->read(block.data(), static_cast<std::streamsize>(block.size()));
  if (in->bad()) return CannotCheck(path, std::strerror(errno));
  // A live log may grow while it is read: judge the bytes read.
  block.resize(static_cast<size_t>(in->gcount()));

  size_t at = 0;
  while (at + kHeaderBytes <= block.size()) {
    const uint32_t stored = Little(block, at, 4);
    const size_t length = Little(block, at + 4, 2);
    const auto type = static_cast<uint8_t>(block[at + 6]);
    if (!HasShortHeader(type)) return absl::OkStatus();  // RocksDB judges it
    const size_t payload = at + kHeaderBytes;
    if (payload + length <= block.size()) {
      at = payload + length;
      continue;
    }
    // Runs past the end: cut short, unless its checksum holds over some of
    // the bytes that are there.
    uint32_t crc =
        Crc32c(std::string_view(reinterpret_cast<const char*>(&type), 1));
    for (size_t end = payload;; ++end) {
      if (Masked(crc) == stored) {
        const KindOfFile kind = KindOf(path);
        return absl::DataLossError(absl::StrCat(
            AbslView(kind.name), " ", path, " is damaged: the record at byte ",
            block_start + at, " claims ", length,
            " bytes and runs past the end of the file, yet its checksum "
            "matches the ",
            end - payload,
            " bytes that follow its header: its length was altered, not cut "
            "short by a crash, and ",
            AbslView(kind.dropped), "; restore the ledger from a backup"));
      }
      if (end == block.size()) break;
      crc = Crc32c(std::string_view(&block[end], 1), crc);
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

namespace {

// FindDamagedLogRecord in one pass of `check`.
absl::Status WalkRecordsIn(std::ifstream& in, const std::string& path,
                           LogCheck check) {
  // A block at a time: a log is up to 64 MiB, and a reader opens beside a
  // writer whose log grows meanwhile (the bytes read are judged).
  std::string buffer(kBlockBytes, '\0');
  auto read_block = [&] {
    in.read(buffer.data(), kBlockBytes);
    return std::string_view(buffer.data(), static_cast<size_t>(in.gcount()));
  };
  auto damaged = [&](uint64_t at, std::string_view what) {
    const KindOfFile kind = KindOf(path);
    return absl::DataLossError(absl::StrCat(
        AbslView(kind.name), " ", path, " is damaged: the record at byte ", at,
        " ", AbslView(what), "; ", AbslView(kind.lost),
        ": restore the ledger from a backup"));
  };
  // Where the record whose first part was read last begins, until its last
  // part is read: RocksDB writes a record longer than the rest of a block
  // in parts, one per block.
  bool unfinished = false;
  uint64_t unfinished_at = 0;
  uint64_t block_start = 0;
  for (std::string_view block = read_block(); !block.empty();
       block_start += kBlockBytes, block = read_block()) {
    const bool last = block.size() < kBlockBytes ||
                      in.peek() == std::ifstream::traits_type::eof();
    size_t at = 0;
    while (at + kHeaderBytes <= block.size()) {
      const uint32_t stored = Little(block, at, 4);
      const size_t length = Little(block, at + 4, 2);
      const auto type = static_cast<uint8_t>(block[at + 6]);
      // RocksDB takes a length and type of zero for space written ahead of
      // the log and skips the rest of the block without a word, whatever
      // the checksum: records after it in the file mean appends dropped.
      if (length == 0 && type == 0) {
        const uint64_t zeros = block_start + at;
        for (size_t from = at + 4;; from = 0) {
          if (block.find_first_not_of('\0', from) != std::string_view::npos) {
            return damaged(zeros,
                           "has zeros for its length and type, as space "
                           "written ahead of the log has, yet records "
                           "follow it");
          }
          if ((block = read_block()).empty()) break;
        }
        // RocksDB refuses that ("error in middle of record"), naming nothing.
        if (unfinished && check == LogCheck::kChecksums) {
          return damaged(unfinished_at,
                         "is the first part of a record whose next part is "
                         "zeros, to the end of the file");
        }
        return absl::OkStatus();
      }
      const size_t payload = at + kHeaderBytes;
      if (payload + length > block.size()) {
        if (last || check == LogCheck::kHeaders) break;
        return damaged(block_start + at,
                       absl::StrCat("claims ", length,
                                    " bytes, past the end of its 32 KiB "
                                    "block"));
      }
      // RocksDB reads a recyclable record (types 5 to 8) with a longer
      // header, and one whose log number is not the file's as left from an
      // earlier use of the file: it stops reading there without a word. The
      // store never recycles logs.
      if (!HasShortHeader(type)) {
        return damaged(block_start + at,
                       absl::StrCat("has type ", type,
                                    ", which no record the store writes has "
                                    "(RocksDB would stop reading at a type "
                                    "of 5 to 8 without a word)"));
      }
      if (check == LogCheck::kChecksums) {
        const uint32_t crc = Crc32c(block.substr(payload, length),
                                    Crc32c(block.substr(at + 6, 1)));
        if (Masked(crc) != stored) {
          return damaged(
              block_start + at,
              absl::StrCat("(to byte ", block_start + payload + length - 1,
                           ") does not match its checksum"));
        }
      }
      if (type == kFirstPart) unfinished_at = block_start + at;
      unfinished = type == kFirstPart ||
                   (unfinished && type != kWholeRecord && type != kLastPart);
      at = payload + length;
    }
  }
  return absl::OkStatus();
}

// A MANIFEST begins with a record (RocksDB names a new one in CURRENT only
// once that record is synced): one that holds none was emptied or zeroed,
// and RocksDB says only that it lacks "log_file_number" entries.
absl::Status ManifestHoldsARecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(kBlockBytes, '\0');
  uint64_t size = 0;
  while (in.read(bytes.data(), kBlockBytes) || in.gcount() > 0) {
    const auto read = static_cast<size_t>(in.gcount());
    if (std::string_view(bytes.data(), read).find_first_not_of('\0') !=
        std::string_view::npos) {
      return absl::OkStatus();
    }
    size += read;
  }
  if (!in.eof()) return absl::OkStatus();  // unreadable: RocksDB's to say
  return absl::DataLossError(absl::StrCat(
      "the MANIFEST ", path, " is damaged: ",
      size == 0 ? "it is empty, cut to nothing"
                : absl::StrCat("its ", size, " bytes are all zeros"),
      ", so it holds no record, and the list of the store's table files is "
      "lost with it: restore the ledger from a backup"));
}

// WalkRecordsIn over the whole file: a walk that a failed read ended is no
// verdict.
absl::Status WalkRecords(const std::string& path, LogCheck check) {
  CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::ifstream> in,
                              OpenToCheck(path));
  if (!in) return absl::OkStatus();
  absl::Status found = WalkRecordsIn(*in, path, check);
  if (in->bad()) return CannotCheck(path, std::strerror(errno));
  return found;
}

}  // namespace

absl::Status FindDamagedLogRecord(const std::string& path, LogCheck check) {
  if (check == LogCheck::kChecksums && IsManifest(path)) {
    CASELEDGER_RETURN_IF_ERROR(ManifestHoldsARecord(path));
  }
  absl::Status found = WalkRecords(path, check);
  // Past a record whose length was damaged, the walk of the headers reads
  // its payload as headers: the checksums name the record itself.
  if (!found.ok() && check == LogCheck::kHeaders) {
    if (absl::Status named = WalkRecords(path, LogCheck::kChecksums);
        !named.ok()) {
      return named;
    }
  }
  return found;
}

}  // namespace caseledger::internal
