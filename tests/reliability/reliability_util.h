// Helpers shared by the reliability suites: small valid events and a check
// that a reopened ledger holds exactly what was acknowledged.
#ifndef CASELEDGER_TESTS_RELIABILITY_RELIABILITY_UTIL_H_
#define CASELEDGER_TESTS_RELIABILITY_RELIABILITY_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"

namespace caseledger::testing {

// Event `i` of case `c`: case_opened for i == 0, an officer note after.
inline v1::Event CaseEvent(const std::string& c, int i) {
  std::string payload =
      i == 0
          ? R"("case_opened": {"office_id": "VO-1", "language": "en"})"
          : absl::StrCat(R"("officer_note_added": {"text": "note )", i, "\"}");
  auto e = ParseEventJson(absl::StrCat(
      R"({"case_id": ")", c, R"(", "occurred_at": "2011-01-10T10:00:00Z", )",
      R"("actor": {"kind": "OFFICER", "id": "o"}, )", payload, "}"));
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : v1::Event();
}

// Events [from, from + n) of case `c`.
inline std::vector<v1::Event> CaseEvents(const std::string& c, int from,
                                         int n) {
  std::vector<v1::Event> out;
  for (int i = from; i < from + n; ++i) out.push_back(CaseEvent(c, i));
  return out;
}

// What an acknowledged append stored, to compare after a reopen.
struct Acknowledged {
  std::string event_id;
  uint64_t position = 0;
  uint64_t case_version = 0;
};

inline std::vector<Acknowledged> AcknowledgedOf(const AppendResult& r) {
  std::vector<Acknowledged> out;
  for (const auto& e : r.events) {
    out.push_back({e.event_id, e.position, e.case_version});
  }
  return out;
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_RELIABILITY_RELIABILITY_UTIL_H_
