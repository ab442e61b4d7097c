#include "ledger/recorded_event.h"

namespace caseledger {

const std::string& EventType(const v1::Event& event) {
  return EventType(event.payload_case());
}

const std::string& EventType(v1::Event::PayloadCase payload) {
  static const std::string* const kNone = new std::string();
  if (payload == v1::Event::PAYLOAD_NOT_SET) return *kNone;
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(payload);
  return field == nullptr ? *kNone : field->name();
}

}  // namespace caseledger
