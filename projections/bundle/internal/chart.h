// The timeline picture of a case: sends, delivery notices, replies, deadline
// windows and decisions on one time axis, laid out as drawing primitives
// (document.h Chart) that the HTML (SVG) and PDF (cairo) renderers draw
// identically.
//
// Thread safety: pure function, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_CHART_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_CHART_H_

#include <vector>

#include "projections/bundle/internal/document.h"
#include "projections/case_model.h"
#include "projections/deadlines.h"

namespace caseledger::bundle::internal {

// Lays out the picture of `events` (the evaluated events of one case, in any
// order) and the deadline rows, `width` points wide.
Chart TimelineChart(const std::vector<const projections::CaseEvent*>& events,
                    const std::vector<projections::DeadlineStatus>& deadlines,
                    double width);

}  // namespace caseledger::bundle::internal

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_CHART_H_
