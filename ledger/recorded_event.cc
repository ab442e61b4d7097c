#include "ledger/recorded_event.h"

namespace caseledger {

const std::string& EventType(const v1::Event& event) {
  static const std::string* const kNone = new std::string();
  if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) return *kNone;
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(event.payload_case());
  return field == nullptr ? *kNone : field->name();
}

}  // namespace caseledger
