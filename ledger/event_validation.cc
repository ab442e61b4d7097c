#include "ledger/event_validation.h"

#include <openssl/rand.h>

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/nfc.h"
#include "ledger/rfc3339.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"

namespace caseledger {
namespace {

// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted: tzdata's
// iso3166.tab (Debian 12, tzdata 2025b); and "XK", user-assigned, which the
// EU, Unicode's CLDR and many governments give Kosovo, so that its
// applicants can be recorded with a country. A code of the right shape
// that no country has ("UK", "EU", "XX") matched no policy entry, so that a
// case "UK" was judged against the default deadline where "GB" had its own
// (an outside reading against domain.md §3).
constexpr std::string_view kAssignedCountryCodes[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
    "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI",
    "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
    "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
    "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
    "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
    "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
    "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW",
    "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
    "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
    "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
    "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
};

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", std::string(problem)));
}

bool IsAtext(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) !=
             std::string_view::npos;
}

// The first unknown field or enum number in a message: the path of the
// field that holds it, relative to the message (empty: the message itself),
// and the problem.
struct Unknown {
  std::string path;
  std::string problem;
};

std::string JoinPath(std::string prefix, const std::string& rest) {
  return rest.empty() ? prefix : absl::StrCat(prefix, ".", rest);
}

// The fields of one message type that can hold an unknown enum number or
// a message with unknown fields: enums and messages. Scalars and strings
// cannot, so the walk never looks at them.
struct FieldsToWalk {
  std::vector<const FieldDescriptor*> plain;  // outside any oneof
  std::vector<const google::protobuf::OneofDescriptor*> oneofs;
};

// Plans are made once per message type and thread: the types are few and
// fixed, and a per-thread map needs no lock on the append path. The walk
// holds a plan while it makes those of nested types, so the map must keep
// its elements in place as it grows: a node-based map, not a flat one.
const FieldsToWalk& FieldsToWalkOf(const google::protobuf::Descriptor* type) {
  thread_local std::unordered_map<const google::protobuf::Descriptor*,
                                  FieldsToWalk>
      plans;
  auto [it, fresh] = plans.try_emplace(type);
  if (fresh) {
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (field->type() != FieldDescriptor::TYPE_ENUM &&
          field->type() != FieldDescriptor::TYPE_MESSAGE) {
        continue;
      }
      if (field->real_containing_oneof() == nullptr) {
        it->second.plain.push_back(field);
      } else if (it->second.oneofs.empty() ||
                 it->second.oneofs.back() != field->real_containing_oneof()) {
        it->second.oneofs.push_back(field->real_containing_oneof());
      }
    }
    // Field-number order, as protobuf lists fields, so that the first fault
    // reported is the same; in events.proto the one oneof follows every
    // plain field.
    std::sort(it->second.plain.begin(), it->second.plain.end(),
              [](const FieldDescriptor* a, const FieldDescriptor* b) {
                return a->number() < b->number();
              });
  }
  return it->second;
}

std::optional<Unknown> FindUnknown(const Message& message);

// The first unknown value in `field` of `message`, which is set.
std::optional<Unknown> FindUnknownIn(const Message& message,
                                     const FieldDescriptor* field) {
  const auto* reflection = message.GetReflection();
  const bool repeated = field->is_repeated();
  const int n = repeated ? reflection->FieldSize(message, field) : 1;
  if (field->type() == FieldDescriptor::TYPE_ENUM) {
    for (int i = 0; i < n; ++i) {
      int value = repeated ? reflection->GetRepeatedEnumValue(message, field, i)
                           : reflection->GetEnumValue(message, field);
      if (field->enum_type()->FindValueByNumber(value) == nullptr) {
        return Unknown{field->name(),
                       absl::StrCat("unknown enum value ", value)};
      }
    }
    return std::nullopt;
  }
  for (int i = 0; i < n; ++i) {
    std::optional<Unknown> inner =
        FindUnknown(repeated ? reflection->GetRepeatedMessage(message, field, i)
                             : reflection->GetMessage(message, field));
    if (inner) {
      inner->path = JoinPath(
          repeated ? absl::StrCat(field->name(), "[", i, "]") : field->name(),
          inner->path);
      return inner;
    }
  }
  return std::nullopt;
}

