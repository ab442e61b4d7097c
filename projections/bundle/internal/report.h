// The report of an evidence bundle for people (counsel, a judge): what the
// ledger holds about one case, in the words of the domain, built as a
// Document (document.h) and rendered to report.html and report.pdf.
//
// Order (docs/bundle-format.md §6): a summary; for judicial review the
// certified tribunal record (Rule 17 of the Federal Courts Citizenship,
// Immigration and Refugee Protection Rules: the decision and its reasons
// first, then every other record in date order, nothing dated after the
// decision unless asked for) with an index giving each record's page; the
// findings in plain language; the deadline table; the timeline picture; for
// other purposes every record in date order; and an appendix with the
// checkpoint and how to verify the bundle.
//
// Thread safety: pure function, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_REPORT_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caseledger/v1/events.pb.h"
#include "projections/bundle/internal/document.h"
#include "projections/case_model.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"
#include "projections/findings.h"
#include "projections/policy.h"

namespace caseledger::bundle::internal {

struct ReportInput {
  std::string case_id;
  v1::BundlePurpose::Value purpose = v1::BundlePurpose::INVESTIGATION;
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hash_hex;
  std::string checkpoint_note;
  std::optional<uint64_t> since_tree_size;
  bool include_after_decision = false;
  std::string tool_version;
  // Not owned; must outlive the call.
  const projections::CaseModel* model = nullptr;
  projections::Evaluation evaluation;
  projections::DeadlinePolicy policy;
  projections::CaseState state;
  std::vector<projections::DeadlineStatus> deadlines;
  projections::Findings findings;
  // Stored messages of the case: SHA-256 hex -> bytes, not owned (a bundle
  // holds messages of up to 256 MiB; they must outlive the call).
  std::map<std::string, std::string_view> messages;
};

// Builds the report. The date of the PDF is the evaluation time, never the
// wall clock.
Document BuildReport(const ReportInput& input);

// The SHA-256 values (lowercase hex) of the messages and notices `event`
// refers to: body_sha256 of sends, transfer notices and applicant emails,
// notice_sha256 of delivery notices. Values that are not 64 lowercase hex
// digits are left out.
std::vector<std::string> MessageReferences(const v1::Event& event);

// "judicial review" for JUDICIAL_REVIEW, and so on.
std::string PurposeWords(v1::BundlePurpose::Value purpose);

}  // namespace caseledger::bundle::internal

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_REPORT_H_
