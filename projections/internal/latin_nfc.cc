#include "projections/internal/latin_nfc.h"

#include <cstdint>

#include "ledger/untrusted_text.h"

namespace caseledger::projections::internal {
namespace {

struct Composition {
  char32_t base;
  char32_t mark;
  char32_t composed;
};

// Canonical compositions (UnicodeData.txt) of Latin letters with the marks
// French uses, plus tilde: the limit of ComposedLatin (latin_nfc.h).
constexpr Composition kCompositions[] = {
    // U+0300 COMBINING GRAVE ACCENT
    {'A', 0x300, 0xC0},
    {'E', 0x300, 0xC8},
    {'I', 0x300, 0xCC},
    {'O', 0x300, 0xD2},
    {'U', 0x300, 0xD9},
    {'a', 0x300, 0xE0},
    {'e', 0x300, 0xE8},
    {'i', 0x300, 0xEC},
    {'o', 0x300, 0xF2},
    {'u', 0x300, 0xF9},
    // U+0301 COMBINING ACUTE ACCENT
    {'A', 0x301, 0xC1},
    {'E', 0x301, 0xC9},
    {'I', 0x301, 0xCD},
    {'O', 0x301, 0xD3},
    {'U', 0x301, 0xDA},
    {'Y', 0x301, 0xDD},
    {'a', 0x301, 0xE1},
    {'e', 0x301, 0xE9},
    {'i', 0x301, 0xED},
    {'o', 0x301, 0xF3},
    {'u', 0x301, 0xFA},
    {'y', 0x301, 0xFD},
    // U+0302 COMBINING CIRCUMFLEX ACCENT
    {'A', 0x302, 0xC2},
    {'E', 0x302, 0xCA},
    {'I', 0x302, 0xCE},
    {'O', 0x302, 0xD4},
    {'U', 0x302, 0xDB},
    {'a', 0x302, 0xE2},
    {'e', 0x302, 0xEA},
    {'i', 0x302, 0xEE},
    {'o', 0x302, 0xF4},
    {'u', 0x302, 0xFB},
    // U+0303 COMBINING TILDE
    {'A', 0x303, 0xC3},
    {'N', 0x303, 0xD1},
    {'O', 0x303, 0xD5},
    {'a', 0x303, 0xE3},
    {'n', 0x303, 0xF1},
    {'o', 0x303, 0xF5},
    // U+0308 COMBINING DIAERESIS
    {'A', 0x308, 0xC4},
    {'E', 0x308, 0xCB},
    {'I', 0x308, 0xCF},
    {'O', 0x308, 0xD6},
    {'U', 0x308, 0xDC},
    {'Y', 0x308, 0x178},
    {'a', 0x308, 0xE4},
    {'e', 0x308, 0xEB},
    {'i', 0x308, 0xEF},
    {'o', 0x308, 0xF6},
    {'u', 0x308, 0xFC},
    {'y', 0x308, 0xFF},
    // U+0327 COMBINING CEDILLA
    {'C', 0x327, 0xC7},
    {'c', 0x327, 0xE7},
};

char32_t Compose(char32_t base, char32_t mark) {
  for (const Composition& c : kCompositions) {
    if (c.base == base && c.mark == mark) return c.composed;
  }
  return 0;
}

}  // namespace

std::vector<char32_t> ComposedLatin(std::string_view s) {
  std::vector<char32_t> chars;
  for (size_t i = 0, len = 1; i < s.size(); i += len) {
    const int32_t r = DecodeUtf8(s, i, &len);
    if (r < 0) len = 1;  // each byte of a bad sequence
    const char32_t c = r < 0 ? 0xFFFD : static_cast<char32_t>(r);
    if (!chars.empty()) {
      if (char32_t composed = Compose(chars.back(), c); composed != 0) {
        chars.back() = composed;
        continue;
      }
    }
    chars.push_back(c);
  }
  return chars;
}

char32_t LowerCase(char32_t c) {
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) ||     // À..Þ but ×
      (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||  // Greek Α..Ϋ
      (c >= 0x410 && c <= 0x42F)) {                // Cyrillic А..Я
    return c + 0x20;
  }
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;  // Cyrillic Ѐ..Џ
  if (c == 0x178) return 0xFF;                    // Ÿ
  if (c == 0x130) return 'i';                     // İ
  // Latin Extended-A pairs an upper-case letter with the lower-case one
  // after it: on even code points up to U+0137 and from U+014A, on odd ones
  // in U+0139..U+0148 and U+0179..U+017E.
  const bool even_pairs =
      (c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177);
  const bool odd_pairs =
      (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
  if ((even_pairs && c % 2 == 0) || (odd_pairs && c % 2 == 1)) return c + 1;
  return c;
}

}  // namespace caseledger::projections::internal
