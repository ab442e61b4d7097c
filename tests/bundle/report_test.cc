// The report of a bundle for people: self-contained HTML, a PDF that opens
// with searchable text (poppler's pdfinfo and pdftotext read it), the
// certified tribunal record's order for judicial review, French accents.
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/bundle/internal/document.h"
#include "projections/evaluation.h"
#include "projections/findings.h"
#include "tests/bundle/bundle_fixture.h"

namespace caseledger::bundle {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs a shell command; returns its standard output, or fails the test.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << command << " (poppler-utils installed?)";
  return out;
}

// `text` with every run of white space made one space, so that searches do
// not depend on where the PDF broke its lines.
std::string Flat(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\f';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  return out;
}

// The ActualText of each marked span in the deflated streams of `pdf`, as
// cairo spells it ("<feff...>", UTF-16BE in hex). Cairo marks a span whose
// glyphs are not one per character (a ligature, a hyphen Pango added),
// with the characters they stand for: what pdftotext prints of it.
std::vector<std::string> ActualTexts(const std::string& pdf) {
  std::vector<std::string> texts;
  for (size_t at = pdf.find("stream\n"); at != std::string::npos;
       at = pdf.find("stream\n", at + 1)) {
    z_stream z = {};
    if (inflateInit(&z) != Z_OK) break;
    z.next_in =
        reinterpret_cast<Bytef*>(const_cast<char*>(pdf.data())) + at + 7;
    z.avail_in = static_cast<uInt>(pdf.size() - at - 7);
    std::string content;
    char chunk[1 << 14];
    int result = Z_OK;
    while (result == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(chunk);
      z.avail_out = sizeof chunk;
      result = inflate(&z, Z_NO_FLUSH);
      content.append(chunk, sizeof chunk - z.avail_out);
    }
    inflateEnd(&z);
    static const std::regex kSpan(R"(/ActualText\s*(<[0-9a-fA-F]*>))");
    for (std::sregex_iterator it(content.begin(), content.end(), kSpan), end;
         it != end; ++it) {
      texts.push_back((*it)[1]);
    }
  }
  return texts;
}

// F2011-000123 plus `payload` by the officer at `when`.
std::string FrenchCaseEvent(const std::string& when,
                            const std::string& payload) {
  return absl::StrCat(R"({"case_id": "F2011-000123", "occurred_at": ")", when,
                      R"(", "actor": {"kind": "OFFICER", "id": "agent-3"}, )",
                      payload, "}\n");
}

class ReportTest : public BundleFixture {
 protected:
  std::map<std::string, std::string> Bundle(const std::string& c,
                                            v1::BundlePurpose::Value purpose,
                                            bool after_decision = false) {
    ExportRequest r = Request(c, purpose);
    r.include_after_decision = after_decision;
    auto result = BuildBundle(*ledger_, r);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? Members(result->bytes)
                       : std::map<std::string, std::string>{};
  }
  // report.html of an investigation bundle of F2011-000123 once the
  // applicant's email `message` is stored and its receipt recorded.
  std::string ReportOfAnEmailReceived(const std::string& message) {
    auto sha = ledger_->StoreMessage(message);
    EXPECT_TRUE(sha.ok()) << sha.status();
    AppendJsonLines(FrenchCaseEvent(
        "2011-03-10T09:00:00Z",
        absl::StrCat(R"("applicant_email_received": {"from_address": )"
                     R"("helene.cote@mail.example", "body_sha256": ")",
                     sha.value_or(""), R"("})")));
    return Bundle(kFrenchCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  }
  // report.html of an investigation bundle of F2011-000123 once `payload`,
  // by the officer at `when`, is appended.
  std::string InvestigationReportAfter(const std::string& when,
                                       const std::string& payload) {
    AppendJsonLines(FrenchCaseEvent(when, payload));
    return Bundle(kFrenchCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  }

  // report.html of an investigation bundle of F2011-000123 once `message`
  // is stored and request DOC-2, emailed to helene.cote@mail.example with
  // that message and `fields` (JSON members, each followed by ", "), is
  // appended.
  std::string ReportOfRequestWith(const std::string& message,
                                  const std::string& fields = "") {
    absl::StatusOr<std::string> sha = ledger_->StoreMessage(message);
    EXPECT_OK(sha);
    return InvestigationReportAfter(
        "2011-02-03T10:00:00Z",
        absl::StrCat(
            R"("document_request_sent": {"request_id": "DOC-2", "channel": )"
            R"("EMAIL", "to": ["helene.cote@mail.example"], "from_mailbox": )"
            R"("bureau@office.example", )",
            fields, R"("body_sha256": ")", sha.value_or(""), R"("})"));
  }

  // Writes the bundle's PDF to a file; returns its path.
  std::string PdfFile(const std::map<std::string, std::string>& members,
                      const std::string& name) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << members.at("report.pdf");
    return path;
  }
};

TEST_F(ReportTest, HtmlHasNoExternalReference) {
  for (const char* c : {kBounceCase, kRefusalCase, kFrenchCase}) {
    for (auto purpose : {v1::BundlePurpose::JUDICIAL_REVIEW,
                         v1::BundlePurpose::INVESTIGATION}) {
      const std::string html = Bundle(c, purpose)["report.html"];
      ASSERT_FALSE(html.empty());
      for (const char* banned :
           {"http://", "https://", "ftp://", "file://", "data:", "<script",
            "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
            "src=", "xlink:", "xmlns"}) {
        EXPECT_THAT(html, Not(HasSubstr(banned))) << c << ": " << banned;
      }
      // Links only within the page.
      std::regex href("href=\"([^\"]*)\"");
      for (auto it = std::sregex_iterator(html.begin(), html.end(), href);
           it != std::sregex_iterator(); ++it) {
        EXPECT_EQ((*it)[1].str().substr(0, 1), "#") << (*it)[0].str();
      }
      EXPECT_THAT(html, HasSubstr("Content-Security-Policy"));
      EXPECT_THAT(html, HasSubstr("<svg "));  // the timeline, inline
      EXPECT_THAT(html, HasSubstr("<style>"));
      // Free text (reasons, notes) keeps its paragraphs, as the PDF does.
      EXPECT_THAT(html, HasSubstr("p.field { white-space: pre-line; }"));
    }
  }
}

// A value in a right-to-left script takes its own direction, as in the PDF,
// and a field's value is isolated from its label.
TEST_F(ReportTest, HtmlValuesTakeTheDirectionOfTheirText) {
  AppendJsonLines(
      R"({"case_id": "E2012-000417", "occurred_at": "2012-04-21T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "officer_note_added": {"text": "\u0644\u0645 \u062a\u0635\u0644 \u0627\u0644\u0631\u0633\u0627\u0644\u0629."}})"
      "\n");
  const std::string html =
      Bundle(kBounceCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  EXPECT_THAT(html, HasSubstr("td, pre, .value { unicode-bidi: plaintext; "
                              "text-align: start; }"));
  EXPECT_THAT(html, Not(HasSubstr("text-align: left")));
  EXPECT_THAT(html, HasSubstr(":</b> <span class=\"value\">"
                              "\u0644\u0645 \u062a\u0635\u0644"));
}