// Unknown fields and enum numbers can only arrive through the binary
// (gRPC) path; the JSON parser already refuses them. Walks the message by
// reflection on every append, so it visits only the fields that can hold
// them, and spells out a field's path only for the field at fault: listing
// every field, and spelling every path on the way, were most of the walk's
// cost (docs/performance.md).
std::optional<Unknown> FindUnknown(const Message& message) {
  const auto* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) {
    return Unknown{"", "has unknown fields"};
  }
  const FieldsToWalk& walk = FieldsToWalkOf(message.GetDescriptor());
  for (const FieldDescriptor* field : walk.plain) {
    const bool set = field->is_repeated()
                         ? reflection->FieldSize(message, field) > 0
                         : field->type() == FieldDescriptor::TYPE_ENUM ||
                               reflection->HasField(message, field);
    if (!set) continue;
    if (std::optional<Unknown> found = FindUnknownIn(message, field)) {
      return found;
    }
  }
  for (const auto* oneof : walk.oneofs) {
    const FieldDescriptor* field =
        reflection->GetOneofFieldDescriptor(message, oneof);
    if (field == nullptr || (field->type() != FieldDescriptor::TYPE_ENUM &&
                             field->type() != FieldDescriptor::TYPE_MESSAGE)) {
      continue;
    }
    if (std::optional<Unknown> found = FindUnknownIn(message, field)) {
      return found;
    }
  }
  return std::nullopt;
}

// `what` ("an identifier") shows every character it holds
// (FirstHiddenCharacter).
absl::Status CheckEveryCharacterShows(std::string_view field,
                                      std::string_view text,
                                      std::string_view what) {
  const std::optional<HiddenCharacter> hidden = FirstHiddenCharacter(text);
  if (!hidden) return absl::OkStatus();
  return Invalid(field,
                 absl::StrFormat("'%s' holds U+%04X (byte %d), which shows as "
                                 "nothing or as a plain space; %s shows every "
                                 "character it holds",
                                 Printable(text), hidden->code_point,
                                 hidden->byte + 1, AbslView(what)));
}

// Which of SMTP's lengths an address passes (RFC 5321 §4.5.3.1: a path of
// 254 bytes, a local part of 64, a domain label of 63 as written), told
// because the address's look does not show it: a local part of 65 bytes
// was refused as "not a valid email address" alone (found by a probe).
// Empty when none.
std::string LengthFault(std::string_view address) {
  if (address.size() > 254) {
    return absl::StrCat(": it is ", address.size(),
                        " bytes long, and SMTP takes at most 254");
  }
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  if (at > 64) {
    return absl::StrCat(": its local part, before the '@', is ", at,
                        " bytes long, and SMTP takes at most 64");
  }
  std::string_view domain = address.substr(at + 1);
  while (!domain.empty()) {
    const std::string_view label = domain.substr(0, domain.find('.'));
    if (label.size() > 63) {
      return absl::StrCat(": its domain's label '", Printable(label), "' is ",
                          label.size(),
                          " bytes long, and a label holds at most 63");
    }
    domain.remove_prefix(std::min(label.size() + 1, domain.size()));
  }
  return "";
}

// Why `address` is no mailbox IsValidEmailAddress takes: LengthFault's
// reason for a length past SMTP's, "" for any other fault; nullopt when it
// is taken.
std::optional<std::string> EmailAddressFault(std::string_view address) {
  if (std::string length = LengthFault(address); !length.empty()) {
    return length;
  }
  // Well-formed UTF-8 without control, line-separating or bidirectional
  // formatting characters, nor any that shows as nothing or as a plain
  // space: an address that could print as another.
  if (!IsOneLineOfText(address) || FirstHiddenCharacter(address)) {
    return "";
  }
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return "";
  const std::string_view local = address.substr(0, at);
  if (local.front() == '"') {
    // Quoted-string (RFC 5321 §4.1.2): qtextSMTP, quoted pairs, UTF-8.
    if (local.size() < 2 || local.back() != '"') return "";
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      const unsigned char c = local[i];
      if (c == '\\') {
        if (i + 2 >= local.size()) return "";
        const unsigned char quoted = local[++i];
        if (quoted < 32 || quoted > 126) return "";
      } else if (c == '"' || c < 32) {
        return "";
      }
    }
  } else {
    // Dot-atom: atoms of atext or UTF-8 (RFC 6531 §3.3), none empty.
    bool atom_empty = true;
    for (char c : local) {
      if (c == '.') {
        if (atom_empty) return "";
        atom_empty = true;
      } else if (IsAtext(c) || static_cast<unsigned char>(c) >= 0x80) {
        atom_empty = false;
      } else {
        return "";
      }
    }
    if (atom_empty) return "";
  }
  // Labels of letters, digits and hyphens, or U-labels (RFC 5890), no
  // hyphen at either end.
  std::string_view domain = address.substr(at + 1);
  size_t labels = 0;
  while (true) {
    const size_t dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.front() == '-' || label.back() == '-') {
      return "";
    }
    for (char c : label) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (!absl::ascii_isalnum(u) && c != '-' && u < 0x80) return "";
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  if (labels < 2) return "";
  return std::nullopt;
}

