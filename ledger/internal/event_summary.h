// The few fields of a stored event that walks over the whole log need:
// which payload it carries, its case, its event id and a document
// request's id. Read from protobuf's wire format, they cost a fraction of
// parsing the event, which builds every nested message and checks every
// string; in verify's walk the parse was a fifth of the time.
#ifndef CASELEDGER_LEDGER_INTERNAL_EVENT_SUMMARY_H_
#define CASELEDGER_LEDGER_INTERNAL_EVENT_SUMMARY_H_

#include <optional>
#include <string_view>

#include "caseledger/v1/events.pb.h"

namespace caseledger::internal {

struct EventSummary {
  std::string_view event_id;
  std::string_view case_id;
  v1::Event::PayloadCase payload = v1::Event::PAYLOAD_NOT_SET;
  // A DocumentRequestSent's request_id; empty for other payloads.
  std::string_view request_id;
};

// The summary of the serialized event `bytes`, equal to what parsing them
// would give. Bytes in the one form the ledger writes (each of these fields
// once, no groups) are read from the wire; any other form is parsed into
// `scratch`, which the views then point into. nullopt when a parse fails
// (bytes that are not protobuf's wire format). Nested messages other than
// a request's payload are not read, so bytes within them that would not
// parse (or a string that is not UTF-8) go unnoticed: callers that need
// the event whole parse it.
std::optional<EventSummary> SummarizeEvent(std::string_view bytes,
                                           v1::Event& scratch);

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_EVENT_SUMMARY_H_