TEST_F(ReportTest, HtmlEscapesCaseText) {
  AppendJsonLines(
      R"({"case_id": "E2012-000417", "occurred_at": "2012-04-21T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "officer_note_added": {"text": "<script>alert('x')</script> & <img src=http://evil.example/x>"}})"
      "\n");
  const std::string html =
      Bundle(kBounceCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;"));
}

TEST_F(ReportTest, JudicialReviewFollowsTheTribunalRecordOrder) {
  auto members = Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW);
  const std::string& html = members["report.html"];
  const size_t record = html.find("Certified tribunal record");
  const size_t decision = html.find(
      "Record 1 \xE2\x80\x94 2011-03-26 \xE2\x80\x94 Decision: REFUSED");
  const size_t opened =
      html.find("Record 2 \xE2\x80\x94 2011-02-01 \xE2\x80\x94 Case opened");
  const size_t consent = html.find("Record 3 \xE2\x80\x94 2011-02-01");
  const size_t note = html.find("Record 6 \xE2\x80\x94 2011-03-25");
  const size_t findings = html.find("Findings: the procedure checked");
  // Rule 17 asks for consecutively numbered pages: printed, the HTML's are
  // numbered as the PDF's.
  EXPECT_THAT(html, HasSubstr("@bottom-right { content: \"Page \" "
                              "counter(page) \" of \" counter(pages);"));
  ASSERT_NE(record, std::string::npos);
  ASSERT_NE(decision, std::string::npos) << html;
  ASSERT_NE(opened, std::string::npos);
  ASSERT_NE(consent, std::string::npos);
  ASSERT_NE(note, std::string::npos);
  ASSERT_NE(findings, std::string::npos) << html;
  EXPECT_LT(record, decision);
  EXPECT_LT(decision, opened);
  EXPECT_LT(opened, consent);
  EXPECT_LT(consent, note);
  EXPECT_LT(note, findings);
  // The tool's counts before the record say they are not part of it.
  EXPECT_THAT(html, HasSubstr("<b>Findings (caseledger&#39;s analysis, not "
                              "part of the tribunal&#39;s record):</b>"));
  // Days are UTC days: an evening in Toronto is the next day's date.
  EXPECT_THAT(html, HasSubstr(">Date (UTC)</th>"));
  // The officer's note dated after the decision stays out unless asked for.
  EXPECT_THAT(html, Not(HasSubstr("Appel reçu après la décision")));
  EXPECT_THAT(html, HasSubstr("1 record dated after the decision is left "
                              "out: ledger position "));
  EXPECT_THAT(html, Not(HasSubstr("Record 7 ")));

  const std::string with_after =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW,
             /*after_decision=*/true)["report.html"];
  EXPECT_THAT(with_after, HasSubstr("Appel reçu après la décision"));
  EXPECT_THAT(with_after, HasSubstr("Record 7 \xE2\x80\x94 2011-04-02"));
}

// The reasons written down at the decision's very instant were before the
// decision-maker; before, they were left out as "dated after the decision"
// (found by an audit of the report).
TEST_F(ReportTest, ARecordOfTheDecisionsInstantStaysInTheRecord) {
  AppendJsonLines(FrenchCaseEvent(
      "2011-03-26T09:00:00Z",
      R"("officer_note_added": {"text": "Motifs détaillés du refus."})"));
  const std::string html =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW)["report.html"];
  EXPECT_THAT(html, HasSubstr("Motifs détaillés du refus."));
  EXPECT_THAT(html, HasSubstr("Record 7 \xE2\x80\x94 2011-03-26"));
  // Only the note of 2011-04-02 is left out, and named.
  EXPECT_THAT(html, HasSubstr("1 record dated after the decision is left "
                              "out: ledger position "));
}

