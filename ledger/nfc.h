// Unicode Normalization Form C (Unicode 14, tables written by
// internal/gen_nfc_tables.py). The same text can be written in more than
// one sequence of code points ("é" as one, or as "e" and a combining acute
// accent, as macOS and some mail clients write it); in NFC it has one. The
// ledger stores what it is given and has no ICU: text is normalised here
// only to check identifiers and to compare (the standard note, addresses).
//
// Thread safety: pure functions.
#ifndef CASELEDGER_LEDGER_NFC_H_
#define CASELEDGER_LEDGER_NFC_H_

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace caseledger {

// Where a text stops being what NFC makes of it.
struct NotNfc {
  size_t byte = 0;  // offset of the first code point NFC does not keep
  char32_t code_point = 0;
};

// nullopt when `text` (valid UTF-8) is in NFC. Marks that compose with no
// character before them stay apart in NFC (Yoruba's "Ọ̀", U+1ECC U+0300),
// and are in it. Unicode 14 (gen_nfc_tables.py).
std::optional<NotNfc> FirstNotNfc(std::string_view text);

// The code points of the NFC of `text`, each byte of a sequence that is not
// UTF-8 taken as U+FFFD.
std::vector<char32_t> NfcCodePoints(std::string_view text);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_NFC_H_
