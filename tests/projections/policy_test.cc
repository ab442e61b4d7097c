// The deadline policy as data (policy.h).
#include "projections/policy.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger::projections {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(std::string_view json) {
  auto policy = ParsePolicy(json);
  EXPECT_FALSE(policy.ok()) << json;
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

TEST(PolicyTest, DefaultIsThirtyDaysEverywhere) {
  const DeadlinePolicy p = DefaultPolicy();
  EXPECT_EQ(p.default_minimum_days, 30);
  EXPECT_TRUE(p.countries.empty());
  EXPECT_EQ(p.MinimumDaysFor("SY"), 30);
  EXPECT_EQ(p.MinimumDaysFor(""), 30);
}

TEST(PolicyTest, ParsesTheFileFormOfTheSpec) {
  ASSERT_OK_AND_ASSIGN(
      const DeadlinePolicy p,
      ParsePolicy(R"({"default_minimum_days": 30, "countries": {"SY": 60}})"));
  EXPECT_EQ(p.MinimumDaysFor("SY"), 60);
  EXPECT_EQ(p.MinimumDaysFor("PH"), 30);
}

// A byte order mark at the start is skipped, as in event input; one
// anywhere else is still refused.
TEST(PolicyTest, AByteOrderMarkAtTheStartIsSkipped) {
  ASSERT_OK_AND_ASSIGN(
      const DeadlinePolicy p,
      ParsePolicy("\xEF\xBB\xBF{\"default_minimum_days\": 45}"));
  EXPECT_EQ(p.MinimumDaysFor("SY"), 45);
  EXPECT_FALSE(ParsePolicy("{\xEF\xBB\xBF\"default_minimum_days\": 45}").ok());
  // The offsets errors give are the file's, the mark counted (they were 3
  // short; found by a review), and a byte that is not UTF-8 is named.
  EXPECT_EQ(ParsePolicy("\xEF\xBB\xBFnope").status().message(),
            "policy: invalid JSON at line 1, column 1 (byte 3): unexpected "
            "character 'n'");
  EXPECT_EQ(ParsePolicy("\xEF\xBB\xBF{\"a\xe9\": 1}").status().message(),
            "policy: invalid JSON at line 1, column 4 (byte 6): 0xe9 is not "
            "UTF-8 (JSON is UTF-8 text)");
}

TEST(PolicyTest, BuiltInFormParsesToTheDefault) {
  ASSERT_OK_AND_ASSIGN(
      const DeadlinePolicy p,
      ParsePolicy(R"({"default_minimum_days": 30, "countries": {}})"));
  EXPECT_EQ(p, DefaultPolicy());
}

TEST(PolicyTest, CountriesAreOptional) {
  ASSERT_OK_AND_ASSIGN(const DeadlinePolicy p,
                       ParsePolicy(R"({"default_minimum_days": 45})"));
  EXPECT_EQ(p.MinimumDaysFor("SY"), 45);
}

TEST(PolicyTest, RoundTripsThroughItsJson) {
  DeadlinePolicy p;
  p.default_minimum_days = 21;
  p.countries = {{"SY", 60}, {"AF", 90}};
  ASSERT_OK_AND_ASSIGN(const DeadlinePolicy back, ParsePolicy(PolicyJson(p)));
  EXPECT_EQ(back, p);
}

TEST(PolicyTest, RejectsUnknownKeyNamingIt) {
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": 30, "minimum": 10})"),
              HasSubstr("unknown key \"minimum\""));
}

TEST(PolicyTest, RequiresTheDefault) {
  EXPECT_THAT(ErrorOf(R"({"countries": {}})"),
              HasSubstr("default_minimum_days is required"));
}

TEST(PolicyTest, RejectsNegativeDays) {
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": -1})"),
              HasSubstr("default_minimum_days"));
  EXPECT_THAT(
      ErrorOf(R"({"default_minimum_days": 30, "countries": {"SY": -5}})"),
      HasSubstr("countries.SY"));
}

TEST(PolicyTest, RejectsNonIntegerDays) {
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": 30.5})"),
              HasSubstr("whole number"));
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": "30"})"),
              HasSubstr("whole number"));
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": 3e1})"),
              HasSubstr("whole number"));
}

TEST(PolicyTest, RejectsAbsurdlyLongMinimum) {
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": 99999})"),
              HasSubstr("between 0 and 3650"));
  // Past an int too: out of range, not "not whole" (found by an outside
  // reading).
  EXPECT_THAT(
      ErrorOf(R"({"default_minimum_days": 99999999999999999999999})"),
      HasSubstr("between 0 and 3650 days, not 99999999999999999999999"));
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": -99999999999999999999})"),
              HasSubstr("between 0 and 3650"));
}

TEST(PolicyTest, AcceptsTheLongestMinimum) {
  const absl::StatusOr<DeadlinePolicy> policy =
      ParsePolicy(R"({"default_minimum_days": 3650})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->default_minimum_days, 3650);
}

TEST(PolicyTest, RejectsCountryCodesNotTwoUppercaseLetters) {
  for (const char* code : {"sy", "SYR", "S", "S1", ""}) {
    EXPECT_THAT(
        ErrorOf(absl::StrCat(R"({"default_minimum_days": 30, "countries": {")",
                             code, R"(": 60}})")),
        HasSubstr("country code"))
        << code;
  }
}

TEST(PolicyTest, RejectsInvalidJson) {
  EXPECT_THAT(ErrorOf("{"), HasSubstr("invalid JSON"));
  EXPECT_THAT(ErrorOf(R"({"default_minimum_days": 30} x)"),
              HasSubstr("invalid JSON"));
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("object"));
}

TEST(PolicyTest, RejectsDuplicateKeys) {
  EXPECT_THAT(
      ErrorOf(R"({"default_minimum_days": 30, "default_minimum_days": 10})"),
      HasSubstr("duplicate key"));
}

}  // namespace
}  // namespace caseledger::projections
