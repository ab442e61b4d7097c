// The bundle's ZIP layout: the writer is deterministic and the reader
// accepts exactly what it writes, bounds-checked.
#include "projections/bundle/internal/zip.h"

#include <zlib.h>

#include <map>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger::bundle::internal {
namespace {

const std::map<std::string, std::string> kFiles = {
    {"README.txt", "hello\n"},
    {"events/1.entry", std::string("\x08\x01\x12\x00", 4)},
    {"messages/abc.eml", ""},
    {"z", std::string(1000, 'z')},
};

// A ZIP of `members`, in that order, written without the writer's checks:
// the same layout, any names (for names the writer refuses to write).
// Names must be 2 to 9 bytes long and hold no 'Q'.
std::string RawZip(
    const std::vector<std::pair<std::string, std::string>>& members) {
  // Write each member under a placeholder name of the same length that sorts
  // in the wanted order, then patch the names in.
  std::map<std::string, std::string> placeholder_files;
  std::vector<std::string> placeholders;
  for (size_t i = 0; i < members.size(); ++i) {
    placeholders.push_back(std::string(members[i].first.size() - 1, 'Q') +
                           static_cast<char>('0' + i));
    placeholder_files[placeholders.back()] = members[i].second;
  }
  auto zip = WriteZip(placeholder_files);
  EXPECT_TRUE(zip.ok()) << zip.status();
  std::string out = *zip;
  std::vector<std::pair<size_t, size_t>> patches;  // (offset, member)
  for (size_t i = 0; i < members.size(); ++i) {
    for (size_t pos = out.find(placeholders[i]); pos != std::string::npos;
         pos = out.find(placeholders[i], pos + 1)) {
      patches.push_back({pos, i});
    }
  }
  for (const auto& [pos, i] : patches) {
    out.replace(pos, members[i].first.size(), members[i].first);
  }
  return out;
}

TEST(ZipTest, RoundTripsMembersInNameOrder) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip(kFiles));
  ASSERT_OK_AND_ASSIGN(std::vector<ZipMember> members, ReadZip(zip));
  ASSERT_EQ(members.size(), kFiles.size());
  auto it = kFiles.begin();
  for (const ZipMember& m : members) {
    EXPECT_EQ(m.name, it->first);
    EXPECT_EQ(m.data, it->second);
    EXPECT_TRUE(m.crc_ok);
    ++it;
  }
}

TEST(ZipTest, SameMembersGiveSameBytes) {
  ASSERT_OK_AND_ASSIGN(std::string a, WriteZip(kFiles));
  ASSERT_OK_AND_ASSIGN(std::string b, WriteZip(kFiles));
  EXPECT_EQ(a, b);
}

TEST(ZipTest, EmptyArchiveIsJustTheEndRecord) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip({}));
  EXPECT_EQ(zip.size(), 22u);
  ASSERT_OK_AND_ASSIGN(std::vector<ZipMember> members, ReadZip(zip));
  EXPECT_TRUE(members.empty());
}

TEST(ZipTest, WriterRefusesPathsOutsideTheBundle) {
  for (const char* name :
       {"../x", "/abs", "a//b", "a/./b", "a\\b", "", "a/b/c/d/e", "sp ace"}) {
    EXPECT_FALSE(WriteZip({{name, "x"}}).ok()) << name;
  }
}

TEST(ZipTest, ReaderRejectsDotDotAndOddNames) {
  for (const char* name : {"..", "a/..", "/ab", "a\\b", "a//b"}) {
    std::string zip = RawZip({{name, "x"}});
    auto members = ReadZip(zip);
    EXPECT_FALSE(members.ok()) << name;
  }
  // The refusal quotes the name.
  EXPECT_THAT(std::string(ReadZip(RawZip({{"../x", "x"}})).status().message()),
              ::testing::HasSubstr("member name '../x' is not a bundle path"));
}

TEST(ZipTest, ReaderRejectsDuplicateNames) {
  std::string zip = RawZip({{"same", "1"}, {"same", "2"}});
  auto members = ReadZip(zip);
  ASSERT_FALSE(members.ok());
  EXPECT_NE(members.status().message().find("twice"), std::string::npos)
      << members.status();
}

TEST(ZipTest, ReaderRejectsOutOfOrderNames) {
  std::string zip = RawZip({{"bb", "1"}, {"aa", "2"}});
  EXPECT_FALSE(ReadZip(zip).ok());
}

