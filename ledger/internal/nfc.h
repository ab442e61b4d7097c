// Whether an identifier is written in Unicode Normalization Form C. The same
// name can be written in more than one sequence of code points ("é" as one,
// or as "e" and a combining acute accent, as macOS and some mail clients
// write it); an identifier in NFC has one. The ledger stores what it is
// given and has no ICU: the text is normalised here only to compare.
//
// Thread safety: pure functions.
#ifndef CASELEDGER_LEDGER_INTERNAL_NFC_H_
#define CASELEDGER_LEDGER_INTERNAL_NFC_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace caseledger::internal {

// Where a text stops being what NFC makes of it.
struct NotNfc {
  size_t byte = 0;  // offset of the first code point NFC does not keep
  char32_t code_point = 0;
};

// nullopt when `text` (valid UTF-8) is in NFC. Marks that compose with no
// character before them stay apart in NFC (Yoruba's "Ọ̀", U+1ECC U+0300),
// and are in it. Unicode 14 (gen_nfc_tables.py).
std::optional<NotNfc> FirstNotNfc(std::string_view text);

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_NFC_H_
