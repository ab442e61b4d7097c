// A small JSON writer and reader for the projections' output and the
// deadline policy file. Internal: not part of the public API.
//
// The writer produces deterministic, indented JSON (two spaces, keys in call
// order; inline arrays on one line), escaping strings per RFC 8259: '"', '\\'
// and control characters; other UTF-8 passes through unchanged. The reader
// accepts RFC 8259 JSON, rejects duplicate object keys and trailing garbage,
// and keeps each number's literal text so callers can insist on integers.
//
// Thread safety: a JsonWriter is not thread-safe; functions are pure.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_JSON_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace caseledger::projections::internal {

// Appends `s` to `out` as a JSON string literal, quotes included.
void AppendJsonString(std::string_view s, std::string* out);

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  // An array written on one line ("[1, 2]"), for short lists of scalars.
  void BeginInlineArray();
  void EndArray();
  // Names the next value of the current object.
  void Key(std::string_view key);
  void String(std::string_view value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  void Bool(bool value);
  void Null();

  // The document written so far, followed by a newline.
  std::string Finish() &&;

 private:
  // Writes the separator and indentation due before a value or a key.
  void BeforeValue();
  void Newline();

  struct Container {
    int count = 0;  // elements written so far
    bool is_inline = false;
  };

  std::string out_;
  std::vector<Container> open_;
  bool after_key_ = false;
};

struct JsonMember;

// A parsed JSON value.
struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  // kNumber: the literal as written; kString: the decoded UTF-8.
  std::string text;
  std::vector<JsonValue> elements;  // kArray
  // kObject, in document order. A struct rather than std::pair<std::string,
  // JsonValue>: std::pair may not be instantiated with JsonValue while
  // JsonValue is still incomplete (clang with libstdc++ rejects it), whereas
  // std::vector of an incomplete type is allowed (C++17).
  std::vector<JsonMember> members;
};

// One member of a JSON object: its key and value.
struct JsonMember {
  std::string key;
  JsonValue value;
};

// Parses one JSON document, from byte `first` of `text` (past a byte order
// mark the caller takes). kInvalidArgument on error, "invalid JSON at line
// L, column C (byte N): ...", N the offset in `text` from 0; text that is
// not UTF-8 is an error too.
absl::StatusOr<JsonValue> ParseJson(std::string_view text, size_t first = 0);

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_JSON_H_
