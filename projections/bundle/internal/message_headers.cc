#include "projections/bundle/internal/message_headers.h"

#include <algorithm>
#include <map>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "ledger/base64.h"
#include "ledger/untrusted_text.h"
#include "projections/internal/email_address.h"

namespace caseledger::bundle::internal {

namespace {

// Addresses a sentence lists before it counts the rest: a message to a
// whole mailing list must not fill pages of the report.
constexpr size_t kAddressesNamed = 12;

// Addresses by their comparable form (NormalizeAddress), each with one
// spelling it was found under, for the sentence.
using Addresses = std::map<std::string, std::string>;

std::string Listed(const Addresses& addresses) {
  if (addresses.empty()) return "no one";
  std::vector<std::string> named;
  for (const auto& [key, shown] : addresses) {
    if (named.size() == kAddressesNamed) break;
    named.push_back(shown);
  }
  std::string out = absl::StrJoin(named, ", ");
  if (addresses.size() > named.size()) {
    absl::StrAppend(&out, " and ", addresses.size() - named.size(), " more");
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> HeaderFields(
    std::string_view message) {
  std::vector<std::pair<std::string, std::string>> fields;
  const absl::string_view text(message.data(), message.size());
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == absl::string_view::npos) end = text.size();
    absl::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the body follows
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) break;
      absl::StrAppend(&fields.back().second, line);
      continue;
    }
    // An mbox "From " line may open a saved message (its date holds
    // colons); any other line without a colon ends what can be read as a
    // header section.
    if (fields.empty() && absl::StartsWith(line, "From ")) continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) break;
    fields.emplace_back(absl::AsciiStrToLower(
                            absl::StripAsciiWhitespace(line.substr(0, colon))),
                        std::string(line.substr(colon + 1)));
  }
  for (auto& [name, value] : fields) {
    value = std::string(absl::StripAsciiWhitespace(value));
  }
  return fields;
}

std::string_view LatinCharsetOf(std::string_view label) {
  static constexpr std::string_view kWindows1252[] = {
      "windows-1252", "cp1252",     "x-cp1252",   "iso-8859-1",
      "iso8859-1",    "iso_8859-1", "iso-ir-100", "latin1",
      "l1",           "us-ascii",   "ascii"};
  static constexpr std::string_view kLatin9[] = {
      "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9", "l9"};
  for (std::string_view name : kWindows1252) {
    if (label == name) return "windows-1252";
  }
  for (std::string_view name : kLatin9) {
    if (label == name) return "iso-8859-15";
  }
  return "";
}

std::string OneLine(std::string text) {
  // C0's line breaks, then NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR,
  // which Pango and browsers break a line at too (found by a review).
  std::replace_if(
      text.begin(), text.end(),
      [](char c) { return c == '\r' || c == '\n' || c == '\v' || c == '\f'; },
      ' ');
  return absl::StrReplaceAll(
      text, {{"\xC2\x85", " "}, {"\xE2\x80\xA8", " "}, {"\xE2\x80\xA9", " "}});
}

std::string FromLatinCharset(std::string_view bytes, std::string_view charset) {
  // windows-1252's 0x80-0x9F; 0 where it assigns nothing.
  static constexpr char16_t kWindows1252[32] = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  const bool windows = LatinCharsetOf(charset) == "windows-1252";
  const bool latin9 = LatinCharsetOf(charset) == "iso-8859-15";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    char32_t r = b;
    if (windows && b >= 0x80 && b < 0xA0 && kWindows1252[b - 0x80] != 0) {
      r = kWindows1252[b - 0x80];
    } else if (latin9) {
      switch (b) {
        case 0xA4:
          r = 0x20AC;
          break;
        case 0xA6:
          r = 0x0160;
          break;
        case 0xA8:
          r = 0x0161;
          break;
        case 0xB4:
          r = 0x017D;
          break;
        case 0xB8:
          r = 0x017E;
          break;
        case 0xBC:
          r = 0x0152;
          break;
        case 0xBD:
          r = 0x0153;
          break;
        case 0xBE:
          r = 0x0178;
          break;
        default:
          break;
      }
    }
    AppendUtf8(r, out);
  }
  return out;
}

