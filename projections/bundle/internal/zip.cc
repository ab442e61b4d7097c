#include "projections/bundle/internal/zip.h"

#include <zlib.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"
#include "ledger/untrusted_text.h"

namespace caseledger::bundle::internal {
namespace {

// Fixed header values, docs/bundle-format.md §2.
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint16_t kVersionNeeded = 10;                   // 1.0: stored members
constexpr uint16_t kVersionMadeBy = 0x0314;               // Unix, 2.0
constexpr uint16_t kDosTime = 0;                          // 00:00:00
constexpr uint16_t kDosDate = (1 << 5) | 1;               // 1980-01-01
constexpr uint32_t kExternalAttributes = 0100644u << 16;  // -rw-r--r--
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndSize = kZipEndBytes;

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}
void Put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large members in pieces.
  while (!data.empty()) {
    size_t n = std::min<size_t>(data.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()),
                static_cast<uInt>(n));
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// A bounds-checked cursor over the archive.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(uint64_t offset, uint64_t n) const {
    return offset <= bytes_.size() && n <= bytes_.size() - offset;
  }
  uint16_t U16(uint64_t offset) const {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data());
    return static_cast<uint16_t>(p[offset] | (p[offset + 1] << 8));
  }
  uint32_t U32(uint64_t offset) const {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data());
    return static_cast<uint32_t>(p[offset]) |
           (static_cast<uint32_t>(p[offset + 1]) << 8) |
           (static_cast<uint32_t>(p[offset + 2]) << 16) |
           (static_cast<uint32_t>(p[offset + 3]) << 24);
  }
  std::string_view Slice(uint64_t offset, uint64_t n) const {
    return bytes_.substr(offset, n);
  }
  uint64_t size() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
};

// `where` names the header being read ("the local header of 'state.json'"),
// empty in the end record: an offset alone left the reader to find which
// member it fell in (found by an adversarial reading).
absl::Status Bad(uint64_t offset, std::string_view where,
                 std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "not a bundle archive: offset ", offset, where.empty() ? "" : ", ",
      std::string(where), ": ", std::string(what)));
}

// How a field's value reads best in an error: sizes, counts, offsets and
// "version needed" (10 for 1.0) in decimal; signatures, "version made by"
// (system and version bytes), flags and other codes in hex, as ZIP's
// specification (APPNOTE.TXT) and hex dumps show them.
enum class Shown { kNumber, kCode };

std::string Show(uint64_t v, Shown shown, size_t field_bytes) {
  if (shown == Shown::kNumber) return absl::StrCat(v);
  return absl::StrCat(
      "0x", absl::Hex(v, field_bytes == 2 ? absl::kZeroPad4 : absl::kZeroPad8));
}

// Checks a 16- or 32-bit field against the value the writer writes; the
// error names the header through `where`, a string in the caller's scope.
#define ZIP_EXPECT(shown, reader_call, offset, expected, what)                 \
  do {                                                                         \
    const uint64_t found = (reader_call);                                      \
    if (found != (expected)) {                                                 \
      const size_t bytes = sizeof(reader_call);                                \
      return Bad(                                                              \
          (offset), where,                                                     \
          absl::StrCat(what, " is ", Show(found, Shown::shown, bytes),         \
                       ", expected ", Show((expected), Shown::shown, bytes))); \
    }                                                                          \
  } while (false)

// Checks a local header field against the central directory's copy, both
// named: which of the two was altered cannot be told from them alone (the
// local one was blamed for a changed central one; an adversarial reading).
#define ZIP_AGREE(shown, reader_call, offset, central, central_offset, what)  \
  do {                                                                        \
    const uint64_t found = (reader_call);                                     \
    if (found != (central)) {                                                 \
      const size_t bytes = sizeof(reader_call);                               \
      return Bad((offset), where,                                             \
                 absl::StrCat(what, " is ", Show(found, Shown::shown, bytes), \
                              " where the central directory's (offset ",      \
                              (central_offset), ") is ",                      \
                              Show((central), Shown::shown, bytes),           \
                              "; a bundle gives them alike"));                \
    }                                                                         \
  } while (false)

}  // namespace

