// How many events a stream reads from the store next. A page waits in
// memory while its client reads nothing, so pages are bounded by bytes as
// well as by count: 256 events of up to 1 MiB each held ~256 MB per stalled
// stream, and 64 stalled reads of a case of large events took a server to
// ~1.7 GB (found by an outside test). The first page is small; each next
// one holds as many events as `kPageBytes` fit at the mean size of the page
// before, between 1 and the most the options allow (docs/service.md,
// "Limits").
#ifndef CASELEDGER_TOOLS_SERVER_PAGE_LENGTH_H_
#define CASELEDGER_TOOLS_SERVER_PAGE_LENGTH_H_

#include <algorithm>
#include <cstdint>

#include "absl/types/span.h"
#include "ledger/recorded_event.h"

namespace caseledger::server {

class PageLength {
 public:
  // Stored bytes (event and entry) a page aims at.
  static constexpr uint64_t kPageBytes = uint64_t{4} << 20;
  // Events in the first page, before any size is known.
  static constexpr uint64_t kFirstPage = 4;

  explicit PageLength(uint64_t most)
      : most_(std::max<uint64_t>(most, 1)),
        next_(std::min(most_, kFirstPage)) {}

  // Events to read next.
  uint64_t Next() const { return next_; }

  // Learns from the page just read.
  void After(absl::Span<const RecordedEvent> page) {
    if (page.empty()) return;
    uint64_t bytes = 0;
    for (const RecordedEvent& e : page) {
      bytes += e.event_bytes.size() + e.entry_bytes.size();
    }
    const uint64_t mean = std::max<uint64_t>(bytes / page.size(), 1);
    next_ = std::clamp<uint64_t>(kPageBytes / mean, 1, most_);
  }

 private:
  uint64_t most_;
  uint64_t next_;
};

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_PAGE_LENGTH_H_
