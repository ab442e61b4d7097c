// PageLength (tools/server/page_length.h): a stream's pages are bounded by
// bytes as well as by count, so that a stalled client of a case of large
// events holds megabytes, not hundreds of them.
#include "tools/server/page_length.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace caseledger::server {
namespace {

std::vector<RecordedEvent> EventsOf(size_t count, size_t event_bytes) {
  std::vector<RecordedEvent> page(count);
  for (RecordedEvent& e : page) {
    e.event_bytes.assign(event_bytes, 'e');
    e.entry_bytes.assign(100, 'n');
  }
  return page;
}

TEST(PageLengthTest, TheFirstPageIsSmallAndTheNextFollowsTheSizeSeen) {
  PageLength length(256);
  EXPECT_EQ(length.Next(), PageLength::kFirstPage);
  // Events of ~1 KB: the whole 256 the options allow.
  length.After(EventsOf(4, 924));
  EXPECT_EQ(length.Next(), 256u);
  // Events of 1 MiB: four of them make a page of 4 MiB.
  length.After(EventsOf(256, (1 << 20) - 100));
  EXPECT_EQ(length.Next(), 4u);
  // Never fewer than one, whatever the size.
  length.After(EventsOf(1, 64 << 20));
  EXPECT_EQ(length.Next(), 1u);
  // An empty page (the end of a case) teaches nothing.
  length.After({});
  EXPECT_EQ(length.Next(), 1u);
}

// A page holds each event's entry as well as the event: events of a few
// bytes whose entries are of 1 MiB make a page of four.
TEST(PageLengthTest, TheEntriesCountAsMuchAsTheEvents) {
  PageLength length(256);
  std::vector<RecordedEvent> page(4);
  for (RecordedEvent& e : page) {
    e.event_bytes.assign(100, 'e');
    e.entry_bytes.assign((1 << 20) - 100, 'n');
  }
  length.After(page);
  EXPECT_EQ(length.Next(), 4u);
}

TEST(PageLengthTest, TheOptionsBoundEveryPage) {
  PageLength tiny(3);
  EXPECT_EQ(tiny.Next(), 3u);
  tiny.After(EventsOf(3, 10));
  EXPECT_EQ(tiny.Next(), 3u);
  PageLength none(0);  // taken as one
  EXPECT_EQ(none.Next(), 1u);
}

}  // namespace
}  // namespace caseledger::server
