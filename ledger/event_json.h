// Events in and out of JSON, using the protobuf proto3 JSON mapping
// (domain.md §3): camelCase or snake_case accepted on input, snake_case
// written; unknown fields and enum names are rejected.
#ifndef CASELEDGER_LEDGER_EVENT_JSON_H_
#define CASELEDGER_LEDGER_EVENT_JSON_H_

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "caseledger/v1/events.pb.h"

namespace caseledger {

// Parses one JSON object into an event. kInvalidArgument naming the field
// on malformed JSON, unknown fields or enum names, bad timestamps.
// `bytes_before`: bytes of its line before `json` (a byte order mark the
// reader skipped), so that the byte an error names counts from the line's
// start.
absl::StatusOr<v1::Event> ParseEventJson(std::string_view json,
                                         size_t bytes_before = 0);

// The event as one line of JSON with snake_case field names.
std::string EventToJson(const v1::Event& event);

// One event of a JSON Lines input with the 1-based line it came from.
struct EventLine {
  uint64_t line = 0;
  v1::Event event;
};

// Reads JSON Lines; blank lines are skipped. Stops at the first bad line with
// kInvalidArgument "line N: <field>: <problem>".
absl::StatusOr<std::vector<EventLine>> ReadEventLines(std::istream& in);

// The longest line a reader holds. An event is at most 1 MiB encoded
// (kMaxEventBytes), and JSON stretches it at most sixfold ("\u0001" for
// one byte of text), so no event needs a line this long; a longer one is
// refused unread, where it was held whole, at twice its length in memory
// (a line of 1 GiB of spaces took 2 GiB: found by a probe).
inline constexpr size_t kMaxEventLineBytes = 16 << 20;

// Reads JSON Lines one event at a time, for inputs too large to hold.
class EventLineReader {
 public:
  explicit EventLineReader(std::istream& in) : in_(in) {}
  // The next event; kOutOfRange at the end of the input. After a line that
  // does not parse (kInvalidArgument "line N: ..."), the next call reads on
  // from the line after it; after an input refused whole (UTF-16) or a read
  // error, every call ends the input.
  absl::StatusOr<EventLine> Next();
  uint64_t line() const { return line_; }

 private:
  std::istream& in_;
  uint64_t line_ = 0;
  bool ended_ = false;
};

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_EVENT_JSON_H_