// An address too shows every character: a request to "maria@mail.example"
// with a zero-width space in it went to another mailbox than the one on
// file, and a report would show the two as one (found by a mutation audit).
absl::Status CheckAddress(std::string_view field, std::string_view address,
                          bool required) {
  if (address.empty()) {
    return required ? Invalid(field, "is required") : absl::OkStatus();
  }
  CASELEDGER_RETURN_IF_ERROR(
      CheckEveryCharacterShows(field, address, "an address"));
  if (const std::optional<std::string> fault = EmailAddressFault(address)) {
    return Invalid(field,
                   absl::StrCat("'", Printable(address),
                                "' is not a valid email address", *fault));
  }
  return absl::OkStatus();
}

absl::Status CheckAddresses(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& list) {
  for (int i = 0; i < list.size(); ++i) {
    CASELEDGER_RETURN_IF_ERROR(CheckAddress(
        absl::StrCat(std::string(field), "[", i, "]"), list[i], true));
  }
  return absl::OkStatus();
}

absl::Status CheckRequired(std::string_view field, std::string_view value) {
  return value.empty() ? Invalid(field, "is required") : absl::OkStatus();
}

template <typename Enum>
absl::Status CheckEnumSet(std::string_view field, Enum value) {
  return static_cast<int>(value) == 0 ? Invalid(field, "is required")
                                      : absl::OkStatus();
}

absl::Status CheckSha256(std::string_view field, std::string_view value) {
  if (value.empty() || IsLowerHexSha256(value)) return absl::OkStatus();
  return Invalid(field, "must be 64 lowercase hex digits (SHA-256)");
}

bool After(const google::protobuf::Timestamp& a,
           const google::protobuf::Timestamp& b) {
  return a.seconds() > b.seconds() ||
         (a.seconds() == b.seconds() && a.nanos() > b.nanos());
}

absl::Status CheckDeadline(std::string_view field, const v1::Event& event,
                           bool present,
                           const google::protobuf::Timestamp& deadline) {
  if (!present) return absl::OkStatus();
  CASELEDGER_RETURN_IF_ERROR(CheckTimestamp(field, deadline));
  if (!After(deadline, event.occurred_at())) {
    return Invalid(field, "must be after occurred_at");
  }
  return absl::OkStatus();
}

