// JSON and text output (render.h) and the evaluation time helpers.
#include "projections/render.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/internal/json.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::AllStored;
using fixture::CaseBuilder;
using fixture::KaurCase;
using fixture::LoadExample;
using fixture::Now;
using fixture::T;
using internal::JsonValue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kLater[] = "2013-01-01T00:00:00Z";

JsonValue Parse(const std::string& json) {
  auto v = internal::ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status() << "\n" << json;
  return v.ok() ? *v : JsonValue{};
}

std::vector<std::string> Keys(const JsonValue& object) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : object.members) keys.push_back(k);
  return keys;
}

const JsonValue& Member(const JsonValue& object, std::string_view key) {
  for (const auto& [k, v] : object.members) {
    if (k == key) return v;
  }
  static const JsonValue* missing = new JsonValue();
  ADD_FAILURE() << "no key " << key;
  return *missing;
}

TEST(RenderStateJsonTest, HasExactlyTheKeysOfTheSpec) {
  const JsonValue v =
      Parse(RenderStateJson(CaseStateFor(KaurCase().model(), Now(kLater))));
  EXPECT_THAT(
      Keys(v),
      ElementsAre("case_id", "status", "office_id", "applicant_country",
                  "addresses_on_file", "representative", "open_requests",
                  "transfers", "judicial_review", "version", "last_position"));
  EXPECT_EQ(Member(v, "status").text, "REFUSED");
  EXPECT_EQ(Member(v, "version").kind, JsonValue::Kind::kNumber);
  EXPECT_EQ(Member(v, "version").text, "6");
  EXPECT_EQ(Member(v, "representative").kind, JsonValue::Kind::kNull);
  const JsonValue& address = Member(v, "addresses_on_file").elements.at(0);
  EXPECT_THAT(Keys(address), ElementsAre("address", "party", "basis"));
  EXPECT_EQ(Member(address, "basis").text, "APPLICATION_FORM");
  const JsonValue& open = Member(v, "open_requests").elements.at(0);
  EXPECT_THAT(Keys(open), ElementsAre("request_id", "channel", "sent_at",
                                      "deadline", "status"));
  EXPECT_EQ(Member(open, "deadline").text, "2012-07-16T23:59:59Z");
  EXPECT_EQ(Member(open, "status").text, "OVERDUE");
  // The keys inside a representative and a transfer, which the case above
  // has none of (a transfer without to_office_id passed; found by a
  // mutation).
  CaseBuilder b = KaurCase();
  b.RepresentativeWithConsent("2012-06-05T09:00:00Z", "R-1", "rep@law.example");
  b.Transferred("2012-06-06T09:00:00Z");
  const JsonValue w =
      Parse(RenderStateJson(CaseStateFor(b.model(), Now(kLater))));
  EXPECT_THAT(Keys(Member(w, "representative")),
              ElementsAre("representative_id", "name", "email"));
  EXPECT_THAT(Keys(Member(w, "transfers").elements.at(0)),
              ElementsAre("from_office_id", "to_office_id", "reason",
                          "occurred_at", "position"));
}

TEST(RenderDeadlinesJsonTest, HasTheShapeOfTheSpec) {
  const auto rows =
      DeadlinesFor(KaurCase().model(), Now(kLater), DefaultPolicy());
  const JsonValue v = Parse(RenderDeadlinesJson(rows));
  EXPECT_THAT(Keys(v), ElementsAre("deadlines"));
  const JsonValue& row = Member(v, "deadlines").elements.at(0);
  EXPECT_THAT(Keys(row), ElementsAre("case_id", "request_id", "sent_at",
                                     "deadline", "status", "flags"));
  EXPECT_EQ(Member(row, "sent_at").text, "2012-06-01T10:01:00Z");
  EXPECT_EQ(Member(row, "flags").kind, JsonValue::Kind::kArray);
}

