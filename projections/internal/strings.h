// String helpers. Debian's Abseil is built with its own absl::string_view,
// distinct from std::string_view; Sv() bridges the two without copying.
#ifndef CASELEDGER_PROJECTIONS_INTERNAL_STRINGS_H_
#define CASELEDGER_PROJECTIONS_INTERNAL_STRINGS_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace caseledger::projections::internal {

inline absl::string_view Sv(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace caseledger::projections::internal

#endif  // CASELEDGER_PROJECTIONS_INTERNAL_STRINGS_H_
