// Fuzz target: the validator on binary events, the path of gRPC Append
// (ledger/event_validation.h). Properties: no crash on any message; an event
// that validates prints as JSON (for `read --format json`) that parses back
// to the same event and validates again, so what the ledger accepts it can
// always show and re-import.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "caseledger/v1/events.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/event_json.h"
#include "ledger/event_validation.h"
#include "ledger/recorded_event.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Invalid UTF-8 is refused by the parser, which also logs it: quiet.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  caseledger::v1::Event event;
  if (!event.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::Status valid = caseledger::ValidateEvent(event);
  (void)caseledger::RequestIdOf(event);
  (void)caseledger::EventType(event);
  if (!valid.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(valid), valid.ToString());
    FUZZ_CHECK(valid.message().find(": ") != absl::string_view::npos,
               absl::StrCat("error names no field: ", valid.ToString()));
    return 0;
  }
  const std::string json = caseledger::EventToJson(event);
  FUZZ_CHECK(!json.empty(), absl::StrCat("a valid event does not print as "
                                         "JSON: ",
                                         event.ShortDebugString()));
  auto again = caseledger::ParseEventJson(json);
  FUZZ_CHECK(again.ok(), absl::StrCat("a valid event's JSON does not parse: ",
                                      again.status().ToString(), "\n  ", json));
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(event, *again),
             absl::StrCat("JSON round trip changed a valid event: ", json));
  FUZZ_CHECK(
      caseledger::ValidateEvent(*again).ok(),
      absl::StrCat("a valid event is invalid after a JSON round trip: ", json));
  return 0;
}
