#include "projections/bundle/internal/report.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/recorded_event.h"
#include "ledger/sha256.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/bundle/internal/chart.h"
#include "projections/bundle/internal/message_headers.h"
#include "projections/render.h"

namespace caseledger::bundle::internal {
namespace {

using projections::CaseEvent;
using projections::DeadlineFlag;
using projections::DeadlineState;
using projections::FindingStatus;
using projections::Rule;

// The body width of a PDF page in points; the chart is laid out for it.
constexpr double kChartWidth = 504;
// Any text of the report is cut after this many bytes.
constexpr size_t kMaxTextBytes = 16000;
// A message shown in the report is cut after this many lines or bytes; the
// bundle holds it whole in messages/. Its cut and the mark that says so fit
// in a text: cut at the text's limit, the mark was cut off in turn and the
// event blamed for it (found by a test of the byte cut).
constexpr int kMaxMessageLines = 150;
constexpr size_t kMaxMessageBytes = kMaxTextBytes - 128;

std::string When(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return "-";
  return absl::FormatTime("%E4Y-%m-%d %H:%M:%E*S UTC", t, absl::UTCTimeZone());
}
std::string Day(absl::Time t) {
  return absl::FormatTime("%E4Y-%m-%d", t, absl::UTCTimeZone());
}
std::string DayTime(absl::Time t) {
  return absl::FormatTime("%E4Y-%m-%d %H:%M:%E*S", t, absl::UTCTimeZone());
}

std::string RuleTitle(Rule rule) {
  switch (rule) {
    case Rule::kConsentEstablished:
      return "Consent to email was in force";
    case Rule::kRepresentativeEmailRepeated:
      return "Representative's email repeated in the mailing address";
    case Rule::kRecipientMatchesFile:
      return "Sent to the address on file";
    case Rule::kRecipientVerified:
      return "Address checked by the officer before sending";
    case Rule::kRequestRecorded:
      return "Recipient, date and deadline recorded";
    case Rule::kOrganizationalMailbox:
      return "Sent from the office's monitored mailbox";
    case Rule::kRefusalWarningGiven:
      return "Warned that missing documents may lead to refusal";
    case Rule::kDeadlineReasonable:
      return "Deadline long enough";
    case Rule::kBounceFollowedUp:
      return "Bounced email followed up";
    case Rule::kNonComplianceAfterDeadline:
      return "Non-compliance noted only after the deadline";
    case Rule::kStandardNoteUsed:
      return "Standard non-compliance note used";
    case Rule::kRefusalSupported:
      return "Refusal for non-compliance supported by the record";
    case Rule::kTransferNoticeGiven:
      return "Applicant told of the file transfer";
    case Rule::kReconsiderationAddressed:
      return "Request for reconsideration answered";
    case Rule::kSentMessagePreserved:
      return "Copy of the email as sent kept";
    case Rule::kDeliveryWarningHeeded:
      return "Signs of delivery trouble acted on";
    case Rule::kExtensionRequestDecided:
      return "Requests for more time decided";
    case Rule::kRecordedPromptly:
      return "Actions recorded promptly";
  }
  return std::string(projections::RuleName(rule));
}

std::pair<std::string, Tone> FindingResult(FindingStatus s) {
  switch (s) {
    case FindingStatus::kPass:
      return {"Met (PASS)", Tone::kGood};
    case FindingStatus::kFail:
      return {"Not met (FAIL)", Tone::kBad};
    case FindingStatus::kWarn:
      return {"Concern (WARN)", Tone::kWarn};
    case FindingStatus::kNotApplicable:
      return {"Not applicable", Tone::kNeutral};
  }
  return {"", Tone::kNone};
}

std::pair<std::string, Tone> DeadlineResult(DeadlineState s) {
  const std::string name(projections::DeadlineStateName(s));
  switch (s) {
    case DeadlineState::kSuperseded:
      return {"superseded by a resend (" + name + ")", Tone::kNeutral};
    case DeadlineState::kSatisfied:
      return {"documents received in time (" + name + ")", Tone::kGood};
    case DeadlineState::kSatisfiedLate:
      return {"documents received late (" + name + ")", Tone::kWarn};
    case DeadlineState::kClosed:
      return {"closed by the decision (" + name + ")", Tone::kNeutral};
    case DeadlineState::kDeliveryFailed:
      return {"delivery failed (" + name + ")", Tone::kBad};
    case DeadlineState::kOverdue:
      return {"deadline passed (" + name + ")", Tone::kBad};
    case DeadlineState::kPending:
      return {"pending (" + name + ")", Tone::kNone};
  }
  return {name, Tone::kNone};
}

std::string FlagWords(DeadlineFlag f) {
  switch (f) {
    case DeadlineFlag::kBelowPolicyMinimum:
      return "deadline below the policy minimum";
    case DeadlineFlag::kNotVerified:
      return "address not checked before sending";
    case DeadlineFlag::kAddressMismatch:
      return "sent to an address not on file";
    case DeadlineFlag::kNoRefusalWarning:
      return "no refusal warning";
    case DeadlineFlag::kNonOrganizationalMailbox:
      return "not sent from the office mailbox";
    case DeadlineFlag::kNoConsent:
      return "no consent to email";
  }
  return "";
}

std::string EventTitle(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kCaseOpened:
      return "Case opened";
    case v1::Event::kEmailConsentRecorded:
      return "Consent to email recorded";
    case v1::Event::kEmailConsentWithdrawn:
      return "Consent to email withdrawn";
    case v1::Event::kContactAddressChanged:
      return "Contact address changed";
    case v1::Event::kRepresentativeAppointed:
      return "Representative appointed";
    case v1::Event::kRepresentativeWithdrawn:
      return "Representative withdrawn";
    case v1::Event::kRecipientAddressVerified:
      return absl::StrCat("Recipient address checked (",
                          e.recipient_address_verified().request_id(), ")");
    case v1::Event::kDocumentRequestSent:
      return absl::StrCat("Request for documents sent (",
                          e.document_request_sent().request_id(), ")");
    case v1::Event::kDeliveryNoticeReceived:
      return absl::StrCat(
          "Delivery notice received (",
          e.delivery_notice_received().request_id(), ", ",
          v1::DeliveryAction::Value_Name(e.delivery_notice_received().action()),
          ")");
    case v1::Event::kAlternativeChannelConsidered:
      return absl::StrCat("Other means of communication considered (",
                          e.alternative_channel_considered().request_id(), ")");
    case v1::Event::kDocumentsReceived:
      return absl::StrCat("Documents received (",
                          e.documents_received().request_id(), ")");
    case v1::Event::kExtensionRequested:
      return absl::StrCat("Extension requested (",
                          e.extension_requested().request_id(), ")");
    case v1::Event::kDeadlineExtended:
      return absl::StrCat("Deadline extended (",
                          e.deadline_extended().request_id(), ")");
    case v1::Event::kExtensionRefused:
      return absl::StrCat("Extension refused (",
                          e.extension_refused().request_id(), ")");
    case v1::Event::kNonComplianceRecorded:
      return absl::StrCat("Non-compliance noted (",
                          e.non_compliance_recorded().request_id(), ")");
    case v1::Event::kOfficerNoteAdded:
      return "Officer's note";
    case v1::Event::kApplicantEmailReceived:
      return "Email received from the applicant's side";
    case v1::Event::kTransferNoticeSent:
      return "Transfer notice sent";
    case v1::Event::kCaseTransferred:
      return "Case transferred";
    case v1::Event::kCaseDecided:
      return absl::StrCat(
          "Decision: ", v1::Decision::Value_Name(e.case_decided().decision()));
    case v1::Event::kReconsiderationRequested:
      return "Reconsideration requested";
    case v1::Event::kReconsiderationDecided:
      return absl::StrCat("Reconsideration decided: ",
                          v1::ReconsiderationOutcome::Value_Name(
                              e.reconsideration_decided().outcome()));
    case v1::Event::kJudicialReviewFiled:
      return absl::StrCat("Judicial review filed (",
                          e.judicial_review_filed().court_file_number(), ")");
    case v1::Event::kEvidenceBundleExported:
      return "Evidence bundle exported";
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return "Event";
}

std::string ActorWords(const v1::Event& e) {
  std::string kind = v1::ActorKind::Value_Name(e.actor().kind());
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(tolower(c)); });
  std::string out = absl::StrCat(kind, " ", e.actor().id());
  if (!e.source().empty()) absl::StrAppend(&out, " (via ", e.source(), ")");
  return out;
}

