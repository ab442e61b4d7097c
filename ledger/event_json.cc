#include "ledger/event_json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <istream>
#include <limits>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/event_validation.h"
#include "ledger/rfc3339.h"
#include "ledger/untrusted_text.h"

namespace caseledger {
namespace {

constexpr absl::string_view kATime =
    "a time (RFC 3339 with a time zone, e.g. 2011-02-01T10:00:00Z; T and Z in "
    "capitals, at most 9 fraction digits, seconds up to 59)";

bool IsTime(const google::protobuf::FieldDescriptor* field) {
  return field->message_type() != nullptr &&
         field->message_type()->full_name() == "google.protobuf.Timestamp";
}

// What a JSON value of `field` must be, for a value of the wrong kind.
std::string Expected(const google::protobuf::FieldDescriptor* field) {
  using google::protobuf::FieldDescriptor;
  if (IsTime(field)) return std::string(kATime);
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "a JSON object";
    case FieldDescriptor::CPPTYPE_ENUM: {
      std::vector<std::string> names;
      for (int i = 1; i < field->enum_type()->value_count(); ++i) {
        names.push_back(field->enum_type()->value(i)->name());
      }
      return absl::StrCat("one of ", absl::StrJoin(names, ", "));
    }
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "a number";
    default:
      return "an integer";
  }
}

// The field at a dotted path of proto field names from Event
// ("document_request_sent.to"), or null.
const google::protobuf::FieldDescriptor* FieldAt(absl::string_view path) {
  const google::protobuf::Descriptor* message = v1::Event::descriptor();
  const google::protobuf::FieldDescriptor* field = nullptr;
  for (absl::string_view name : absl::StrSplit(path, '.')) {
    if (message == nullptr) return nullptr;
    // An element of a list: "to[0]".
    name = name.substr(0, name.find('['));
    field = message->FindFieldByName(std::string(name));
    if (field == nullptr)
      field = message->FindFieldByCamelcaseName(std::string(name));
    if (field == nullptr) return nullptr;
    message = field->message_type();
  }
  return field;
}

// Printable for the absl::string_view that protobuf's messages come in.
std::string PrintableText(absl::string_view s) {
  return Printable(std::string_view(s.data(), s.size()));
}
// A whole message of protobuf's, kept when its form is not recognised: long
// enough to read, still bounded.
std::string PrintableMessage(absl::string_view s) {
  return Printable(std::string_view(s.data(), s.size()), 512);
}

// The text of a JSON string as an error message shows it: escaped and cut
// short (Printable), in double quotes.
std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", PrintableText(text), "\"");
}

// A value protobuf's parser quotes, as the error message shows it: Quoted
// when it was a JSON string.
std::string Shown(absl::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    return Quoted(value.substr(1, value.size() - 2));
  }
  return PrintableText(value);
}