std::optional<std::string> DecodedWords(std::string_view value) {
  std::string out;
  bool decoded = false;
  bool after_word = false;  // the last thing appended was a decoded word
  size_t at = 0;
  while (at < value.size()) {
    const size_t open = value.find("=?", at);
    if (open == std::string_view::npos) break;
    // =?charset?encoding?text?=
    const size_t q1 = value.find('?', open + 2);
    const size_t q2 =
        q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
    const size_t close =
        q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
    if (close == std::string_view::npos || q2 != q1 + 2) {
      out.append(value.substr(at, open + 2 - at));
      at = open + 2;
      after_word = false;
      continue;
    }
    std::string charset = absl::AsciiStrToLower(
        std::string(value.substr(open + 2, q1 - open - 2)));
    charset = charset.substr(0, charset.find('*'));  // RFC 2231 language
    const char encoding =
        absl::ascii_tolower(static_cast<unsigned char>(value[q1 + 1]));
    const std::string_view text = value.substr(q2 + 1, close - q2 - 1);
    std::optional<std::string> bytes;
    if (encoding == 'b') {
      if (auto d = Base64Decode(text, "encoded word"); d.ok()) bytes = *d;
    } else if (encoding == 'q') {
      auto hex = [](char h) {
        return absl::ascii_isdigit(static_cast<unsigned char>(h))
                   ? h - '0'
                   : (h | 0x20) - 'a' + 10;
      };
      bytes.emplace();
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
          bytes->push_back(' ');
        } else if (text[i] == '=' && i + 2 < text.size() &&
                   absl::ascii_isxdigit(
                       static_cast<unsigned char>(text[i + 1])) &&
                   absl::ascii_isxdigit(
                       static_cast<unsigned char>(text[i + 2]))) {
          bytes->push_back(
              static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
          i += 2;
        } else {
          bytes->push_back(text[i]);
        }
      }
    }
    // UTF-8 as it is (US-ASCII is in it); anything else that mail programs
    // read as windows-1252 or ISO 8859-15, read so.
    const bool utf8 = (charset == "utf-8" || charset == "utf8" ||
                       charset == "us-ascii" || charset == "ascii") &&
                      bytes &&
                      FirstInvalidUtf8(*bytes) == std::string_view::npos;
    const bool latin = !utf8 && !LatinCharsetOf(charset).empty();
    if (!bytes || !(latin || utf8)) {
      out.append(value.substr(at, close + 2 - at));
      at = close + 2;
      after_word = false;
      continue;
    }
    // White space between two encoded words is not part of the text
    // (RFC 2047 §6.2).
    const std::string_view before = value.substr(at, open - at);
    if (!after_word ||
        before.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      out.append(before);
    }
    // One field is one line, as a mail program shows it: an encoded line
    // break showed a "To:" line of its own under a Subject (found by an
    // outside reading).
    out.append(OneLine(latin ? FromLatinCharset(*bytes, charset) : *bytes));
    decoded = true;
    at = close + 2;
    after_word = true;
  }
  if (!decoded) return std::nullopt;
  out.append(value.substr(at));
  return out;
}