// A record dated before the decision but entered in the ledger after it,
// and one dated after it when the export asks for those, say so in the
// index and in the record (found by an audit of the report: a backdated
// note sat in the record as if the decision-maker had had it).
TEST_F(ReportTest, RecordsEnteredOrDatedAfterTheDecisionSaySo) {
  AppendJsonLines(
      FrenchCaseEvent("2011-03-01T09:00:00Z",
                      R"("officer_note_added": {"text": "Note antidatée."})"));
  const std::string html =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW)["report.html"];
  EXPECT_THAT(html, HasSubstr("Officer&#39;s note [entered after the "
                              "decision]</td>"));
  EXPECT_THAT(html, HasSubstr("after the decision was (2023-11-14 "));
  EXPECT_THAT(html, HasSubstr("though dated before it: the ledger does not "
                              "show that the decision-maker had it."));
  // The case's own records, entered with the decision, carry no mark.
  EXPECT_THAT(html, Not(HasSubstr("Case opened [")));
  const std::string after =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW,
             /*after_decision=*/true)["report.html"];
  EXPECT_THAT(after, HasSubstr("[dated after the decision]</td>"));
  EXPECT_THAT(after, HasSubstr("Dated after the decision (2011-03-26 "
                               "09:00:00 UTC), included as the export asked"));
}

// A stored message in Latin-1 was shown with its accents replaced by
// U+FFFD, with nothing to say the bytes were not those sent (found by an
// audit of the report). It is shown decoded, and says so; a message in no
// charset the report reads says which bytes it replaced.
TEST_F(ReportTest, AMessageNotInUtf8SaysHowItIsShown) {
  const std::string latin1 =
      "From: helene.cote@mail.example\r\nContent-Type: text/plain; "
      "charset=ISO-8859-1\r\n\r\nJe n'ai jamais re\xE7u le courriel.\r\n";
  const std::string unknown =
      "From: helene.cote@mail.example\r\n\r\nOctet \xFE seul.\r\n";
  std::string lines;
  for (const std::string* m : {&latin1, &unknown}) {
    ASSERT_OK_AND_ASSIGN(std::string sha, ledger_->StoreMessage(*m));
    lines += FrenchCaseEvent(
        "2011-03-10T09:00:00Z",
        absl::StrCat(R"("applicant_email_received": {"from_address": )"
                     R"("helene.cote@mail.example", "body_sha256": ")",
                     sha, R"("})"));
  }
  AppendJsonLines(lines);
  const std::string html =
      Bundle(kFrenchCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  EXPECT_THAT(html, HasSubstr("Je n&#39;ai jamais re\xC3\xA7u le courriel."));
  // Read as windows-1252, as mail programs read ISO 8859-1's label.
  EXPECT_THAT(html, HasSubstr(" bytes); shown decoded from iso-8859-1 (read "
                              "as windows-1252, as mail programs do); the "
                              "file holds the bytes as sent:"));
  EXPECT_THAT(html, HasSubstr("Octet \xEF\xBF\xBD seul."));
  EXPECT_THAT(html, HasSubstr(" bytes); bytes that are not UTF-8 are shown "
                              "as \xEF\xBF\xBD; the file holds them as sent:"));
}

// A long message is shown from its start, cut; whether it is UTF-8, and
// the charset it names, are still its whole self's: here a second part,
// past the cut, names ISO 8859-15 and holds its one byte that is not UTF-8.
TEST_F(ReportTest, ALongMessageIsCutButJudgedWhole) {
  std::string message =
      "From: helene.cote@mail.example\r\nContent-Type: multipart/mixed; "
      "boundary=b\r\n\r\n--b\r\n\r\n";
  for (int i = 1; i <= 3000; ++i) {
    absl::StrAppend(&message, "Ligne ", i,
                    " de la pi\xC3\xA8"
                    "ce\r\n");
  }
  absl::StrAppend(&message,
                  "--b\r\nContent-Type: text/plain; charset=ISO-8859-15\r\n"
                  "\r\nFrais : 500 \xA4\r\n--b--\r\n");
  const std::string html = ReportOfAnEmailReceived(message);
  EXPECT_THAT(html, HasSubstr(" bytes); shown decoded from iso-8859-15; the "
                              "file holds the bytes as sent:"));
  // Read as ISO 8859-15, the UTF-8 of the lines shown is two Latin letters.
  EXPECT_THAT(html, HasSubstr("Ligne 1 de la pi\xC3\x83\xC5\xA1"
                              "ce\n"));
  EXPECT_THAT(html, HasSubstr("Ligne 140 de la"));
  EXPECT_THAT(html, HasSubstr("[... cut here in the report; the whole message "
                              "is in the bundle]"));
  EXPECT_THAT(html, Not(HasSubstr("Ligne 160 de la")));
  EXPECT_THAT(html, Not(HasSubstr("Frais")));
}