// protobuf's parser reports "(actor.kind): invalid value "KING" for
// type type.googleapis.com/caseledger.v1.ActorKind.Value"; caseledger names
// the field first, then the problem in the domain's terms
// (docs/bad-input.md, section 2.1). What the walk before the parser refuses
// (unknown fields, a list or an object where one value belongs) does not
// reach it. A message of a form not recognised here is kept, escaped.
std::string ExplainJsonError(absl::string_view message) {
  std::string path;
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "(")) {
    const size_t close = rest.find(')');
    if (close == absl::string_view::npos) return PrintableMessage(message);
    path = std::string(rest.substr(0, close));
    rest.remove_prefix(close + 1);
  }
  absl::ConsumePrefix(&rest, ": ");
  if (!absl::ConsumePrefix(&rest, "invalid value ")) {
    // A syntax error: protobuf's text, then the spot on a line of its own
    // with a caret under it. The spot's control characters become '?', one
    // for one, so that the caret stays under it.
    std::string text(rest);
    for (char& c : text) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7F) {
        c = '?';
      }
    }
    return absl::StrCat("not valid JSON: ", text);
  }
  constexpr absl::string_view kForType = " for type ";
  const size_t for_type = rest.rfind(kForType);
  if (for_type == absl::string_view::npos) return PrintableMessage(message);
  absl::string_view value = rest.substr(0, for_type);
  absl::string_view type = rest.substr(for_type + kForType.size());
  if (type == "oneof") {
    // "oneof field 'payload' is already set. Cannot set 'case_opened'"
    const size_t last = value.rfind('\'');
    const size_t first = value.rfind('\'', last - 1);
    if (last == absl::string_view::npos || first == absl::string_view::npos) {
      return PrintableMessage(message);
    }
    return absl::StrCat("payload: an event holds exactly one payload, and ",
                        value.substr(first + 1, last - first - 1),
                        " is a second one");
  }
  if (absl::EndsWith(type, "/google.protobuf.Timestamp")) {
    // "Field 'occurred_at', Invalid time format: 2011-02-30T10:00:00Z" or
    // "Field 'deadline', Invalid data type for timestamp, value is 5"
    constexpr absl::string_view kValueIs = "value is ";
    absl::string_view shown = value;
    if (size_t at = value.rfind(": "); at != absl::string_view::npos) {
      shown = value.substr(at + 2);
    } else if (size_t is = value.rfind(kValueIs);
               is != absl::string_view::npos) {
      shown = value.substr(is + kValueIs.size());
    }
    return absl::StrCat(path, ": ", Shown(shown), " is not ", kATime);
  }
  if (absl::ConsumePrefix(&type, "type.googleapis.com/")) {
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    if (pool->FindMessageTypeByName(std::string(type)) != nullptr) {
      return absl::StrCat(path, ": ", Shown(value), " is not a JSON object");
    }
    const auto* values = pool->FindEnumTypeByName(std::string(type));
    if (values == nullptr) return PrintableMessage(message);
    std::vector<std::string> names;
    for (int i = 1; i < values->value_count(); ++i) {  // 0 is UNSPECIFIED
      names.push_back(values->value(i)->name());
    }
    return absl::StrCat(path, ": unknown value ", Shown(value), " (one of ",
                        absl::StrJoin(names, ", "), ")");
  }
  // "(officer_note_added.text): invalid value 5 for type TYPE_STRING"
  const auto* f = FieldAt(path);
  if (f == nullptr) return PrintableMessage(message);
  return absl::StrCat(path, ": ", Shown(value), " is not ", Expected(f));
}

// Whether `s` is a number as RFC 8259 §6 writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < s.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  const size_t first = i;
  const size_t whole = digits();
  if (whole == 0 || (whole > 1 && s[first] == '0')) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Finds what protobuf's parser lets through and a reader of the line would
// take otherwise:
// - a field given twice in one object: the parser keeps the last of the
//   two, so `{"case_id": "A", ..., "case_id": "B"}` would be stored as case
//   B while a person reading the line sees A;
// - a time written as an object (`"occurred_at": {}` is taken as
//   1970-01-01T00:00:00Z, `{"seconds": "5"}` as a count of seconds);
// - a single value where a list belongs (`"to": "a@b.example"`), and null
//   in a list, which the parser drops;
// - a string for a bool or a number in quotes for an enum: the parser reads
//   "yes", "t" and "1" as true, "no", "f" and "0" as false (any case), and
//   `"kind": "1"` as OFFICER;
// - an integer in quotes written loosely ("+5" and "05" are 5 to it), and
//   half a surrogate pair.
// Run on text that FirstSyntaxProblem has passed, so it trusts the syntax
// (strict RFC 8259, nested 32 levels at most), before protobuf's parser,
// whose error paths are less exact: it also names an unknown key, a list or
// an object where one value belongs, and a value of the wrong kind in a list
// by its index. A field is the same under its
// proto name and its JSON name (`case_id`, `caseId`), and a key written with
// escapes is the key it decodes to.
class LenientInputFinder {
 public:
  explicit LenientInputFinder(std::string_view json) : json_(json) {}

  // "field: problem" for the first such value, or "".
  std::string Find() {
    SkipSpace();
    return Object(v1::Event::descriptor(), "");
  }

