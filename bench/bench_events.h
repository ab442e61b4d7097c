// Realistic events for the benchmarks: the life of a visa case as the
// ledger's users append it (case opened, consent, document requests with
// their delivery notices and replies, officer notes), so that sizes, types
// and the sequencer's checks (first event of a case, request already sent)
// are those of production traffic, not of synthetic blobs.
//
// Thread safety: the functions are thread-safe; a CaseScript is not.
#ifndef CASELEDGER_BENCH_BENCH_EVENTS_H_
#define CASELEDGER_BENCH_BENCH_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "caseledger/v1/events.pb.h"

namespace caseledger::bench {

// Returns the `index`-th (0-based) event of case `case_id`. Index 0 opens the
// case, index 1 records the applicant's e-mail consent; from index 2 on the
// case cycles through a document request (the largest event, ~400 bytes
// serialized), its delivery notice, the applicant's reply, the documents
// received and an officer note, each request with a fresh request id.
// `event_id` is a UUID unique to (case_id, index), so re-running a script
// against the same ledger would be an idempotent retry.
v1::Event CaseEvent(const std::string& case_id, uint64_t index);

// A deterministic UUID-shaped id for (case_id, index).
std::string BenchEventId(const std::string& case_id, uint64_t index);

// The events of one case in order, generated on demand.
class CaseScript {
 public:
  explicit CaseScript(std::string case_id) : case_id_(std::move(case_id)) {}
  v1::Event Next() { return CaseEvent(case_id_, next_++); }
  uint64_t produced() const { return next_; }

 private:
  std::string case_id_;
  uint64_t next_ = 0;
};

// The events of `width` cases taken in turn, one event from each, as a
// batch appender sends them; a case that reaches `case_length` events is
// replaced by a new one. Case ids are `prefix` and a counter.
class RoundRobinCases {
 public:
  RoundRobinCases(std::string prefix, size_t width, uint64_t case_length);
  // Replaces `out` with the next `n` events.
  void Next(size_t n, std::vector<v1::Event>& out);

 private:
  std::string prefix_;
  uint64_t case_length_;
  uint64_t cases_made_ = 0;
  std::vector<CaseScript> scripts_;
  size_t next_ = 0;
};

}  // namespace caseledger::bench

#endif  // CASELEDGER_BENCH_BENCH_EVENTS_H_