TEST(RenderDeadlinesJsonTest, MissingDeadlineIsEmptyStringAndFlagsAreNames) {
  CaseBuilder b;
  b.Opened("2012-05-01T09:00:00Z");
  b.Email("2012-06-01T10:01:00Z", "DOC-1", "2012-07-16T23:59:59Z")
      .clear_deadline();
  const JsonValue v = Parse(RenderDeadlinesJson(
      DeadlinesFor(b.model(), Now(kLater), DefaultPolicy())));
  const JsonValue& row = Member(v, "deadlines").elements.at(0);
  EXPECT_EQ(Member(row, "deadline").text, "");
  std::vector<std::string> flags;
  for (const JsonValue& f : Member(row, "flags").elements) {
    flags.push_back(f.text);
  }
  EXPECT_THAT(flags,
              ElementsAre("NOT_VERIFIED", "ADDRESS_MISMATCH", "NO_CONSENT"));
}

TEST(RenderFindingsJsonTest, HasTheShapeOfTheSpec) {
  const Findings f = FindingsFor(KaurCase().model(), Now(kLater),
                                 DefaultPolicy(), AllStored());
  const JsonValue v = Parse(RenderFindingsJson(f));
  EXPECT_THAT(Keys(v), ElementsAre("case_id", "findings"));
  EXPECT_EQ(Member(v, "case_id").text, "C-1");
  const auto& list = Member(v, "findings").elements;
  ASSERT_EQ(list.size(), f.findings.size());
  for (const JsonValue& x : list) {
    EXPECT_THAT(Keys(x), ElementsAre("rule", "status", "request_id", "message",
                                     "positions"));
  }
  EXPECT_EQ(Member(list[0], "rule").text, "CONSENT_ESTABLISHED");
  EXPECT_EQ(Member(list[0], "status").text, "PASS");
  EXPECT_EQ(Member(list[0], "request_id").text, "DOC-1");
  EXPECT_EQ(Member(list[0], "positions").elements.at(0).text, "2");
}

TEST(RenderFindingsJsonTest, EscapesFreeText) {
  Findings f{"C-\"1\"",
             {Finding{Rule::kRecordedPromptly,
                      FindingStatus::kWarn,
                      "",
                      "line\nbreak \\ \"quote\"",
                      {1}}}};
  const JsonValue v = Parse(RenderFindingsJson(f));
  EXPECT_EQ(Member(v, "case_id").text, "C-\"1\"");
  EXPECT_EQ(Member(Member(v, "findings").elements.at(0), "message").text,
            "line\nbreak \\ \"quote\"");
}

TEST(RenderTextTest, StateTextNamesEveryField) {
  const std::string text =
      RenderStateText(CaseStateFor(KaurCase().model(), Now(kLater)));
  EXPECT_THAT(text, HasSubstr("status             REFUSED\n"));
  EXPECT_THAT(text, HasSubstr("maria.santos@mail.example (APPLICANT, "
                              "APPLICATION_FORM, #2)"));
  EXPECT_THAT(text, HasSubstr("representative     none\n"));
  // Every field, with a representative and a transfer (three lines were
  // looked for, and the office's left out passed; found by a mutation).
  CaseBuilder b = KaurCase();
  b.RepresentativeWithConsent("2012-06-05T09:00:00Z", "R-1", "rep@law.example");
  b.Transferred("2012-06-06T09:00:00Z");
  EXPECT_EQ(
      RenderStateText(CaseStateFor(b.model(), Now(kLater))),
      "case               C-1\n"
      "status             REFUSED\n"
      "office             CPC-OTTAWA\n"
      "applicant country  CO\n"
      "addresses on file  maria.santos@mail.example (APPLICANT, "
      "APPLICATION_FORM, #2)\n"
      "                   rep@law.example (REPRESENTATIVE, "
      "REPRESENTATIVE_FORM, "
      "#8)\n"
      "representative     R-1 (R-1) rep@law.example\n"
      "open requests      DOC-1 OVERDUE, sent 2012-06-01T10:01:00Z, deadline "
      "2012-07-16T23:59:59Z\n"
      "transfers          VO-DELHI -> CPC-OTTAWA on 2012-06-06T09:00:00Z (#9)\n"
      "judicial review    none\n"
      "version            9\n"
      "last position      9\n");
}