bool IsValidMemberName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  int segments = 0;
  size_t start = 0;
  while (true) {
    size_t end = name.find('/', start);
    std::string_view seg = name.substr(start, end == std::string_view::npos
                                                  ? std::string_view::npos
                                                  : end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      if (!IsNameChar(c)) return false;
    }
    if (++segments > 4) return false;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return true;
}

uint64_t ZipMemberBytes(std::string_view name, uint64_t data_bytes) {
  return kLocalHeaderSize + kCentralHeaderSize + 2 * name.size() + data_bytes;
}

absl::StatusOr<std::string> WriteZip(
    std::map<std::string, std::string> members) {
  if (members.size() > kMaxMembers) {
    return absl::InvalidArgumentError(
        absl::StrCat("a bundle holds at most ", kMaxMembers, " files"));
  }
  uint64_t total = kEndSize;
  for (const auto& [name, data] : members) {
    if (!IsValidMemberName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad bundle member name '", name, "'"));
    }
    total += ZipMemberBytes(name, data.size());
  }
  if (total > kMaxArchiveBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the bundle would be ", total, " bytes; the limit is ",
                     kMaxArchiveBytes));
  }
  std::string out, central;
  out.reserve(total);
  for (auto& [name, data] : members) {
    const uint32_t crc = Crc32(data);
    const auto size = static_cast<uint32_t>(data.size());
    const auto offset = static_cast<uint32_t>(out.size());
    const auto name_len = static_cast<uint16_t>(name.size());
    Put32(&out, kLocalSignature);
    Put16(&out, kVersionNeeded);
    Put16(&out, 0);  // flags
    Put16(&out, 0);  // method: stored
    Put16(&out, kDosTime);
    Put16(&out, kDosDate);
    Put32(&out, crc);
    Put32(&out, size);  // compressed
    Put32(&out, size);  // uncompressed
    Put16(&out, name_len);
    Put16(&out, 0);  // extra field length
    out += name;
    out += data;
    std::string().swap(data);

    Put32(&central, kCentralSignature);
    Put16(&central, kVersionMadeBy);
    Put16(&central, kVersionNeeded);
    Put16(&central, 0);
    Put16(&central, 0);
    Put16(&central, kDosTime);
    Put16(&central, kDosDate);
    Put32(&central, crc);
    Put32(&central, size);
    Put32(&central, size);
    Put16(&central, name_len);
    Put16(&central, 0);  // extra
    Put16(&central, 0);  // comment
    Put16(&central, 0);  // disk number start
    Put16(&central, 0);  // internal attributes
    Put32(&central, kExternalAttributes);
    Put32(&central, offset);
    central += name;
  }
  const auto central_offset = static_cast<uint32_t>(out.size());
  const auto count = static_cast<uint16_t>(members.size());
  out += central;
  Put32(&out, kEndSignature);
  Put16(&out, 0);  // this disk
  Put16(&out, 0);  // disk with the central directory
  Put16(&out, count);
  Put16(&out, count);
  Put32(&out, static_cast<uint32_t>(central.size()));
  Put32(&out, central_offset);
  Put16(&out, 0);  // comment length
  return out;
}

