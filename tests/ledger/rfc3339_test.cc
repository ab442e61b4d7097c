#include "ledger/rfc3339.h"

#include <initializer_list>
#include <string>

#include "gtest/gtest.h"

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
           "2011-02-01T10:00:00+05", "10000-01-01T00:00:00Z",
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

}  // namespace
}  // namespace caseledger
