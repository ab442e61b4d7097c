#include "tools/server/projections.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "projections/policy.h"
#include "projections/queries.h"
#include "tools/server/wire.h"

namespace caseledger::server {
namespace {

class QueryRenderer final : public ProjectionRenderer {
 public:
  explicit QueryRenderer(Clock* clock) : clock_(clock) {}

  absl::StatusOr<v1::RenderedDocument> Render(
      View view, Ledger& ledger, const v1::ProjectionRequest& r,
      const std::function<absl::Status()>& wanted) override {
    if (!v1::ProjectionRequest::Format_IsValid(r.format())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "format: unknown value ", r.format(), " (TEXT = 0 or JSON = 1)"));
    }
    projections::Query query;
    query.format = r.format() == v1::ProjectionRequest::JSON
                       ? projections::OutputFormat::kJson
                       : projections::OutputFormat::kText;
    query.still_wanted = wanted;
    query.evaluation.now = clock_->Now();
    if (r.has_as_of()) query.evaluation.as_of = FromTimestamp(r.as_of());
    if (r.has_known_at()) {
      query.evaluation.known_at = FromTimestamp(r.known_at());
    }
    if (!r.policy_json().empty()) {
      auto policy = projections::ParseGivenPolicy(r.policy_json());
      if (!policy.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("policy_json: ", policy.status().message()));
      }
      query.policy = *policy;
    }
    if (view != View::kDeadlines && r.case_id().empty()) {
      return absl::InvalidArgumentError("case_id is required");
    }
    // Ignored, it would read as a filter the answer had applied.
    if (view != View::kDeadlines && !r.status().empty()) {
      return absl::InvalidArgumentError(
          "status: only ListDeadlines filters by status");
    }
    v1::RenderedDocument document;
    switch (view) {
      case View::kState: {
        auto out = projections::StateOutput(ledger, r.case_id(), query);
        if (!out.ok()) return out.status();
        document.set_body(*std::move(out));
        break;
      }
      case View::kTimeline: {
        auto out = projections::TimelineOutput(ledger, r.case_id(), query);
        if (!out.ok()) return out.status();
        document.set_body(*std::move(out));
        break;
      }
      case View::kFindings: {
        auto out = projections::FindingsOutput(ledger, r.case_id(), query);
        if (!out.ok()) return out.status();
        document.set_body(std::move(out->output));
        document.set_has_fail(out->has_fail);
        break;
      }
      case View::kDeadlines: {
        std::optional<std::string> case_id;
        if (!r.case_id().empty()) case_id = r.case_id();
        std::optional<projections::DeadlineState> status;
        if (!r.status().empty()) {
          auto parsed = projections::ParseDeadlineState(r.status(), "status");
          if (!parsed.ok()) return parsed.status();
          status = *parsed;
        }
        auto out = projections::DeadlinesOutput(ledger, case_id, status, query);
        if (!out.ok()) return out.status();
        document.set_body(*std::move(out));
        break;
      }
    }
    return document;
  }

 private:
  Clock* const clock_;
};

}  // namespace

std::unique_ptr<ProjectionRenderer> NewProjectionRenderer(Clock* clock) {
  return std::make_unique<QueryRenderer>(clock);
}

}  // namespace caseledger::server