// The end record counts members in 16 bits (no ZIP64): the writer must
// refuse an archive whose count would wrap, not write one no reader accepts.
// (It used to allow 100,000 members: 65,536 wrote a count of 0.)
TEST(ZipTest, MemberCountFitsTheEndRecord) {
  std::map<std::string, std::string> files;
  for (size_t i = 0; i < kMaxMembers; ++i) {
    files.emplace_hint(files.end(), absl::StrCat("m/", 100000 + i), "");
  }
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip(files));
  ASSERT_OK_AND_ASSIGN(std::vector<ZipMember> members, ReadZip(zip));
  EXPECT_EQ(members.size(), kMaxMembers);
  files["m/200000"] = "";
  EXPECT_EQ(WriteZip(files).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ZipTest, AlteredDataIsReturnedButFlagged) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip(kFiles));
  size_t pos = zip.find(std::string(1000, 'z'));
  ASSERT_NE(pos, std::string::npos);
  zip[pos + 500] = 'y';
  ASSERT_OK_AND_ASSIGN(std::vector<ZipMember> members, ReadZip(zip));
  for (const ZipMember& m : members) EXPECT_EQ(m.crc_ok, m.name != "z");
}

TEST(ZipTest, EveryHeaderByteIsChecked) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip(kFiles));
  // Bytes that are member data: flipping them only clears crc_ok.
  std::vector<bool> is_data(zip.size(), false);
  ASSERT_OK_AND_ASSIGN(std::vector<ZipMember> members, ReadZip(zip));
  for (const ZipMember& m : members) {
    size_t off = static_cast<size_t>(m.data.data() - zip.data());
    for (size_t i = 0; i < m.data.size(); ++i) is_data[off + i] = true;
  }
  for (size_t i = 0; i < zip.size(); ++i) {
    std::string bad = zip;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto read = ReadZip(bad);
    if (is_data[i]) {
      ASSERT_TRUE(read.ok()) << i;
      bool flagged = false;
      for (const ZipMember& m : *read) flagged |= !m.crc_ok;
      EXPECT_TRUE(flagged) << "data byte " << i;
    } else {
      EXPECT_FALSE(read.ok()) << "header byte " << i << " accepted";
    }
  }
}

// Codes read as APPNOTE.TXT and hex dumps show them; counts as numbers.
TEST(ZipTest, ErrorsShowCodesInHexAndCountsInDecimal) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip({{"a", "x"}}));
  std::string bad = zip;
  bad[4] = 20;  // the local header's "version needed", 10 (1.0)
  EXPECT_EQ(
      ReadZip(bad).status().message(),
      "not a bundle archive: offset 4, the local header of 'a' (member 1 of "
      "1): version needed is 20, expected 10");
  bad = zip;
  const size_t central = 30 + 1 + 1;  // after the local header, "a" and "x"
  bad[central + 4] = 0x0a;            // "version made by", 0x0314 (Unix, 2.0)
  EXPECT_EQ(ReadZip(bad).status().message(),
            absl::StrCat("not a bundle archive: offset ", central + 4,
                         ", the central header of member 1 of 1: version "
                         "made by is 0x030a, expected 0x0314"));
  bad = zip;
  const size_t end = zip.size() - 22;
  bad[end] = 'Q';  // the end record's signature, "PK\5\6"
  EXPECT_EQ(ReadZip(bad).status().message(),
            absl::StrCat("not a bundle archive: offset ", end,
                         ": end record signature is 0x06054b51, expected "
                         "0x06054b50"));
  // Of two fields that must agree, both are named: which one was changed
  // cannot be told.
  for (size_t changed : {end + 8, end + 10}) {
    bad = zip;
    bad[changed] = 2;
    EXPECT_EQ(ReadZip(bad).status().message(),
              absl::StrCat("not a bundle archive: offset ", end + 8,
                           ": the entry count on this disk is ",
                           changed == end + 8 ? 2 : 1,
                           " and the total entry count (offset ", end + 10,
                           ") is ", changed == end + 8 ? 1 : 2,
                           "; a bundle gives one count twice"));
  }
  bad = zip;
  bad[end + 16] =
      static_cast<char>(bad[end + 16] + 1);  // the directory's offset
  EXPECT_EQ(ReadZip(bad).status().message(),
            absl::StrCat("not a bundle archive: offset ", end + 12,
                         ": a central directory of ", end - central,
                         " bytes from offset ", central + 1, " (offset ",
                         end + 16, ") does not end at the end record"));
  bad = zip;
  bad[end + 8] = bad[end + 10] = 0;  // no members, with the one still there
  EXPECT_EQ(ReadZip(bad).status().message(),
            absl::StrCat("not a bundle archive: offset ", end + 8,
                         ": the end record counts no members, yet ", central,
                         " bytes come before the central directory"));
}