// The excerpt is read from the message's first 31,808 bytes: enough for the
// 15,872 bytes shown even when every two bytes show as one (a C1 control
// is a space, a CRLF one line break), and the mark of the cut is shown
// after them (it was cut off, and the event blamed for the cut).
TEST_F(ReportTest, AMessageOfCharactersShownShorterIsStillCutByItsBytes) {
  std::string message = "From: helene.cote@mail.example\r\n\r\n";
  for (int i = 0; i < 20000; ++i) message += "\xC2\x85";
  message += "FIN";
  const std::string html = ReportOfAnEmailReceived(message);
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        std::string(200, ' '),
                        "\n[... cut here in the report; the whole message is "
                        "in the bundle]")));
  EXPECT_THAT(html, Not(HasSubstr("FIN")));
}

// A request whose stored message went to another address than the event
// records: the report says so under the message, where a reader would have
// had to compare header lines by eye (found by an audit). A message that
// agrees says what was compared.
TEST_F(ReportTest, AStoredMessageThatContradictsItsRecordSaysSo) {
  const std::string html = ReportOfRequestWith(
      "From: bureau@office.example\r\n"
      "To: Helene <helene.cote@other.example>\r\n"
      "Message-ID: <DOC-2.F2011-000123@office.example>\r\n"
      "\r\nVeuillez fournir les documents.\r\n",
      R"("message_id": "<DOC-2.F2011-000123@office.example>", )");
  EXPECT_THAT(html, HasSubstr("The stored message&#39;s own headers "
                              "contradict this record: To: names "
                              "helene.cote@other.example, where this record "
                              "names helene.cote@mail.example."));
  const std::string example =
      Bundle(kBounceCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  EXPECT_THAT(example, HasSubstr("The stored message&#39;s To: and "
                                 "Message-ID: agree with this record."));
  EXPECT_THAT(example, Not(HasSubstr("contradict this record")));
}

// A subject or name a mail program wrote in RFC 2047 encoded words is shown
// decoded under the message, as its recipient read it (found by an audit:
// the judge saw base64).
TEST_F(ReportTest, EncodedHeaderFieldsAreShownDecoded) {
  const std::string html = ReportOfRequestWith(
      "From: =?UTF-8?B?QnVyZWF1IGRlcyB2aXNhcw==?= <bureau@office.example>\r\n"
      "To: helene.cote@mail.example\r\n"
      "Subject: =?ISO-8859-1?Q?Demande_de_pi=E8ces?=\r\n"
      "\r\nVeuillez fournir les documents.\r\n");
  EXPECT_THAT(html, HasSubstr("Its encoded header fields (RFC 2047)"));
  EXPECT_THAT(html, HasSubstr("From: Bureau des visas &lt;bureau@office."
                              "example&gt;\nSubject: Demande de pi\xC3\xA8"
                              "ces"));
  // The message itself is still shown as stored.
  EXPECT_THAT(html, HasSubstr("=?ISO-8859-1?Q?Demande_de_pi=E8ces?="));
}

// An event dated after the ledger recorded it is in the bundle but not in
// its projections (domain.md §5): the report says so where the reader
// starts, naming it, instead of only counting it (found by an audit).
TEST_F(ReportTest, AnEventDatedAfterItWasRecordedIsNamedAsLeftOut) {
  const std::string html = InvestigationReportAfter(
      "2030-01-01T00:00:00Z",
      R"("officer_note_added": {"text": "dated by a wrong clock"})");
  EXPECT_THAT(
      html,
      HasSubstr("<b>Left out of this report:</b> <span class=\"value\">#26 "
                "officer_note_added, dated 2030-01-01 00:00:00 "
                "UTC, recorded "));
  EXPECT_THAT(html, HasSubstr("suggests a wrong clock or time zone"));
  EXPECT_THAT(html, Not(HasSubstr("dated by a wrong clock</p>")));
}

// A text of the case is cut in the report, as a message is: laid out whole
// for the PDF, a 10 MiB note took 48 s and 2 GiB to export (found by an
// audit). The event in the bundle holds it whole.
TEST_F(ReportTest, ALongTextIsCutInTheReportOnly) {
  const std::string text = absl::StrCat(std::string(20000, 'a'), "TAIL");
  AppendJsonLines(FrenchCaseEvent(
      "2011-04-03T09:00:00Z",
      absl::StrCat(R"("officer_note_added": {"text": ")", text, R"("})")));
  auto members = Bundle(kFrenchCase, v1::BundlePurpose::INVESTIGATION);
  const std::string& html = members["report.html"];
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        std::string(100, 'a'),
                        " [... cut here in the report after 16000 of its "
                        "20004 bytes; the event in the bundle holds it "
                        "whole]")));
  EXPECT_THAT(html, Not(HasSubstr("TAIL")));
  EXPECT_THAT(members["events.json"], HasSubstr("TAIL"));
  EXPECT_FALSE(members["report.pdf"].empty());
}

// Nothing is named when the evaluation takes every event.
TEST_F(ReportTest, AReportThatTakesEveryEventLeavesNothingOut) {
  const std::string html =
      Bundle(kFrenchCase, v1::BundlePurpose::INVESTIGATION)["report.html"];
  EXPECT_THAT(html, HasSubstr("<b>Events in this bundle:</b>"));
  EXPECT_THAT(html, Not(HasSubstr("Left out of this report")));
}

