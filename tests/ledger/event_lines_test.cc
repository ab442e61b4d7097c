// EventLineReader reads a line a block at a time and holds at most
// kMaxEventLineBytes of one: it must give the lines std::getline gives,
// wherever they end against its blocks, and refuse a longer line without
// losing its place in the input.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/event_json.h"
#include "ledger/event_validation.h"

namespace caseledger {
namespace {

using ::testing::HasSubstr;

// A note event of exactly `bytes` bytes, spaces filling it out before its
// closing brace.
std::string EventOfBytes(size_t bytes, int n) {
  const std::string event = absl::StrCat(
      R"({"case_id": "C-1", "occurred_at": "2011-01-10T10:00:00Z", )",
      R"("actor": {"kind": "OFFICER", "id": "o"}, )",
      R"("officer_note_added": {"text": "note )", n, R"("})");
  EXPECT_LE(event.size() + 1, bytes);
  return event + std::string(bytes - event.size() - 1, ' ') + "}";
}

struct Read {
  uint64_t line;
  std::string text;  // the note's text, or the refusal
};

std::vector<Read> ReadAll(const std::string& input) {
  std::istringstream in(input);
  EventLineReader reader(in);
  std::vector<Read> out;
  while (true) {
    auto next = reader.Next();
    if (absl::IsOutOfRange(next.status())) return out;
    if (!next.ok()) {
      out.push_back({reader.line(), std::string(next.status().message())});
      continue;
    }
    out.push_back({next->line, next->event.officer_note_added().text()});
  }
}

TEST(EventLineReaderTest, LinesEndingAroundItsBlocksAreReadWhole) {
  // The reader's blocks are 16 KiB: lines end just before, at and after
  // one and two of them.
  const std::vector<size_t> sizes = {300,   16382, 16383, 16384, 16385,
                                     32766, 32767, 32768, 32769, 50000};
  for (const char* end : {"\n", "\r\n"}) {
    for (bool last_newline : {true, false}) {
      std::string input;
      for (size_t i = 0; i < sizes.size(); ++i) {
        input += EventOfBytes(sizes[i], static_cast<int>(i));
        if (i + 1 < sizes.size() || last_newline) input += end;
        if (i == 3) input += std::string("  ") + end + end;  // blank lines
      }
      const std::vector<Read> read = ReadAll(input);
      ASSERT_EQ(read.size(), sizes.size());
      for (size_t i = 0; i < sizes.size(); ++i) {
        EXPECT_EQ(read[i].text, absl::StrCat("note ", i))
            << "line of " << sizes[i] << " bytes";
        EXPECT_EQ(read[i].line, i < 4 ? i + 1 : i + 3);
      }
    }
  }
}

TEST(EventLineReaderTest, ALineLongerThanTheLimitIsRefusedAndPassedOver) {
  const std::string at_limit = EventOfBytes(kMaxEventLineBytes, 1);
  const std::string over = EventOfBytes(kMaxEventLineBytes + 1, 2);
  // Over by one, and over by more than a block, each with a line after it.
  const std::string far_over = EventOfBytes(kMaxEventLineBytes + 70000, 3);
  const std::vector<Read> read =
      ReadAll(at_limit + "\n" + over + "\n" + EventOfBytes(400, 4) + "\n" +
              far_over + "\n" + EventOfBytes(400, 5));
  ASSERT_EQ(read.size(), 5u);
  EXPECT_EQ(read[0].line, 1u);
  EXPECT_EQ(read[0].text, "note 1");
  EXPECT_EQ(read[1].line, 2u);
  EXPECT_EQ(read[1].text,
            absl::StrCat("line 2: the line is longer than ", kMaxEventLineBytes,
                         " bytes, and no event of at most ", kMaxEventBytes,
                         " bytes needs that many; the rest of it was not "
                         "read"));
  EXPECT_EQ(read[2].line, 3u);
  EXPECT_EQ(read[2].text, "note 4");
  EXPECT_EQ(read[3].line, 4u);
  EXPECT_THAT(read[3].text, HasSubstr("line 4: the line is longer than"));
  EXPECT_EQ(read[4].line, 5u);
  EXPECT_EQ(read[4].text, "note 5");
}

}  // namespace
}  // namespace caseledger
