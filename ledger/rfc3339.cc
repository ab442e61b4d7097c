#include "ledger/rfc3339.h"

#include <cstdint>

namespace caseledger {
namespace {

bool Digits(std::string_view s, size_t from, size_t n) {
  if (s.size() < from + n) return false;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool At(std::string_view s, size_t i, std::string_view one_of) {
  return i < s.size() && one_of.find(s[i]) != std::string_view::npos;
}

// YYYY-MM-DD at the start of `s`.
bool StartsWithDate(std::string_view s) {
  return Digits(s, 0, 4) && At(s, 4, "-") && Digits(s, 5, 2) && At(s, 7, "-") &&
         Digits(s, 8, 2);
}

}  // namespace

bool IsWithinTimestampRange(absl::Time t) {
  constexpr int64_t kFirstSecond = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kAfterLast = 253402300800;    // 10000-01-01T00:00:00Z
  return t >= absl::FromUnixSeconds(kFirstSecond) &&
         t < absl::FromUnixSeconds(kAfterLast);
}

bool IsRfc3339Date(std::string_view text) {
  return text.size() == 10 && StartsWithDate(text);
}

bool IsRfc3339Time(std::string_view s) {
  // A leap second (":60") is refused: a protobuf Timestamp cannot hold it,
  // and Abseil would read it as the next minute.
  if (!StartsWithDate(s) || !At(s, 10, "T") || !Digits(s, 11, 2) ||
      !At(s, 13, ":") || !Digits(s, 14, 2) || !At(s, 16, ":") ||
      !At(s, 17, "012345") || !Digits(s, 18, 1)) {
    return false;
  }
  size_t i = 19;
  if (At(s, i, ".")) {
    const size_t first = ++i;
    while (Digits(s, i, 1)) ++i;
    if (i == first || i - first > 9) return false;
  }
  if (At(s, i, "Z")) return i + 1 == s.size();
  return At(s, i, "+-") && Digits(s, i + 1, 2) && At(s, i + 3, ":") &&
         Digits(s, i + 4, 2) && i + 6 == s.size();
}

}  // namespace caseledger
