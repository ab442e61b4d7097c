// Fuzz target: the JSON event decoder and the validator (ledger/event_json.h,
// ledger/event_validation.h), the path of every `caseledger append` line.
// Properties: no crash or sanitizer report on any input; an event that
// parses is RFC 8259 JSON (a strict reader, projections/internal/json.h,
// takes it too) whose every text field holds what that reader decodes,
// and a line that reader takes is never refused as bad JSON;
// an enum given in quotes is its name, and an integer its digits;
// it prints back to JSON that parses to the same event and validates the
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
#include "projections/internal/json.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using caseledger::projections::internal::JsonValue;
using google::protobuf::FieldDescriptor;

bool IsInteger(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// The decimal digits of the integer `field` of `message` holds.
std::string IntegerText(const google::protobuf::Reflection& reflection,
                        const google::protobuf::Message& message,
                        const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection.GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection.GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(reflection.GetUInt32(message, field));
    default:
      return absl::StrCat(reflection.GetUInt64(message, field));
  }
}

// Checks that each string field of `message` holds the text the strict
// reader decoded for it in `json` (the same object): protobuf's parser once
// dropped the backslash of "C:\dossiers" where JSON refuses the line.
void CheckTextAsStrictlyRead(const JsonValue& json,
                             const google::protobuf::Message& message) {
  const auto* reflection = message.GetReflection();
  for (const auto& member : json.members) {
    const FieldDescriptor* field =
        message.GetDescriptor()->FindFieldByName(member.key);
    if (field == nullptr) {
      field = message.GetDescriptor()->FindFieldByCamelcaseName(member.key);
    }
    FUZZ_CHECK(field != nullptr, "a key protobuf took names no field");
    const JsonValue& value = member.value;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (field->is_repeated()) {
        FUZZ_CHECK(
            value.kind == JsonValue::Kind::kArray &&
                value.elements.size() ==
                    static_cast<size_t>(reflection->FieldSize(message, field)),
            absl::StrCat(field->name(), ": not the list read"));
        for (size_t i = 0; i < value.elements.size(); ++i) {
          FUZZ_CHECK(reflection->GetRepeatedString(message, field, i) ==
                         value.elements[i].text,
                     absl::StrCat(field->name(), "[", i, "] differs"));
        }
      } else if (value.kind == JsonValue::Kind::kString) {
        FUZZ_CHECK(reflection->GetString(message, field) == value.text,
                   absl::StrCat(field->name(), " differs from ", value.text));
      }
    } else if (value.kind == JsonValue::Kind::kString &&
               !field->is_repeated() &&
               field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      // An enum is written by its name, the one EventToJson prints: "1"
      // was once the value numbered 1 to protobuf's parser.
      FUZZ_CHECK(reflection->GetEnum(message, field)->name() == value.text,
                 absl::StrCat(field->name(), ": \"", value.text, "\" read as ",
                              reflection->GetEnum(message, field)->name()));
    } else if (value.kind == JsonValue::Kind::kString &&
               !field->is_repeated() && IsInteger(field)) {
      // An integer in quotes is its decimal digits ("-0" is 0): protobuf's
      // parser also read "+5" and "05" as 5.
      const std::string digits = IntegerText(*reflection, message, field);
      FUZZ_CHECK(value.text == digits || (value.text == "-0" && digits == "0"),
                 absl::StrCat(field->name(), ": \"", value.text, "\" read as ",
                              digits));
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               value.kind == JsonValue::Kind::kObject &&
               field->message_type()->full_name() !=
                   "google.protobuf.Timestamp") {
      CheckTextAsStrictlyRead(value, reflection->GetMessage(message, field));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using caseledger::ParseEventJson;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto event = ParseEventJson(text);
  if (event.ok()) {
    FUZZ_CHECK(event->IsInitialized(), "parsed event is not initialized");
    auto strict = caseledger::projections::internal::ParseJson(text);
    FUZZ_CHECK(strict.ok(), absl::StrCat("taken, though not RFC 8259 JSON: ",
                                         strict.status().ToString()));
    CheckTextAsStrictlyRead(*strict, *event);
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
    // A line a strict reader takes as an object is not refused by the
    // grammar check, whose messages say where a token belongs, or that the
    // line ends early or holds more than an object.
    auto strict = caseledger::projections::internal::ParseJson(text);
    if (strict.ok() && strict->kind == JsonValue::Kind::kObject) {
      const absl::string_view message = event.status().message();
      // (A key may hold any of these words; a message about a field ends
      // with what is wrong with the field.)
      const bool grammar =
          message == "an event must be a JSON object" ||
          ((absl::StartsWith(message, "byte ") ||
            absl::StartsWith(message, "the line ends after byte ")) &&
           (absl::EndsWith(message, " belongs") ||
            absl::EndsWith(message, "a line holds one event") ||
            absl::EndsWith(message, "its closing quote is missing")));
      FUZZ_CHECK(!grammar,
                 absl::StrCat("valid JSON refused as bad JSON: ", message));
    }
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