uint32_t Crc32Of(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()),
            static_cast<uInt>(data.size())));
}

// A local field that repeats a central one names both, and which member it
// is; a lowered count names the count, not the bytes it leaves over (the
// local header was blamed for a changed central CRC-32, and a member was
// never named: found by an adversarial reading).
TEST(ZipTest, ErrorsNameTheMemberAndBothCopiesOfAField) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip({{"a", "x"}, {"b", "y"}}));
  const size_t central = 2 * (30 + 1 + 1);
  const size_t second_central = central + 46 + 1;
  const size_t end = zip.size() - 22;
  std::string bad = zip;
  bad[second_central + 16] ^= 1;  // the second member's central CRC-32
  EXPECT_EQ(ReadZip(bad).status().message(),
            absl::StrCat("not a bundle archive: offset ", 32 + 14,
                         ", the local header of 'b' (member 2 of 2): CRC-32 "
                         "is 0x",
                         absl::Hex(Crc32Of("y"), absl::kZeroPad8),
                         " where the central directory's (offset ",
                         second_central + 16, ") is 0x",
                         absl::Hex(Crc32Of("y") ^ 1, absl::kZeroPad8),
                         "; a bundle gives them alike"));
  // The second member renamed in the central directory, or in its local
  // header with a byte that is not UTF-8 (escaped, as every quoted name).
  struct Renamed {
    size_t at;
    char byte;
    std::string named, local;
  };
  for (const Renamed& r : {Renamed{second_central + 46, 'c', "c", "b"},
                           Renamed{32 + 30, '\xff', "b", "\\xff"}}) {
    bad = zip;
    bad[r.at] = r.byte;
    EXPECT_EQ(ReadZip(bad).status().message(),
              absl::StrCat("not a bundle archive: offset ", 32 + 30,
                           ", the local header of '", r.named,
                           "' (member 2 of 2): the local name '", r.local,
                           "' differs from the central directory's (offset ",
                           second_central + 46, ")"));
  }
  bad = zip;
  bad[end + 8] = bad[end + 10] = 1;  // one member counted of two
  EXPECT_EQ(ReadZip(bad).status().message(),
            absl::StrCat("not a bundle archive: offset ", second_central,
                         ": the central directory holds more members than "
                         "the 1 the end record counts (offset ",
                         end + 8, ")"));
}