// The report gives a time as precisely as the events hold it: its deadline
// table stopped at the minute and its records at the second, so documents
// at 23:59:59.4 against a deadline of 23:59:59 read as on time and
// SATISFIED_LATE at once (found by an audit).
TEST_F(ReportTest, TimesKeepTheirSecondsAndFractions) {
  const std::string html = InvestigationReportAfter(
      "2011-02-10T09:00:00.25Z",
      R"("deadline_extended": {"request_id": "DOC-1", "new_deadline": )"
      R"("2011-03-24T23:59:59.4Z", "reason": "saisie"})");
  EXPECT_THAT(html, HasSubstr("<td>2011-03-24 23:59:59.4</td>"));
  EXPECT_THAT(html, HasSubstr("<td>2011-02-02 10:01:00</td>"));
  // The deadline table's columns say their zone, as every other time of
  // the report does (they did not; found by an outside reading).
  EXPECT_THAT(html, HasSubstr(">Sent (UTC)</th><th style=\"width:17.00%\">"
                              "Deadline (UTC)</th>"));
  EXPECT_THAT(html,
              HasSubstr("<b>Occurred:</b> <span class=\"value\">2011-02-10 "
                        "09:00:00.25 UTC</span></p>"));
}

// A record of an extension to an earlier date says the deadline in force
// stands, as the timeline does: the report said only "extended to" it.
TEST_F(ReportTest, AnExtensionToAnEarlierDateSaysTheDeadlineStands) {
  const std::string html = InvestigationReportAfter(
      "2011-02-10T09:00:00Z",
      R"("deadline_extended": {"request_id": "DOC-1", "new_deadline": )"
      R"("2011-03-01T23:59:59Z", "reason": "saisie"})");
  EXPECT_THAT(html, HasSubstr("Deadline of DOC-1 extended to "
                              "2011-03-01T23:59:59Z (earlier than the deadline "
                              "in force, 2011-03-20T23:59:59Z, which stands): "
                              "saisie"));
}

// Under --as-of the summary says how many of the bundle's events the report
// takes and from when (found by an audit: it said 24 events and listed 9).
TEST_F(ReportTest, TheSummarySaysWhatAnAsOfLeavesOut) {
  ExportRequest r = Request(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW);
  r.as_of = absl::FromUnixSeconds(1298538000);  // 2011-02-24T09:00:00Z
  auto result = BuildBundle(*ledger_, r);
  ASSERT_TRUE(result.ok()) << result.status();
  const std::string html = Members(result->bytes)["report.html"];
  EXPECT_THAT(html, HasSubstr("with what had happened by 2011-02-24 09:00:00 "
                              "UTC (events that occurred later are in the "
                              "bundle but not in this report)"));
  EXPECT_THAT(
      html,
      HasSubstr("Events in this bundle:</b> <span class=\"value\">7 (case "
                "versions "
                "1 to 7), of which this report takes the 4 "
                "that occurred by 2011-02-24 09:00:00 UTC"));
  const std::string full =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW)["report.html"];
  EXPECT_THAT(full, Not(HasSubstr("with what had happened by")));
  EXPECT_THAT(full, Not(HasSubstr("of which this report takes")));
}

// A reconsideration that reopened the case decides nothing a court reviews:
// the refusal before it stays the decision under review, and what came after
// it stays out (found by an audit of the report).
TEST_F(ReportTest, AReopeningIsNotTheDecisionUnderReview) {
  AppendJsonLines(
      FrenchCaseEvent("2011-04-10T09:00:00Z",
                      R"("judicial_review_filed": {"court_file_number": )"
                      R"("IMM-2222-11"})") +
      FrenchCaseEvent("2011-05-01T09:00:00Z",
                      R"("reconsideration_decided": {"outcome": "REOPENED", )"
                      R"("reasons": "Sur consentement."})"));
  const std::string html =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW)["report.html"];
  EXPECT_THAT(html, HasSubstr("Record 1 \xE2\x80\x94 2011-03-26 "
                              "\xE2\x80\x94 Decision: REFUSED"));
  EXPECT_THAT(html, Not(HasSubstr("Sur consentement.")));
  EXPECT_THAT(html, HasSubstr("3 records dated after the decision are left "
                              "out: ledger positions "));
}

TEST_F(ReportTest, OtherPurposesListEveryRecordByDate) {
  const std::string html =
      Bundle(kFrenchCase, v1::BundlePurpose::RECONSIDERATION)["report.html"];
  EXPECT_THAT(html, Not(HasSubstr("Certified tribunal record")));
  EXPECT_THAT(html, HasSubstr("Records in date order"));
  EXPECT_THAT(
      html,
      HasSubstr("Record 1 \xE2\x80\x94 2011-02-01 \xE2\x80\x94 Case opened"));
  EXPECT_THAT(html, HasSubstr("Appel reçu après la décision"));
}

