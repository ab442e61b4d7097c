#include "ledger/rfc3339.h"

#include <initializer_list>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ledger/timestamp.h"

namespace caseledger {
namespace {

TEST(Rfc3339Test, TakesTheSpellingOfADateTimeWithAZone) {
  for (const char* good :
       {"2011-02-01T10:00:00Z", "2011-02-01T10:00:00.5Z",
        "2011-02-01T10:00:00.123456789Z", "2011-02-01T05:00:00-05:00",
        "2011-02-01T15:30:00+05:30", "2011-02-01T10:00:00-00:00",
        "0900-01-01T00:00:00Z", "2011-02-01T23:59:59Z"}) {
    EXPECT_TRUE(IsRfc3339Time(good)) << good;
  }
}

// Each of these was taken by protobuf's parser or by Abseil's, but not by
// both (found by audits).
TEST(Rfc3339Test, RefusesEverySpellingOneOfTheParsersTakesAlone) {
  for (const std::string& bad : std::initializer_list<std::string>{
           "2011-1-10T10:00:00Z", "2011-02-01T10:00:00.1234567891Z",
           std::string("2011-02-01T10:00:00Z\0garbage", 28),
           "2011-02-01t10:00:00Z", "2011-02-01T10:00:00z",
           "2016-12-31T23:59:60Z", "2011-02-01T10:00:00+0500",
           "2011-02-01T10:00:00+05", "2011-02-01T10:00:00+05:00 ",
           "2011-02-01T10:00:00+05:00Z", "10000-01-01T00:00:00Z",
           " 2011-02-01T10:00:00Z", "2011-02-01T10:00:00Z ",
           "2011-02-01 10:00:00Z", "2011-02-01T10:00:00.Z", "2011-02-01T10:00Z",
           "2011-02-01T10:00:00", "2011-02-01", ""}) {
    EXPECT_FALSE(IsRfc3339Time(bad)) << bad;
  }
}

TEST(Rfc3339Test, TakesADateAloneOnlyAsADate) {
  EXPECT_TRUE(IsRfc3339Date("2011-02-01"));
  for (const char* bad : {"2011-2-01", "2011-02-01T10:00:00Z", "20110201",
                          "2011-02-01 ", "2011/02/01"}) {
    EXPECT_FALSE(IsRfc3339Date(bad)) << bad;
  }
}

// A protobuf Timestamp holds 0001-01-01T00:00:00Z up to, not including,
// 10000-01-01T00:00:00Z: both ends to the nanosecond.
TEST(Rfc3339Test, TheTimestampRangeIsTheYearsOneTo9999) {
  const absl::Time first =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  const absl::Time after_last = absl::FromCivil(
      absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_TRUE(IsWithinTimestampRange(first));
  EXPECT_FALSE(IsWithinTimestampRange(first - absl::Nanoseconds(1)));
  EXPECT_TRUE(IsWithinTimestampRange(after_last - absl::Nanoseconds(1)));
  EXPECT_FALSE(IsWithinTimestampRange(after_last));
}

// A time before 1970 with a fraction of a second is held as protobuf holds
// it: whole seconds rounded down, and nanoseconds from 0 to 999999999.
TEST(TimestampTest, ToTimestampRoundsSecondsDownAndReadsBack) {
  const struct {
    absl::Duration since_epoch;
    int64_t seconds;
    int32_t nanos;
  } cases[] = {
      {absl::Seconds(-2) + absl::Milliseconds(500), -2, 500000000},
      {absl::Nanoseconds(-1), -1, 999999999},
      {absl::ZeroDuration(), 0, 0},
      {absl::Seconds(1300000000) + absl::Nanoseconds(7), 1300000000, 7},
  };
  for (const auto& c : cases) {
    const absl::Time t = absl::UnixEpoch() + c.since_epoch;
    const google::protobuf::Timestamp ts = ToTimestamp(t);
    EXPECT_EQ(ts.seconds(), c.seconds) << c.since_epoch;
    EXPECT_EQ(ts.nanos(), c.nanos) << c.since_epoch;
    EXPECT_EQ(FromTimestamp(ts), t) << c.since_epoch;
  }
}

}  // namespace
}  // namespace caseledger