 private:
  // The object starting at at_, whose fields are those of `message`. An
  // unknown key ends the walk: protobuf's parser would refuse it too, and
  // walking what it holds cost time in the square of the line (found by a
  // review: a 2 MB line of unknown keys took 22 s).
  std::string Object(const google::protobuf::Descriptor* message,
                     const std::string& path) {
    std::vector<int> numbers;
    ++at_;  // '{'
    SkipSpace();
    while (at_ < json_.size() && json_[at_] != '}') {
      const std::string key = String();  // FirstSyntaxProblem saw it quoted
      const google::protobuf::FieldDescriptor* field = nullptr;
      for (int i = 0; i < message->field_count(); ++i) {
        const auto* f = message->field(i);
        if (f->name() == key || f->json_name() == key) field = f;
      }
      if (field == nullptr) {
        return absl::StrCat(path.empty() ? "" : Printable(path) + ".",
                            key.empty() ? "\"\"" : Printable(key),
                            ": unknown field");
      }
      const std::string here =
          path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
      if (absl::c_linear_search(numbers, field->number())) {
        return absl::StrCat(
            Printable(here),
            ": given twice in one object; name each field once");
      }
      numbers.push_back(field->number());
      SkipSpace();
      ++at_;  // ':'
      SkipSpace();
      if (std::string found = Member(field, here, false); !found.empty()) {
        return found;
      }
    }
    ++at_;  // '}'
    return "";
  }

  // The value starting at at_ and the comma after it, if any: an object's
  // member after its key, or (`element`) an array's element.
  std::string Member(const google::protobuf::FieldDescriptor* field,
                     const std::string& path, bool element) {
    std::string found = Value(field, path, element);
    SkipSpace();
    if (at_ < json_.size() && json_[at_] == ',') {
      ++at_;
      SkipSpace();
    }
    return found;
  }

