// A stored message's headers against the event that records its sending
// (projections/bundle/internal/message_headers.h).
#include "projections/bundle/internal/message_headers.h"

#include "caseledger/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caseledger::bundle::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(HeaderFieldsTest, UnfoldsAndStopsAtTheBody) {
  EXPECT_THAT(HeaderFields("From: a@x.example\r\nTo: b@y.example,\r\n"
                           "\tc@z.example\r\nSUBJECT:  hi \r\n\r\n"
                           "To: not-a-header@body.example\r\n"),
              ElementsAre(Pair("from", "a@x.example"),
                          Pair("to", "b@y.example,\tc@z.example"),
                          Pair("subject", "hi")));
  // Bare LF lines, and an mbox "From " line before the fields.
  EXPECT_THAT(HeaderFields("From sender Mon Jan  1 00:00:00 2011\nTo: b@y\n"),
              ElementsAre(Pair("to", "b@y")));
  EXPECT_THAT(HeaderFields("no header here\r\nTo: b@y\r\n"), IsEmpty());
  // Nor is a first line that would continue a field (it passed with such a
  // line skipped: found by a mutation).
  EXPECT_THAT(HeaderFields(" folded\r\nTo: b@y\r\n"), IsEmpty());
  EXPECT_THAT(HeaderFields(""), IsEmpty());
}

TEST(AddressesInTest, TakesTheAddressesOutOfEveryMailboxForm) {
  EXPECT_THAT(AddressesIn("Maria.Santos@Mail.example"),
              ElementsAre("maria.santos@mail.example"));
  // A display name holding a comma, a comment, angle brackets.
  EXPECT_THAT(AddressesIn("\"Santos, Maria\" <maria@mail.example>, "
                          "rep@law.example (counsel)"),
              ElementsAre("maria@mail.example", "rep@law.example"));
  // Groups, an empty group, an obsolete route, an encoded display name.
  EXPECT_THAT(
      AddressesIn("Family: a@x.example, b@x.example;, "
                  "undisclosed-recipients:;, <@relay.example:c@x."
                  "example>, =?UTF-8?B?w4lsaXNl?= <d@x.example>"),
      ElementsAre("a@x.example", "b@x.example", "c@x.example", "d@x.example"));
  // A quoted local part keeps its quotes; nested comments go.
  EXPECT_THAT(AddressesIn("\"john doe\"@x.example (a (nested) comment)"),
              ElementsAre("\"john doe\"@x.example"));
  EXPECT_THAT(AddressesIn(""), IsEmpty());
}

TEST(DecodedWordsTest, DecodesRfc2047WordsAndJoinsAdjacentOnes) {
  EXPECT_EQ(DecodedWords("=?UTF-8?B?w4lsaXNl?= <d@x.example>"),
            "\xC3\x89lise <d@x.example>");
  EXPECT_EQ(DecodedWords("=?iso-8859-1?q?pi=E8ces_jointes?="),
            "pi\xC3\xA8"
            "ces jointes");
  // White space between two encoded words is dropped, not around text.
  EXPECT_EQ(DecodedWords("Re: =?UTF-8?Q?a?= =?UTF-8?Q?b?= c"), "Re: ab c");
  EXPECT_EQ(DecodedWords("=?utf-8*fr?Q?=C3=A9t=C3=A9?="), "\xC3\xA9t\xC3\xA9");
  // Nothing to decode, or nothing this can decode: nullopt, and a word in
  // an unknown charset or not UTF-8 stays as written beside decoded ones.
  EXPECT_EQ(DecodedWords("plain subject"), std::nullopt);
  EXPECT_EQ(DecodedWords("=?KOI8-R?B?8NLJ18XU?="), std::nullopt);
  EXPECT_EQ(DecodedWords("=?UTF-8?B?/w==?="), std::nullopt);
  EXPECT_EQ(DecodedWords("=?UTF-8?B?not base64?="), std::nullopt);
  EXPECT_EQ(DecodedWords("=?KOI8-R?B?8NLJ18XU?= =?UTF-8?Q?ok?="),
            "=?KOI8-R?B?8NLJ18XU?= ok");
  EXPECT_EQ(DecodedWords("a =?UTF-8?Q?unterminated"), std::nullopt);
  // An encoding is one letter: "Bx" is none (it was read as B, found by a
  // mutation).
  EXPECT_EQ(DecodedWords("=?UTF-8?Bx?w4lsaXNl?="), std::nullopt);
}

