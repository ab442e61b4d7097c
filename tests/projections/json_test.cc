// The internal JSON writer and reader.
#include "projections/internal/json.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace caseledger::projections::internal {
namespace {

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  AppendJsonString("a\"b\\c\nd\te\x01 é", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001 é\"");
}

// JSON is UTF-8: a verdict quoting a bundle's bytes printed them raw, and
// no JSON reader took it (found by a review).
TEST(JsonWriterTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  std::string out;
  AppendJsonString("a\xff\xc3 \xe2\x82\xac \xed\xa0\x80", &out);
  EXPECT_EQ(out,
            "\"a\xef\xbf\xbd\xef\xbf\xbd \xe2\x82\xac "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(JsonWriterTest, WritesIndentedObjectsAndInlineArrays) {
  JsonWriter w;
  w.BeginObject();
  w.Key("n");
  w.Uint(18446744073709551615u);
  w.Key("list");
  w.BeginInlineArray();
  w.Int(-1);
  w.Bool(true);
  w.Null();
  w.EndArray();
  w.Key("empty");
  w.BeginArray();
  w.EndArray();
  w.Key("objects");
  w.BeginArray();
  w.BeginObject();
  w.Key("k");
  w.String("v");
  w.EndObject();
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(std::move(w).Finish(),
            "{\n"
            "  \"n\": 18446744073709551615,\n"
            "  \"list\": [-1, true, null],\n"
            "  \"empty\": [],\n"
            "  \"objects\": [\n"
            "    {\n"
            "      \"k\": \"v\"\n"
            "    }\n"
            "  ]\n"
            "}\n");
}

TEST(JsonReaderTest, ReadsWhatTheWriterWrites) {
  JsonWriter w;
  w.BeginObject();
  w.Key("s");
  w.String("line\none \"quoted\" \\ é");
  w.EndObject();
  ASSERT_OK_AND_ASSIGN(const JsonValue v, ParseJson(std::move(w).Finish()));
  ASSERT_EQ(v.kind, JsonValue::Kind::kObject);
  ASSERT_EQ(v.members.size(), 1u);
  EXPECT_EQ(v.members[0].value.text, "line\none \"quoted\" \\ é");
}

TEST(JsonReaderTest, DecodesUnicodeEscapesAndSurrogatePairs) {
  ASSERT_OK_AND_ASSIGN(const JsonValue v,
                       ParseJson(R"(["\u00e9\ud83d\ude00\/"])"));
  ASSERT_EQ(v.elements.size(), 1u);
  EXPECT_EQ(v.elements[0].text, "é\xF0\x9F\x98\x80/");
}

TEST(JsonReaderTest, KeepsNumberLiterals) {
  ASSERT_OK_AND_ASSIGN(const JsonValue v, ParseJson("[0, -12, 1.5e3]"));
  EXPECT_EQ(v.elements[0].text, "0");
  EXPECT_EQ(v.elements[1].text, "-12");
  EXPECT_EQ(v.elements[2].text, "1.5e3");
}

TEST(JsonReaderTest, RejectsMalformedInput) {
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "\"\\ud800\"", "tru",
        "\"a\nb\"", "{\"a\":1,\"a\":2}", "[1] 2"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  // Not UTF-8: a bad byte was taken, and became U+FFFD when written again
  // (found by a review).
  EXPECT_EQ(ParseJson("{\"a\": \"b\xff\"}").status().message(),
            "invalid JSON at line 1, column 9 (byte 8): 0xff is not UTF-8 "
            "(JSON is UTF-8 text)");
}

// A file people write, by line and by character (é is one column of two
// bytes); the byte offset too. Only the byte was named.
TEST(JsonReaderTest, AnErrorNamesItsLineAndColumn) {
  EXPECT_EQ(
      ParseJson("{\n  \"x\u00e9\": 1,\n  \"\u00e9\" 2\n}").status().message(),
      "invalid JSON at line 3, column 7 (byte 21): expected ':'");
  EXPECT_EQ(ParseJson("[1,\r\n\xff]").status().message(),
            "invalid JSON at line 2, column 1 (byte 5): 0xff is not UTF-8 "
            "(JSON is UTF-8 text)");
}

TEST(JsonReaderTest, RejectsDeepNesting) {
  EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']')).ok());
}

}  // namespace
}  // namespace caseledger::projections::internal