absl::Status ValidatePayload(const v1::Event& e) {
  using E = v1::Event;
  switch (e.payload_case()) {
    case E::kCaseOpened: {
      const auto& p = e.case_opened();
      CASELEDGER_RETURN_IF_ERROR(CheckAddress("case_opened.office_mailbox",
                                              p.office_mailbox(), false));
      const std::string& c = p.applicant_country();
      if (!c.empty() && (c.size() != 2 || !absl::ascii_isupper(c[0]) ||
                         !absl::ascii_isupper(c[1]))) {
        return Invalid("case_opened.applicant_country",
                       "must be an ISO 3166-1 alpha-2 code such as \"PH\"");
      }
      if (absl::Status code = CheckCountryCode(c); !c.empty() && !code.ok()) {
        return Invalid("case_opened.applicant_country",
                       std::string(code.message()));
      }
      if (!p.language().empty() && p.language() != "en" &&
          p.language() != "fr") {
        return Invalid("case_opened.language", "must be \"en\" or \"fr\"");
      }
      return absl::OkStatus();
    }
    case E::kEmailConsentRecorded: {
      const auto& p = e.email_consent_recorded();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("email_consent_recorded.party", p.party()));
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("email_consent_recorded.basis", p.basis()));
      return CheckAddress("email_consent_recorded.address", p.address(), true);
    }
    case E::kEmailConsentWithdrawn: {
      const auto& p = e.email_consent_withdrawn();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("email_consent_withdrawn.party", p.party()));
      return CheckAddress("email_consent_withdrawn.address", p.address(), true);
    }
    case E::kContactAddressChanged: {
      const auto& p = e.contact_address_changed();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("contact_address_changed.party", p.party()));
      CASELEDGER_RETURN_IF_ERROR(CheckAddress(
          "contact_address_changed.old_address", p.old_address(), false));
      return CheckAddress("contact_address_changed.new_address",
                          p.new_address(), true);
    }
    case E::kRepresentativeAppointed: {
      const auto& p = e.representative_appointed();
      CASELEDGER_RETURN_IF_ERROR(CheckRequired(
          "representative_appointed.representative_id", p.representative_id()));
      return CheckAddress("representative_appointed.email", p.email(), false);
    }
    case E::kRepresentativeWithdrawn:
      return CheckRequired("representative_withdrawn.representative_id",
                           e.representative_withdrawn().representative_id());
    case E::kRecipientAddressVerified:
      return CheckAddress("recipient_address_verified.address",
                          e.recipient_address_verified().address(), true);
    case E::kDocumentRequestSent: {
      const auto& p = e.document_request_sent();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("document_request_sent.channel", p.channel()));
      if (p.channel() == v1::Channel::EMAIL && p.to().empty()) {
        return Invalid("document_request_sent.to",
                       "an EMAIL request needs at least one recipient");
      }
      // Another channel's recipients are whatever it reaches (a postal
      // address, a fax number, a portal account); the office's mailbox is
      // a mailbox whatever the channel (found by an outside reading:
      // "bob@" was stored for a portal request's).
      if (p.channel() == v1::Channel::EMAIL) {
        CASELEDGER_RETURN_IF_ERROR(
            CheckAddresses("document_request_sent.to", p.to()));
        CASELEDGER_RETURN_IF_ERROR(
            CheckAddresses("document_request_sent.cc", p.cc()));
      }
      CASELEDGER_RETURN_IF_ERROR(CheckAddress(
          "document_request_sent.from_mailbox", p.from_mailbox(), false));
      if (!p.resend_of().empty() && p.resend_of() == p.request_id()) {
        return Invalid("document_request_sent.resend_of",
                       "a request cannot be a resend of itself");
      }
      CASELEDGER_RETURN_IF_ERROR(
          CheckSha256("document_request_sent.body_sha256", p.body_sha256()));
      return CheckDeadline("document_request_sent.deadline", e,
                           p.has_deadline(), p.deadline());
    }
    case E::kDeliveryNoticeReceived: {
      const auto& p = e.delivery_notice_received();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("delivery_notice_received.action", p.action()));
      CASELEDGER_RETURN_IF_ERROR(CheckAddress(
          "delivery_notice_received.recipient", p.recipient(), false));
      return CheckSha256("delivery_notice_received.notice_sha256",
                         p.notice_sha256());
    }
    case E::kAlternativeChannelConsidered:
      return CheckEnumSet("alternative_channel_considered.channel",
                          e.alternative_channel_considered().channel());
    case E::kDocumentsReceived:
      return absl::OkStatus();
    case E::kExtensionRequested: {
      const auto& p = e.extension_requested();
      return CheckDeadline("extension_requested.requested_deadline", e,
                           p.has_requested_deadline(), p.requested_deadline());
    }
    case E::kDeadlineExtended: {
      const auto& p = e.deadline_extended();
      if (!p.has_new_deadline()) {
        return Invalid("deadline_extended.new_deadline", "is required");
      }
      return CheckDeadline("deadline_extended.new_deadline", e, true,
                           p.new_deadline());
    }
    case E::kExtensionRefused:
    case E::kNonComplianceRecorded:
      return absl::OkStatus();
    case E::kOfficerNoteAdded:
      return CheckRequired("officer_note_added.text",
                           e.officer_note_added().text());
    case E::kApplicantEmailReceived: {
      const auto& p = e.applicant_email_received();
      CASELEDGER_RETURN_IF_ERROR(CheckAddress(
          "applicant_email_received.from_address", p.from_address(), false));
      return CheckSha256("applicant_email_received.body_sha256",
                         p.body_sha256());
    }
    case E::kTransferNoticeSent: {
      const auto& p = e.transfer_notice_sent();
      if (p.to().empty()) {
        return Invalid("transfer_notice_sent.to",
                       "a transfer notice needs at least one recipient");
      }
      CASELEDGER_RETURN_IF_ERROR(
          CheckAddresses("transfer_notice_sent.to", p.to()));
      CASELEDGER_RETURN_IF_ERROR(
          CheckAddresses("transfer_notice_sent.cc", p.cc()));
      CASELEDGER_RETURN_IF_ERROR(CheckAddress(
          "transfer_notice_sent.from_mailbox", p.from_mailbox(), false));
      CASELEDGER_RETURN_IF_ERROR(
          CheckAddress("transfer_notice_sent.new_office_mailbox",
                       p.new_office_mailbox(), false));
      return CheckSha256("transfer_notice_sent.body_sha256", p.body_sha256());
    }
    case E::kCaseTransferred:
      return CheckRequired("case_transferred.to_office_id",
                           e.case_transferred().to_office_id());
    case E::kCaseDecided: {
      const auto& p = e.case_decided();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("case_decided.decision", p.decision()));
      if (p.ground() == v1::DecisionGround::NON_COMPLIANCE &&
          p.request_id().empty()) {
        return Invalid("case_decided.request_id",
                       "is required when ground is NON_COMPLIANCE");
      }
      return absl::OkStatus();
    }
    case E::kReconsiderationRequested:
      return absl::OkStatus();
    case E::kReconsiderationDecided:
      return CheckEnumSet("reconsideration_decided.outcome",
                          e.reconsideration_decided().outcome());
    case E::kJudicialReviewFiled:
      return CheckRequired("judicial_review_filed.court_file_number",
                           e.judicial_review_filed().court_file_number());
    case E::kEvidenceBundleExported: {
      const auto& p = e.evidence_bundle_exported();
      CASELEDGER_RETURN_IF_ERROR(
          CheckEnumSet("evidence_bundle_exported.purpose", p.purpose()));
      return CheckSha256("evidence_bundle_exported.bundle_sha256",
                         p.bundle_sha256());
    }
    case E::PAYLOAD_NOT_SET:
      break;
  }
  return Invalid("payload", "exactly one payload is required");
}

}  // namespace