TEST_F(ReportTest, PdfOpensWithSearchableTextPageNumbersAndAccents) {
  auto members = Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW);
  const std::string pdf = PdfFile(members, "french.pdf");
  const std::string info = Shell("pdfinfo -isodates " + pdf);
  EXPECT_TRUE(std::regex_search(
      info, std::regex("Title: +Evidence bundle: case F2011-000123")))
      << info;
  std::smatch pages;
  ASSERT_TRUE(std::regex_search(info, pages, std::regex("Pages: +([0-9]+)")))
      << info;
  const int n = std::stoi(pages[1].str());
  EXPECT_GE(n, 3);
  EXPECT_THAT(info, HasSubstr("612 x 792 pts (letter)"));

  const std::string text = Flat(Shell("pdftotext -enc UTF-8 " + pdf + " -"));
  EXPECT_THAT(text, HasSubstr("F2011-000123"));
  EXPECT_THAT(text, HasSubstr("Certified tribunal record"));
  EXPECT_THAT(text, HasSubstr("REFUSAL_SUPPORTED"));
  EXPECT_THAT(text, HasSubstr("Not met"));
  EXPECT_THAT(text, HasSubstr("SENT_MESSAGE_PRESERVED"));
  // French, exactly as entered: accents and guillemets survive.
  EXPECT_THAT(text, HasSubstr("été envoyé"));
  EXPECT_THAT(text, HasSubstr("défaut de fournir"));
  EXPECT_THAT(text, HasSubstr("à l'échéance"));
  for (int p = 1; p <= n; ++p) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("Page ", p, " of ", n)));
  }
  // Decision first.
  EXPECT_LT(text.find("Record 1"), text.find("Record 2"));
  EXPECT_LT(text.find("Decision: REFUSED"), text.find("Record 2"));
}

TEST_F(ReportTest, PdfIsDatedByTheLedgerNotTheWallClock) {
  ExportResult r = Export(kRefusalCase, v1::BundlePurpose::INVESTIGATION);
  ASSERT_OK_AND_ASSIGN(std::vector<RecordedEvent> last,
                       ledger_->ReadAll(r.tree_size, 1));
  const std::string pdf = PdfFile(Members(r.bytes), "dated.pdf");
  const std::string info = Shell("pdfinfo -isodates " + pdf);
  const std::string expected = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%S", last[0].recorded_at, absl::UTCTimeZone());
  EXPECT_TRUE(std::regex_search(
      info, std::regex(absl::StrCat("CreationDate: +", expected))))
      << info;
  EXPECT_TRUE(
      std::regex_search(info, std::regex(absl::StrCat("ModDate: +", expected))))
      << info;
}

TEST_F(ReportTest, PdfFindingsOfTheExamplesAreReadable) {
  auto members = Bundle(kBounceCase, v1::BundlePurpose::INVESTIGATION);
  const std::string text = Flat(
      Shell("pdftotext -enc UTF-8 " + PdfFile(members, "bounce.pdf") + " -"));
  EXPECT_THAT(text, HasSubstr("E2012-000417"));
  EXPECT_THAT(text, HasSubstr("BOUNCE_FOLLOWED_UP"));
  EXPECT_THAT(text, HasSubstr("Bounced email followed up"));
  EXPECT_THAT(text, HasSubstr("Met (PASS)"));
  EXPECT_THAT(text, HasSubstr("Deadlines"));
  EXPECT_THAT(text, HasSubstr("Timeline of the case"));
  EXPECT_THAT(text, HasSubstr("DOC-1 FAILED"));  // the bounce, in the picture
  EXPECT_THAT(text, HasSubstr("Appendix: checkpoint and how to verify"));
  // Every rule's code whole, so that a search for it finds it: the longest
  // were broken across lines (found by an audit of the report).
  for (projections::Rule rule : projections::AllRules()) {
    EXPECT_THAT(text, HasSubstr(std::string(projections::RuleName(rule))));
  }
}

// A table row is never split across pages. One taller than a page (here a
// request id of 1,001 characters, which every request-scoped row repeats) ran
// past the page's foot, over its page number and off the paper (found by an
// audit of the report); it is now cut, marked, above the foot.
TEST_F(ReportTest, PdfRowsTallerThanAPageAreCutAboveTheFoot) {
  const std::string id = absl::StrCat("R", std::string(1000, '7'));
  auto ev = [](const std::string& when, const std::string& payload) {
    return absl::StrCat(R"({"case_id": "LONG-1", "occurred_at": ")", when,
                        R"(", "actor": {"kind": "OFFICER", "id": "o"}, )",
                        payload, "}\n");
  };
  AppendJsonLines(
      ev("2011-01-10T10:00:00Z",
         R"("case_opened": {"program": "TRV", "office_id": "VO", )"
         R"("office_mailbox": "visa@office.example", )"
         R"("applicant_country": "CO", "language": "en"})") +
      ev("2011-01-10T10:05:00Z",
         R"("email_consent_recorded": {"party": "APPLICANT", )"
         R"("address": "a@mail.example", "basis": "APPLICATION_FORM"})") +
      ev("2011-01-11T10:00:00Z",
         absl::StrCat(R"("document_request_sent": {"request_id": ")", id,
                      R"(", "channel": "EMAIL", "to": ["a@mail.example"], )"
                      R"("deadline": "2011-03-01T00:00:00Z"})")));
  const std::string pdf =
      PdfFile(Bundle("LONG-1", v1::BundlePurpose::JUDICIAL_REVIEW), "long.pdf");
  const std::string text = Shell("pdftotext -layout -enc UTF-8 " + pdf + " -");
  EXPECT_THAT(text, HasSubstr("[...]"));
  int page = 0;
  for (absl::string_view sheet : absl::StrSplit(text, '\f')) {
    std::vector<absl::string_view> lines =
        absl::StrSplit(sheet, '\n', absl::SkipWhitespace());
    if (lines.empty()) continue;
    ++page;
    // The page number is the last thing on the page.
    EXPECT_THAT(std::string(absl::StripAsciiWhitespace(lines.back())),
                ::testing::StartsWith(absl::StrCat("Page ", page, " of ")))
        << "page " << page;
  }
  EXPECT_GE(page, 3);
}

