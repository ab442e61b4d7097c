#include "projections/queries.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/status_macros.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/case_state.h"
#include "projections/deadline_index.h"
#include "projections/findings.h"
#include "projections/render.h"

namespace caseledger::projections {

namespace {

absl::Status StillWanted(const Query& query) {
  return query.still_wanted ? query.still_wanted() : absl::OkStatus();
}

// Folds a case from the ledger, if it was open at the evaluation point
// (CheckOpenAt), read a page at a time: a whole read held every event
// twice, stored and decoded, beside the model it becomes (the `findings`
// of a case of 225,004 events took 447 MB so, 309 MB by pages). Each page
// asks `query.still_wanted` first, so that a long case's read stops soon
// after its caller leaves. A case's case_opened comes first, so a case not
// open yet is refused at its first page (its whole read took 0.74 s and
// 284 MB to refuse so). kNotFound when it has no events.
absl::StatusOr<CaseModel> LoadOpenCase(const Ledger& ledger,
                                       const std::string& case_id,
                                       const Query& query) {
  CaseModel model;
  uint64_t next = 1;
  for (;;) {
    CASELEDGER_RETURN_IF_ERROR(StillWanted(query));
    CASELEDGER_ASSIGN_OR_RETURN(
        std::vector<RecordedEvent> page,
        ledger.ReadCase(case_id, next, kCasePageEvents));
    for (RecordedEvent& e : page) {
      if (e.event.has_case_opened()) {
        CASELEDGER_RETURN_IF_ERROR(
            CheckOpenAt(query.evaluation, case_id,
                        FromTimestamp(e.event.occurred_at()), e.recorded_at));
      }
      CASELEDGER_RETURN_IF_ERROR(model.Apply(std::move(e)));
    }
    next += page.size();
    if (page.size() < kCasePageEvents) break;
  }
  if (next == 1) {
    return absl::NotFoundError(absl::StrCat("no case ", Printable(case_id)));
  }
  CASELEDGER_RETURN_IF_ERROR(StillWanted(query));
  return model;
}

// The first line of a text output evaluated at another point than now, so
// that a reader does not take a past state for the present one (found by an
// outside reading); empty when evaluated now. JSON carries no such line:
// the program that asked knows what it asked.
std::string EvaluationHeading(const Evaluation& evaluation) {
  std::vector<std::string> points;
  if (evaluation.as_of != absl::InfiniteFuture()) {
    points.push_back(absl::StrCat("as of ", FormatUtc(evaluation.as_of),
                                  " (the events that occurred by then)"));
  }
  if (evaluation.known_at != absl::InfiniteFuture()) {
    points.push_back(absl::StrCat("as known at ",
                                  FormatUtc(evaluation.known_at),
                                  " (the events recorded by then)"));
  }
  if (points.empty()) return "";
  // Without --as-of, deadlines are judged at another instant than either.
  return absl::StrCat("Evaluated ", absl::StrJoin(points, " and "),
                      evaluation.as_of == absl::InfiniteFuture()
                          ? absl::StrCat("; deadlines judged at ",
                                         FormatUtc(evaluation.JudgedAt()))
                          : "",
                      "\n");
}

// `rendered` as text, after the heading of `query`'s evaluation point.
std::string Text(const Query& query, std::string rendered) {
  std::string heading = EvaluationHeading(query.evaluation);
  // Not copied when there is none: a long case's timeline is 85 MB of text.
  if (heading.empty()) return rendered;
  return absl::StrCat(heading, rendered);
}

}  // namespace

absl::StatusOr<std::string> StateOutput(const Ledger& ledger,
                                        const std::string& case_id,
                                        const Query& query) {
  CASELEDGER_ASSIGN_OR_RETURN(CaseModel model,
                              LoadOpenCase(ledger, case_id, query));
  CaseState state = CaseStateFor(model, query.evaluation);
  return query.format == OutputFormat::kJson
             ? RenderStateJson(state)
             : Text(query, RenderStateText(state));
}

absl::StatusOr<std::string> TimelineOutput(const Ledger& ledger,
                                           const std::string& case_id,
                                           const Query& query) {
  CASELEDGER_ASSIGN_OR_RETURN(CaseModel model,
                              LoadOpenCase(ledger, case_id, query));
  return query.format == OutputFormat::kJson
             ? RenderTimelineJson(case_id, model, query.evaluation,
                                  query.policy)
             : Text(query,
                    RenderTimelineText(model, query.evaluation, query.policy));
}

absl::StatusOr<std::string> DeadlinesOutput(
    const Ledger& ledger, const std::optional<std::string>& case_id,
    const std::optional<DeadlineState>& status, const Query& query) {
  std::vector<DeadlineStatus> rows;
  auto add_rows = [&](const CaseModel& model) {
    for (DeadlineStatus& row :
         DeadlinesFor(model, query.evaluation, query.policy)) {
      if (!status || row.status == *status) rows.push_back(std::move(row));
    }
  };
  // Across cases, one not open yet at the evaluation point has no rows,
  // even where events dated before its opening would give some (found by
  // an outside reading).
  uint64_t cases_read = 0;
  auto add_case = [&](const std::string& c) -> absl::Status {
    absl::StatusOr<CaseModel> model = LoadOpenCase(ledger, c, query);
    if (++cases_read % kCasesPerProgress == 0 && query.progress) {
      query.progress(cases_read);
    }
    if (absl::IsNotFound(model.status())) return absl::OkStatus();
    if (!model.ok()) return model.status();
    add_rows(*model);
    return absl::OkStatus();
  };
  if (case_id) {
    // Asked for by name, as `state` is: "no requests" would describe a case
    // that did not exist yet.
    CASELEDGER_ASSIGN_OR_RETURN(CaseModel model,
                                LoadOpenCase(ledger, *case_id, query));
    add_rows(model);
  } else if (status == DeadlineState::kOverdue) {
    CASELEDGER_ASSIGN_OR_RETURN(std::set<std::string> cases,
                                DeadlineIndex::CasesWithDeadlineBefore(
                                    ledger, query.evaluation.JudgedAt()));
    for (const std::string& c : cases) CASELEDGER_RETURN_IF_ERROR(add_case(c));
  } else {
    CASELEDGER_RETURN_IF_ERROR(ledger.ForEachCase(
        "", [&](const std::string& c) -> absl::StatusOr<bool> {
          CASELEDGER_RETURN_IF_ERROR(add_case(c));
          return true;
        }));
  }
  return query.format == OutputFormat::kJson
             ? RenderDeadlinesJson(rows)
             : Text(query, RenderDeadlinesText(rows, status));
}

absl::StatusOr<FindingsResult> FindingsOutput(const Ledger& ledger,
                                              const std::string& case_id,
                                              const Query& query) {
  CASELEDGER_ASSIGN_OR_RETURN(CaseModel model,
                              LoadOpenCase(ledger, case_id, query));
  // Each message is read and rehashed, so that one altered under its name
  // counts as not preserved, and the finding says it was altered. A store
  // that cannot be read fails the query naming the damage, as every other
  // read does: a damaged block was reported as the message altered, exit 0
  // (found by an adversarial test).
  absl::Status unreadable;
  Findings findings = FindingsFor(
      model, query.evaluation, query.policy, [&](std::string_view sha256) {
        absl::Status read = ledger.ReadMessage(sha256).status();
        if (!read.ok() && !absl::IsNotFound(read) &&
            !read.GetPayload(kAlteredMessagePayload)) {
          unreadable.Update(read);
        }
        return read;
      });
  CASELEDGER_RETURN_IF_ERROR(unreadable);
  return FindingsResult{query.format == OutputFormat::kJson
                            ? RenderFindingsJson(findings)
                            : Text(query, RenderFindingsText(findings)),
                        findings.HasFail()};
}

}  // namespace caseledger::projections