absl::Status CheckCountryCode(std::string_view code) {
  if (std::binary_search(std::begin(kAssignedCountryCodes),
                         std::end(kAssignedCountryCodes), code)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", AbslView(code), "\" is no country's ISO 3166-1 alpha-2 code",
      code == "UK" ? " (the United Kingdom's is \"GB\")" : ""));
}

bool IsValidCaseId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  if (!absl::ascii_isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidEmailAddress(std::string_view address) {
  return !EmailAddressFault(address).has_value();
}

bool IsValidUuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-'
             : !absl::ascii_isxdigit(static_cast<unsigned char>(id[i]))) {
      return false;
    }
  }
  return true;
}

std::string CanonicalEventId(std::string_view id) {
  std::string out(id);
  if (IsValidUuid(id)) absl::AsciiStrToLower(&out);
  return out;
}

std::string UuidText(std::string_view sixteen_bytes, int version) {
  std::string b(sixteen_bytes.substr(0, 16));
  b.resize(16, '\0');
  b[6] = static_cast<char>((b[6] & 0x0f) | (version << 4));
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = ToHex(b);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                      hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20));
}

absl::StatusOr<std::string> NewEventId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    return absl::InternalError("the system random generator failed");
  }
  return UuidText(std::string_view(reinterpret_cast<char*>(b), sizeof b), 4);
}