absl::StatusOr<EndRecord> ReadEndRecord(std::string_view tail,
                                        uint64_t archive_size) {
  if (tail.size() > archive_size) {
    return absl::InvalidArgumentError("the tail is longer than the archive");
  }
  Reader r(tail);
  const std::string where;  // the end record: named by its fields alone
  // Offsets in errors are the archive's: `base` is where the tail starts.
  const uint64_t base = archive_size - tail.size();
  if (archive_size > kMaxArchiveBytes) {
    return Bad(0, where,
               absl::StrCat("archive of ", archive_size,
                            " bytes is over the limit of ", kMaxArchiveBytes));
  }
  if (archive_size < kEndSize) {
    return Bad(0, where, "too short for a ZIP end record");
  }
  if (tail.size() < kEndSize) {
    return absl::InvalidArgumentError("the tail is shorter than an end record");
  }
  const uint64_t at = r.size() - kEndSize;  // in the tail
  const uint64_t end = base + at;           // in the archive
  if (r.U32(at) != kEndSignature) {
    // An archive comment, or bytes appended to the file, put the end record
    // elsewhere; say so rather than show the signature of what is there
    // (found by an audit). A comment is at most 65,535 bytes.
    const std::string_view whole = r.Slice(0, r.size());
    const size_t from = at > 0xffff ? at - 0xffff : 0;
    const size_t found = whole.rfind("PK\x05\x06", at);
    if (found != std::string_view::npos && found >= from) {
      const size_t after = at - found;
      return Bad(
          base + found + kEndSize, where,
          absl::StrCat(after, after == 1 ? " byte follows" : " bytes follow",
                       " the end record (an archive comment or data "
                       "appended to the file); a bundle ends with its "
                       "end record"));
    }
  }
  ZIP_EXPECT(kCode, r.U32(at), end, kEndSignature, "end record signature");
  ZIP_EXPECT(kNumber, r.U16(at + 4), end + 4, 0, "disk number");
  ZIP_EXPECT(kNumber, r.U16(at + 6), end + 6, 0, "central directory disk");
  // Which of two fields that must agree is the altered one cannot be told:
  // each is named (found by an outside reading, which saw the total blamed
  // for a changed count on this disk).
  EndRecord record;
  record.count = r.U16(at + 8);
  const uint16_t total = r.U16(at + 10);
  if (total != record.count) {
    return Bad(
        end + 8, where,
        absl::StrCat("the entry count on this disk is ", record.count,
                     " and the total entry count (offset ", end + 10, ") is ",
                     total, "; a bundle gives one count twice"));
  }
  record.cd_size = r.U32(at + 12);
  record.cd_offset = r.U32(at + 16);
  ZIP_EXPECT(kNumber, r.U16(at + 20), end + 20, 0, "archive comment length");
  const uint64_t cd_end = uint64_t{record.cd_offset} + record.cd_size;
  // Bytes put before the archive (another archive, a script) move the
  // central directory off the offset the end record gives by their length:
  // said so, where the offsets alone left the reader to work it out (found
  // by an adversarial reading). A lowered offset reads the same. A lowered
  // size does not: its offset still holds a central header, as it does in
  // two bundles in one file, where the first one's end record ends where
  // the second begins.
  auto holds = [&](uint64_t offset, uint32_t signature) {
    return offset >= base && r.Has(offset - base, 4) &&
           r.U32(offset - base) == signature;
  };
  // A tail that does not reach back to where the directory begins cannot
  // tell the two apart: ReadZip does, from the whole archive (a file's tail
  // said "does not end at the end record" where standard input, read
  // whole, said "data before the archive"; found by an adversarial
  // reading).
  if (cd_end != end && base > 0 && at < record.cd_size) return record;
  const uint64_t before = end - std::min(cd_end, end);
  if (cd_end < end && at >= record.cd_size &&
      r.U32(at - record.cd_size) == kCentralSignature &&
      (!holds(record.cd_offset, kCentralSignature) ||
       (before >= kEndSize && holds(before - kEndSize, kEndSignature)))) {
    return Bad(end + 16, where,
               absl::StrCat("the central directory stands ", before,
                            before == 1 ? " byte" : " bytes",
                            " after the offset the end record gives (",
                            record.cd_offset,
                            "): data before the archive in the file (another "
                            "archive, say), or an altered offset"));
  }
  if (cd_end != end) {
    return Bad(
        end + 12, where,
        absl::StrCat("a central directory of ", record.cd_size,
                     " bytes from offset ", record.cd_offset, " (offset ",
                     end + 16, ") does not end at the end record"));
  }
  return record;
}