// The free text of an event that a reader needs whole, beyond the one-line
// description: label and text.
std::vector<std::pair<std::string, std::string>> FreeText(const v1::Event& e) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const char* label, const std::string& text) {
    if (!text.empty()) out.emplace_back(label, text);
  };
  switch (e.payload_case()) {
    case v1::Event::kCaseDecided:
      add("Reasons", e.case_decided().reasons());
      break;
    case v1::Event::kNonComplianceRecorded:
      add("Note as entered", e.non_compliance_recorded().note());
      break;
    case v1::Event::kOfficerNoteAdded:
      add("Note", e.officer_note_added().text());
      break;
    case v1::Event::kReconsiderationRequested:
      add("Statement", e.reconsideration_requested().statement());
      break;
    case v1::Event::kReconsiderationDecided:
      add("Reasons", e.reconsideration_decided().reasons());
      break;
    case v1::Event::kDeliveryNoticeReceived: {
      const auto& p = e.delivery_notice_received();
      add("Status code", p.status_code());
      add("Diagnostic", p.diagnostic());
      break;
    }
    case v1::Event::kDocumentRequestSent: {
      const auto& p = e.document_request_sent();
      add("To", absl::StrJoin(p.to(), ", "));
      add("Copy to", absl::StrJoin(p.cc(), ", "));
      add("From", p.from_mailbox());
      add("Subject", p.subject());
      add("Message-ID", p.message_id());
      if (p.has_deadline()) add("Deadline", When(FromTimestamp(p.deadline())));
      add("Documents asked for", absl::StrJoin(p.items(), "; "));
      break;
    }
    case v1::Event::kEvidenceBundleExported: {
      const auto& p = e.evidence_bundle_exported();
      add("Purpose", v1::BundlePurpose::Value_Name(p.purpose()));
      add("Bundle SHA-256", p.bundle_sha256());
      add("Tree size", absl::StrCat(p.tree_size()));
      add("Requested by", p.requested_by());
      break;
    }
    default:
      break;
  }
  return out;
}