TEST(RenderTextTest, DeadlinesTextIsAnAlignedTable) {
  CaseBuilder b = KaurCase();
  b.Email("2012-06-02T10:01:00Z", "DOC-22", "2012-06-10T23:59:59Z");
  const std::string text = RenderDeadlinesText(
      DeadlinesFor(b.model(), Now(kLater), DefaultPolicy()));
  std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].find("STATUS"), lines[1].find("OVERDUE"));
  EXPECT_THAT(text, HasSubstr("BELOW_POLICY_MINIMUM,NOT_VERIFIED"));
  // Every column of every row starts under its heading (one column was
  // compared, and FLAGS out of line passed; found by a mutation).
  for (size_t at = 1; at < lines[0].size(); ++at) {
    if (lines[0][at - 1] != ' ' || lines[0][at] == ' ') continue;
    for (size_t row = 1; row < lines.size(); ++row) {
      ASSERT_GT(lines[row].size(), at) << text;
      EXPECT_EQ(lines[row][at - 1], ' ') << "row " << row << " at " << at;
      EXPECT_NE(lines[row][at], ' ') << "row " << row << " at " << at;
    }
  }
  EXPECT_EQ(RenderDeadlinesText({}), "no requests\n");
  EXPECT_EQ(RenderDeadlinesText({}, DeadlineState::kOverdue),
            "no requests with status OVERDUE\n");
}

// Columns line up on a terminal whatever the script of a request id: an
// accented letter takes one column, a Chinese character two.
TEST(RenderTextTest, DeadlinesTextAlignsColumnsByWhatTheyShow) {
  CaseBuilder b = KaurCase();
  b.Email("2012-06-02T10:01:00Z", "DOC-\u00c91", "2012-06-10T23:59:59Z");
  b.Email("2012-06-02T10:02:00Z", "\u8bf7\u6c42-1", "2012-06-10T23:59:59Z");
  const std::string text = RenderDeadlinesText(
      DeadlinesFor(b.model(), Now(kLater), DefaultPolicy()));
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  ASSERT_GE(lines.size(), 4u);
  // Each line's third column starts after as many columns: an accented
  // letter is 2 bytes for 1 column, a Chinese character 3 bytes for 2.
  auto sent_column = [](const std::string& line, int extra_bytes) {
    return line.find("2012-06-0") - extra_bytes;
  };
  const size_t plain = sent_column(lines[1], 0);
  for (const std::string& line : lines) {
    if (line.find("DOC-\u00c91") != std::string::npos) {
      EXPECT_EQ(sent_column(line, 1), plain) << text;
    } else if (line.find("\u8bf7\u6c42-1") != std::string::npos) {
      EXPECT_EQ(sent_column(line, 2), plain) << text;
    }
  }
}

TEST(RenderTextTest, FindingsTextCountsByStatus) {
  const std::string text = RenderFindingsText(FindingsFor(
      KaurCase().model(), Now(kLater), DefaultPolicy(), AllStored()));
  EXPECT_THAT(text, HasSubstr("Findings for case C-1\n"));
  // The whole count ("0 FAIL, 0 WARN" alone held with nothing counted;
  // found by a mutation).
  EXPECT_TRUE(text.ends_with("\n12 PASS, 0 FAIL, 0 WARN, 6 NOT_APPLICABLE\n"))
      << text;
  EXPECT_THAT(text, HasSubstr("REFUSAL_SUPPORTED"));
}

TEST(TimelineTest, OneLinePerEventInTheDomainsWords) {
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z");
  b.Consent("2011-01-10T10:05:00Z", "a@b.example");
  b.Email("2011-02-01T10:00:00Z", "R1", "2011-03-03T23:59:59Z", "a@b.example")
      .clear_items();
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), DefaultPolicy());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2],
            "#3 v3 2011-02-01T10:00:00Z officer off-17: R1 emailed from "
            "visa-office@office.example (recorded as the office mailbox) to "
            "a@b.example, deadline 2011-03-03T23:59:59Z (30 days), refusal "
            "warning included");
}

