// The standard non-compliance note (findings.h) and its normalisation.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "projections/findings.h"
#include "projections/internal/strings.h"

namespace caseledger::projections {

const char kStandardNoteEnglish[] =
    "An email was sent to the applicant to obtain additional documents. The "
    "applicant was also informed that failure to provide the required "
    "documents could result in the refusal of the application. The applicant "
    "failed to comply with the request.";

const char kStandardNoteFrench[] =
    "Un courriel a été envoyé au demandeur dans le but d’obtenir des "
    "documents supplémentaires. Le demandeur a également été informé que le "
    "défaut de fournir les documents requis pouvait entraîner le rejet de sa "
    "demande. Le demandeur a omis de se conformer à la demande.";

namespace {

// Decodes UTF-8; each byte of an invalid sequence becomes U+FFFD.
std::vector<char32_t> Decode(std::string_view s) {
  std::vector<char32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (cc & 0x3F);
      }
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

struct Composition {
  char32_t base;
  char32_t mark;
  char32_t composed;
};

// Canonical compositions (UnicodeData.txt) of Latin letters with the marks
// French uses, plus tilde. See NormalizeNote() for the limit.
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

bool IsSpace(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

char32_t MapQuote(char32_t c) {
  switch (c) {
    case 0x2018:  // ‘
    case 0x2019:  // ’
      return '\'';
    case 0x201C:  // “
    case 0x201D:  // ”
    case 0xAB:    // «
    case 0xBB:    // »
      return '"';
    default:
      return c;
  }
}

bool IsQuote(char32_t c) { return c == '"' || c == '\''; }

}  // namespace

std::string NormalizeNote(std::string_view note) {
  // 1. NFC (the subset above), 2. quotes to ASCII.
  std::vector<char32_t> chars;
  for (char32_t c : Decode(note)) {
    if (!chars.empty()) {
      if (char32_t composed = Compose(chars.back(), c); composed != 0) {
        chars.back() = composed;
        continue;
      }
    }
    chars.push_back(c);
  }
  for (char32_t& c : chars) c = MapQuote(c);
  // 3. Collapse white space, trim, strip surrounding quotes, trim again.
  std::vector<char32_t> collapsed;
  for (char32_t c : chars) {
    if (IsSpace(c)) {
      if (!collapsed.empty() && collapsed.back() != ' ')
        collapsed.push_back(' ');
    } else {
      collapsed.push_back(c);
    }
  }
  size_t begin = 0;
  size_t end = collapsed.size();
  auto trim = [&] {
    while (begin < end && collapsed[begin] == ' ') ++begin;
    while (end > begin && collapsed[end - 1] == ' ') --end;
  };
  trim();
  while (begin < end && IsQuote(collapsed[begin])) ++begin;
  while (end > begin && IsQuote(collapsed[end - 1])) --end;
  trim();
  std::string out;
  for (size_t i = begin; i < end; ++i) internal::AppendUtf8(collapsed[i], out);
  return out;
}

bool IsStandardNote(std::string_view note) {
  const std::string n = NormalizeNote(note);
  return n == NormalizeNote(kStandardNoteEnglish) ||
         n == NormalizeNote(kStandardNoteFrench);
}

}  // namespace caseledger::projections