// A word too long for its column is broken without a hyphen: Pango's own
// was read as part of a token, an address or a message shown as sent,
// where a reader cannot tell it from a real one (found by an outside
// reading). pdftotext leaves such a hyphen out; the span cairo marks for
// it, one letter drawn as two glyphs, does not.
TEST_F(ReportTest, PdfBreaksALongWordWithoutAHyphen) {
  std::string word = "Ref";
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&word, "abcdefghijklmnopqrstuvwxyz");
  }
  AppendJsonLines(FrenchCaseEvent(
      "2011-03-25T10:00:00Z",
      absl::StrCat(R"("officer_note_added": {"text": ")", word, R"("})")));
  const std::map<std::string, std::string> members =
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW);
  const std::string text =
      Shell("pdftotext -enc UTF-8 " + PdfFile(members, "long-word.pdf") + " -");
  // Broken over lines, as the test needs.
  EXPECT_THAT(text, Not(HasSubstr(word))) << text;
  EXPECT_THAT(Flat(text), HasSubstr(word.substr(0, 40)));
  const std::vector<std::string> spans = ActualTexts(members.at("report.pdf"));
  EXPECT_THAT(spans,
              ::testing::Contains("<feff00660069>"));  // "fi", drawn as one
  for (const std::string& span : spans) {
    EXPECT_FALSE(
        std::regex_match(span, std::regex("<feff00(6[1-9a-f]|7[0-9a])>")))
        << span << ": a letter drawn as two glyphs, itself and a hyphen";
  }
}

// Names, subjects and notes come in the applicants' scripts. DejaVu lacks
// most of Asia's: they printed as boxes (found by an audit of the report) and
// now come from the fallback fonts, Chinese and Japanese from one font.
TEST_F(ReportTest, PdfSetsTheScriptsOfAsiaAndEthiopia) {
  AppendJsonLines(FrenchCaseEvent(
      "2011-03-25T10:00:00Z",
      "\"officer_note_added\": {\"text\": \"Appel de \u738b\u5c0f\u660e, "
      "\uae40\ubbfc\uc900, \u3084\u307e\u3060, "
      "\u0928\u092e\u0938\u094d\u0924\u0947, "
      "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35, \u1230\u120b\u121d.\"}"));
  const std::string pdf = PdfFile(
      Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW), "asia.pdf");
  const std::string text = Flat(Shell("pdftotext -enc UTF-8 " + pdf + " -"));
  EXPECT_THAT(text,
              HasSubstr("Appel de \u738b\u5c0f\u660e, \uae40\ubbfc\uc900, "
                        "\u3084\u307e\u3060, "
                        "\u0928\u092e\u0938\u094d\u0924\u0947"));
  EXPECT_THAT(text, Not(HasSubstr("Boxes showing a code")));
  const std::string fonts = Shell("pdffonts " + pdf);
  for (const char* font :
       {"DroidSansFallback", "NanumGothic", "NotoSansDevanagari",
        "NotoSansThai", "NotoSansEthiopic"}) {
    EXPECT_THAT(fonts, HasSubstr(font));
  }
}

// Characters no font of the PDF holds (here an Egyptian hieroglyph) print as
// boxes with their code; the pages holding them say so, the others do not
// (found by an audit of the report: the paper copy gave no sign that a name
// was not drawn).
TEST_F(ReportTest, PdfPagesWithCharactersTheFontsLackSaySo) {
  AppendJsonLines(FrenchCaseEvent("2011-03-25T10:00:00Z",
                                  R"("officer_note_added": {"text": )"
                                  R"("Appel de \ud80c\udc00."})"));
  const std::string text =
      Shell("pdftotext -layout -enc UTF-8 " +
            PdfFile(Bundle(kFrenchCase, v1::BundlePurpose::JUDICIAL_REVIEW),
                    "boxes.pdf") +
            " -");
  int with_note = 0, pages = 0;
  for (absl::string_view sheet : absl::StrSplit(text, '\f')) {
    if (absl::StripAsciiWhitespace(sheet).empty()) continue;
    ++pages;
    if (absl::StrContains(Flat(std::string(sheet)),
                          "Boxes showing a code stand for characters this "
                          "PDF's fonts lack")) {
      ++with_note;
      EXPECT_THAT(std::string(sheet), HasSubstr("Appel de"));
    }
  }
  EXPECT_GE(with_note, 1);
  EXPECT_LT(with_note, pages);
  const std::string plain =
      Shell("pdftotext -enc UTF-8 " +
            PdfFile(Bundle(kBounceCase, v1::BundlePurpose::INVESTIGATION),
                    "plain.pdf") +
            " -");
  EXPECT_THAT(plain, Not(HasSubstr("Boxes showing a code")));
}