// The row said "from the office mailbox" for whatever address the request
// flagged as the office's, a personal one included, and named no address
// (found by an outside reading). It names the address and says the flag
// is the request's record.
TEST(TimelineTest, ARequestRowNamesTheMailboxItWasSentFrom) {
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z");
  b.Consent("2011-01-10T10:05:00Z", "a@b.example");
  b.Email("2011-02-01T10:00:00Z", "R1", "2011-03-03T23:59:59Z", "a@b.example")
      .set_from_mailbox("officer.smith@gmail.example");
  auto& unflagged = b.Email("2011-02-02T10:00:00Z", "R2",
                            "2011-03-04T23:59:59Z", "a@b.example");
  unflagged.set_organizational_mailbox(false);
  unflagged.clear_from_mailbox();
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), DefaultPolicy());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[2], HasSubstr("R1 emailed from officer.smith@gmail.example "
                                  "(recorded as the office mailbox) to "));
  EXPECT_THAT(lines[3], HasSubstr("R2 emailed from an unrecorded mailbox "
                                  "(recorded as not the office mailbox) to "));
}

// The row stated the officer's step-3 check as a fact ("matches the
// address on file") for an address the ledger had taken off the file, where
// RECIPIENT_MATCHES_FILE says the ledger's comparison prevails (found by a
// domain audit): it says what was recorded.
TEST(TimelineTest, ARecipientCheckRowSaysWhatTheOfficerRecorded) {
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z");
  b.Consent("2011-01-10T10:05:00Z", "a@b.example");
  b.Verified("2011-02-01T09:00:00Z", "R1", "x@b.example");
  b.Verified("2011-02-01T09:01:00Z", "R1", "y@b.example", /*matches=*/false);
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), DefaultPolicy());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[2],
              ::testing::EndsWith("Recipient address x@b.example checked for "
                                  "R1: recorded as matching the address on "
                                  "file"));
  EXPECT_THAT(lines[3], ::testing::EndsWith(": recorded as NOT matching the "
                                            "address on file"));
}

// A record made long after the fact carries less weight (RECORDED_PROMPTLY),
// and the row says so where an investigator reads it; 7 days is not yet late.
TEST(TimelineTest, ARowRecordedMoreThanSevenDaysLaterSaysWhen) {
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z").RecordedAt("2011-01-17T10:00:00Z");
  b.Consent("2011-01-10T10:05:00Z", "a@b.example")
      .RecordedAt("2011-01-17T10:05:01Z");
  b.ApplicantEmail("2011-01-11T09:00:00Z", /*reports_problem=*/false)
      .RecordedAt("2011-03-01T08:00:00Z");
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), DefaultPolicy());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("days later")))
      << "7 days exactly is prompt enough";
  EXPECT_THAT(lines[1],
              ::testing::EndsWith(" (recorded 2011-01-17, 7 days later)"));
  EXPECT_THAT(lines[2],
              ::testing::EndsWith(" (recorded 2011-03-01, 48 days later)"));
  EXPECT_THAT(
      RenderTimelineJson("C-1", b.model(), Now(kLater), DefaultPolicy()),
      ::testing::Not(HasSubstr("days later")))
      << "the JSON has recorded_at already";
}

// Validation refuses control characters in identifiers now, but a ledger
// written before that check may hold them (a request id, an office), and
// codes and addresses may: quoted in a text output, a line break there would
// end the row and let a client's event forge the next one.
TEST(RenderTextTest, NoFieldCanForgeALineOfTheTextOutputs) {
  const std::string forged = "R1\n#9 v9 2011-01-01T00:00:00Z forged\r\x7f";
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z");
  b.Consent("2011-01-10T10:05:00Z", "a@b.example");
  b.Email("2011-02-01T10:00:00Z", forged, "2011-03-03T23:59:59Z",
          "a@b.example");
  const auto no_forged_line = [](const std::string& text) {
    for (const std::string& line :
         std::vector<std::string>(absl::StrSplit(text, '\n'))) {
      EXPECT_FALSE(line.rfind("#9", 0) == 0) << text;
      EXPECT_EQ(line.find_first_of("\r\x7f"), std::string::npos) << text;
    }
  };
  const std::string timeline_text =
      RenderTimelineText(b.model(), Now(kLater), DefaultPolicy());
  EXPECT_EQ(std::count(timeline_text.begin(), timeline_text.end(), '\n'), 3);
  EXPECT_THAT(timeline_text,
              HasSubstr("#3 v3 2011-02-01T10:00:00Z officer off-17: R1 #9 v9 "
                        "2011-01-01T00:00:00Z forged   emailed"));
  no_forged_line(timeline_text);
  const std::string deadlines = RenderDeadlinesText(
      DeadlinesFor(b.model(), Now(kLater), DefaultPolicy()));
  EXPECT_EQ(std::count(deadlines.begin(), deadlines.end(), '\n'), 2);
  no_forged_line(deadlines);
  no_forged_line(RenderStateText(CaseStateFor(b.model(), Now(kLater))));
  no_forged_line(RenderFindingsText(
      FindingsFor(b.model(), Now(kLater), DefaultPolicy(), AllStored())));
}