std::vector<std::string> AddressesIn(std::string_view list) {
  std::vector<std::string> out;
  // The text of one mailbox outside and inside its angle brackets; with
  // angle brackets, what is outside them is the display name.
  std::string bare, angle;
  bool in_angle = false, had_angle = false, quoted = false;
  int comment_depth = 0;
  auto finish = [&] {
    std::string address = had_angle ? angle : bare;
    // An obsolete route ("<@relay:user@host>") before the address.
    if (had_angle) {
      if (size_t colon = address.rfind(':'); colon != std::string::npos) {
        address.erase(0, colon + 1);
      }
    }
    if (!address.empty()) out.push_back(absl::AsciiStrToLower(address));
    bare.clear();
    angle.clear();
    had_angle = in_angle = false;
  };
  for (size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    std::string& into = in_angle ? angle : bare;
    if (comment_depth > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++comment_depth;
      } else if (c == ')') {
        --comment_depth;
      }
      continue;
    }
    if (quoted) {
      into.push_back(c);
      if (c == '\\' && i + 1 < list.size()) {
        into.push_back(list[++i]);
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        quoted = true;
        into.push_back(c);
        break;
      case '(':
        comment_depth = 1;
        break;
      case '<':
        in_angle = had_angle = true;
        angle.clear();
        break;
      case '>':
        in_angle = false;
        break;
      case ':':
        if (in_angle) {
          angle.push_back(c);
        } else {
          bare.clear();  // a group's name
        }
        break;
      case ',':
        if (in_angle) {
          angle.push_back(c);
        } else {
          finish();
        }
        break;
      case ';':
        finish();
        break;
      case ' ':
      case '\t':
      case '\r':
      case '\n':
        break;
      default:
        into.push_back(c);
    }
  }
  finish();
  return out;
}

std::string HeadersAgainstRecord(std::string_view message,
                                 const RecordedSending& recorded) {
  const auto fields = HeaderFields(message);
  if (fields.empty()) return "";
  std::vector<std::string> differences, agreeing;
  auto recipients =
      [&](const char* name, const char* field,
          const google::protobuf::RepeatedPtrField<std::string>& in_record) {
        bool present = false;
        Addresses in_message, in_event;
        for (const auto& [n, value] : fields) {
          if (n != field) continue;
          present = true;
          for (std::string& a : AddressesIn(value)) {
            in_message.emplace(projections::internal::NormalizeAddress(a), a);
          }
        }
        for (const std::string& a : in_record) {
          in_event.emplace(
              projections::internal::NormalizeAddress(a),
              absl::AsciiStrToLower(absl::StripAsciiWhitespace(a)));
        }
        if (!present && in_event.empty()) return;
        auto keys_equal = [](const Addresses& x, const Addresses& y) {
          return absl::c_equal(x, y, [](const auto& a, const auto& b) {
            return a.first == b.first;
          });
        };
        if (keys_equal(in_message, in_event)) {
          agreeing.push_back(name);
        } else if (!present) {
          differences.push_back(absl::StrCat("the message has no ", name,
                                             " field, where this record names ",
                                             Listed(in_event)));
        } else {
          differences.push_back(
              absl::StrCat(name, " names ", Listed(in_message),
                           ", where this record names ", Listed(in_event)));
        }
      };
  recipients("To:", "to", recorded.to);
  recipients("Cc:", "cc", recorded.cc);
  if (!recorded.message_id.empty()) {
    const std::string* id = nullptr;
    for (const auto& [n, value] : fields) {
      if (n == "message-id") {
        id = &value;
        break;
      }
    }
    if (id == nullptr) {
      differences.push_back(
          absl::StrCat("the message has no Message-ID: field, where this "
                       "record names ",
                       recorded.message_id));
    } else if (absl::string_view(*id) !=
               absl::StripAsciiWhitespace(recorded.message_id)) {
      differences.push_back(absl::StrCat("Message-ID: is ", *id,
                                         ", where this record names ",
                                         recorded.message_id));
    } else {
      agreeing.push_back("Message-ID:");
    }
  }
  if (!differences.empty()) {
    return absl::StrCat(
        "The stored message's own headers contradict this record: ",
        absl::StrJoin(differences, "; "), ".");
  }
  if (agreeing.empty()) return "";
  const bool one = agreeing.size() == 1;
  std::string named = agreeing.back();
  if (!one) {
    agreeing.pop_back();
    named = absl::StrCat(absl::StrJoin(agreeing, ", "), " and ", named);
  }
  return absl::StrCat("The stored message's ", named,
                      one ? " agrees" : " agree", " with this record.");
}

}  // namespace caseledger::bundle::internal
