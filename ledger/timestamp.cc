#include "ledger/timestamp.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "ledger/rfc3339.h"

namespace caseledger {

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

absl::Status CheckTimestamp(std::string_view field,
                            const google::protobuf::Timestamp& ts) {
  if (!IsWithinTimestampRange(absl::FromUnixSeconds(ts.seconds()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field),
        ": is outside the times a timestamp holds: ", kTimestampRange));
  }
  if (ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field), ": has nanoseconds outside 0 to 999999999"));
  }
  return absl::OkStatus();
}

}  // namespace caseledger