TEST(TimelineTest, SaysWhenTheDeadlineIsBelowThePolicyMinimum) {
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z", "SY");
  b.Email("2011-02-01T10:00:00Z", "R1", "2011-03-03T23:59:59Z")
      .set_refusal_warning_included(false);
  DeadlinePolicy policy;
  policy.countries["SY"] = 60;
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), policy);
  EXPECT_THAT(lines[1], HasSubstr("(30 days, below the policy minimum of 60)"));
  EXPECT_THAT(lines[1], HasSubstr("no refusal warning"));
}

// An "extension" to an earlier date leaves the deadline where it was
// (docs/findings.md); the timeline said only "extended to" the earlier date
// (found by an audit).
TEST(TimelineTest, AnExtensionToAnEarlierDateSaysTheDeadlineStands) {
  CaseBuilder b = KaurCase();
  b.Extended("2012-06-05T09:00:00Z", "DOC-1", "2012-07-01T23:59:59Z");
  b.Extended("2012-06-06T09:00:00Z", "DOC-1", "2012-08-01T23:59:59Z");
  const std::vector<TimelineEntry> entries =
      TimelineFor(b.model(), Now(kLater), DefaultPolicy());
  std::vector<std::string> extensions;
  for (const TimelineEntry& e : entries) {
    if (e.event_type == "deadline_extended") extensions.push_back(e.sentence);
  }
  ASSERT_EQ(extensions.size(), 2u);
  EXPECT_THAT(extensions[0],
              HasSubstr("extended to 2012-07-01T23:59:59Z (earlier than the "
                        "deadline in force, 2012-07-16T23:59:59Z, which "
                        "stands): granted"));
  EXPECT_THAT(extensions[1], Not(HasSubstr("earlier than")));
}

TEST(TimelineTest, FollowsBusinessTimeAndTheEvaluation) {
  CaseBuilder b = KaurCase();
  b.Alternative("2012-06-10T09:00:00Z", "DOC-1");
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), DefaultPolicy());
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_THAT(lines[4], HasSubstr("#7 v7 2012-06-10T09:00:00Z officer off-17: "
                                  "Another channel considered for DOC-1, "
                                  "postal mail, and used"));
  auto early = TimelineLines(b.events(), fixture::AsOf("2012-06-01T10:00:00Z"),
                             DefaultPolicy());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->size(), 3u);
}

TEST(TimelineTest, DescribesTheExamplesReadably) {
  const auto events = LoadExample("bounce-handled.jsonl");
  auto lines =
      TimelineLines(events, fixture::AsOf("2013-01-01"), DefaultPolicy());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 10u);
  EXPECT_THAT((*lines)[4], HasSubstr("Delivery of DOC-1 to "
                                     "maria.santos@mail.example failed "
                                     "(5.2.2 mailbox full)"));
  EXPECT_THAT((*lines)[6], HasSubstr("resending DOC-1"));
  EXPECT_THAT((*lines)[9], HasSubstr("Case approved: Eligible."));
}

TEST(TimelineTest, JsonCarriesTypeAndText) {
  const CaseModel model = KaurCase().model();
  const JsonValue v =
      Parse(RenderTimelineJson("C-1", model, Now(kLater), DefaultPolicy()));
  const JsonValue& first = Member(v, "timeline").elements.at(0);
  EXPECT_THAT(Keys(first),
              ElementsAre("position", "case_version", "occurred_at",
                          "recorded_at", "event_type", "actor", "text"));
  EXPECT_EQ(Member(first, "event_type").text, "case_opened");
  // Who acted, as the text row names them (the JSON left it out).
  EXPECT_EQ(Member(first, "actor").text, "officer off-17");
  EXPECT_EQ(Member(first, "recorded_at").text, "2012-05-01T09:01:00Z");
}