  // "" when the integer `digits` (JSON, no fraction or exponent) fits the
  // integer type of `field`, else the range it does not fit: protobuf's
  // parser said "1.8446744073709552e+19 is not an integer" of
  // 18446744073709551616, naming neither the value written nor the reason
  // (found by an audit).
  static std::string RangeMissed(const google::protobuf::FieldDescriptor* field,
                                 absl::string_view digits) {
    using google::protobuf::FieldDescriptor;
    // Minus zero is zero, in any type.
    if (absl::StartsWith(digits, "-") &&
        digits.find_first_not_of('0', 1) == absl::string_view::npos) {
      return "";
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        return absl::SimpleAtoi(digits, &v) ? "" : "-2147483648 to 2147483647";
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        return absl::SimpleAtoi(digits, &v)
                   ? ""
                   : "-9223372036854775808 to 9223372036854775807";
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        return absl::SimpleAtoi(digits, &v) ? "" : "0 to 4294967295";
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v;
        return absl::SimpleAtoi(digits, &v) ? "" : "0 to 18446744073709551615";
      }
      default:
        return "";
    }
  }

  // The value starting at at_, of `field`, or one element of it when
  // `element`.
  std::string Value(const google::protobuf::FieldDescriptor* field,
                    const std::string& path, bool element) {
    using google::protobuf::FieldDescriptor;
    const char c = json_[at_];
    // null leaves a field unset, as in proto3's JSON mapping; a list cannot
    // hold it.
    const bool null = c == 'n';
    if (null && element) {
      return absl::StrCat(path, ": null is not allowed in a list");
    }
    // A list where one value belongs. protobuf's parser flattens a list in
    // a list (`"to": [["a", "b"]]` was stored as ["a", "b"]), and this walk
    // recursed once per bracket: a line of 20,000 of them overflowed the
    // stack (found by a review).
    if (c == '[' && (element || !field->is_repeated())) {
      return absl::StrCat(path, ": a list is not ", Expected(field));
    }
    if (field->is_repeated() && !element && !null && c != '[') {
      return absl::StrCat(path, ": ", Kind(c),
                          " is not a list; write a JSON array, e.g. [",
                          Kind(c) == "a string" ? "\"...\"" : "...", "]");
    }
    // protobuf's parser names an object in a list of strings by the wrong
    // element (`"to": ["a", "c", {}]` was `to[1].to`), and takes an object
    // for a time (`{}` is 1970-01-01T00:00:00Z).
    if (c == '{' && (IsTime(field) ||
                     field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE)) {
      return absl::StrCat(path, ": an object is not ", Expected(field));
    }
    if (IsTime(field) && !null && c != '"') {
      return absl::StrCat(path, ": ", Scalar(), " is not ", kATime);
    }
    switch (c) {
      case '{':
        return Object(field->message_type(), path);
      case '[': {
        ++at_;
        SkipSpace();
        for (int i = 0; at_ < json_.size() && json_[at_] != ']'; ++i) {
          if (std::string found =
                  Member(field, absl::StrCat(path, "[", i, "]"), true);
              !found.empty()) {
            return found;
          }
        }
        ++at_;  // ']'
        return "";
      }
      case '"': {
        const std::string text = String();
        if (lone_surrogate_) {
          return absl::StrCat(path, ": ", Quoted(text),
                              " holds a \\u escape of half a UTF-16 "
                              "surrogate pair without its other half (shown "
                              "as U+FFFD), which no text can hold");
        }
        // Protobuf's parser also takes a one-digit month, text after an
        // escaped NUL and a tenth fraction digit (found by an audit), which
        // --as-of refuses: one spelling for a time everywhere.
        if (IsTime(field) && !IsRfc3339Time(text)) {
          return absl::StrCat(path, ": ", Shown(text), " is not ", kATime);
        }
        // Protobuf's parser refused year 0000 as "not a time", though the
        // value is spelled as the message says a time is. Only the first
        // and last years can fall outside, with a zone offset; every line
        // passes here, so the others are not parsed twice.
        const bool edge_year = text.starts_with("0000") ||
                               text.starts_with("0001") ||
                               text.starts_with("9999");
        if (absl::Time t;
            IsTime(field) && edge_year &&
            absl::ParseTime(absl::RFC3339_full, text, &t, nullptr) &&
            !IsWithinTimestampRange(t)) {
          return absl::StrCat(
              path, ": ", Shown(text),
              " is outside the times a timestamp holds: ", kTimestampRange);
        }
        switch (field->cpp_type()) {
          case FieldDescriptor::CPPTYPE_BOOL:
            return absl::StrCat(path, ": ", Quoted(text),
                                " is a string, not true or false (written "
                                "without quotes)");
          case FieldDescriptor::CPPTYPE_ENUM:
            // An enum's name starts with a letter; protobuf reads a string
            // that starts otherwise ("1", "+1", "-0") as the value's number.
            if (text.empty() ||
                !absl::ascii_isalpha(static_cast<unsigned char>(text[0]))) {
              return absl::StrCat(path, ": unknown value ", Quoted(text), " (",
                                  Expected(field), ")");
            }
            return "";
          case FieldDescriptor::CPPTYPE_INT32:
          case FieldDescriptor::CPPTYPE_INT64:
          case FieldDescriptor::CPPTYPE_UINT32:
          case FieldDescriptor::CPPTYPE_UINT64:
            // proto3's JSON mapping takes an integer in quotes; protobuf's
            // parser also took "+5" and "05" (found by a review).
            if (!IsJsonNumber(text) ||
                text.find_first_of(".eE") != std::string::npos) {
              return absl::StrCat(path, ": ", Quoted(text),
                                  " is not an integer");
            }
            if (std::string range = RangeMissed(field, text); !range.empty()) {
              return absl::StrCat(path, ": ", Quoted(text),
                                  " is beyond the range of the field (", range,
                                  ")");
            }
            return "";
          default:
            return "";
        }
      }
      default: {  // a number, true, false or null
        const absl::string_view token = Scalar();
        at_ += token.size();
        // A copy only for numbers: strtod needs the terminating NUL.
        if ((c == '-' || absl::ascii_isdigit(static_cast<unsigned char>(c))) &&
            std::isinf(std::strtod(std::string(token).c_str(), nullptr))) {
          return absl::StrCat(
              path, ": ",
              Printable(std::string_view(token.data(), token.size()), 64,
                        Quotes::kKeep),
              " is beyond the range of a number");
        }
        if ((c == '-' || absl::ascii_isdigit(static_cast<unsigned char>(c))) &&
            token.find_first_of(".eE") == absl::string_view::npos) {
          if (std::string range = RangeMissed(field, token); !range.empty()) {
            return absl::StrCat(
                path, ": ",
                Printable(std::string_view(token.data(), token.size()), 64,
                          Quotes::kKeep),
                " is beyond the range of the field (", range, ")");
          }
        }
        return "";
      }
    }
  }

  // The number, true, false or null starting at at_.
  absl::string_view Scalar() const {
    size_t end = at_;
    while (end < json_.size() &&
           absl::string_view(",}] \t\r\n").find(json_[end]) ==
               absl::string_view::npos) {
      ++end;
    }
    return absl::string_view(json_.data() + at_, end - at_);
  }

  // The kind of the JSON value that starts with `c`.
  static absl::string_view Kind(char c) {
    switch (c) {
      case '{':
        return "an object";
      case '[':
        return "a list";
      case '"':
        return "a string";
      case 't':
      case 'f':
        return "true or false";
      case 'n':
        return "null";
      default:
        return "a number";
    }
  }

  // The string starting at at_, escapes decoded; lone_surrogate_ says
  // whether it held half a surrogate pair (decoded as U+FFFD).
  std::string String() {
    lone_surrogate_ = false;
    std::string out;
    ++at_;  // '"'
    while (at_ < json_.size() && json_[at_] != '"') {
      char c = json_[at_++];
      if (c != '\\' || at_ >= json_.size()) {
        out += c;
        continue;
      }
      char e = json_[at_++];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t code = Hex4();
          if (code >= 0xD800 && code < 0xDC00 &&
              json_.substr(at_, 2) == "\\u") {
            const size_t low_at = at_;
            at_ += 2;
            const uint32_t low = Hex4();
            if (low >= 0xDC00 && low < 0xE000) {
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            } else {
              at_ = low_at;  // the next escape stands on its own
            }
          }
          if (code >= 0xD800 && code < 0xE000) {
            lone_surrogate_ = true;
            code = 0xFFFD;
          }
          AppendUtf8(code, out);
          break;
        }
        default:  // '"', '\\', '/'
          out += e;
      }
    }
    ++at_;  // the closing quote
    return out;
  }

  uint32_t Hex4() {
    uint32_t code = 0;
    for (int i = 0; i < 4 && at_ < json_.size(); ++i, ++at_) {
      char h = json_[at_];
      code = code * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return code;
  }

  void SkipSpace() {
    while (at_ < json_.size() && (json_[at_] == ' ' || json_[at_] == '\t' ||
                                  json_[at_] == '\n' || json_[at_] == '\r')) {
      ++at_;
    }
  }

  const std::string_view json_;
  size_t at_ = 0;
  bool lone_surrogate_ = false;
};

