// Fuzz target: the JSON event decoder and the validator (ledger/event_json.h,
// ledger/event_validation.h), the path of every `caseledger append` line.
// Properties: no crash or sanitizer report on any input; an event that
// parses prints back to JSON that parses to the same event and validates the
// same way; the JSON Lines reader stops at the first bad line, naming it.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/event_json.h"
#include "ledger/event_validation.h"
#include "ledger/recorded_event.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using caseledger::ParseEventJson;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto event = ParseEventJson(text);
  if (event.ok()) {
    FUZZ_CHECK(event->IsInitialized(), "parsed event is not initialized");
    const absl::Status valid = caseledger::ValidateEvent(*event);
    (void)caseledger::RequestIdOf(*event);
    (void)caseledger::EventType(*event);
    const std::string json = caseledger::EventToJson(*event);
    FUZZ_CHECK(!json.empty(), "a parsed event does not print as JSON");
    auto again = ParseEventJson(json);
    FUZZ_CHECK(again.ok(),
               absl::StrCat("printed JSON does not parse: ",
                            again.status().ToString(), "\n  ", json));
    FUZZ_CHECK(
        google::protobuf::util::MessageDifferencer::Equals(*event, *again),
        absl::StrCat("JSON round trip changed the event: ", json));
    FUZZ_CHECK(caseledger::ValidateEvent(*again).code() == valid.code(),
               "validation differs after a JSON round trip");
    if (!valid.ok()) {
      FUZZ_CHECK(absl::IsInvalidArgument(valid), valid.ToString());
    }
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(event.status()),
               event.status().ToString());
  }

  // The same bytes as JSON Lines.
  std::istringstream in{std::string(text)};
  caseledger::EventLineReader reader(in);
  for (int i = 0; i < 64; ++i) {
    auto line = reader.Next();
    if (absl::IsOutOfRange(line.status())) break;
    if (!line.ok()) {
      FUZZ_CHECK(absl::StartsWith(line.status().message(),
                                  absl::StrCat("line ", reader.line(), ": ")),
                 absl::StrCat("error does not name its line: ",
                              line.status().ToString()));
      break;
    }
    FUZZ_CHECK(line->line == reader.line(), "line number mismatch");
  }
  return 0;
}