absl::Status CheckZipStart(std::string_view head) {
  if (head.size() < kEndSize) return absl::OkStatus();
  const uint32_t found = Reader(head).U32(0);
  if (found == kLocalSignature) return absl::OkStatus();
  return Bad(
      0, "",
      absl::StrCat("the archive begins with ", Show(found, Shown::kCode, 4),
                   " (\"", Printable(head.substr(0, 4)),
                   "\"), not a local header (",
                   Show(kLocalSignature, Shown::kCode, 4),
                   "): no bundle, or data before one"));
}

absl::StatusOr<std::vector<ZipMember>> ReadZip(std::string_view archive) {
  Reader r(archive);
  CASELEDGER_ASSIGN_OR_RETURN(const EndRecord record,
                              ReadEndRecord(archive, archive.size()));
  const uint64_t end = r.size() - kEndSize;
  const uint16_t count = record.count;
  const uint32_t cd_offset = record.cd_offset;
  std::string where;
  // A 16-bit count cannot pass kMaxMembers.
  static_assert(kMaxMembers >= 0xffff);

  std::vector<ZipMember> members;
  members.reserve(count);
  std::set<std::string_view> names;
  uint64_t cd = cd_offset;
  uint64_t next_local = 0;  // members are laid out back to back from 0
  for (uint16_t i = 0; i < count; ++i) {
    const std::string nth = absl::StrCat("member ", i + 1, " of ", count);
    where = absl::StrCat("the central header of ", nth);
    // The end record's count, or an earlier header's lengths, ran the
    // reading past the directory that ends where the end record starts.
    if (cd + kCentralHeaderSize > end) {
      return Bad(cd, where, "the header runs past the central directory");
    }
    ZIP_EXPECT(kCode, r.U32(cd), cd, kCentralSignature,
               "central header signature");
    ZIP_EXPECT(kCode, r.U16(cd + 4), cd + 4, kVersionMadeBy, "version made by");
    ZIP_EXPECT(kNumber, r.U16(cd + 6), cd + 6, kVersionNeeded,
               "version needed");
    ZIP_EXPECT(kCode, r.U16(cd + 8), cd + 8, 0, "flags");
    ZIP_EXPECT(kCode, r.U16(cd + 10), cd + 10, 0, "compression method");
    ZIP_EXPECT(kCode, r.U16(cd + 12), cd + 12, kDosTime, "modification time");
    ZIP_EXPECT(kCode, r.U16(cd + 14), cd + 14, kDosDate, "modification date");
    const uint32_t crc = r.U32(cd + 16);
    const uint32_t size = r.U32(cd + 20);
    ZIP_EXPECT(kNumber, r.U32(cd + 24), cd + 24, size, "uncompressed size");
    const uint16_t name_len = r.U16(cd + 28);
    ZIP_EXPECT(kNumber, r.U16(cd + 30), cd + 30, 0, "extra field length");
    ZIP_EXPECT(kNumber, r.U16(cd + 32), cd + 32, 0, "file comment length");
    ZIP_EXPECT(kNumber, r.U16(cd + 34), cd + 34, 0, "disk number start");
    ZIP_EXPECT(kCode, r.U16(cd + 36), cd + 36, 0, "internal attributes");
    ZIP_EXPECT(kCode, r.U32(cd + 38), cd + 38, kExternalAttributes,
               "external attributes");
    const uint32_t local = r.U32(cd + 42);
    ZIP_EXPECT(kNumber, local, cd + 42, next_local, "local header offset");
    if (cd + kCentralHeaderSize + name_len > end) {
      return Bad(cd + 28, where,
                 absl::StrCat("the name (", name_len,
                              " bytes) runs past the central directory"));
    }
    const std::string_view name = r.Slice(cd + kCentralHeaderSize, name_len);
    if (!IsValidMemberName(name)) {
      return Bad(cd + kCentralHeaderSize, where,
                 absl::StrCat("member name '", Printable(name, kMaxNameBytes),
                              "' is not a bundle path"));
    }
    if (!members.empty() && !(members.back().name < name)) {
      return Bad(cd + kCentralHeaderSize, where,
                 absl::StrCat("member '", std::string(name),
                              names.count(name) ? "' appears twice"
                                                : "' is out of order"));
    }
    names.insert(name);
    const uint64_t central = cd;
    cd += kCentralHeaderSize + name_len;

    // The local header repeats the central one.
    where = absl::StrCat("the local header of '", std::string(name), "' (", nth,
                         ")");
    if (!r.Has(local, kLocalHeaderSize)) {
      return Bad(local, where, "the header runs past the archive");
    }
    ZIP_EXPECT(kCode, r.U32(local), local, kLocalSignature,
               "local header signature");
    ZIP_EXPECT(kNumber, r.U16(local + 4), local + 4, kVersionNeeded,
               "version needed");
    ZIP_EXPECT(kCode, r.U16(local + 6), local + 6, 0, "flags");
    ZIP_EXPECT(kCode, r.U16(local + 8), local + 8, 0, "compression method");
    ZIP_EXPECT(kCode, r.U16(local + 10), local + 10, kDosTime,
               "modification time");
    ZIP_EXPECT(kCode, r.U16(local + 12), local + 12, kDosDate,
               "modification date");
    ZIP_AGREE(kCode, r.U32(local + 14), local + 14, crc, central + 16,
              "CRC-32");
    ZIP_AGREE(kNumber, r.U32(local + 18), local + 18, size, central + 20,
              "compressed size");
    ZIP_AGREE(kNumber, r.U32(local + 22), local + 22, size, central + 24,
              "uncompressed size");
    ZIP_AGREE(kNumber, r.U16(local + 26), local + 26, name_len, central + 28,
              "name length");
    ZIP_EXPECT(kNumber, r.U16(local + 28), local + 28, 0, "extra field length");
    const uint64_t data_offset = uint64_t{local} + kLocalHeaderSize + name_len;
    if (!r.Has(local + kLocalHeaderSize, name_len) ||
        r.Slice(local + kLocalHeaderSize, name_len) != name) {
      return Bad(
          local + kLocalHeaderSize, where,
          absl::StrCat("the local name '",
                       Printable(r.Slice(local + kLocalHeaderSize, name_len),
                                 kMaxNameBytes),
                       "' differs from the central directory's (offset ",
                       central + kCentralHeaderSize, ")"));
    }
    if (data_offset + size > cd_offset) {
      return Bad(local + 18, where,
                 absl::StrCat("data of '", std::string(name),
                              "' runs into the central directory"));
    }
    ZipMember m;
    m.name = std::string(name);
    m.data = r.Slice(data_offset, size);
    m.crc_ok = Crc32(m.data) == crc;
    members.push_back(std::move(m));
    next_local = data_offset + size;
  }
  where.clear();
  if (members.empty() && cd_offset > 0) {
    return Bad(end + 8, where,
               absl::StrCat("the end record counts no members, yet ", cd_offset,
                            " bytes come before the central "
                            "directory"));
  }
  // More central headers than the count first: the bytes they leave before
  // the central directory would otherwise be blamed (a lowered count read
  // "bytes between the last member and the central directory").
  if (cd != end) {
    return Bad(
        cd, where,
        absl::StrCat("the central directory holds more members than the ",
                     count, " the end record counts (offset ", end + 8, ")"));
  }
  if (next_local != cd_offset) {
    return Bad(next_local, where,
               "bytes between the last member and the central "
               "directory");
  }
  return members;
}

#undef ZIP_EXPECT
#undef ZIP_AGREE

}  // namespace caseledger::bundle::internal
