// An event as the ledger holds it: the appender's event plus what the ledger
// assigned (position, case version, recorded time) and the exact stored bytes.
#ifndef CASELEDGER_LEDGER_RECORDED_EVENT_H_
#define CASELEDGER_LEDGER_RECORDED_EVENT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"

namespace caseledger {

struct RecordedEvent {
  uint64_t position = 0;      // global, 1-based
  uint64_t case_version = 0;  // within the case, 1-based
  absl::Time recorded_at;
  v1::Event event;
  // Exact stored bytes: the serialized Event, its 16-byte salt, and the
  // serialized LedgerEntry that the Merkle leaf hashes.
  std::string event_bytes;
  std::string salt;
  std::string entry_bytes;
};

// The payload's field name, e.g. "document_request_sent"; "" when unset.
// The name lives as long as the program.
const std::string& EventType(const v1::Event& event);
// The same for a payload case.
const std::string& EventType(v1::Event::PayloadCase payload);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_RECORDED_EVENT_H_