TEST(ZipTest, TruncationsAndTrailingBytesAreRejected) {
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip(kFiles));
  for (size_t n = 0; n < zip.size(); ++n) {
    EXPECT_FALSE(ReadZip(zip.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(ReadZip(zip + "x").ok());
  EXPECT_FALSE(ReadZip("x" + zip).ok());
  // Bytes after the end record are named as such, not as a bad signature
  // of whatever stands where the end record should (found by an audit).
  EXPECT_EQ(ReadZip(zip + "0123456789").status().message(),
            absl::StrCat("not a bundle archive: offset ", zip.size(),
                         ": 10 bytes follow the end record (an archive "
                         "comment or data appended to the file); a bundle "
                         "ends with its end record"));
  EXPECT_THAT(std::string(ReadZip(zip + "x").status().message()),
              ::testing::HasSubstr(": 1 byte follows the end record"));
  // Bytes before it, or a whole archive (two bundles in one file), move
  // the central directory off its recorded offset by their length.
  const size_t end = zip.size() - 22;
  const uint32_t cd_size = static_cast<uint8_t>(zip[end + 12]) |
                           static_cast<uint8_t>(zip[end + 13]) << 8;
  for (const std::string& before : {std::string("#!/bin/sh\n"), zip}) {
    const size_t moved_end = before.size() + end;
    EXPECT_EQ(ReadZip(before + zip).status().message(),
              absl::StrCat("not a bundle archive: offset ", moved_end + 16,
                           ": the central directory stands ", before.size(),
                           " bytes after the offset the end record gives (",
                           end - cd_size,
                           "): data before the archive in the file (another "
                           "archive, say), or an altered offset"));
  }
  // Bytes put between the last member and the central directory, the
  // end record's offset moved past them: every byte of a bundle is a
  // member's or a header's (they were read as no part of anything, with
  // this check taken out: found by a mutation).
  const size_t cd_offset = end - cd_size;
  std::string gap = zip.substr(0, cd_offset) + "hidden" + zip.substr(cd_offset);
  for (int i = 0; i < 4; ++i) {
    gap[end + 6 + 16 + i] = static_cast<char>((cd_offset + 6) >> (8 * i));
  }
  EXPECT_EQ(ReadZip(gap).status().message(),
            absl::StrCat("not a bundle archive: offset ", cd_offset,
                         ": bytes between the last member and the central "
                         "directory"));
  // A size lowered by the first central header's length lands on a central
  // header too; its offset, which still holds the first, is not blamed.
  std::string lowered = zip;
  const uint32_t first_header = 46 + std::string("README.txt").size();
  lowered[end + 12] = static_cast<char>((cd_size - first_header) & 0xff);
  lowered[end + 13] = static_cast<char>((cd_size - first_header) >> 8);
  EXPECT_THAT(std::string(ReadZip(lowered).status().message()),
              ::testing::HasSubstr(absl::StrCat(
                  ": a central directory of ", cd_size - first_header,
                  " bytes from offset ", end - cd_size, " (offset ", end + 16,
                  ") does not end at the end record")));
}

// A file is first judged by its last 65,557 bytes (where an end record
// must lie); a central directory longer than that, after data put before
// the archive, was refused from the tail as one that "does not end at the
// end record", where the same bytes read whole were named as data before
// the archive. The tail leaves it to the whole.
TEST(ZipTest, ATailShorterThanTheDirectoryLeavesItToTheWhole) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 1200; ++i) {
    files.emplace(absl::StrCat("events/", 100000 + i, ".entry"), "e");
  }
  ASSERT_OK_AND_ASSIGN(const std::string zip, WriteZip(files));
  const std::string moved = "#!/bin/sh\n" + zip;
  const size_t tail_size = 0xffff + 22;
  ASSERT_GT(1200u * (46 + 19), tail_size);  // the directory is longer
  EXPECT_OK(ReadEndRecord(moved.substr(moved.size() - tail_size), moved.size())
                .status());
  EXPECT_THAT(std::string(ReadZip(moved).status().message()),
              ::testing::HasSubstr(
                  ": the central directory stands 10 bytes after the offset "
                  "the end record gives"));
  // A tail that holds the whole directory still judges it.
  const std::string small = "#!/bin/sh\n" + WriteZip(kFiles).value();
  EXPECT_THAT(
      std::string(ReadEndRecord(small, small.size()).status().message()),
      ::testing::HasSubstr(": the central directory stands 10 bytes"));
}

// An archive's first bytes tell a pipe that is no bundle before the rest
// is read: an archive's own are taken, and anything shorter than an end
// record is left to ReadZip, which says it is too short.
TEST(ZipTest, TheFirstBytesOfAnArchiveAreALocalHeader) {
  ASSERT_OK_AND_ASSIGN(const std::string zip, WriteZip(kFiles));
  EXPECT_OK(CheckZipStart(zip.substr(0, kZipEndBytes)));
  EXPECT_OK(CheckZipStart(zip));
  const std::string page = "<!DOCTYPE html><p>Not Found</p>";
  EXPECT_EQ(CheckZipStart(page).message(),
            "not a bundle archive: offset 0: the archive begins with "
            "0x4f44213c (\"<!DO\"), not a local header (0x04034b50): no "
            "bundle, or data before one");
  EXPECT_THAT(std::string(CheckZipStart("#!/bin/sh\n" + zip).message()),
              ::testing::HasSubstr("begins with 0x622f2123 (\"#!/b\")"));
  // An archive of no members begins with its end record: no bundle.
  ASSERT_OK_AND_ASSIGN(const std::string empty, WriteZip({}));
  EXPECT_FALSE(CheckZipStart(empty).ok());
  EXPECT_OK(CheckZipStart(page.substr(0, kZipEndBytes - 1)));
  EXPECT_OK(CheckZipStart(""));
}

TEST(ZipTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20110121);
  ASSERT_OK_AND_ASSIGN(std::string zip, WriteZip(kFiles));
  for (int i = 0; i < 3000; ++i) {
    std::string bad = zip;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    auto read = ReadZip(bad);
    if (read.ok()) {
      for (const ZipMember& m : *read) {
        ASSERT_GE(m.data.data(), bad.data());
        ASSERT_LE(m.data.data() + m.data.size(), bad.data() + bad.size());
      }
    }
  }
}

}  // namespace
}  // namespace caseledger::bundle::internal