// The first charset a message names (its own, or its first MIME part's),
// lowercase, or "".
std::string CharsetOf(std::string_view message) {
  constexpr std::string_view kName = "charset=";
  const auto at =
      std::search(message.begin(), message.end(), kName.begin(), kName.end(),
                  [](char a, char b) { return absl::ascii_tolower(a) == b; });
  if (at == message.end()) return "";
  std::string_view rest = message.substr(at - message.begin() + kName.size());
  if (!rest.empty() && rest.front() == '"') rest.remove_prefix(1);
  return absl::AsciiStrToLower(
      AbslView(rest.substr(0, rest.find_first_of("\"; \t\r\n"))));
}

// `text` cut at byte `at`, moved back to the start of a UTF-8 character,
// followed by `mark`.
std::string CutAt(absl::string_view text, size_t at, absl::string_view mark) {
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xc0) == 0x80) {
    --at;
  }
  return absl::StrCat(text.substr(0, at), mark);
}

// The header fields whose RFC 2047 encoded words the report decodes, by
// their lower-case name, with the name shown.
struct DecodedField {
  const char* name;
  const char* shown;
};
constexpr DecodedField kDecodedFields[] = {
    {"from", "From"}, {"sender", "Sender"}, {"reply-to", "Reply-To"},
    {"to", "To"},     {"cc", "Cc"},         {"subject", "Subject"}};

