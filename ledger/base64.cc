#include "ledger/base64.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ledger/string_view.h"

namespace caseledger {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Returns the 6-bit value of a base64 character, or -1 when `c` is not in
// the standard alphabet. '=' is not a value; callers handle it.
int Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16 |
                 uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8 |
                 uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out.push_back(kAlphabet[v >> 18 & 63]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.push_back(kAlphabet[v >> 6 & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    out.push_back(kAlphabet[v >> 18 & 63]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16 |
                 uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[v >> 18 & 63]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.push_back(kAlphabet[v >> 6 & 63]);
    out.push_back('=');
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text,
                                         std::string_view what) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(what), ": base64 length ", text.size(),
                     " is not a multiple of 4"));
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t group = 0; group < text.size(); group += 4) {
    const bool last = group + 4 == text.size();
    // Padding may only close the last group, as "xx==" or "xxx=".
    size_t pad = 0;
    if (last && text[group + 3] == '=') pad = text[group + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t k = 0; k < 4 - pad; ++k) {
      const int d = Value(text[group + k]);
      if (d < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            AbslView(what), ": character ", group + k, " is not base64"));
      }
      v |= static_cast<uint32_t>(d) << (18 - 6 * k);
    }
    if (pad == 2 && (v & 0xffff) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(what), ": character ", group + 1,
                       " has non-zero padding bits"));
    }
    if (pad == 1 && (v & 0xff) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(what), ": character ", group + 2,
                       " has non-zero padding bits"));
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

}  // namespace caseledger