namespace {

// A payload field of Event and its payload's request_id field (null when it
// has none), by the payload's field number: found once rather than by name
// for every event.
struct PayloadFields {
  const FieldDescriptor* payload = nullptr;
  const FieldDescriptor* request_id = nullptr;
  // The payload's identifiers: its string fields named *_id, and resend_of.
  std::vector<const FieldDescriptor*> ids;
};

// A reference into a table made once: the lists are not copied per event.
const PayloadFields& PayloadFieldsOf(int payload_case) {
  static const auto* const fields = [] {
    auto* map = new absl::flat_hash_map<int, PayloadFields>();
    const google::protobuf::Descriptor* event = v1::Event::descriptor();
    for (int i = 0; i < event->field_count(); ++i) {
      const FieldDescriptor* payload = event->field(i);
      if (payload->real_containing_oneof() == nullptr) continue;
      PayloadFields& fields = (*map)[payload->number()];
      fields.payload = payload;
      fields.request_id =
          payload->message_type()->FindFieldByName("request_id");
      for (int j = 0; j < payload->message_type()->field_count(); ++j) {
        const FieldDescriptor* f = payload->message_type()->field(j);
        if (f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated() &&
            (absl::EndsWith(f->name(), "_id") || f->name() == "resend_of" ||
             f->name() == "court_file_number" || f->name() == "requested_by")) {
          fields.ids.push_back(f);
        }
      }
    }
    return map;
  }();
  static const PayloadFields* const kNone = new PayloadFields();
  auto it = fields->find(payload_case);
  return it == fields->end() ? *kNone : it->second;
}

// An identifier is printable: a line break or an escape sequence in one
// would reach every text output and report that names it. And each of its
// characters shows: a report that lists "DOC-1" twice, once with a
// zero-width or no-break space in it, would tell a court the same request
// was sent twice (found by an audit of text that is not ASCII).
absl::Status CheckIdentifier(std::string_view field, std::string_view id) {
  for (size_t i = 0, len = 1; i < id.size(); i += len) {
    const auto c = static_cast<unsigned char>(id[i]);
    len = 1;
    const int32_t r = c < 0x80 ? c : DecodeUtf8(id, i, &len);
    if (IsLayoutControl(r)) {
      return Invalid(
          field,
          absl::StrCat("'", Printable(id), "' holds a control character (byte ",
                       i + 1, "); an identifier is printable text"));
    }
  }
  CASELEDGER_RETURN_IF_ERROR(
      CheckEveryCharacterShows(field, id, "an identifier"));
  // NFD text (macOS, some mail clients) spells "DOC-é" in other bytes than
  // NFC does: one request was two, documents received for one and a refusal
  // judged on the other (found by an outside reading).
  if (const std::optional<NotNfc> apart = FirstNotNfc(id)) {
    return Invalid(
        field, absl::StrFormat(
                   "'%s' is not in Unicode NFC from U+%04X (byte %d) on (NFC "
                   "writes a letter and an accent written apart as one "
                   "character, puts marks in one order and replaces a few "
                   "characters); an identifier is written in NFC, as most "
                   "keyboards write it, so that it has one spelling",
                   Printable(id), static_cast<uint32_t>(apart->code_point),
                   apart->byte + 1));
  }
  return absl::OkStatus();
}

// The field of `message`, at any depth, that holds the most bytes: a
// string, or a list counted whole (100,000 short addresses were blamed on the
// 36-byte event id, the longest single string; found by an outside reading).
struct LargestField {
  std::string path = "event";
  size_t bytes = 0;
  int entries = 0;  // of a list; 0 for a single value
};

void FindLargestField(const Message& message, const std::string& prefix,
                      LargestField* largest) {
  std::vector<const FieldDescriptor*> fields;
  const auto* r = message.GetReflection();
  r->ListFields(message, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string here =
        prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
    size_t bytes = 0;
    if (f->is_repeated()) {
      const int n = r->FieldSize(message, f);
      for (int i = 0; i < n; ++i) {
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          bytes += r->GetRepeatedMessage(message, f, i).ByteSizeLong();
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          bytes += r->GetRepeatedString(message, f, i).size();
        }
      }
      if (bytes > largest->bytes) *largest = {here, bytes, n};
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      FindLargestField(r->GetMessage(message, f), here, largest);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      bytes = r->GetString(message, f).size();
      if (bytes > largest->bytes) *largest = {here, bytes, 0};
    }
  }
}