// What may come next in a line, by RFC 8259's grammar.
enum class Next {
  kEvent,       // the event's opening '{'
  kKeyOrClose,  // just after '{'
  kKey,         // after a comma in an object
  kColon,
  kValue,         // after a colon, or a comma in a list
  kValueOrClose,  // just after '['
  kCommaOrClose,  // after a member or an element
  kNothing,       // after the event's closing '}'
};

// What `next` asks for, for an error message; `open` is the innermost
// bracket not yet closed.
absl::string_view Wanted(Next next, char open) {
  switch (next) {
    case Next::kEvent:
      return "'{' opening the event";
    case Next::kKeyOrClose:
      return "a key in double quotes or '}'";
    case Next::kKey:
      return "a key in double quotes";
    case Next::kColon:
      return "':' after the key";
    case Next::kValue:
      return "a value";
    case Next::kValueOrClose:
      return "a value or ']'";
    case Next::kCommaOrClose:
      return open == '{' ? "',' or '}'" : "',' or ']'";
    case Next::kNothing:
      return "the line's end";
  }
  return "";
}

// The first byte of `json` that breaks RFC 8259, and what is wrong with it,
// or "". Protobuf's parser is lenient where this is not. Inside strings, it
// keeps raw control characters, which JSON requires escaped (a NUL or an
// escape sequence would be stored as the text of a note), and drops the
// backslash of an escape JSON does not have: "C:\dossiers\anna" was stored
// as "C:dossiersanna" (found by an audit). Between values it takes strings
// in single quotes, whose escapes it reads the same way (found by the next
// audit), keys without quotes, a comma before a closing bracket and control
// characters as white space: a line another JSON reader refuses, or reads
// otherwise. The grammar is checked whole here, so that what reads the line
// after this can trust its structure, and every syntax error names its byte.
std::string FirstSyntaxProblem(std::string_view json, size_t bytes_before) {
  // The byte number an error names, counted from the line's first byte.
  auto byte = [&](size_t i) { return bytes_before + i + 1; };
  constexpr std::string_view kWhiteSpace = " \t\n\r";
  // An event nests four levels at most; the parsers after this check go
  // down a level per bracket.
  constexpr size_t kMaxDepth = 32;
  std::string open;  // the brackets not yet closed, innermost last
  Next next = Next::kEvent;
  auto innermost = [&] { return open.empty() ? '\0' : open.back(); };
  auto unexpected = [&](size_t i, absl::string_view found) {
    if (next == Next::kEvent)
      return std::string("an event must be a JSON object");
    if (next == Next::kNothing) {
      // Lines ended by a carriage return alone (old Mac files) arrive as one
      // line, and the second event is the first sign of it.
      const size_t closing = json.find_last_not_of(kWhiteSpace, i - 1);
      const bool bare_cr =
          json.substr(closing + 1, i - closing - 1).find('\r') !=
          std::string_view::npos;
      return absl::StrCat(
          "byte ", byte(i), ": ", found,
          " after the event's closing '}'; a line holds one event",
          bare_cr ? ", and a carriage return (0x0d) without a line feed does "
                    "not end one: end lines with LF or CRLF"
                  : "");
    }
    return absl::StrCat("byte ", byte(i), ": ", found, " where ",
                        Wanted(next, innermost()), " belongs");
  };
  auto value_may_start = [&] {
    return next == Next::kValue || next == Next::kValueOrClose;
  };
  auto value_ended = [&] {
    next = open.empty() ? Next::kNothing : Next::kCommaOrClose;
  };
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const auto c = static_cast<unsigned char>(json[i]);
    if (in_string) {
      if (c < 0x20) {
        return absl::StrFormat(
            "byte %d (0x%02x) is a control character inside a string; JSON "
            "needs it escaped, as \\u%04x",
            byte(i), c, c);
      }
      if (c == '"') {
        in_string = false;
      } else if (c == '\\') {
        const char e = i + 1 < json.size() ? json[i + 1] : '\0';
        bool known =
            absl::string_view("\"\\/bfnrt").find(e) != absl::string_view::npos;
        if (e == 'u') {
          known = i + 5 < json.size() &&
                  absl::c_all_of(json.substr(i + 2, 4), [](char h) {
                    return absl::ascii_isxdigit(static_cast<unsigned char>(h));
                  });
        }
        if (!known) {
          return absl::StrCat(
              "byte ", byte(i), ": '",
              Printable(json.substr(i, e == 'u' ? 6 : 2), 6, Quotes::kKeep),
              "' is not a JSON escape (RFC 8259: \\\", \\\\, \\/, \\b, "
              "\\f, \\n, \\r, \\t, \\uXXXX); a backslash in text is written "
              "\\\\");
        }
        ++i;  // the escaped byte cannot end the string
      }
      continue;
    }
    if (c == '"') {
      if (next == Next::kKeyOrClose || next == Next::kKey) {
        next = Next::kColon;
      } else if (value_may_start()) {
        value_ended();
      } else {
        return unexpected(i, "a string");
      }
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (!value_may_start() && !(next == Next::kEvent && c == '{')) {
        return unexpected(i, absl::StrCat("'", std::string(1, c), "'"));
      }
      open += c;
      if (open.size() > kMaxDepth) {
        return absl::StrCat("byte ", byte(i), ": nested more than ", kMaxDepth,
                            " levels deep; an event nests a few at most");
      }
      next = c == '{' ? Next::kKeyOrClose : Next::kValueOrClose;
    } else if (c == '}' || c == ']') {
      const char opener = c == '}' ? '{' : '[';
      const Next empty = c == '}' ? Next::kKeyOrClose : Next::kValueOrClose;
      if (innermost() != opener ||
          (next != empty && next != Next::kCommaOrClose)) {
        return unexpected(i, absl::StrCat("'", std::string(1, c), "'"));
      }
      open.pop_back();
      value_ended();
    } else if (c == ':') {
      if (next != Next::kColon) return unexpected(i, "':'");
      next = Next::kValue;
    } else if (c == ',') {
      if (next != Next::kCommaOrClose) return unexpected(i, "','");
      const size_t after = json.find_first_not_of(kWhiteSpace, i + 1);
      if (after != std::string_view::npos &&
          (json[after] == '}' || json[after] == ']')) {
        return absl::StrCat("byte ", byte(i), ": a comma before '",
                            std::string(1, json[after]),
                            "'; JSON has no comma after the last member or "
                            "element");
      }
      next = innermost() == '{' ? Next::kKey : Next::kValue;
    } else if (c == '\'') {
      return absl::StrCat("byte ", byte(i),
                          ": a string in single quotes; JSON writes strings, "
                          "keys included, in double quotes");
    } else if (c < 0x20 && kWhiteSpace.find(c) == std::string_view::npos) {
      return absl::StrFormat(
          "byte %d (0x%02x) is a control character between values; JSON "
          "takes only spaces, tabs and line breaks there",
          byte(i), c);
    } else if (c > ' ') {
      // A word or a number, up to the next bracket, colon, comma, quote,
      // space or control character (which protobuf's parser takes as space).
      size_t end = i;
      while (end < json.size() && static_cast<unsigned char>(json[end]) > ' ' &&
             std::string_view(",:{}[]\"'").find(json[end]) ==
                 std::string_view::npos) {
        ++end;
      }
      const std::string_view word = json.substr(i, end - i);
      if (word.substr(0, 3) == "\xEF\xBB\xBF") {
        return absl::StrCat("byte ", byte(i),
                            ": a byte order mark (U+FEFF), which is skipped "
                            "only where the input opens");
      }
      // "+1" and ".5" are numbers JSON does not have, not words.
      const bool number =
          c == '-' || c == '+' || c == '.' || absl::ascii_isdigit(c);
      if (number && !IsJsonNumber(word)) {
        // protobuf's parser also takes "1.", "-.5" and "0x10".
        return absl::StrCat("byte ", byte(i), ": '",
                            Printable(word, 64, Quotes::kKeep),
                            "' is not a JSON number (RFC 8259: -12, 0, 3.5, "
                            "1e5; no leading zero, +, bare point or hex)");
      }
      if (!number && word != "true" && word != "false" && word != "null") {
        // Right after a string's closing quote, the word is most likely
        // text that a quote inside the string cut off.
        const bool after_quote = i > 0 && json[i - 1] == '"';
        return absl::StrCat(
            "byte ", byte(i), ": '", Printable(word, 64, Quotes::kKeep),
            "' is not JSON: keys and text are written in double quotes, and "
            "the only words without them are true, false and null",
            after_quote ? "; a double quote inside text is written \\\"" : "");
      }
      if (!value_may_start()) {
        return unexpected(
            i, absl::StrCat("'", Printable(word, 64, Quotes::kKeep), "'"));
      }
      value_ended();
      i = end - 1;
    }
  }
  if (next == Next::kEvent) return "an event must be a JSON object";
  // Here the line holds a byte at least: the event's opening '{'.
  if (in_string) {
    return absl::StrCat("the line ends after byte ", byte(json.size() - 1),
                        ", inside a string; its closing quote is missing");
  }
  if (next != Next::kNothing) {
    // The last byte that is not white space (a CR before the line break
    // is not counted).
    return absl::StrCat("the line ends after byte ",
                        byte(json.find_last_not_of(kWhiteSpace)), ", where ",
                        Wanted(next, innermost()), " belongs");
  }
  return "";
}

