#include "ledger/event_json.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace caseledger {
namespace {

// What a JSON value of protobuf's scalar type `type` must look like.
absl::string_view ExpectedScalar(absl::string_view type) {
  if (type == "TYPE_STRING") return "a string";
  if (type == "TYPE_BOOL") return "true or false";
  if (type == "TYPE_DOUBLE" || type == "TYPE_FLOAT") return "a number";
  if (absl::StartsWith(type, "TYPE_")) return "an integer";
  return "";
}

// protobuf's JSON parser reports "(actor.kind): invalid value "KING" for
// type type.googleapis.com/caseledger.v1.ActorKind.Value" or "(actor)
// colour: Cannot find field."; caseledger names the field first, then the
// problem in the domain's terms (docs/bad-input.md, section 2.1). A message
// of a form not recognised here is kept whole.
std::string ExplainJsonError(absl::string_view message) {
  std::string path;
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "(")) {
    const size_t close = rest.find(')');
    if (close == absl::string_view::npos) return std::string(message);
    path = std::string(rest.substr(0, close));
    rest.remove_prefix(close + 1);
  }
  auto field = [&](absl::string_view name) {
    return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
  };
  if (absl::ConsumeSuffix(&rest, ": Cannot find field.")) {
    absl::ConsumePrefix(&rest, " ");
    return absl::StrCat(field(rest), ": unknown field");
  }
  absl::ConsumePrefix(&rest, ": ");
  if (rest == "Root element must be a message.") {
    return "an event must be a JSON object";
  }
  if (!absl::ConsumePrefix(&rest, "invalid value ")) {
    // A syntax error: protobuf's text, the line and a caret under the spot.
    return absl::StrCat("not valid JSON: ", std::string(rest));
  }
  constexpr absl::string_view kForType = " for type ";
  const size_t for_type = rest.rfind(kForType);
  if (for_type == absl::string_view::npos) return std::string(message);
  absl::string_view value = rest.substr(0, for_type);
  absl::string_view type = rest.substr(for_type + kForType.size());
  if (type == "oneof") {
    // "oneof field 'payload' is already set. Cannot set 'case_opened'"
    const size_t last = value.rfind('\'');
    const size_t first = value.rfind('\'', last - 1);
    if (last == absl::string_view::npos || first == absl::string_view::npos) {
      return std::string(message);
    }
    return absl::StrCat("payload: an event holds exactly one payload, and ",
                        value.substr(first + 1, last - first - 1),
                        " is a second one");
  }
  if (absl::EndsWith(type, "/google.protobuf.Timestamp")) {
    // "Field 'occurred_at', Invalid time format: 2011-02-30T10:00:00Z" or
    // "Field 'deadline', Invalid data type for timestamp, value is 5"
    constexpr absl::string_view kValueIs = "value is ";
    absl::string_view shown = value;
    if (size_t at = value.rfind(": "); at != absl::string_view::npos) {
      shown = value.substr(at + 2);
    } else if (size_t is = value.rfind(kValueIs);
               is != absl::string_view::npos) {
      shown = value.substr(is + kValueIs.size());
    }
    return absl::StrCat(path, ": ", shown,
                        " is not a time (RFC 3339 with a time zone, e.g. "
                        "2011-02-01T10:00:00Z)");
  }
  if (absl::ConsumePrefix(&type, "type.googleapis.com/")) {
    const auto* values =
        google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(
            std::string(type));
    if (values == nullptr) return std::string(message);
    std::vector<std::string> names;
    for (int i = 1; i < values->value_count(); ++i) {  // 0 is UNSPECIFIED
      names.push_back(values->value(i)->name());
    }
    return absl::StrCat(path, ": unknown value ", value, " (one of ",
                        absl::StrJoin(names, ", "), ")");
  }
  absl::string_view expected = ExpectedScalar(type);
  if (expected.empty()) return std::string(message);
  return absl::StrCat(path, ": ", value, " is not ", expected);
}

}  // namespace

absl::StatusOr<v1::Event> ParseEventJson(std::string_view json) {
  v1::Event event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &event, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(ExplainJsonError(
        absl::string_view(status.message().data(), status.message().size())));
  }
  return event;
}

std::string EventToJson(const v1::Event& event) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a valid in-memory message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(event, &out, options);
  return out;
}

absl::StatusOr<EventLine> EventLineReader::Next() {
  std::string text;
  while (std::getline(in_, text)) {
    ++line_;
    absl::string_view trimmed = absl::StripAsciiWhitespace(text);
    if (trimmed.empty()) continue;
    auto event =
        ParseEventJson(std::string_view(trimmed.data(), trimmed.size()));
    if (!event.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_, ": ", event.status().message()));
    }
    return EventLine{line_, *std::move(event)};
  }
  if (in_.bad()) {
    return absl::DataLossError(absl::StrCat("read error after line ", line_));
  }
  return absl::OutOfRangeError("end of input");
}

absl::StatusOr<std::vector<EventLine>> ReadEventLines(std::istream& in) {
  EventLineReader reader(in);
  std::vector<EventLine> out;
  while (true) {
    auto next = reader.Next();
    if (absl::IsOutOfRange(next.status())) return out;
    if (!next.ok()) return next.status();
    out.push_back(*std::move(next));
  }
}

}  // namespace caseledger
