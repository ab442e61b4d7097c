// Debian's Abseil is built with its own absl::string_view, distinct from
// std::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0); AbslView() passes
// one as the other without copying.
#ifndef CASELEDGER_LEDGER_STRING_VIEW_H_
#define CASELEDGER_LEDGER_STRING_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace caseledger {

inline absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_STRING_VIEW_H_