enum class LineRead { kLine, kTooLong, kEnd };

// std::getline holding at most kMaxEventLineBytes of a line: a longer one
// is passed over to its end. kEnd where no line is left (a last line
// without its newline is a line); a read error ends the input too, which
// the caller tells by in.bad().
LineRead ReadLine(std::istream& in, std::string& text) {
  text.clear();
  // istream::getline into a buffer scans for the newline a block at a
  // time, as std::getline does.
  constexpr std::streamsize kChunk = 16 << 10;
  char chunk[kChunk];
  for (bool first = true;; first = false) {
    in.getline(chunk, kChunk);
    const auto got = static_cast<size_t>(in.gcount());
    // Ended by its newline (counted, not stored), by the end of the input,
    // or by a full chunk with more of the line to come (failbit).
    const bool newline = !in.fail() && !in.eof();
    const bool more = in.fail() && !in.eof() && got == kChunk - 1;
    // A failed read (badbit, or a failure that is none of the above) ends
    // the input where it is: neither is a line, and reading on would loop.
    if (in.bad() || (in.fail() && !in.eof() && !more) ||
        (got == 0 && first && in.eof())) {
      return LineRead::kEnd;
    }
    const size_t stored = newline ? got - 1 : got;
    if (text.size() + stored > kMaxEventLineBytes) {
      if (more) {
        in.clear();
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      }
      return LineRead::kTooLong;
    }
    text.append(chunk, stored);
    if (!more) return LineRead::kLine;
    in.clear();
  }
}

}  // namespace