TEST(EvaluationTest, JudgedAtPrefersAsOfThenKnownAtThenNow) {
  Evaluation e;
  e.now = T("2012-01-03T00:00:00Z");
  EXPECT_EQ(e.JudgedAt(), T("2012-01-03T00:00:00Z"));
  e.known_at = T("2012-01-02T00:00:00Z");
  EXPECT_EQ(e.JudgedAt(), T("2012-01-02T00:00:00Z"));
  e.as_of = T("2012-01-01T00:00:00Z");
  EXPECT_EQ(e.JudgedAt(), T("2012-01-01T00:00:00Z"));
}

// --known-at after now includes only the events that occurred by now, so it
// judges at now: judged at K, documents dated between now and K were left
// out while their request read OVERDUE (found by an audit).
TEST(EvaluationTest, AKnownAtAfterNowJudgesAtNow) {
  Evaluation e;
  e.now = T("2012-01-03T00:00:00Z");
  e.known_at = T("2099-01-01T00:00:00Z");
  EXPECT_EQ(e.JudgedAt(), T("2012-01-03T00:00:00Z"));
  e.as_of = T("2099-01-01T00:00:00Z");
  EXPECT_EQ(e.JudgedAt(), T("2099-01-01T00:00:00Z"));
}

TEST(EvaluationTest, IncludesWhatOccurredAndWasRecordedByItsLimits) {
  const std::vector<RecordedEvent> events = KaurCase().events();
  const RecordedEvent& send = events[3];  // occurred 10:01, recorded 10:02
  Evaluation e;
  EXPECT_TRUE(e.Includes(send));
  e.as_of = T("2012-06-01T10:01:00Z");
  EXPECT_TRUE(e.Includes(send));
  e.as_of = T("2012-06-01T10:00:59Z");
  EXPECT_FALSE(e.Includes(send));
  e = Evaluation{};
  e.known_at = T("2012-06-01T10:02:00Z");
  EXPECT_TRUE(e.Includes(send));
  e.known_at = T("2012-06-01T10:01:59Z");
  EXPECT_FALSE(e.Includes(send));
}

TEST(EvaluationTest, WithoutAsOfIncludesOnlyWhatOccurredByNow) {
  const std::vector<RecordedEvent> events = KaurCase().events();
  const RecordedEvent& send = events[3];  // occurred 10:01, recorded 10:02
  Evaluation e;
  e.now = T("2012-06-01T10:01:00Z");
  EXPECT_TRUE(e.Includes(send));
  e.now = T("2012-06-01T10:00:59Z");
  EXPECT_FALSE(e.Includes(send));
  e.known_at = T("2012-07-01T00:00:00Z");
  EXPECT_FALSE(e.Includes(send));
  e.as_of = T("2012-06-01T10:01:00Z");
  EXPECT_TRUE(e.Includes(send));
}

