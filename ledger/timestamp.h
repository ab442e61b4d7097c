// Conversions between protobuf's Timestamp and absl::Time, at nanosecond
// precision. (The ledger stamps recorded_at to the microsecond: it truncates
// before it converts, and those stored bytes never change.)
#ifndef CASELEDGER_LEDGER_TIMESTAMP_H_
#define CASELEDGER_LEDGER_TIMESTAMP_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace caseledger {

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);
// Seconds rounded down, so that nanos is never negative.
google::protobuf::Timestamp ToTimestamp(absl::Time t);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_TIMESTAMP_H_
