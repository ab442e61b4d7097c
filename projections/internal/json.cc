#include "projections/internal/json.h"

#include <algorithm>
#include <cstdio>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"

namespace caseledger::projections::internal {

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    // JSON is UTF-8: a byte of a sequence that is not becomes U+FFFD, so
    // that what quotes untrusted bytes (a bundle's member names in a
    // verdict) still parses (a review found a verdict no JSON reader took).
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t len = 1;
      if (DecodeUtf8(s, i, &len) < 0) {
        out->append("\xEF\xBF\xBD");
      } else {
        out->append(s.substr(i, len));
        i += len - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void JsonWriter::Newline() {
  out_.push_back('\n');
  out_.append(2 * open_.size(), ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (open_.empty()) return;
  Container& c = open_.back();
  if (c.count++ > 0) out_.push_back(',');
  if (c.is_inline) {
    if (c.count > 1) out_.push_back(' ');
  } else {
    Newline();
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  open_.push_back({});
}

void JsonWriter::EndObject() {
  const Container c = open_.back();
  open_.pop_back();
  if (c.count > 0 && !c.is_inline) Newline();
  out_.push_back('}');
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  open_.push_back({});
}

void JsonWriter::BeginInlineArray() {
  BeforeValue();
  out_.push_back('[');
  open_.push_back({0, true});
}

void JsonWriter::EndArray() {
  const Container c = open_.back();
  open_.pop_back();
  if (c.count > 0 && !c.is_inline) Newline();
  out_.push_back(']');
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(key, &out_);
  out_.append(": ");
  after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(value, &out_);
}

void JsonWriter::Uint(uint64_t value) {
  BeforeValue();
  absl::StrAppend(&out_, value);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  absl::StrAppend(&out_, value);
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
}

std::string JsonWriter::Finish() && {
  out_.push_back('\n');
  return std::move(out_);
}

namespace {

// "invalid JSON at line L, column C (byte N): WHAT": where an editor shows
// byte `pos` (columns count characters from 1, from `first` on the first
// line), then the offset itself. A policy file or a bundle's pretty-printed
// JSON is read by people, by line.
absl::Status InvalidJson(std::string_view text, size_t first, size_t pos,
                         std::string_view what) {
  const std::string_view before =
      text.substr(first, std::min(pos, text.size()) - first);
  const size_t line = 1 + absl::c_count(before, '\n');
  // No newline before it (npos + 1 is 0): the line is all of `before`.
  const size_t column =
      1 + CharacterCount(before.substr(before.rfind('\n') + 1));
  return absl::InvalidArgumentError(absl::StrCat("invalid JSON at line ", line,
                                                 ", column ", column, " (byte ",
                                                 pos, "): ", AbslView(what)));
}

class Parser {
 public:
  Parser(std::string_view text, size_t first)
      : text_(text), first_(first), pos_(first) {}

  absl::StatusOr<JsonValue> Document() {
    JsonValue v;
    if (absl::Status s = Value(v, 0); !s.ok()) return s;
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  absl::Status Error(std::string_view what) const {
    return InvalidJson(text_, first_, pos_, what);
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::Status Value(JsonValue& v, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("unexpected end of input");
    const char c = text_[pos_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      return String(v.text);
    }
    if (Consume("true")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = true;
      return absl::OkStatus();
    }
    if (Consume("false")) {
      v.kind = JsonValue::Kind::kBool;
      return absl::OkStatus();
    }
    if (Consume("null")) {
      v.kind = JsonValue::Kind::kNull;
      return absl::OkStatus();
    }
    if (c == '-' || absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Number(v);
    }
    return Error(
        absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }

  absl::Status Object(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    SkipSpace();
    if (Consume("}")) return absl::OkStatus();
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Error("expected a string key");
      }
      std::string key;
      if (absl::Status s = String(key); !s.ok()) return s;
      for (const auto& [existing, unused] : v.members) {
        if (existing == key) {
          return Error(absl::StrCat("duplicate key \"", key, "\""));
        }
      }
      SkipSpace();
      if (!Consume(":")) return Error("expected ':'");
      JsonValue member;
      if (absl::Status s = Value(member, depth + 1); !s.ok()) return s;
      v.members.push_back(JsonMember{std::move(key), std::move(member)});
      SkipSpace();
      if (Consume("}")) return absl::OkStatus();
      if (!Consume(",")) return Error("expected ',' or '}'");
    }
  }

  absl::Status Array(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (Consume("]")) return absl::OkStatus();
    while (true) {
      JsonValue element;
      if (absl::Status s = Value(element, depth + 1); !s.ok()) return s;
      v.elements.push_back(std::move(element));
      SkipSpace();
      if (Consume("]")) return absl::OkStatus();
      if (!Consume(",")) return Error("expected ',' or ']'");
    }
  }

  absl::Status Number(JsonValue& v) {
    v.kind = JsonValue::Kind::kNumber;
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
      return pos_ - from;
    };
    if (text_[pos_] == '-') ++pos_;
    const size_t int_start = pos_;
    const size_t n = digits();
    if (n == 0) return Error("expected a digit");
    if (n > 1 && text_[int_start] == '0') return Error("leading zero");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return Error("expected a digit after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (digits() == 0) return Error("expected a digit in the exponent");
    }
    v.text = std::string(text_.substr(start, pos_ - start));
    return absl::OkStatus();
  }

  absl::Status Hex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return Error("short \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        out |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        out |= c - 'A' + 10;
      } else {
        return Error("bad hex digit in \\u escape");
      }
    }
    return absl::OkStatus();
  }

  absl::Status String(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return absl::OkStatus();
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in string");
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return Error("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (absl::Status s = Hex4(cp); !s.ok()) return s;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (!Consume("\\u")) return Error("lone high surrogate");
            if (absl::Status s = Hex4(low); !s.ok()) return s;
            if (low < 0xDC00 || low >= 0xE000) {
              return Error("bad low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("lone low surrogate");
          }
          AppendUtf8(static_cast<char32_t>(cp), out);
          break;
        }
        default:
          return Error("unknown escape");
      }
    }
  }

  std::string_view text_;
  size_t first_ = 0;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<JsonValue> ParseJson(std::string_view text, size_t first) {
  // JSON is UTF-8 (RFC 8259 §8.1). Taken, a bad byte in a string became
  // U+FFFD when the value was written again, and a bundle's events.json
  // holding one passed as saying what the event files hold (a review).
  if (const size_t bad = FirstInvalidUtf8(text.substr(first));
      bad != std::string::npos) {
    return InvalidJson(
        text, first, first + bad,
        absl::StrCat("0x",
                     absl::Hex(static_cast<unsigned char>(text[first + bad]),
                               absl::kZeroPad2),
                     " is not UTF-8 (JSON is UTF-8 text)"));
  }
  return Parser(text, first).Document();
}

}  // namespace caseledger::projections::internal