// windows-1252 and ISO 8859-15 were read as ISO 8859-1: a euro sign became
// a control character, shown as a space, and "Fee €500" read "Fee  500"
// (found by an outside reading).
TEST(DecodedWordsTest, EachLatinCharsetIsReadAsItself) {
  EXPECT_EQ(DecodedWords("=?windows-1252?Q?Fee_=80500_=93paid=94_=96_it=92s?="),
            "Fee \u20AC500 \u201Cpaid\u201D \u2013 it\u2019s");
  EXPECT_EQ(DecodedWords("=?iso-8859-15?Q?=A4500_=BD?="), "\u20AC500 \u0153");
  EXPECT_EQ(DecodedWords("=?iso-8859-1?Q?=A4500_=BD?="), "\u00A4500 \u00BD");
  // ISO 8859-1's label, and US-ASCII's with bytes beyond it, are read as
  // windows-1252, as mail programs read them (a review found the euro lost
  // under the commonest label); aliases are known.
  EXPECT_EQ(DecodedWords("=?iso-8859-1?Q?=80500?="), "\u20AC500");
  EXPECT_EQ(DecodedWords("=?cp1252?Q?=80?= =?latin9?Q?=A4?="), "\u20AC\u20AC");
  EXPECT_EQ(FromLatinCharset("\x81\x80", "windows-1252"), "\u0081\u20AC");
}

// A line break encoded in a word forged a header line of its own under the
// field in the report (found by an outside reading): one field is one line.
TEST(DecodedWordsTest, AnEncodedLineBreakIsShownAsASpace) {
  EXPECT_EQ(
      DecodedWords("=?UTF-8?Q?Your_request=0D=0ATo:_forged@evil.example?="),
      "Your request  To: forged@evil.example");
  // So are the line and paragraph separators and NEL, at which Pango and
  // browsers break a line too (found by a review).
  EXPECT_EQ(
      DecodedWords("=?UTF-8?Q?a=E2=80=A8To:_b=E2=80=A9c=C2=85d=0Be=0Cf?="),
      "a To: b c d e f");
}

class HeadersAgainstRecordTest : public ::testing::Test {
 protected:
  std::string Against(const std::string& message) {
    return HeadersAgainstRecord(message,
                                {sent_.to(), sent_.cc(), sent_.message_id()});
  }
  v1::DocumentRequestSent sent_;
};

TEST_F(HeadersAgainstRecordTest, AgreementIsSaidForWhatWasCompared) {
  sent_.add_to("maria@mail.example");
  sent_.set_message_id("<DOC-1@office.example>");
  EXPECT_EQ(Against("To: Maria <MARIA@mail.example>\r\n"
                    "Message-ID: <DOC-1@office.example>\r\n\r\nbody"),
            "The stored message's To: and Message-ID: agree with this "
            "record.");
  sent_.clear_message_id();
  EXPECT_EQ(Against("To: maria@mail.example\r\n\r\n"),
            "The stored message's To: agrees with this record.");
  // Nothing to compare: no header section.
  EXPECT_EQ(Against("just a body"), "");
}

// A message's header carries an internationalized domain in ASCII when the
// record has it as the applicant wrote it: the same address.
TEST_F(HeadersAgainstRecordTest, AnInternationalizedDomainAgreesInEitherForm) {
  sent_.add_to("anna@m\u00fcller.de");
  EXPECT_EQ(Against("To: Anna <anna@xn--mller-kva.de>\r\n\r\n"),
            "The stored message's To: agrees with this record.");
  EXPECT_EQ(Against("To: anna@m\u00f6ller.de\r\n\r\n"),
            "The stored message's own headers contradict this record: To: "
            "names anna@m\u00f6ller.de, where this record names "
            "anna@m\u00fcller.de.");
}

TEST_F(HeadersAgainstRecordTest, ContradictionsAreNamed) {
  sent_.add_to("maria@mail.example");
  sent_.add_cc("rep@law.example");
  sent_.set_message_id("<DOC-1@office.example>");
  EXPECT_EQ(Against("To: maria@mail.example, other@else.example\r\n"
                    "Message-ID: <DOC-9@office.example>\r\n\r\n"),
            "The stored message's own headers contradict this record: To: "
            "names maria@mail.example, other@else.example, where this record "
            "names maria@mail.example; the message has no Cc: field, where "
            "this record names rep@law.example; Message-ID: is "
            "<DOC-9@office.example>, where this record names "
            "<DOC-1@office.example>.");
}

TEST_F(HeadersAgainstRecordTest, ALongListIsCountedNotSpelledOut) {
  std::string to = "To: ";
  for (int i = 0; i < 30; ++i) {
    to += "user" + std::to_string(i + 10) + "@list.example, ";
  }
  sent_.add_to("maria@mail.example");
  EXPECT_THAT(Against(to + "\r\n\r\n"),
              ::testing::HasSubstr("user21@list.example and 18 more, where "
                                   "this record names maria@mail.example"));
}

}  // namespace
}  // namespace caseledger::bundle::internal
