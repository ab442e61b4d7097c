#include "projections/render.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/internal/analysis.h"
#include "projections/internal/json.h"
#include "projections/internal/rules.h"

namespace caseledger::projections {
namespace {

using internal::JsonWriter;

// Text from an event on one line: control characters (C0 and DEL) become
// spaces, so that no field, whatever a client put in it, can end a line of
// the text outputs and forge the next one.
std::string OneLine(std::string_view text) {
  std::string out(absl::StripAsciiWhitespace(AbslView(text)));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// ": text", or "" for empty text.
std::string Colon(std::string_view text) {
  const std::string t = OneLine(text);
  return t.empty() ? "" : absl::StrCat(": ", t);
}

std::string Lower(std::string name) {
  absl::AsciiStrToLower(&name);
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

std::string PartyWord(v1::Party::Value party) {
  switch (party) {
    case v1::Party::APPLICANT:
      return "applicant";
    case v1::Party::REPRESENTATIVE:
      return "representative";
    default:
      return "unspecified party";
  }
}

std::string BasisWords(v1::ConsentBasis::Value basis) {
  switch (basis) {
    case v1::ConsentBasis::APPLICATION_FORM:
      return "application form";
    case v1::ConsentBasis::REPRESENTATIVE_FORM:
      return "Use of a Representative form (IMM 5476)";
    case v1::ConsentBasis::APPLICANT_EMAIL:
      return "email from the applicant";
    default:
      return "unspecified basis";
  }
}

std::string ChannelVerb(v1::Channel::Value channel) {
  switch (channel) {
    case v1::Channel::EMAIL:
      return "emailed";
    case v1::Channel::POSTAL_MAIL:
      return "sent by post";
    case v1::Channel::COURIER:
      return "sent by courier";
    case v1::Channel::FAX:
      return "faxed";
    case v1::Channel::PORTAL:
      return "posted to the portal";
    case v1::Channel::PHONE:
      return "requested by phone";
    default:
      return "sent by an unspecified channel";
  }
}

std::string DescribeRequest(const v1::Event& e, int minimum_days) {
  const auto& p = e.document_request_sent();
  std::string s = absl::StrCat(p.request_id(), " ", ChannelVerb(p.channel()));
  // The sender before the recipients: after a copy list, "from" read as
  // the copy's sender (found by an outside reading).
  // What the request records, the address first: "from the office
  // mailbox" alone called a personal address that (found by an outside
  // reading); ORGANIZATIONAL_MAILBOX compares it with the case's.
  if (p.channel() == v1::Channel::EMAIL) {
    const std::string from =
        p.from_mailbox().empty() ? "an unrecorded mailbox" : p.from_mailbox();
    absl::StrAppend(&s, " from ", from,
                    p.organizational_mailbox()
                        ? " (recorded as the office mailbox)"
                        : " (recorded as not the office mailbox)");
  }
  if (!p.to().empty()) absl::StrAppend(&s, " to ", absl::StrJoin(p.to(), ", "));
  if (!p.cc().empty()) {
    absl::StrAppend(&s, ", copy to ", absl::StrJoin(p.cc(), ", "));
  }
  if (p.has_deadline()) {
    const absl::Time deadline = FromTimestamp(p.deadline());
    const int64_t days =
        internal::CalendarDays(FromTimestamp(e.occurred_at()), deadline);
    absl::StrAppend(&s, ", deadline ", FormatUtc(deadline), " (", days,
                    " days");
    if (days < minimum_days) {
      absl::StrAppend(&s, ", below the policy minimum of ", minimum_days);
    }
    absl::StrAppend(&s, ")");
  } else {
    absl::StrAppend(&s, ", no deadline");
  }
  absl::StrAppend(&s, p.refusal_warning_included()
                          ? ", refusal warning included"
                          : ", no refusal warning");
  if (!p.resend_of().empty())
    absl::StrAppend(&s, ", resending ", p.resend_of());
  if (!p.items().empty()) {
    absl::StrAppend(&s, "; asks for ", absl::StrJoin(p.items(), ", "));
  }
  return s;
}

std::string DescribeNotice(const v1::DeliveryNoticeReceived& p) {
  std::vector<std::string> parts;
  if (!p.status_code().empty()) parts.push_back(p.status_code());
  if (!OneLine(p.diagnostic()).empty())
    parts.push_back(OneLine(p.diagnostic()));
  const std::string detail = absl::StrJoin(parts, " ");
  const std::string to =
      p.recipient().empty() ? "" : absl::StrCat(" to ", p.recipient());
  const std::string suffix =
      detail.empty() ? "" : absl::StrCat(" (", detail, ")");
  switch (p.action()) {
    case v1::DeliveryAction::FAILED:
      return absl::StrCat("Delivery of ", p.request_id(), to, " failed",
                          suffix);
    case v1::DeliveryAction::DELAYED:
      return absl::StrCat("Delivery of ", p.request_id(), to, " delayed",
                          suffix, ", not proof of receipt");
    case v1::DeliveryAction::RELAYED:
      return absl::StrCat(p.request_id(), " relayed", to, suffix,
                          ", not proof of receipt");
    case v1::DeliveryAction::DELIVERED:
      return absl::StrCat(p.request_id(), " delivered", to, suffix);
    case v1::DeliveryAction::EXPANDED:
      return absl::StrCat(p.request_id(), " expanded to several recipients", to,
                          suffix);
    default:
      return absl::StrCat("Delivery notice for ", p.request_id(), to, suffix);
  }
}

std::string Sentence(const v1::Event& e, int minimum_days,
                     std::optional<absl::Time> deadline_in_force) {
  switch (e.payload_case()) {
    case v1::Event::kCaseOpened: {
      const auto& p = e.case_opened();
      // The mailbox is not required, and a sentence ending in "office
      // mailbox " reads as cut off.
      return absl::StrCat(
          "Case opened at office ", p.office_id(), " (program ", p.program(),
          ", applicant in ", p.applicant_country(), ", language ", p.language(),
          "), ",
          p.office_mailbox().empty()
              ? std::string("no office mailbox recorded")
              : absl::StrCat("office mailbox ", p.office_mailbox()));
    }
    case v1::Event::kEmailConsentRecorded: {
      const auto& p = e.email_consent_recorded();
      std::string s =
          absl::StrCat("Email consent recorded for ", p.address(), " (",
                       PartyWord(p.party()), ", ", BasisWords(p.basis()));
      if (!p.evidence_ref().empty()) {
        absl::StrAppend(&s, ", evidence: ", OneLine(p.evidence_ref()));
      }
      absl::StrAppend(&s, ")");
      if (p.basis() == v1::ConsentBasis::REPRESENTATIVE_FORM) {
        absl::StrAppend(&s, p.representative_email_in_mailing_address()
                                ? ", repeated in the mailing address"
                                : ", not repeated in the mailing address");
      }
      return s;
    }
    case v1::Event::kEmailConsentWithdrawn: {
      const auto& p = e.email_consent_withdrawn();
      return absl::StrCat("Email consent withdrawn for ", p.address(), " (",
                          PartyWord(p.party()), ")", Colon(p.reason()));
    }
    case v1::Event::kContactAddressChanged: {
      const auto& p = e.contact_address_changed();
      std::string s = absl::StrCat("Email address of the ",
                                   PartyWord(p.party()), " changed from ",
                                   p.old_address(), " to ", p.new_address());
      if (!p.evidence_ref().empty()) {
        absl::StrAppend(&s, " (evidence: ", OneLine(p.evidence_ref()), ")");
      }
      return s;
    }
    case v1::Event::kRepresentativeAppointed: {
      const auto& p = e.representative_appointed();
      return absl::StrCat("Representative ", OneLine(p.name()), " (",
                          p.representative_id(), ") appointed, email ",
                          p.email());
    }
    case v1::Event::kRepresentativeWithdrawn:
      return absl::StrCat("Representative ",
                          e.representative_withdrawn().representative_id(),
                          " withdrawn");
    case v1::Event::kRecipientAddressVerified: {
      const auto& p = e.recipient_address_verified();
      return absl::StrCat("Recipient address ", p.address(), " checked for ",
                          p.request_id(), ": ",
                          p.matches_address_on_file()
                              ? "recorded as matching the address on file"
                              : "recorded as NOT matching the address on "
                                "file");
    }
    case v1::Event::kDocumentRequestSent:
      return DescribeRequest(e, minimum_days);
    case v1::Event::kDeliveryNoticeReceived:
      return DescribeNotice(e.delivery_notice_received());
    case v1::Event::kAlternativeChannelConsidered: {
      const auto& p = e.alternative_channel_considered();
      return absl::StrCat("Another channel considered for ", p.request_id(),
                          ", ", Lower(v1::Channel::Value_Name(p.channel())),
                          p.used() ? ", and used" : ", and not used",
                          Colon(p.rationale()));
    }
    case v1::Event::kDocumentsReceived: {
      const auto& p = e.documents_received();
      std::string s = absl::StrCat(p.complete() ? "Complete" : "Partial",
                                   " documents received for ", p.request_id());
      if (p.channel() != v1::Channel::CHANNEL_UNSPECIFIED) {
        absl::StrAppend(&s, " by ",
                        Lower(v1::Channel::Value_Name(p.channel())));
      }
      if (!p.items().empty()) {
        absl::StrAppend(&s, ": ", absl::StrJoin(p.items(), ", "));
      }
      return s;
    }
    case v1::Event::kExtensionRequested: {
      const auto& p = e.extension_requested();
      return absl::StrCat(
          "Extension of ", p.request_id(), " requested",
          p.has_requested_deadline()
              ? absl::StrCat(" to ",
                             FormatUtc(FromTimestamp(p.requested_deadline())))
              : "",
          Colon(p.reason()));
    }
    case v1::Event::kDeadlineExtended: {
      const auto& p = e.deadline_extended();
      // An "extension" to an earlier date shortens nothing
      // (docs/findings.md, effective deadline); the sentence must not read
      // as if the deadline moved (found by an audit).
      const bool earlier = p.has_new_deadline() &&
                           deadline_in_force.has_value() &&
                           FromTimestamp(p.new_deadline()) < *deadline_in_force;
      return absl::StrCat(
          "Deadline of ", p.request_id(), " extended to ",
          p.has_new_deadline() ? FormatUtc(FromTimestamp(p.new_deadline()))
                               : "an unrecorded date",
          earlier
              ? absl::StrCat(" (earlier than the deadline in force, ",
                             FormatUtc(*deadline_in_force), ", which stands)")
              : "",
          Colon(p.reason()));
    }
    case v1::Event::kExtensionRefused: {
      const auto& p = e.extension_refused();
      return absl::StrCat("Extension of ", p.request_id(), " refused",
                          Colon(p.reason()));
    }
    case v1::Event::kNonComplianceRecorded: {
      const auto& p = e.non_compliance_recorded();
      return absl::StrCat("Non-compliance noted on ", p.request_id(),
                          IsStandardNote(p.note())
                              ? " (standard note)"
                              : absl::StrCat(" (non-standard note: \"",
                                             OneLine(p.note()), "\")"));
    }
    case v1::Event::kOfficerNoteAdded:
      return absl::StrCat("Officer note", Colon(e.officer_note_added().text()));
    case v1::Event::kApplicantEmailReceived: {
      const auto& p = e.applicant_email_received();
      std::string s = absl::StrCat("Email received from ", p.from_address());
      if (!p.subject().empty()) {
        absl::StrAppend(&s, " (\"", OneLine(p.subject()), "\")");
      }
      if (p.reports_delivery_problem()) {
        absl::StrAppend(&s, ", reporting a delivery problem");
      }
      return s;
    }
    case v1::Event::kTransferNoticeSent: {
      const auto& p = e.transfer_notice_sent();
      std::string s = absl::StrCat("Transfer notice emailed to ",
                                   absl::StrJoin(p.to(), ", "));
      if (!p.cc().empty()) {
        absl::StrAppend(&s, ", copy to ", absl::StrJoin(p.cc(), ", "));
      }
      absl::StrAppend(&s, ": file to be processed by ", p.new_office_id());
      if (!p.new_office_mailbox().empty()) {
        absl::StrAppend(&s, " (", p.new_office_mailbox(), ")");
      }
      return s;
    }
    case v1::Event::kCaseTransferred: {
      const auto& p = e.case_transferred();
      return absl::StrCat("Case transferred from ", p.from_office_id(), " to ",
                          p.to_office_id(), Colon(p.reason()));
    }
    case v1::Event::kCaseDecided: {
      const auto& p = e.case_decided();
      std::string s =
          absl::StrCat("Case ", Lower(v1::Decision::Value_Name(p.decision())));
      if (p.ground() == v1::DecisionGround::NON_COMPLIANCE) {
        absl::StrAppend(&s, " for non-compliance with ", p.request_id());
      } else if (p.ground() !=
                     v1::DecisionGround::DECISION_GROUND_UNSPECIFIED &&
                 p.ground() != v1::DecisionGround::OTHER) {
        absl::StrAppend(&s, " (",
                        Lower(v1::DecisionGround::Value_Name(p.ground())), ")");
      }
      absl::StrAppend(&s, Colon(p.reasons()));
      return s;
    }
    case v1::Event::kReconsiderationRequested: {
      const auto& p = e.reconsideration_requested();
      return absl::StrCat(
          "Reconsideration requested (",
          Lower(v1::ReconsiderationGround::Value_Name(p.ground())), ")",
          Colon(p.statement()));
    }
    case v1::Event::kReconsiderationDecided: {
      const auto& p = e.reconsideration_decided();
      std::string s = absl::StrCat(
          "Reconsideration decided (",
          Lower(v1::ReconsiderationOutcome::Value_Name(p.outcome())), ")",
          Colon(p.reasons()));
      if (!p.circumstances_considered().empty()) {
        absl::StrAppend(&s, " (considered: ",
                        absl::StrJoin(p.circumstances_considered(), ", "), ")");
      }
      return s;
    }
    case v1::Event::kJudicialReviewFiled:
      return absl::StrCat("Judicial review filed, court file ",
                          e.judicial_review_filed().court_file_number());
    case v1::Event::kEvidenceBundleExported: {
      const auto& p = e.evidence_bundle_exported();
      std::string s =
          absl::StrCat("Evidence bundle exported for ",
                       Lower(v1::BundlePurpose::Value_Name(p.purpose())),
                       " at tree size ", p.tree_size());
      if (!p.requested_by().empty()) {
        absl::StrAppend(&s, ", requested by ", p.requested_by());
      }
      if (!p.bundle_sha256().empty()) {
        absl::StrAppend(&s, " (sha256 ", p.bundle_sha256(), ")");
      }
      return s;
    }
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return "Event without a payload";
}

}  // namespace

// Ids, codes and addresses are quoted as given; validation refuses control
// characters in identifiers only, and a ledger written before that check
// may hold them anywhere: the sentence as a whole is made one line.
std::string DescribeEvent(const v1::Event& e, int minimum_days,
                          std::optional<absl::Time> deadline_in_force) {
  return OneLine(Sentence(e, minimum_days, deadline_in_force));
}

std::string RenderStateJson(const CaseState& state) {
  JsonWriter w;
  w.BeginObject();
  w.Key("case_id");
  w.String(state.case_id);
  w.Key("status");
  w.String(CaseStatusName(state.status));
  w.Key("office_id");
  w.String(state.office_id);
  w.Key("applicant_country");
  w.String(state.applicant_country);
  w.Key("addresses_on_file");
  w.BeginArray();
  for (const AddressOnFile& a : state.addresses_on_file) {
    w.BeginObject();
    w.Key("address");
    w.String(a.address);
    w.Key("party");
    w.String(v1::Party::Value_Name(a.party));
    w.Key("basis");
    w.String(v1::ConsentBasis::Value_Name(a.basis));
    w.EndObject();
  }
  w.EndArray();
  w.Key("representative");
  if (state.representative.has_value()) {
    w.BeginObject();
    w.Key("representative_id");
    w.String(state.representative->representative_id);
    w.Key("name");
    w.String(state.representative->name);
    w.Key("email");
    w.String(state.representative->email);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("open_requests");
  w.BeginArray();
  for (const OpenRequest& r : state.open_requests) {
    w.BeginObject();
    w.Key("request_id");
    w.String(r.request_id);
    w.Key("channel");
    w.String(v1::Channel::Value_Name(r.channel));
    w.Key("sent_at");
    w.String(FormatUtc(r.sent_at));
    w.Key("deadline");
    w.String(r.deadline.has_value() ? FormatUtc(*r.deadline) : "");
    w.Key("status");
    w.String(DeadlineStateName(r.status));
    w.EndObject();
  }
  w.EndArray();
  w.Key("transfers");
  w.BeginArray();
  for (const Transfer& t : state.transfers) {
    w.BeginObject();
    w.Key("from_office_id");
    w.String(t.from_office_id);
    w.Key("to_office_id");
    w.String(t.to_office_id);
    w.Key("reason");
    w.String(t.reason);
    w.Key("occurred_at");
    w.String(FormatUtc(t.occurred_at));
    w.Key("position");
    w.Uint(t.position);
    w.EndObject();
  }
  w.EndArray();
  w.Key("judicial_review");
  w.String(state.judicial_review);
  w.Key("version");
  w.Uint(state.version);
  w.Key("last_position");
  w.Uint(state.last_position);
  w.EndObject();
  return std::move(w).Finish();
}

namespace {

// Lines "label  value" with labels padded to one width; a label with several
// values repeats blank.
class LabelledLines {
 public:
  void Add(std::string label, std::vector<std::string> values) {
    for (std::string& value : values) value = OneLine(value);
    if (values.empty()) values.push_back("none");
    rows_.emplace_back(std::move(label), std::move(values));
  }
  std::string Render() const {
    size_t width = 0;
    for (const auto& [label, values] : rows_) {
      width = std::max(width, label.size());
    }
    std::string out;
    for (const auto& [label, values] : rows_) {
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string& l = i == 0 ? label : "";
        absl::StrAppend(&out, l, std::string(width + 2 - l.size(), ' '),
                        values[i], "\n");
      }
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> rows_;
};

// The columns `text` takes on a terminal: one per character, none for a
// combining mark, two for the wide characters of East Asian scripts
// (UAX #11's wide and fullwidth ranges, in outline).
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0, len = 1; i < text.size(); i += len) {
    const int32_t c = DecodeUtf8(text, i, &len);
    if (c < 0) {
      len = 1;
      ++width;
    } else if ((c >= 0x300 && c <= 0x36F) || (c >= 0x200B && c <= 0x200F)) {
      continue;
    } else if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
               (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
               (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
               (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) ||
               (c >= 0x20000 && c <= 0x3FFFD)) {
      width += 2;
    } else {
      ++width;
    }
  }
  return width;
}

// Renders rows of cells as left-aligned columns separated by two spaces,
// each cell on one line (OneLine), aligned on a terminal whatever the
// script (found by an audit: "DOC-É1" took one column more than it shows).
std::string Table(std::vector<std::vector<std::string>> rows) {
  std::vector<size_t> widths;
  for (auto& row : rows) {
    for (std::string& cell : row) cell = OneLine(cell);
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) {
        line.append(widths[i] + 2 - DisplayWidth(row[i]), ' ');
      }
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string Positions(const std::vector<uint64_t>& positions) {
  std::vector<std::string> refs;
  for (uint64_t p : positions) refs.push_back(absl::StrCat("#", p));
  return absl::StrJoin(refs, ", ");
}

}  // namespace

std::string RenderStateText(const CaseState& state) {
  LabelledLines lines;
  lines.Add("case", {state.case_id});
  lines.Add("status", {std::string(CaseStatusName(state.status))});
  lines.Add("office", {state.office_id});
  lines.Add("applicant country", {state.applicant_country});
  std::vector<std::string> addresses;
  for (const AddressOnFile& a : state.addresses_on_file) {
    addresses.push_back(absl::StrCat(
        a.address, " (", v1::Party::Value_Name(a.party), ", ",
        v1::ConsentBasis::Value_Name(a.basis), ", #", a.position, ")"));
  }
  lines.Add("addresses on file", std::move(addresses));
  std::vector<std::string> representative;
  if (state.representative.has_value()) {
    representative.push_back(
        absl::StrCat(state.representative->name, " (",
                     state.representative->representative_id, ") ",
                     state.representative->email));
  }
  lines.Add("representative", std::move(representative));
  std::vector<std::string> open;
  for (const OpenRequest& r : state.open_requests) {
    open.push_back(
        absl::StrCat(r.request_id, " ", AbslView(DeadlineStateName(r.status)),
                     ", sent ", FormatUtc(r.sent_at), ", deadline ",
                     r.deadline.has_value() ? FormatUtc(*r.deadline) : "none"));
  }
  lines.Add("open requests", std::move(open));
  std::vector<std::string> transfers;
  for (const Transfer& t : state.transfers) {
    transfers.push_back(absl::StrCat(t.from_office_id, " -> ", t.to_office_id,
                                     " on ", FormatUtc(t.occurred_at), " (#",
                                     t.position, ")"));
  }
  lines.Add("transfers", std::move(transfers));
  lines.Add("judicial review",
            state.judicial_review.empty()
                ? std::vector<std::string>{}
                : std::vector<std::string>{state.judicial_review});
  lines.Add("version", {absl::StrCat(state.version)});
  lines.Add("last position", {absl::StrCat(state.last_position)});
  return lines.Render();
}

std::string RenderDeadlinesJson(absl::Span<const DeadlineStatus> rows) {
  JsonWriter w;
  w.BeginObject();
  w.Key("deadlines");
  w.BeginArray();
  for (const DeadlineStatus& row : rows) {
    w.BeginObject();
    w.Key("case_id");
    w.String(row.case_id);
    w.Key("request_id");
    w.String(row.request_id);
    w.Key("sent_at");
    w.String(FormatUtc(row.sent_at));
    w.Key("deadline");
    w.String(row.deadline.has_value() ? FormatUtc(*row.deadline) : "");
    w.Key("status");
    w.String(DeadlineStateName(row.status));
    w.Key("flags");
    w.BeginInlineArray();
    for (DeadlineFlag flag : row.flags) w.String(DeadlineFlagName(flag));
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::move(w).Finish();
}

std::string RenderDeadlinesText(absl::Span<const DeadlineStatus> rows,
                                std::optional<DeadlineState> status) {
  if (rows.empty()) {
    return status ? absl::StrCat("no requests with status ",
                                 std::string(DeadlineStateName(*status)), "\n")
                  : "no requests\n";
  }
  std::vector<std::vector<std::string>> table = {
      {"CASE", "REQUEST", "SENT", "DEADLINE", "STATUS", "FLAGS"}};
  for (const DeadlineStatus& row : rows) {
    std::vector<std::string> flags;
    for (DeadlineFlag flag : row.flags) {
      flags.emplace_back(DeadlineFlagName(flag));
    }
    table.push_back(
        {row.case_id, row.request_id, FormatUtc(row.sent_at),
         row.deadline.has_value() ? FormatUtc(*row.deadline) : "none",
         std::string(DeadlineStateName(row.status)),
         flags.empty() ? "-" : absl::StrJoin(flags, ",")});
  }
  return Table(std::move(table));
}

std::string RenderFindingsJson(const Findings& findings) {
  JsonWriter w;
  w.BeginObject();
  w.Key("case_id");
  w.String(findings.case_id);
  w.Key("findings");
  w.BeginArray();
  for (const Finding& f : findings.findings) {
    w.BeginObject();
    w.Key("rule");
    w.String(RuleName(f.rule));
    w.Key("status");
    w.String(FindingStatusName(f.status));
    w.Key("request_id");
    w.String(f.request_id);
    w.Key("message");
    w.String(f.message);
    w.Key("positions");
    w.BeginInlineArray();
    for (uint64_t p : f.positions) w.Uint(p);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::move(w).Finish();
}

std::string RenderFindingsText(const Findings& findings) {
  std::vector<std::vector<std::string>> table;
  int counts[4] = {0, 0, 0, 0};
  for (const Finding& f : findings.findings) {
    ++counts[static_cast<int>(f.status)];
    std::string message = f.message;
    if (!f.positions.empty()) {
      absl::StrAppend(&message, " [", Positions(f.positions), "]");
    }
    table.push_back({std::string(FindingStatusName(f.status)),
                     std::string(RuleName(f.rule)),
                     f.request_id.empty() ? "-" : f.request_id,
                     std::move(message)});
  }
  std::string out = absl::StrCat("Findings for case ", findings.case_id, "\n",
                                 Table(std::move(table)));
  absl::StrAppend(&out, counts[static_cast<int>(FindingStatus::kPass)],
                  " PASS, ", counts[static_cast<int>(FindingStatus::kFail)],
                  " FAIL, ", counts[static_cast<int>(FindingStatus::kWarn)],
                  " WARN, ",
                  counts[static_cast<int>(FindingStatus::kNotApplicable)],
                  " NOT_APPLICABLE\n");
  return out;
}

void ForEachTimelineEntry(const CaseModel& model, const Evaluation& evaluation,
                          const DeadlinePolicy& policy,
                          absl::FunctionRef<void(TimelineEntry&&)> row) {
  const internal::Analysis analysis(model, evaluation);
  const int minimum = policy.MinimumDaysFor(analysis.applicant_country());
  for (const CaseEvent* e : analysis.events()) {
    std::optional<absl::Time> deadline_in_force;
    if (e->event.has_deadline_extended()) {
      const internal::RequestFacts* r =
          analysis.Find(e->event.deadline_extended().request_id());
      if (r != nullptr && r->sent != nullptr) {
        deadline_in_force = analysis.DeadlineBefore(*r, e);
      }
    }
    std::string sentence = DescribeEvent(e->event, minimum, deadline_in_force);
    const v1::Actor& actor = e->event.actor();
    row(TimelineEntry{
        e->position, e->case_version, e->occurred_at, e->recorded_at,
        EventType(e->event),
        absl::StrCat(Lower(v1::ActorKind::Value_Name(actor.kind())), " ",
                     OneLine(actor.id())),
        std::move(sentence)});
  }
}

std::vector<TimelineEntry> TimelineFor(const CaseModel& model,
                                       const Evaluation& evaluation,
                                       const DeadlinePolicy& policy) {
  std::vector<TimelineEntry> entries;
  ForEachTimelineEntry(model, evaluation, policy, [&](TimelineEntry&& e) {
    entries.push_back(std::move(e));
  });
  return entries;
}

namespace {
// Who acted comes before what they did: an investigator explaining a case
// names the officer (found by an outside reading). A record made long after
// the fact carries less weight, so the row says when it was made, as
// RECORDED_PROMPTLY would.
std::string TimelineLine(const TimelineEntry& e) {
  std::string line =
      absl::StrCat("#", e.position, " v", e.case_version, " ",
                   FormatUtc(e.occurred_at), " ", e.actor, ": ", e.sentence);
  absl::Duration delay = e.recorded_at - e.occurred_at;
  if (delay > internal::kLateRecording) {
    const int64_t days = absl::IDivDuration(delay, absl::Hours(24), &delay);
    // The day is enough beside a count of days, and keeps a case imported
    // years after the fact readable, every row of it late.
    absl::StrAppend(
        &line, " (recorded ",
        absl::FormatTime("%Y-%m-%d", e.recorded_at, absl::UTCTimeZone()), ", ",
        days, " days later)");
  }
  return line;
}
}  // namespace

std::vector<std::string> TimelineLines(const CaseModel& model,
                                       const Evaluation& evaluation,
                                       const DeadlinePolicy& policy) {
  std::vector<std::string> lines;
  ForEachTimelineEntry(model, evaluation, policy, [&](TimelineEntry&& e) {
    lines.push_back(TimelineLine(e));
  });
  return lines;
}

absl::StatusOr<std::vector<std::string>> TimelineLines(
    absl::Span<const RecordedEvent> events, const Evaluation& evaluation,
    const DeadlinePolicy& policy) {
  absl::StatusOr<CaseModel> model = FoldCase(events);
  if (!model.ok()) return model.status();
  return TimelineLines(*model, evaluation, policy);
}

std::string RenderTimelineJson(std::string_view case_id, const CaseModel& model,
                               const Evaluation& evaluation,
                               const DeadlinePolicy& policy) {
  JsonWriter w;
  w.BeginObject();
  w.Key("case_id");
  w.String(case_id);
  w.Key("timeline");
  w.BeginArray();
  ForEachTimelineEntry(model, evaluation, policy, [&](TimelineEntry&& e) {
    w.BeginObject();
    w.Key("position");
    w.Uint(e.position);
    w.Key("case_version");
    w.Uint(e.case_version);
    w.Key("occurred_at");
    w.String(FormatUtc(e.occurred_at));
    w.Key("recorded_at");
    w.String(FormatUtc(e.recorded_at));
    w.Key("event_type");
    w.String(e.event_type);
    // Who acted, which the text rows name and the JSON left out (found by
    // an outside reading).
    w.Key("actor");
    w.String(e.actor);
    w.Key("text");
    w.String(e.sentence);
    w.EndObject();
  });
  w.EndArray();
  w.EndObject();
  return std::move(w).Finish();
}

std::string RenderTimelineText(const CaseModel& model,
                               const Evaluation& evaluation,
                               const DeadlinePolicy& policy) {
  std::string out;
  ForEachTimelineEntry(model, evaluation, policy, [&](TimelineEntry&& e) {
    absl::StrAppend(&out, TimelineLine(e), "\n");
  });
  return out;
}

}  // namespace caseledger::projections