// An event records one action; documents and messages are stored beside
// the log (attach). A 100 MiB note was appended, and its bundle then took
// 21 GiB to export (found by an audit). The same bound holds for every
// way in: a gRPC request carries at most 8 MiB.
//
// An event given without an id is stored with the one the ledger gives it,
// and is measured so: measured without it, an event just under the bound
// passed import's check of the whole file and failed at its append, after
// the lines before it were imported (found by an outside reading).
absl::Status CheckSize(const v1::Event& event) {
  constexpr size_t kGivenIdBytes = 2 + 36;  // tag, length, a UUID
  const size_t size =
      event.ByteSizeLong() + (event.event_id().empty() ? kGivenIdBytes : 0);
  if (size <= kMaxEventBytes) return absl::OkStatus();
  LargestField largest;
  FindLargestField(event, "", &largest);
  return Invalid(
      largest.path,
      absl::StrCat(
          "the event comes to ", size, " bytes, and an event holds at most ",
          kMaxEventBytes, " (1 MiB); this field holds ",
          largest.entries > 0
              ? absl::StrCat(largest.entries,
                             largest.entries == 1 ? " entry, " : " entries, ",
                             largest.bytes, " bytes in all")
              : absl::StrCat(largest.bytes),
          ": keep documents out of events (caseledger attach "
          "stores a message beside the log)"));
}

}  // namespace

const std::string& RequestIdOf(const v1::Event& event) {
  static const std::string* const kNone = new std::string();
  const PayloadFields& fields = PayloadFieldsOf(event.payload_case());
  if (fields.request_id == nullptr) return *kNone;
  const Message& payload =
      event.GetReflection()->GetMessage(event, fields.payload);
  std::string scratch;  // unused: a string field is stored as a string
  return payload.GetReflection()->GetStringReference(payload, fields.request_id,
                                                     &scratch);
}

absl::Status ValidateEvent(const v1::Event& event) {
  if (std::optional<Unknown> unknown = FindUnknown(event)) {
    return Invalid(unknown->path.empty() ? "event" : unknown->path,
                   unknown->problem);
  }
  CASELEDGER_RETURN_IF_ERROR(CheckSize(event));
  if (!event.event_id().empty() && !IsValidUuid(event.event_id())) {
    return Invalid("event_id", absl::StrCat("'", Printable(event.event_id()),
                                            "' is not a UUID"));
  }
  if (event.case_id().empty()) return Invalid("case_id", "is required");
  if (!IsValidCaseId(event.case_id())) {
    return Invalid(
        "case_id",
        absl::StrCat("'", Printable(event.case_id()),
                     "' does not match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"));
  }
  if (!event.has_occurred_at()) return Invalid("occurred_at", "is required");
  CASELEDGER_RETURN_IF_ERROR(
      CheckTimestamp("occurred_at", event.occurred_at()));
  if (!event.has_actor() ||
      event.actor().kind() == v1::ActorKind::ACTOR_KIND_UNSPECIFIED) {
    return Invalid("actor.kind", "is required");
  }
  if (event.actor().id().empty()) return Invalid("actor.id", "is required");
  CASELEDGER_RETURN_IF_ERROR(CheckIdentifier("actor.id", event.actor().id()));
  CASELEDGER_RETURN_IF_ERROR(
      CheckIdentifier("correlation_id", event.correlation_id()));
  CASELEDGER_RETURN_IF_ERROR(
      CheckIdentifier("causation_id", event.causation_id()));
  CASELEDGER_RETURN_IF_ERROR(ValidatePayload(event));
  if (const PayloadFields& fields = PayloadFieldsOf(event.payload_case());
      !fields.ids.empty()) {
    const Message& payload =
        event.GetReflection()->GetMessage(event, fields.payload);
    std::string scratch;  // unused: a string field is stored as a string
    for (const FieldDescriptor* id : fields.ids) {
      CASELEDGER_RETURN_IF_ERROR(CheckIdentifier(
          absl::StrCat(fields.payload->name(), ".", id->name()),
          payload.GetReflection()->GetStringReference(payload, id, &scratch)));
    }
  }
  // Every request-scoped payload names its request; case_decided only for a
  // non-compliance refusal (checked above).
  if (event.payload_case() != v1::Event::kCaseDecided) {
    const PayloadFields& fields = PayloadFieldsOf(event.payload_case());
    if (fields.request_id != nullptr && RequestIdOf(event).empty()) {
      return Invalid(absl::StrCat(fields.payload->name(), ".request_id"),
                     "is required");
    }
  }
  return absl::OkStatus();
}

}  // namespace caseledger
