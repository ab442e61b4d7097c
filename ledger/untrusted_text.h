// Text that comes from outside (an input line, a note, a key name), as the
// checks that inspect it and the error messages that quote it need it.
#ifndef CASELEDGER_LEDGER_UNTRUSTED_TEXT_H_
#define CASELEDGER_LEDGER_UNTRUSTED_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace caseledger {

// Decodes the UTF-8 sequence starting at s[i]. Returns the code point and
// sets *len, or returns -1 for anything that is not well-formed UTF-8
// (stray continuation bytes, truncation, overlong forms, surrogates, values
// above U+10FFFF), matching what Go's decoder rejects.
int32_t DecodeUtf8(std::string_view s, size_t i, size_t* len);

// Appends the UTF-8 encoding of code point `r` (at most U+10FFFF) to `out`.
void AppendUtf8(char32_t r, std::string& out);

// Whether `text` begins as UTF-16 text does (a Windows editor's "Unicode"):
// a byte order mark FF FE or FE FF, or a NUL in one of its first two bytes.
// Said as such, where its mark or first NUL would be named a stray byte.
bool LooksLikeUtf16(std::string_view text);

// The offset of the first byte of `s` that does not belong to well-formed
// UTF-8, or std::string_view::npos when all of it does.
size_t FirstInvalidUtf8(std::string_view s);

// How many characters (code points) UTF-8 text `s` holds: its bytes that
// do not continue a sequence.
size_t CharacterCount(std::string_view s);

// Whether `s` is well-formed UTF-8 holding none of the control characters
// Printable escapes: text that shows as itself, on one line.
bool IsOneLineOfText(std::string_view s);

// Whether `s` is one word that shows every character it holds, as names
// people compare by eye must be: non-empty, IsOneLineOfText, with no space
// of any kind, nothing that ShowsAsNothing, and none of the ASCII
// characters of `refused` (a separator where the name is written).
bool IsOneWordOfText(std::string_view s, std::string_view refused);

// Whether code point `r` changes how the text around it shows: C0 and C1
// controls, DEL, the line and paragraph separators, and the bidirectional
// embeddings, overrides and isolates (U+202E shows "exe.live" for
// "evil.exe").
bool IsLayoutControl(int32_t r);

// Whether code point `r` shows as nothing and carries no meaning text needs:
// soft hyphen, zero-width space, the direction marks (the Arabic letter mark
// too), word joiner and the invisible operators, byte order mark. Not the
// zero-width (non-)joiners, which Indic and Persian text and emoji sequences
// need.
bool IsInvisible(int32_t r);

// Whether code point `r` shows as nothing: Unicode's default-ignorable code
// points (the invisible characters above, the zero-width joiners, the
// variation selectors, tags, fillers, ...) and the braille blank. Wider than
// IsInvisible, for text that must show every character it holds
// (identifiers), not text that is only displayed.
bool ShowsAsNothing(int32_t r);

// Whether code point `r` is white space by Unicode's White_Space property
// (PropList.txt): the ASCII spaces, U+0085 (next line), the line and
// paragraph separators and every space of another script.
bool IsWhiteSpace(int32_t r);

// Whether code point `r` is a space other than U+0020 (no-break, en, em,
// thin, ideographic, ...): one that looks like the plain one.
bool IsOtherSpace(int32_t r);

// The first character of `s` that shows as nothing or as a plain space
// (ShowsAsNothing, IsOtherSpace), which text people compare by eye (an
// identifier, an email address) must not hold: two that differ by one
// would show as one. A zero-width (non-)joiner is taken between two
// characters beyond ASCII, where Persian names and emoji need it; beside
// ASCII it changes nothing seen. `byte` counts from 0.
struct HiddenCharacter {
  int32_t code_point = 0;
  size_t byte = 0;
};
std::optional<HiddenCharacter> FirstHiddenCharacter(std::string_view s);

// Whether Printable escapes backslashes and quotes: yes where the result is
// quoted and must read back unambiguously (error messages), no where text
// that already quotes is only shown (a verdict's problems).
enum class Quotes { kEscape, kKeep };

// `s` as an error message shows it: at most its first `max_bytes` bytes
// (then "..."), with backslashes, quotes, control characters (C0, DEL, C1, the
// line and paragraph separators and the bidirectional overrides), invisible
// characters (soft hyphen, zero-width space, the marks, word joiner and
// byte order mark; not the zero-width joiners) and bytes
// that are not UTF-8 escaped as \n, \\, \', \", \x1b or \u202e. Other
// characters, accented letters included, are kept. So a hostile value can
// neither forge a line of a log, nor move a terminal's cursor, nor flood
// the log it is written to.
std::string Printable(std::string_view s, size_t max_bytes = 64,
                      Quotes quotes = Quotes::kEscape);

// A message for a terminal: its lines as they are, each escaped as Printable
// escapes (Quotes::kKeep, nothing cut). Values a message quotes are escaped
// where it is made; this catches any that reach it raw (a case id, a file
// name), so that no input can move the cursor, recolour or retitle the
// terminal of the person reading the error.
std::string ForTerminal(std::string_view message);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_UNTRUSTED_TEXT_H_
