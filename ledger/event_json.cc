#include "ledger/event_json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

namespace caseledger {

absl::StatusOr<v1::Event> ParseEventJson(std::string_view json) {
  v1::Event event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &event, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        std::string(status.message().data(), status.message().size()));
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
