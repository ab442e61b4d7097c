// The part of case folding the findings need without Unicode's tables:
// addresses whose letters one system writes in capitals and another not
// (NFC, the other half of comparing them, is ledger/nfc.h's).
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_LOWER_CASE_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_LOWER_CASE_H_

namespace caseledger::projections::internal {

// `c` in lower case for the letters of ASCII, Latin-1, Latin Extended-A,
// Greek and Cyrillic (Unicode's simple mappings); any other code point as
// it is.
char32_t LowerCase(char32_t c);

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_LOWER_CASE_H_