// The record index prints the page each record lands on, which is known only
// once the report is laid out: layout runs until the numbers are those of
// the pages drawn, and the pages are drawn from one more build, each as soon
// as its lines are laid out (holding every page's lines took ~60 KB per
// event). A table continued on a page repeats its header row there.
TEST_F(ReportTest, PdfIndexGivesThePagesTheRecordsLandOn) {
  auto ev = [](int minute, const std::string& payload) {
    return absl::StrCat(R"({"case_id": "MANY-1", "occurred_at": ")",
                        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                         absl::FromUnixSeconds(1294653600) +
                                             absl::Minutes(minute),
                                         absl::UTCTimeZone()),
                        R"(", "actor": {"kind": "OFFICER", "id": "o"}, )",
                        payload, "}\n");
  };
  std::string lines = ev(0, R"("case_opened": {"program": "TRV", "office_id": )"
                            R"("VO", "office_mailbox": "visa@office.example", )"
                            R"("applicant_country": "CO", "language": "en"})");
  for (int i = 1; i <= 90; ++i) {
    // Notes of different lengths, so that records take different heights.
    lines += ev(i, absl::StrCat(R"("officer_note_added": {"text": "Note )", i,
                                std::string(1 + (i * 37) % 300, 'x'), "\"}"));
  }
  AppendJsonLines(lines);
  const std::string text =
      Shell("pdftotext -layout -enc UTF-8 " +
            PdfFile(Bundle("MANY-1", v1::BundlePurpose::JUDICIAL_REVIEW),
                    "many.pdf") +
            " -");
  const std::regex heading(R"(^\s*Record (\d+) \S+ \d{4}-\d\d-\d\d)");
  const std::regex index_row(R"(^\s*(\d+)\s+\d{4}-\d\d-\d\d\s.*\s(\d+)\s*$)");
  const std::regex index_header(R"(No\.\s+Date \(UTC\)\s+Record\s+Page)");
  std::map<int, int> landed, indexed;
  int page = 0, index_pages = 0;
  for (absl::string_view sheet : absl::StrSplit(text, '\f')) {
    if (absl::StripAsciiWhitespace(sheet).empty()) continue;
    ++page;
    bool has_rows = false;
    for (absl::string_view line : absl::StrSplit(sheet, '\n')) {
      const std::string l(line);
      std::smatch m;
      if (std::regex_search(l, m, heading)) {
        landed.emplace(std::stoi(m[1].str()), page);
      } else if (landed.empty() && std::regex_search(l, m, index_row)) {
        indexed[std::stoi(m[1].str())] = std::stoi(m[2].str());
        has_rows = true;
      }
    }
    if (has_rows) {
      ++index_pages;
      EXPECT_TRUE(std::regex_search(std::string(sheet), index_header))
          << "page " << page << " continues the index without its header";
    }
  }
  EXPECT_GE(index_pages, 2);
  EXPECT_EQ(landed.size(), 91u);
  EXPECT_EQ(indexed, landed);
  EXPECT_GT(landed.rbegin()->second, landed.begin()->second + 5);
}

TEST_F(ReportTest, MissingFontsAreAClearError) {
  ExportRequest r = Request(kBounceCase, v1::BundlePurpose::INVESTIGATION);
  r.font_dir = dir_.Sub("no-fonts-here");
  auto result = BuildBundle(*ledger_, r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("fonts-dejavu-core"));
}

// One block can be most of a report (the table of a large case's events):
// a render asks whether it is still wanted as its pieces are laid out, not
// only between blocks, where a table of 21,841 rows went 20 s without an
// ask, and its export without a word (found by a probe). An answer no
// ends the render inside the table.
TEST(RenderPdfTest, AsksWithinOneLargeBlockAndStopsThere) {
  internal::Document doc;
  doc.title = "one table";
  internal::Block table;
  table.kind = internal::Block::Kind::kTable;
  table.table.columns = {"#", "what"};
  table.table.widths = {0.2, 0.8};
  for (int i = 0; i < 640; ++i) {
    table.table.rows.push_back(
        {internal::Cell(absl::StrCat(i)), internal::Cell("a row")});
  }
  doc.blocks.push_back(table);
  int asked = 0;
  ASSERT_TRUE(internal::RenderPdf(doc, kDefaultFontDir, [&] {
                ++asked;
                return absl::OkStatus();
              }).ok());
  // 641 pieces laid out and drawn: at least ten asks each time.
  EXPECT_GE(asked, 20);

  asked = 0;
  auto stopped = internal::RenderPdf(doc, kDefaultFontDir, [&] {
    return ++asked == 3 ? absl::CancelledError("the client left")
                        : absl::OkStatus();
  });
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(asked, 3);
}

TEST(CleanTextTest, InvalidUtf8AndControlsAreReplaced) {
  EXPECT_EQ(internal::CleanText("a\x01"
                                "b\n\tc"),
            "a b\n\tc");
  EXPECT_EQ(internal::CleanText("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(internal::CleanText("x\xFFy"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(internal::CleanText("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(internal::CleanText("\xED\xA0\x80"),  // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

// A right-to-left override showed "evil.exe" as "exe.live" in both reports
// (found by an audit of the report); it is shown, not obeyed.
TEST(CleanTextTest, BidirectionalControlsAreShownNotObeyed) {
  EXPECT_EQ(internal::CleanText("rlo[\u202E"
                                "evil.exe\u202C]"),
            "rlo[[U+202E]evil.exe[U+202C]]");
  EXPECT_EQ(internal::CleanText("\u2066x\u2069"), "[U+2066]x[U+2069]");
  // Marks that only hint a direction reorder nothing and stay.
  EXPECT_EQ(internal::CleanText("a\u200Fb"), "a\u200Fb");
}

}  // namespace
}  // namespace caseledger::bundle