// The stored message as the report shows it: lines, cut to a readable
// length. A message that is not UTF-8 and names a Latin-1 charset is shown
// decoded; `how` then says so, or says that bytes were replaced, since the
// report must not pass either off as the bytes sent.
std::string MessageExcerpt(std::string_view bytes, std::string* how) {
  // Whether bytes are not UTF-8, and the charset named, are the whole
  // message's; the shown lines are read from its start alone, since a
  // message of up to 256 MiB was copied three times to show 16,000 bytes of
  // it. Twice as many bytes as are shown are enough (a CRLF or a C1 control,
  // two bytes, shows as one), and a character cut at their end falls past
  // the cut.
  const bool utf8 = FirstInvalidUtf8(bytes) == std::string_view::npos;
  const std::string_view start = bytes.substr(0, 2 * kMaxMessageBytes + 64);
  // RFC 5322 lines end in CRLF; show them as lines.
  std::string unix_lines;
  unix_lines.reserve(start.size());
  for (size_t i = 0; i < start.size(); ++i) {
    if (start[i] == '\r') {
      unix_lines.push_back('\n');
      if (i + 1 < start.size() && start[i + 1] == '\n') ++i;
    } else {
      unix_lines.push_back(start[i]);
    }
  }
  std::string text = CleanText(unix_lines);
  how->clear();
  if (!utf8) {
    const std::string charset = CharsetOf(bytes);
    if (const std::string_view read_as = LatinCharsetOf(charset);
        !read_as.empty()) {
      text = CleanText(FromLatinCharset(unix_lines, charset));
      *how = absl::StrCat("shown decoded from ", charset,
                          read_as == charset
                              ? ""
                              : absl::StrCat(" (read as ", AbslView(read_as),
                                             ", as mail programs do)"),
                          "; the file holds the bytes as sent");
    } else {
      *how =
          "bytes that are not UTF-8 are shown as \xEF\xBF\xBD; the file "
          "holds them as sent";
    }
  }
  int lines = 0;
  size_t cut = std::string::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i >= kMaxMessageBytes) {
      cut = i;
      break;
    }
    if (text[i] == '\n' && ++lines >= kMaxMessageLines) {
      cut = i;
      break;
    }
  }
  if (cut != std::string::npos) {
    text = CutAt(text, cut,
                 "\n[... cut here in the report; the whole message is in the "
                 "bundle]");
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class ReportBuilder {
 public:
  explicit ReportBuilder(const ReportInput& in) : in_(in) {
    // The events the evaluation includes, in business-time order, each with
    // the timeline's sentence, which knows its context (an extension to an
    // earlier date leaves the deadline standing).
    std::map<uint64_t, const CaseEvent*> by_position;
    for (const CaseEvent& e : in.model->events()) by_position[e.position] = &e;
    for (projections::TimelineEntry& t :
         projections::TimelineFor(*in.model, in.evaluation, in.policy)) {
      included_.push_back(by_position.at(t.position));
      sentences_[t.position] = std::move(t.sentence);
    }
  }

  Document Build() {
    doc_.title = absl::StrCat("Evidence bundle: case ", in_.case_id);
    doc_.running_head =
        absl::StrCat("Case ", in_.case_id, " \xC2\xB7 evidence bundle for ",
                     PurposeWords(in_.purpose), " \xC2\xB7 ledger ", in_.origin,
                     ", tree size ", in_.tree_size);
    doc_.subject = absl::StrCat("Evidence bundle of case ", in_.case_id, " (",
                                PurposeWords(in_.purpose), ")");
    doc_.creator = in_.tool_version;
    doc_.language = "en";
    doc_.date = in_.evaluation.known_at;

    Add(Block::Kind::kTitle, doc_.title);
    Summary();
    const bool jr = in_.purpose == v1::BundlePurpose::JUDICIAL_REVIEW;
    if (jr) {
      TribunalRecord();
      Heading("Analysis of the record", "analysis");
      Add(Block::Kind::kNote,
          "Prepared by caseledger from the records above. It is not part of "
          "the tribunal's record.");
    }
    FindingsSection(jr);
    DeadlinesSection();
    TimelineSection();
    if (!jr) RecordsInDateOrder();
    Appendix();
    return std::move(doc_);
  }

 private:
  Block& Add(Block::Kind kind, std::string text, std::string anchor = "") {
    // A text of the case, however long, is laid out whole for the PDF: a
    // 10 MiB note took 48 s and 2 GiB to export, a 100 MiB one 21 GiB
    // (found by an audit). The events hold it whole.
    if (text.size() > kMaxTextBytes) {
      text = CutAt(text, kMaxTextBytes,
                   absl::StrCat(" [... cut here in the report after ",
                                kMaxTextBytes, " of its ", text.size(),
                                " bytes; the event in the bundle holds it "
                                "whole]"));
    }
    Block b;
    b.kind = kind;
    b.text = std::move(text);
    b.anchor = std::move(anchor);
    doc_.blocks.push_back(std::move(b));
    return doc_.blocks.back();
  }
  void Heading(std::string text, std::string anchor) {
    Add(Block::Kind::kHeading, std::move(text), std::move(anchor));
  }
  void Field(std::string label, std::string text) {
    Block& b = Add(Block::Kind::kField, std::move(text));
    b.label = std::move(label);
  }

  // Names each event of the bundle that the evaluation leaves out, so that
  // a reader of the report learns of it before relying on the findings: an
  // event dated after the point the bundle is evaluated at is in events/
  // but in no projection and no record here (domain.md §5), and the
  // summary's count alone went unnoticed (found by an audit).
  void LeftOut() {
    std::set<uint64_t> included;
    for (const CaseEvent* e : included_) included.insert(e->position);
    std::vector<std::string> left_out;
    bool dated_after_recording = false;
    for (const CaseEvent& e : in_.model->events()) {
      if (included.count(e.position) != 0) continue;
      dated_after_recording |= e.occurred_at > e.recorded_at;
      left_out.push_back(absl::StrCat("#", e.position, " ", EventType(e.event),
                                      ", dated ", When(e.occurred_at),
                                      ", recorded ", When(e.recorded_at)));
    }
    if (left_out.empty()) return;
    Field("Left out of this report",
          absl::StrCat(
              absl::StrJoin(left_out, "; "), ". ",
              left_out.size() == 1 ? "It is" : "They are",
              " in the bundle's events/ and proven like the others, but the "
              "state, deadlines, findings and records here take only the "
              "events that had occurred by ",
              When(in_.evaluation.as_of), ".",
              dated_after_recording
                  ? " An event dated after the ledger recorded it suggests a "
                    "wrong clock or time zone where it was entered."
                  : ""));
  }

  void Summary() {
    const auto& s = in_.state;
    Add(Block::Kind::kParagraph,
        absl::StrCat(
            "Prepared for ", PurposeWords(in_.purpose),
            " from the events of "
            "case ",
            in_.case_id, " recorded in the ledger ", in_.origin,
            " up to tree size ", in_.tree_size,
            ", evaluated as the ledger stood at ",
            When(in_.evaluation.known_at),
            in_.evaluation.as_of < in_.evaluation.known_at
                ? absl::StrCat(" with what had happened by ",
                               When(in_.evaluation.as_of),
                               " (events that occurred later are in the "
                               "bundle but not in this report)")
                : "",
            ". Every statement here can be checked against the event files, "
            "inclusion proofs and signed checkpoint in this bundle (see the "
            "appendix)."));
    Field("Case status", std::string(projections::CaseStatusName(s.status)));
    Field("Office", s.office_id.empty() ? "-" : s.office_id);
    Field("Applicant country",
          s.applicant_country.empty() ? "-" : s.applicant_country);
    std::vector<std::string> addresses;
    for (const auto& a : s.addresses_on_file) {
      addresses.push_back(
          absl::StrCat(a.address, " (", v1::Party::Value_Name(a.party), ", ",
                       v1::ConsentBasis::Value_Name(a.basis), ")"));
    }
    Field("Addresses on file",
          addresses.empty() ? "none" : absl::StrJoin(addresses, "; "));
    if (s.representative) {
      Field("Representative", absl::StrCat(s.representative->name, " (",
                                           s.representative->representative_id,
                                           "), ", s.representative->email));
    }
    if (!s.judicial_review.empty()) {
      Field("Judicial review (court file)", s.judicial_review);
    }
    Field(
        "Events in this bundle",
        absl::StrCat(in_.model->events().size(), " (case versions 1 to ",
                     in_.model->events().empty()
                         ? 0
                         : in_.model->events().back().case_version,
                     ")",
                     included_.size() < in_.model->events().size()
                         ? absl::StrCat(", of which this report takes the ",
                                        included_.size(), " that occurred by ",
                                        When(in_.evaluation.as_of))
                         : ""));
    LeftOut();
    int counts[4] = {0, 0, 0, 0};
    for (const auto& f : in_.findings.findings) {
      ++counts[static_cast<int>(f.status)];
    }
    // Before a tribunal record, the tool's own analysis says it is not part
    // of that record, as its section after the record does.
    Field(in_.purpose == v1::BundlePurpose::JUDICIAL_REVIEW
              ? "Findings (caseledger's analysis, not part of the tribunal's "
                "record)"
              : "Findings",
          absl::StrCat(counts[1], " not met, ", counts[2],
                       counts[2] == 1 ? " concern, " : " concerns, ", counts[0],
                       " met, ", counts[3], " not applicable"));
  }

  // The decision under review: the last case_decided or
  // reconsideration_decided in business time that decides the case. A
  // reconsideration that reopened it decided nothing a court reviews: a
  // refusal under review before the reopening stays the decision.
  const CaseEvent* Decision() const {
    const CaseEvent* decision = nullptr;
    for (const CaseEvent* e : included_) {
      if (e->event.has_case_decided() ||
          (e->event.has_reconsideration_decided() &&
           e->event.reconsideration_decided().outcome() !=
               v1::ReconsiderationOutcome::REOPENED)) {
        decision = e;
      }
    }
    return decision;
  }

  void TribunalRecord() {
    Heading("Certified tribunal record", "tribunal-record");
    const CaseEvent* decision = Decision();
    std::vector<const CaseEvent*> records;
    std::vector<std::string> omitted;  // ledger positions
    if (decision != nullptr) records.push_back(decision);
    for (const CaseEvent* e : included_) {
      if (e == decision) continue;
      // Dated after: a record of the decision's very instant (its reasons
      // written down with it, say) was before the decision-maker.
      if (!in_.include_after_decision &&
          PlaceOf(*e, decision) == Place::kDatedAfter) {
        omitted.push_back(absl::StrCat(e->position));
        continue;
      }
      records.push_back(e);
    }
    std::string order =
        decision != nullptr
            ? "Arranged as Rule 17 of the Federal Courts Citizenship, "
              "Immigration and Refugee Protection Rules asks: the decision "
              "and its reasons first, then every other record in the order "
              "of its date."
            : "No decision is recorded for this case; every record follows "
              "in the order of its date.";
    if (!omitted.empty()) {
      const bool one = omitted.size() == 1;
      absl::StrAppend(
          &order, " ", omitted.size(), one ? " record dated" : " records dated",
          " after the decision ", one ? "is" : "are", " left out: ledger ",
          one ? "position " : "positions ", absl::StrJoin(omitted, ", "),
          " (export with --include-after-decision to include ",
          one ? "it" : "them", ").");
    } else if (in_.include_after_decision && decision != nullptr) {
      absl::StrAppend(&order,
                      " Records dated after the decision are included, as "
                      "asked.");
    }
    Add(Block::Kind::kNote, order);
    Add(Block::Kind::kSubheading, "Index of the record");
    Block& index = Add(Block::Kind::kTable, "");
    index.table.columns = {"No.", "Date (UTC)", "Record", "Page"};
    index.table.widths = {0.07, 0.13, 0.68, 0.12};
    for (size_t i = 0; i < records.size(); ++i) {
      std::string title = EventTitle(records[i]->event);
      switch (PlaceOf(*records[i], decision)) {
        case Place::kBefore:
          break;
        case Place::kDatedAfter:
          absl::StrAppend(&title, " [dated after the decision]");
          break;
        case Place::kEnteredAfter:
          absl::StrAppend(&title, " [entered after the decision]");
          break;
      }
      index.table.rows.push_back(
          {Cell{absl::StrCat(i + 1)}, Cell{Day(records[i]->occurred_at)},
           Cell{std::move(title)}, Cell::PageOf(RecordAnchor(i + 1))});
    }
    for (size_t i = 0; i < records.size(); ++i) {
      Record(i + 1, *records[i], decision);
    }
  }

  // Where the record of `e` stands beside `decision`, the decision under
  // review (null: none). A record dated after it (included as asked), or
  // dated before it but entered in the ledger after it was, is not shown by
  // the log to have been before the decision-maker, and says so.
  enum class Place { kBefore, kDatedAfter, kEnteredAfter };
  static Place PlaceOf(const CaseEvent& e, const CaseEvent* decision) {
    if (decision == nullptr || &e == decision) return Place::kBefore;
    if (e.occurred_at > decision->occurred_at) return Place::kDatedAfter;
    if (e.recorded_at > decision->recorded_at) return Place::kEnteredAfter;
    return Place::kBefore;
  }

  void RecordsInDateOrder() {
    Add(Block::Kind::kPageBreak, "");
    Heading("Records in date order", "records");
    Add(Block::Kind::kNote,
        "Every event of the case in the order of its date, with the message "
        "as sent where the ledger stores it.");
    for (size_t i = 0; i < included_.size(); ++i) Record(i + 1, *included_[i]);
  }

  static std::string RecordAnchor(size_t n) {
    return absl::StrCat("record-", n);
  }

  // Record number `n`; `decision` is the decision under review of a
  // tribunal record (null elsewhere).
  void Record(size_t n, const CaseEvent& e,
              const CaseEvent* decision = nullptr) {
    Add(Block::Kind::kSubheading,
        absl::StrCat("Record ", n, " \xE2\x80\x94 ", Day(e.occurred_at),
                     " \xE2\x80\x94 ", EventTitle(e.event)),
        RecordAnchor(n));
    switch (PlaceOf(e, decision)) {
      case Place::kBefore:
        break;
      case Place::kDatedAfter:
        Add(Block::Kind::kNote,
            absl::StrCat("Dated after the decision (",
                         When(decision->occurred_at),
                         "), included as the export asked: it was not before "
                         "the decision-maker."));
        break;
      case Place::kEnteredAfter:
        Add(Block::Kind::kNote,
            absl::StrCat("Entered in the ledger at ", When(e.recorded_at),
                         ", after the decision was (",
                         When(decision->recorded_at),
                         "), though dated before it: the ledger does not show "
                         "that the decision-maker had it."));
        break;
    }
    Add(Block::Kind::kParagraph, sentences_.at(e.position));
    for (auto& [label, text] : FreeText(e.event)) Field(label, text);
    Field("Occurred", When(e.occurred_at));
    Field("Recorded by the ledger", When(e.recorded_at));
    Field("By", ActorWords(e.event));
    Field("Ledger entry",
          absl::StrCat("position ", e.position, ", case version ",
                       e.case_version, " (events/", e.position,
                       ".entry, proof proofs/", e.position, ".json)"));
    for (const std::string& sha : MessageReferences(e.event)) {
      auto it = in_.messages.find(sha);
      if (it == in_.messages.end()) {
        Add(Block::Kind::kNote,
            absl::StrCat("The message with SHA-256 ", sha,
                         " is not stored in the ledger; only its digest is "
                         "on record."));
        continue;
      }
      std::string how;
      std::string excerpt = MessageExcerpt(it->second, &how);
      Add(Block::Kind::kNote,
          absl::StrCat("The message as stored (messages/", sha, ".eml, ",
                       it->second.size(), " bytes)",
                       how.empty() ? "" : absl::StrCat("; ", how), ":"));
      Add(Block::Kind::kPre, std::move(excerpt));
      std::vector<std::string> decoded;
      for (const auto& [name, value] : HeaderFields(it->second)) {
        for (const DecodedField& field : kDecodedFields) {
          if (name != field.name) continue;
          if (auto words = DecodedWords(value)) {
            decoded.push_back(absl::StrCat(field.shown, ": ", *words));
          }
        }
      }
      if (!decoded.empty()) {
        Add(Block::Kind::kNote,
            "Its encoded header fields (RFC 2047), as the recipient's mail "
            "program shows them:");
        Add(Block::Kind::kPre, CleanText(absl::StrJoin(decoded, "\n")));
      }
      if (auto sending = SendingOf(e.event, sha)) {
        std::string against = HeadersAgainstRecord(it->second, *sending);
        if (!against.empty()) {
          Add(Block::Kind::kNote, CleanText(std::move(against)));
        }
      }
    }
  }

  // What `e` records of the message it sent, when `sha` names that message.
  static std::optional<RecordedSending> SendingOf(const v1::Event& e,
                                                  const std::string& sha) {
    if (e.has_document_request_sent() &&
        e.document_request_sent().body_sha256() == sha) {
      const auto& p = e.document_request_sent();
      return RecordedSending{p.to(), p.cc(), p.message_id()};
    }
    if (e.has_transfer_notice_sent() &&
        e.transfer_notice_sent().body_sha256() == sha) {
      const auto& p = e.transfer_notice_sent();
      return RecordedSending{p.to(), p.cc(), p.message_id()};
    }
    return std::nullopt;
  }

  void FindingsSection(bool jr) {
    if (!jr) Add(Block::Kind::kPageBreak, "");
    Heading("Findings: the procedure checked", "findings");
    Add(Block::Kind::kNote,
        "Each rule of Operational Bulletin 265 (and of the Federal Court "
        "decisions behind it) checked against the events. Met: the record "
        "shows the step was taken. Not met: the record shows it was not. "
        "Concern: a weakness that does not on its own defeat the step. Event "
        "numbers are ledger positions.");
    Block& t = Add(Block::Kind::kTable, "");
    t.table.columns = {"Rule", "Request", "Result", "Explanation", "Events"};
    t.table.widths = {0.31, 0.09, 0.12, 0.37, 0.11};
    for (const auto& f : in_.findings.findings) {
      auto [result, tone] = FindingResult(f.status);
      t.table.rows.push_back(
          {Cell{absl::StrCat(RuleTitle(f.rule), "\n",
                             std::string(projections::RuleName(f.rule)))},
           Cell{f.request_id.empty() ? "-" : f.request_id}, Cell{result, tone},
           Cell{f.message}, Cell{absl::StrJoin(f.positions, ", ")}});
    }
  }

  void DeadlinesSection() {
    Heading("Deadlines", "deadlines");
    std::vector<std::string> countries;
    for (const auto& [c, d] : in_.policy.countries) {
      countries.push_back(absl::StrCat(c, " ", d, " days"));
    }
    Add(Block::Kind::kNote,
        absl::StrCat(
            "One row per request for documents, with the deadline "
            "after extensions, judged at ",
            When(in_.evaluation.JudgedAt()),
            ". Policy minimum: ", in_.policy.default_minimum_days, " days",
            countries.empty()
                ? ""
                : absl::StrCat(" (", absl::StrJoin(countries, ", "), ")"),
            "."));
    if (in_.deadlines.empty()) {
      Add(Block::Kind::kParagraph, "No request for documents was sent.");
      return;
    }
    Block& t = Add(Block::Kind::kTable, "");
    // Times in UTC, as everywhere in the report: a deadline given at -05:00
    // shows the next day here, which a bare time let pass for the date the
    // applicant was given (found by an outside reading).
    t.table.columns = {"Request", "Sent (UTC)", "Deadline (UTC)", "Status",
                       "Flags"};
    t.table.widths = {0.12, 0.17, 0.17, 0.26, 0.28};
    for (const auto& row : in_.deadlines) {
      auto [status, tone] = DeadlineResult(row.status);
      std::vector<std::string> flags;
      for (DeadlineFlag f : row.flags) {
        flags.push_back(
            absl::StrCat(FlagWords(f), " (",
                         std::string(projections::DeadlineFlagName(f)), ")"));
      }
      t.table.rows.push_back(
          {Cell{row.request_id}, Cell{DayTime(row.sent_at)},
           Cell{row.deadline ? DayTime(*row.deadline) : "none given"},
           Cell{status, tone},
           Cell{flags.empty() ? "none" : absl::StrJoin(flags, "; "),
                flags.empty() ? Tone::kNone : Tone::kWarn}});
    }
  }

  void TimelineSection() {
    Heading("Timeline of the case", "timeline");
    Block& b = Add(Block::Kind::kChart, "");
    b.chart = std::make_shared<Chart>(
        TimelineChart(included_, in_.deadlines, kChartWidth));
    Add(Block::Kind::kNote,
        "Each lane shows one kind of event on a common time axis (UTC). A "
        "deadline window runs from the request's send to its deadline after "
        "extensions, coloured by its status; dashed lines mark decisions.");
  }

  void Appendix() {
    Add(Block::Kind::kPageBreak, "");
    Heading("Appendix: checkpoint and how to verify", "appendix");
    Add(Block::Kind::kParagraph,
        absl::StrCat(
            "The ledger signed this checkpoint (a C2SP signed note, Ed25519). "
            "Its root hash commits to every event recorded up to tree size ",
            in_.tree_size,
            "; each event of this case is proven included in it by the "
            "inclusion proof in proofs/."));
    Add(Block::Kind::kPre, CleanText(in_.checkpoint_note));
    Field("Ledger (checkpoint origin)", in_.origin);
    Field("Tree size", absl::StrCat(in_.tree_size));
    Field("Root hash (hex)", in_.root_hash_hex);
    Field("Evaluated as of", When(in_.evaluation.as_of));
    Field("Known to the ledger at", When(in_.evaluation.known_at));
    if (in_.since_tree_size) {
      Field("Consistent with the earlier checkpoint of tree size",
            absl::StrCat(*in_.since_tree_size,
                         " (since-checkpoint.txt, consistency.json)"));
    }
    Field("Produced by", in_.tool_version);
    Add(Block::Kind::kSubheading, "How to verify this bundle");
    Add(Block::Kind::kParagraph,
        "1. Obtain the ledger's public verifier key from a source you trust "
        "(the office publishes it; caseledger key prints it). Never take it "
        "from the bundle itself.");
    Add(Block::Kind::kParagraph,
        "2. Run: caseledger verify-bundle BUNDLE.zip --pubkey KEY.txt. It "
        "needs nothing but the bundle and the key, prints a verdict for each "
        "check and exits 0 only when every check holds.");
    Add(Block::Kind::kParagraph,
        "3. Or check by hand (docs/bundle-format.md): manifest.sig is a "
        "signed note over the SHA-256 of manifest.json; manifest.json lists "
        "the SHA-256 and size of every other file; checkpoint.txt is signed "
        "by the same key; each events/P.event holds a 16-byte salt and the "
        "event, whose SHA-256 is the event digest inside events/P.entry; "
        "proofs/P.json proves events/P.entry included in the checkpoint's "
        "tree (RFC 9162); state.json, deadlines.json and findings.json can "
        "be recomputed from the events.");
    Add(Block::Kind::kNote,
        "This report is a rendering of the files beside it in the bundle, "
        "which are authoritative; its own SHA-256 is listed in "
        "manifest.json.");
  }

  const ReportInput& in_;
  std::vector<const CaseEvent*> included_;
  // The timeline's sentence of each included event, by position.
  std::map<uint64_t, std::string> sentences_;
  Document doc_;
};

}  // namespace

