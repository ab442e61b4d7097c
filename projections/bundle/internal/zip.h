// The one ZIP layout evidence bundles use (docs/bundle-format.md §2): every
// member stored (method 0), no compression, no extra fields, no comments, no
// data descriptors, no ZIP64, DOS time 1980-01-01 00:00:00, members in
// ascending byte order of their names, laid out back to back, then the
// central directory, then the end record. Same members, same bytes.
//
// The reader accepts exactly that layout and nothing else: every header
// field must hold the value the writer writes, every offset and size must
// fall inside the archive and agree with the central directory, names must
// be relative paths of the bundle alphabet, and limits bound the work. It is
// meant for untrusted input (bundles arrive from anywhere and are fuzzed).
// A member whose data does not match its CRC-32 is still returned, flagged,
// so that the verifier can say which member was altered.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_ZIP_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_ZIP_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace caseledger::bundle::internal {

// Limits of the reader (and the writer), docs/bundle-format.md §2.
inline constexpr uint64_t kMaxArchiveBytes = uint64_t{1} << 30;  // 1 GiB
// ZIP without ZIP64 counts members in 16 bits; the writer must not write an
// archive whose end record cannot hold its count.
inline constexpr size_t kMaxMembers = 0xffff;
inline constexpr size_t kMaxNameBytes = 200;

// True when `name` is a member name of the bundle alphabet: one to four
// '/'-separated segments of [A-Za-z0-9._-], none empty, "." or "..", at most
// kMaxNameBytes bytes.
bool IsValidMemberName(std::string_view name);

// What a member named `name` holding `data_bytes` adds to the archive
// (headers included), and what the archive adds besides its members.
uint64_t ZipMemberBytes(std::string_view name, uint64_t data_bytes);
inline constexpr uint64_t kZipEndBytes = 22;

// Returns the archive holding `members` (name -> bytes; the map's order is
// the byte order of the names). kInvalidArgument for a bad name or when the
// archive would pass kMaxArchiveBytes or kMaxMembers. Each member's bytes
// are freed once copied into the archive: a caller that moves its map in
// holds the archive and one member, not two copies of a bundle of up to
// 1 GiB.
absl::StatusOr<std::string> WriteZip(
    std::map<std::string, std::string> members);

struct ZipMember {
  std::string name;
  // Points into the archive bytes given to ReadZip; valid as long as they are.
  std::string_view data;
  // False when `data` does not match the CRC-32 recorded for it.
  bool crc_ok = true;
};

// What the end record says of the central directory.
struct EndRecord {
  uint16_t count = 0;  // members
  uint32_t cd_size = 0;
  uint32_t cd_offset = 0;
};
// Reads the end record from `tail`, the last bytes (at least 22) of an
// archive of `archive_size` bytes, with ReadZip's errors and offsets: a
// file can be refused from its last bytes before all of it is read. Only
// its own fields and the size are checked, and where the directory ends
// when `tail` holds all of it; ReadZip checks the rest.
absl::StatusOr<EndRecord> ReadEndRecord(std::string_view tail,
                                        uint64_t archive_size);

// Checks the first bytes of an archive, `head`: a bundle begins with its
// first member's local header. A pipe has no end to read first, and one
// that is no bundle (an error page fetched in its place) was read up to
// 1 GiB before it was refused (found by an audit); its first bytes tell at
// once. kInvalidArgument, in ReadZip's words, when they are not a local
// header's signature. A head shorter than kZipEndBytes is not judged: it
// may be the whole input, which ReadZip refuses as too short for an end
// record, as it refuses a file of those bytes.
absl::Status CheckZipStart(std::string_view head);

// Parses an archive written by WriteZip. Members come in archive order
// (ascending names). kInvalidArgument naming the offset and field for any
// departure from the layout; never reads outside `archive`.
absl::StatusOr<std::vector<ZipMember>> ReadZip(std::string_view archive);

}  // namespace caseledger::bundle::internal

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_ZIP_H_
