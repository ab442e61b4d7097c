#include "projections/internal/lower_case.h"

#include <cstdint>

namespace caseledger::projections::internal {

char32_t LowerCase(char32_t c) {
  // ASCII too: NFC makes some letters ASCII (the Kelvin sign, U+212A, is
  // "K"), after the address was lowered as ASCII (found by a review).
  if (c >= 'A' && c <= 'Z') return c + 0x20;
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
