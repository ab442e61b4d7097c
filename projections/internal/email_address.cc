#include "projections/internal/email_address.h"

#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ledger/nfc.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"
#include "projections/internal/lower_case.h"

namespace caseledger::projections::internal {
namespace {

// RFC 3492 §5, the parameters for IDNA.
constexpr uint32_t kBase = 36, kTMin = 1, kTMax = 26, kSkew = 38, kDamp = 700,
                   kInitialBias = 72, kInitialN = 128;

char Digit(uint32_t d) {
  return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

// RFC 3492 §6.1.
uint32_t Adapt(uint32_t delta, uint32_t points, bool first) {
  delta = first ? delta / kDamp : delta / 2;
  delta += delta / points;
  uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
}

bool HasNonAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> Punycode(std::string_view label) {
  std::vector<uint32_t> points;
  for (size_t i = 0, len = 0; i < label.size(); i += len) {
    const int32_t cp = DecodeUtf8(label, i, &len);
    if (cp < 0) return std::nullopt;
    points.push_back(static_cast<uint32_t>(cp));
  }
  std::string out;
  for (uint32_t cp : points) {
    if (cp < 0x80) out.push_back(static_cast<char>(cp));
  }
  const uint32_t basic = static_cast<uint32_t>(out.size());
  if (basic > 0) out.push_back('-');
  // RFC 3492 §6.3: insert the other code points in order of value, each as
  // a variable-length number saying where and what.
  uint32_t n = kInitialN, delta = 0, bias = kInitialBias, handled = basic;
  while (handled < points.size()) {
    uint32_t m = UINT32_MAX;
    for (uint32_t cp : points) {
      if (cp >= n && cp < m) m = cp;
    }
    if (m - n > (UINT32_MAX - delta) / (handled + 1)) return std::nullopt;
    delta += (m - n) * (handled + 1);
    n = m;
    for (uint32_t cp : points) {
      if (cp < n && ++delta == 0) return std::nullopt;
      if (cp != n) continue;
      uint32_t q = delta;
      for (uint32_t k = kBase;; k += kBase) {
        const uint32_t t =
            k <= bias ? kTMin : (k >= bias + kTMax ? kTMax : k - bias);
        if (q < t) break;
        out.push_back(Digit(t + (q - t) % (kBase - t)));
        q = (q - t) / (kBase - t);
      }
      out.push_back(Digit(q));
      bias = Adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return out;
}

std::string NormalizeAddress(std::string_view address) {
  absl::string_view s = absl::StripAsciiWhitespace(AbslView(address));
  const size_t open = s.rfind('<');
  if (open != absl::string_view::npos) {
    const size_t close = s.find('>', open);
    if (close != absl::string_view::npos) {
      s = absl::StripAsciiWhitespace(s.substr(open + 1, close - open - 1));
    }
  }
  std::string lower = absl::AsciiStrToLower(s);
  if (HasNonAscii(lower)) {
    // One spelling of each accented letter, in lower case: "mu\u0308ller"
    // and "M\u00dcLLER" are the "m\u00fcller" an IDNA lookup would make of
    // them (RFC 5895).
    std::string folded;
    for (char32_t c : NfcCodePoints(lower)) AppendUtf8(LowerCase(c), folded);
    lower = std::move(folded);
  }
  const size_t at = lower.rfind('@');
  if (at == std::string::npos || !HasNonAscii(lower.substr(at + 1))) {
    return lower;
  }
  std::string out = lower.substr(0, at + 1);
  const char* dot = "";
  for (absl::string_view label :
       absl::StrSplit(absl::string_view(lower).substr(at + 1), '.')) {
    absl::StrAppend(&out, dot);
    dot = ".";
    std::optional<std::string> ascii;
    if (HasNonAscii(label))
      ascii = Punycode(std::string_view(label.data(), label.size()));
    if (ascii) {
      absl::StrAppend(&out, "xn--", *ascii);
    } else {
      absl::StrAppend(&out, label);
    }
  }
  return out;
}

}  // namespace caseledger::projections::internal
