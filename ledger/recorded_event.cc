#include "ledger/recorded_event.h"

namespace caseledger {

std::string EventType(const v1::Event& event) {
  if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) return "";
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(event.payload_case());
  return field == nullptr ? "" : field->name();
}

}  // namespace caseledger
