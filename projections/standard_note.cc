// The standard non-compliance note (findings.h) and its normalisation.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/nfc.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"
#include "projections/findings.h"

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
  // 1. NFC, 2. quotes to ASCII.
  std::vector<char32_t> chars = NfcCodePoints(note);
  for (char32_t& c : chars) c = MapQuote(c);
  // 3. Collapse white space, trim, strip surrounding quotes, trim again.
  std::vector<char32_t> collapsed;
  for (char32_t c : chars) {
    if (IsWhiteSpace(static_cast<int32_t>(c))) {
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
  for (size_t i = begin; i < end; ++i) AppendUtf8(collapsed[i], out);
  return out;
}

bool IsStandardNote(std::string_view note) {
  const std::string n = NormalizeNote(note);
  return n == NormalizeNote(kStandardNoteEnglish) ||
         n == NormalizeNote(kStandardNoteFrench);
}

}  // namespace caseledger::projections