std::string PurposeWords(v1::BundlePurpose::Value purpose) {
  switch (purpose) {
    case v1::BundlePurpose::RECONSIDERATION:
      return "reconsideration";
    case v1::BundlePurpose::JUDICIAL_REVIEW:
      return "judicial review";
    case v1::BundlePurpose::INVESTIGATION:
      return "investigation";
    default:
      return "unspecified purpose";
  }
}

std::vector<std::string> MessageReferences(const v1::Event& e) {
  std::vector<std::string> refs;
  auto add = [&](const std::string& sha) {
    if (IsLowerHexSha256(sha) &&
        std::find(refs.begin(), refs.end(), sha) == refs.end()) {
      refs.push_back(sha);
    }
  };
  switch (e.payload_case()) {
    case v1::Event::kDocumentRequestSent:
      add(e.document_request_sent().body_sha256());
      break;
    case v1::Event::kDeliveryNoticeReceived:
      add(e.delivery_notice_received().notice_sha256());
      break;
    case v1::Event::kApplicantEmailReceived:
      add(e.applicant_email_received().body_sha256());
      break;
    case v1::Event::kTransferNoticeSent:
      add(e.transfer_notice_sent().body_sha256());
      break;
    default:
      break;
  }
  return refs;
}

Document BuildReport(const ReportInput& input) {
  return ReportBuilder(input).Build();
}

}  // namespace caseledger::bundle::internal
