// The part of Unicode normalization (NFC) and case folding that the
// findings need without Unicode's tables: the standard note in French and
// addresses whose accents may be typed as a letter and a combining mark
// (u + U+0308 for ü) by one system and as one character by another.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_LATIN_NFC_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_LATIN_NFC_H_

#include <string_view>
#include <vector>

namespace caseledger::projections::internal {

// The code points of the UTF-8 text `s` (each byte of an invalid sequence
// becomes U+FFFD), with each Latin letter followed by a combining grave,
// acute, circumflex, tilde, diaeresis or cedilla composed into one
// character, as NFC does. Other sequences are left as they are.
std::vector<char32_t> ComposedLatin(std::string_view s);

// `c` in lower case for the letters of Latin-1, Latin Extended-A, Greek and
// Cyrillic (Unicode's simple mappings); any other code point as it is.
char32_t LowerCase(char32_t c);

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_LATIN_NFC_H_
