// Conversions between protobuf's Timestamp and absl::Time, at nanosecond
// precision. (The ledger stamps recorded_at to the microsecond: it truncates
// before it converts, and those stored bytes never change.)
#ifndef CASELEDGER_LEDGER_TIMESTAMP_H_
#define CASELEDGER_LEDGER_TIMESTAMP_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace caseledger {

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);
// Seconds rounded down, so that nanos is never negative.
google::protobuf::Timestamp ToTimestamp(absl::Time t);
// kInvalidArgument "FIELD: ..." when `ts` lies outside kTimestampRange
// (ledger/rfc3339.h) or its nanos outside 0 to 999999999: what no RFC 3339
// time a flag or JSON input takes can be, and binary input can.
absl::Status CheckTimestamp(std::string_view field,
                            const google::protobuf::Timestamp& ts);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_TIMESTAMP_H_
