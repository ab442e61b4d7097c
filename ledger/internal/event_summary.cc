#include "ledger/internal/event_summary.h"

#include <cstdint>
#include <vector>

namespace caseledger::internal {
namespace {

constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

bool ReadVarint(std::string_view& rest, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && !rest.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(rest.front());
    rest.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

// Calls visit(number, wire_type, contents) for each field of the message
// `bytes` (contents: a length-delimited field's, empty for the others), in
// order. False when visit returns false, or at anything but plain fields:
// a group, a truncated field, a varint over ten bytes, field number 0.
template <typename Visit>
bool ForEachField(std::string_view bytes, Visit&& visit) {
  std::string_view rest = bytes;
  while (!rest.empty()) {
    uint64_t tag, length;
    if (!ReadVarint(rest, tag) || tag > UINT32_MAX || (tag >> 3) == 0) {
      return false;
    }
    std::string_view contents;
    switch (static_cast<int>(tag & 7)) {
      case kVarint:
        if (!ReadVarint(rest, length)) return false;
        break;
      case kFixed64:
      case kFixed32: {
        const size_t width = (tag & 7) == kFixed64 ? 8 : 4;
        if (rest.size() < width) return false;
        rest.remove_prefix(width);
        break;
      }
      case kLengthDelimited:
        if (!ReadVarint(rest, length) || length > rest.size()) return false;
        contents = rest.substr(0, length);
        rest.remove_prefix(length);
        break;
      default:
        return false;
    }
    if (!visit(static_cast<uint32_t>(tag >> 3), static_cast<int>(tag & 7),
               contents)) {
      return false;
    }
  }
  return true;
}

bool IsPayloadField(uint32_t number) {
  static const std::vector<bool>* const kPayloadFields = [] {
    auto* fields = new std::vector<bool>();
    const auto* oneof = v1::Event::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < oneof->field_count(); ++i) {
      const auto number = static_cast<size_t>(oneof->field(i)->number());
      if (fields->size() <= number) fields->resize(number + 1);
      (*fields)[number] = true;
    }
    return fields;
  }();
  return number < kPayloadFields->size() && (*kPayloadFields)[number];
}

// A string or message field given once, length-delimited, as the ledger
// writes it; false otherwise (which a parse must then settle: protobuf
// takes the last of repeated strings, merges repeated messages, and keeps
// a field of the wrong wire type as unknown).
bool TakeOnce(int wire_type, std::string_view contents, bool& seen,
              std::string_view& into) {
  if (wire_type != kLengthDelimited || seen) return false;
  seen = true;
  into = contents;
  return true;
}

std::optional<EventSummary> FromWire(std::string_view bytes) {
  EventSummary summary;
  bool seen_id = false, seen_case = false, seen_payload = false;
  std::string_view payload;
  const bool plain = ForEachField(
      bytes, [&](uint32_t number, int wire_type, std::string_view contents) {
        if (number == v1::Event::kEventIdFieldNumber) {
          return TakeOnce(wire_type, contents, seen_id, summary.event_id);
        }
        if (number == v1::Event::kCaseIdFieldNumber) {
          return TakeOnce(wire_type, contents, seen_case, summary.case_id);
        }
        if (IsPayloadField(number)) {
          summary.payload = static_cast<v1::Event::PayloadCase>(number);
          return TakeOnce(wire_type, contents, seen_payload, payload);
        }
        return true;
      });
  if (!plain) return std::nullopt;
  if (summary.payload == v1::Event::kDocumentRequestSent) {
    bool seen_request = false;
    if (!ForEachField(payload, [&](uint32_t number, int wire_type,
                                   std::string_view contents) {
          return number != v1::DocumentRequestSent::kRequestIdFieldNumber ||
                 TakeOnce(wire_type, contents, seen_request,
                          summary.request_id);
        })) {
      return std::nullopt;
    }
  }
  return summary;
}

}  // namespace

std::optional<EventSummary> SummarizeEvent(std::string_view bytes,
                                           v1::Event& scratch) {
  if (std::optional<EventSummary> read = FromWire(bytes)) return read;
  if (!scratch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return std::nullopt;
  }
  EventSummary summary;
  summary.event_id = scratch.event_id();
  summary.case_id = scratch.case_id();
  summary.payload = scratch.payload_case();
  if (scratch.has_document_request_sent()) {
    summary.request_id = scratch.document_request_sent().request_id();
  }
  return summary;
}

}  // namespace caseledger::internal