absl::StatusOr<v1::Event> ParseEventJson(std::string_view json,
                                         size_t bytes_before) {
  // protobuf's own message quotes the bytes around the bad one, raw.
  if (size_t bad = FirstInvalidUtf8(json); bad != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "byte %d (0x%02x) is not UTF-8; an event is UTF-8 text",
        bytes_before + bad + 1, static_cast<unsigned char>(json[bad])));
  }
  if (std::string problem = FirstSyntaxProblem(json, bytes_before);
      !problem.empty()) {
    return absl::InvalidArgumentError(problem);
  }
  if (std::string found = LenientInputFinder(json).Find(); !found.empty()) {
    return absl::InvalidArgumentError(found);
  }
  v1::Event event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &event, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(ExplainJsonError(
        absl::string_view(status.message().data(), status.message().size())));
  }
  return event;
}

std::string EventToJson(const v1::Event& event) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a valid in-memory message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(event, &out, options);
  return out;
}

absl::StatusOr<EventLine> EventLineReader::Next() {
  if (ended_) return absl::OutOfRangeError("end of input");
  std::string text;
  while (true) {
    const LineRead read = ReadLine(in_, text);
    if (read == LineRead::kEnd) break;
    ++line_;
    if (read == LineRead::kTooLong) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_, ": the line is longer than ", kMaxEventLineBytes,
          " bytes, and no event of at most ", kMaxEventBytes,
          " bytes needs that many; the rest of it was not read"));
    }
    // Editors on Windows may open a UTF-8 file with a byte order mark.
    size_t mark = 0;
    if (line_ == 1 && absl::StartsWith(text, "\xEF\xBB\xBF")) {
      text.erase(0, 3);
      mark = 3;
    }
    // UTF-16 (a Windows editor's "Unicode"): said as such, where its first
    // NUL or its byte order mark would be named as a stray byte (found by
    // an audit).
    if (line_ == 1 && LooksLikeUtf16(text)) {
      ended_ = true;  // every line would be refused for the same reason
      return absl::InvalidArgumentError(
          "line 1: the input is UTF-16, not UTF-8; save it as UTF-8 (JSON "
          "Lines is UTF-8, RFC 8259)");
    }
    // Blank: JSON's white space only. A line of form feeds is refused as
    // they are anywhere else (found by a review).
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    // Untrimmed, so that a byte named in an error is counted from the
    // line's start.
    auto event = ParseEventJson(text, mark);
    if (!event.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_, ": ", event.status().message()));
    }
    return EventLine{line_, *std::move(event)};
  }
  ended_ = true;
  if (in_.bad()) {
    return absl::DataLossError(absl::StrCat("read error after line ", line_));
  }
  return absl::OutOfRangeError("end of input");
}

absl::StatusOr<std::vector<EventLine>> ReadEventLines(std::istream& in) {
  EventLineReader reader(in);
  std::vector<EventLine> out;
  while (true) {
    auto next = reader.Next();
    if (absl::IsOutOfRange(next.status())) return out;
    if (!next.ok()) return next.status();
    out.push_back(*std::move(next));
  }
}

}  // namespace caseledger