TEST(EvaluationTest, ParsesRfc3339AndDatesAsEndOfDay) {
  ASSERT_OK_AND_ASSIGN(absl::Time t,
                       ParseEvaluationTime("2012-08-01T08:00:00-04:00", "x"));
  EXPECT_EQ(t, T("2012-08-01T12:00:00Z"));
  ASSERT_OK_AND_ASSIGN(absl::Time day, ParseEvaluationTime("2012-08-01", "x"));
  EXPECT_EQ(day, T("2012-08-02T00:00:00Z") - absl::Nanoseconds(1));
  // The spellings occurred_at takes, and those Abseil's parser takes but
  // occurred_at refuses (found by audits): a time means the same as a flag
  // and in an event.
  for (const char* good :
       {"2012-08-01T12:00:00.5Z", "2012-08-01T12:00:00.123456789Z",
        "2012-08-01T12:00:00-00:00", "0900-01-01T00:00:00Z"}) {
    EXPECT_TRUE(ParseEvaluationTime(good, "x").ok()) << good;
  }
  for (const char* unspelled :
       {"2012-08-01T12:00:00+0500", "2012-08-01T12:00:00+05",
        "10000-01-01T00:00:00Z", " 2012-08-01", "2012-08-01 ",
        "2012-08-01T12:00:00.Z", "2012-08-01T12:00Z", "2012-8-01",
        "2012-08-01T12:00:00", "2012-02-30", "2012-08-01T24:00:00Z",
        "2012-08-01t12:00:00z", "2012-08-01T23:59:60Z",
        "2012-08-01T12:00:00.1234567891Z"}) {
    EXPECT_EQ(ParseEvaluationTime(unspelled, "x").status().code(),
              absl::StatusCode::kInvalidArgument)
        << unspelled;
  }
  const auto bad = ParseEvaluationTime("yesterday", "--as-of");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--as-of"));
  EXPECT_EQ(ParseEvaluationTime("2012-08-01\n#9 forged", "--known-at")
                .status()
                .message(),
            "--known-at: \"2012-08-01\\n#9 forged\" is neither an RFC 3339 "
            "time with a zone nor a date YYYY-MM-DD (e.g. "
            "2012-05-01T12:00:00Z, 2012-05-01T08:00:00-04:00 or 2012-05-01)");
}

TEST(EvaluationTest, FormatsUtcWithFractionsOnlyWhenPresent) {
  EXPECT_EQ(FormatUtc(T("2012-04-15T23:59:59Z")), "2012-04-15T23:59:59Z");
  EXPECT_EQ(FormatUtc(T("2012-04-15T23:59:59Z") + absl::Milliseconds(250)),
            "2012-04-15T23:59:59.25Z");
  EXPECT_EQ(FormatUtc(absl::InfiniteFuture()), "");
}

// RFC 3339 has four digits of year: the year 900 printed as "900-01-01"
// (found by an audit), which no RFC 3339 reader takes, and which hid a
// mistyped "0211" as "211".
TEST(EvaluationTest, FormatsEveryYearWithFourDigits) {
  EXPECT_EQ(FormatUtc(T("0900-01-01T10:00:00Z")), "0900-01-01T10:00:00Z");
  EXPECT_EQ(FormatUtc(T("0001-01-01T00:00:00Z")), "0001-01-01T00:00:00Z");
}

// A deadline is an instant: the timeline gave its UTC date alone, which for
// an office west of Greenwich named the day after the one the applicant was
// given, and hid the time that decides SATISFIED_LATE (found by an audit).
TEST(TimelineTest, DeadlinesAreGivenToTheSecond) {
  CaseBuilder b;
  b.Opened("2011-01-10T10:00:00Z");
  b.Consent("2011-01-10T10:05:00Z", "a@b.example");
  b.Email("2011-02-01T10:00:00Z", "R1", "2011-03-04T04:59:59.5Z",
          "a@b.example");
  b.Extended("2011-02-10T10:00:00Z", "R1", "2011-03-19T04:59:59Z");
  const std::vector<std::string> lines =
      TimelineLines(b.model(), Now(kLater), DefaultPolicy());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[2], HasSubstr(", deadline 2011-03-04T04:59:59.5Z (31 "
                                  "days)"));
  EXPECT_THAT(lines[3],
              HasSubstr("Deadline of R1 extended to 2011-03-19T04:59:59Z"));
}

TEST(DescribeEventTest, ACaseOpenedWithoutAnOfficeMailboxSaysSo) {
  v1::Event e;
  auto* opened = e.mutable_case_opened();
  opened->set_office_id("VO-DELHI");
  opened->set_program("SP");
  opened->set_applicant_country("IN");
  opened->set_language("en");
  EXPECT_EQ(DescribeEvent(e, 30),
            "Case opened at office VO-DELHI (program SP, applicant in IN, "
            "language en), no office mailbox recorded");
  opened->set_office_mailbox("visa-office@office.example");
  EXPECT_EQ(DescribeEvent(e, 30),
            "Case opened at office VO-DELHI (program SP, applicant in IN, "
            "language en), office mailbox visa-office@office.example");
}

}  // namespace
}  // namespace caseledger::projections
