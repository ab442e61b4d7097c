#include "projections/bundle/internal/chart.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger/untrusted_text.h"

namespace caseledger::bundle::internal {
namespace {

using projections::CaseEvent;
using projections::DeadlineState;
using projections::DeadlineStatus;
using Shape = Chart::Mark::Shape;

constexpr Rgb kBlue = 0x1f5fa8, kPurple = 0x7a3fa0, kRed = 0xc0392b,
              kAmber = 0xd68910, kGreen = 0x2e8b57, kTeal = 0x138d90,
              kGray = 0x7f8c8d, kDark = 0x222222;

constexpr double kLabelSize = 7;
constexpr double kRowHeight = 14;
constexpr double kMarkRadius = 3.5;
constexpr double kLaneTitleWidth = 86;
constexpr int kMaxRows = 8;

// Width of `text` in DejaVu Sans at `size`, estimated from its character
// count. Both renderers use the estimate, so they lay out alike.
double TextWidth(std::string_view text, double size) {
  return 0.6 * size * static_cast<double>(CharacterCount(text));
}

struct Item {
  absl::Time start;
  absl::Time end;  // == start for a single mark
  Shape shape;
  Rgb color;
  std::string label;
  std::string legend;  // legend entry this item needs
};

enum Lane { kSent, kNotices, kReplies, kDeadlines, kDecisions, kLaneCount };
constexpr const char* kLaneTitles[kLaneCount] = {
    "Sent by the office", "Delivery notices", "From the applicant", "Deadlines",
    "Notes and decisions"};

std::string Upper(std::string name) {
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

Rgb WindowColor(DeadlineState s) {
  switch (s) {
    case DeadlineState::kOverdue:
    case DeadlineState::kDeliveryFailed:
      return kRed;
    case DeadlineState::kSatisfied:
      return kGreen;
    case DeadlineState::kSatisfiedLate:
      return kAmber;
    case DeadlineState::kPending:
      return kBlue;
    case DeadlineState::kSuperseded:
    case DeadlineState::kClosed:
      return kGray;
  }
  return kGray;
}

void AddEvent(const CaseEvent& ce, std::vector<Item> (&lanes)[kLaneCount],
              std::vector<absl::Time>* decisions) {
  const v1::Event& e = ce.event;
  const absl::Time t = ce.occurred_at;
  auto add = [&](Lane lane, Shape shape, Rgb color, std::string label,
                 std::string legend) {
    lanes[lane].push_back(
        Item{t, t, shape, color, std::move(label), std::move(legend)});
  };
  switch (e.payload_case()) {
    case v1::Event::kDocumentRequestSent: {
      const auto& p = e.document_request_sent();
      add(kSent, Shape::kCircle, kBlue,
          p.resend_of().empty() ? p.request_id()
                                : absl::StrCat(p.request_id(), " (resend)"),
          "request sent");
      break;
    }
    case v1::Event::kTransferNoticeSent:
      add(kSent, Shape::kCircle, kPurple, "transfer notice", "transfer notice");
      break;
    case v1::Event::kAlternativeChannelConsidered: {
      const auto& p = e.alternative_channel_considered();
      add(kSent, Shape::kSquare, kGray,
          absl::StrCat(p.request_id(), p.used() ? " other channel"
                                                : " other channel (not used)"),
          "other channel");
      break;
    }
    case v1::Event::kDeliveryNoticeReceived: {
      const auto& p = e.delivery_notice_received();
      const std::string label = absl::StrCat(
          p.request_id(), " ", v1::DeliveryAction::Value_Name(p.action()));
      switch (p.action()) {
        case v1::DeliveryAction::FAILED:
          add(kNotices, Shape::kCross, kRed, label, "bounce (FAILED)");
          break;
        case v1::DeliveryAction::DELAYED:
        case v1::DeliveryAction::RELAYED:
          add(kNotices, Shape::kTriangle, kAmber, label, "delayed or relayed");
          break;
        case v1::DeliveryAction::DELIVERED:
          add(kNotices, Shape::kCircle, kGreen, label, "delivered");
          break;
        default:
          add(kNotices, Shape::kCircle, kGray, label, "other notice");
      }
      break;
    }
    case v1::Event::kDocumentsReceived: {
      const auto& p = e.documents_received();
      add(kReplies, Shape::kSquare, p.complete() ? kGreen : kAmber,
          absl::StrCat(p.request_id(),
                       p.complete() ? " documents" : " partial documents"),
          "documents received");
      break;
    }
    case v1::Event::kApplicantEmailReceived:
      add(kReplies, Shape::kCircle, kTeal,
          e.applicant_email_received().reports_delivery_problem()
              ? "email: delivery problem"
              : "applicant email",
          "applicant email");
      break;
    case v1::Event::kExtensionRequested:
      add(kReplies, Shape::kTriangle, kAmber,
          absl::StrCat(e.extension_requested().request_id(),
                       " extension asked"),
          "extension asked");
      break;
    case v1::Event::kReconsiderationRequested:
      add(kReplies, Shape::kTriangle, kPurple, "reconsideration asked",
          "reconsideration asked");
      break;
    case v1::Event::kDeadlineExtended:
      add(kDecisions, Shape::kSquare, kGray,
          absl::StrCat(e.deadline_extended().request_id(), " extended"),
          "note or step");
      break;
    case v1::Event::kExtensionRefused:
      add(kDecisions, Shape::kSquare, kGray,
          absl::StrCat(e.extension_refused().request_id(),
                       " extension refused"),
          "note or step");
      break;
    case v1::Event::kNonComplianceRecorded:
      add(kDecisions, Shape::kTriangle, kAmber,
          absl::StrCat(e.non_compliance_recorded().request_id(),
                       " non-compliance"),
          "non-compliance note");
      break;
    case v1::Event::kCaseTransferred:
      add(kDecisions, Shape::kSquare, kGray,
          absl::StrCat("transferred to ", e.case_transferred().to_office_id()),
          "note or step");
      break;
    case v1::Event::kCaseDecided:
      add(kDecisions, Shape::kSquare, kDark,
          Upper(v1::Decision::Value_Name(e.case_decided().decision())),
          "decision");
      decisions->push_back(t);
      break;
    case v1::Event::kReconsiderationDecided:
      add(kDecisions, Shape::kSquare, kDark,
          Upper(v1::ReconsiderationOutcome::Value_Name(
              e.reconsideration_decided().outcome())),
          "decision");
      decisions->push_back(t);
      break;
    case v1::Event::kJudicialReviewFiled:
      add(kDecisions, Shape::kDiamond, kDark,
          absl::StrCat("judicial review ",
                       e.judicial_review_filed().court_file_number()),
          "judicial review");
      break;
    default:
      break;
  }
}

struct Tick {
  absl::Time at;
  std::string label;
};

std::vector<Tick> Ticks(absl::Time lo, absl::Time hi) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const double days = absl::ToDoubleHours(hi - lo) / 24;
  std::vector<Tick> ticks;
  if (days <= 60) {
    const int step = days <= 10 ? 1 : days <= 21 ? 2 : 7;
    for (absl::CivilDay d = absl::ToCivilDay(lo, utc) + 1;
         absl::FromCivil(d, utc) <= hi; d += step) {
      ticks.push_back(
          {absl::FromCivil(d, utc), absl::FormatCivilTime(d).substr(0, 10)});
    }
  } else if (days <= 365 * 3) {
    const int months = static_cast<int>(days / 30.4) + 1;
    const int step = std::max(1, (months + 7) / 8);
    absl::CivilMonth m = absl::ToCivilMonth(lo, utc) + 1;
    while ((m.month() - 1) % step != 0) m += 1;
    for (; absl::FromCivil(m, utc) <= hi; m += step) {
      ticks.push_back(
          {absl::FromCivil(m, utc),
           absl::FormatTime("%E4Y-%m", absl::FromCivil(m, utc), utc)});
    }
  } else {
    const int years = static_cast<int>(days / 365) + 1;
    const int step = std::max(1, (years + 7) / 8);
    for (absl::CivilYear y = absl::ToCivilYear(lo, utc) + 1;
         absl::FromCivil(y, utc) <= hi; y += step) {
      ticks.push_back({absl::FromCivil(y, utc), absl::StrCat(y.year())});
    }
  }
  return ticks;
}

}  // namespace

Chart TimelineChart(const std::vector<const CaseEvent*>& events,
                    const std::vector<DeadlineStatus>& deadlines,
                    double width) {
  Chart chart;
  chart.width = width;
  std::vector<Item> lanes[kLaneCount];
  std::vector<absl::Time> decisions;
  std::vector<const CaseEvent*> sorted = events;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const CaseEvent* a, const CaseEvent* b) {
                     return projections::OccurredBefore(*a, *b);
                   });
  for (const CaseEvent* e : sorted) AddEvent(*e, lanes, &decisions);
  for (const DeadlineStatus& row : deadlines) {
    const std::string label = absl::StrCat(
        row.request_id, " ",
        row.deadline ? std::string(projections::DeadlineStateName(row.status))
                     : "no deadline");
    lanes[kDeadlines].push_back(Item{
        row.sent_at, row.deadline ? *row.deadline : row.sent_at,
        Shape::kDiamond, WindowColor(row.status), label, "deadline window"});
  }

  bool any = false;
  absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
  for (const auto& lane : lanes) {
    for (const Item& it : lane) {
      any = true;
      lo = std::min(lo, it.start);
      hi = std::max(hi, it.end);
    }
  }
  if (!any) {
    chart.height = 24;
    chart.texts.push_back({4, 15, "No communications to show.", 8});
    return chart;
  }
  absl::Duration pad = std::max((hi - lo) * 0.04, absl::Hours(12));
  lo -= pad;
  hi += pad;
  const double x0 = kLaneTitleWidth, x1 = width - 6;
  auto X = [&](absl::Time t) {
    return x0 + (x1 - x0) * absl::FDivDuration(t - lo, hi - lo);
  };

  std::vector<std::string> legend_used;
  std::vector<std::pair<std::string, const Item*>> legend_items;
  double y = 2;
  for (int lane = 0; lane < kLaneCount; ++lane) {
    // Place each item's label right of its mark, or left when it would run
    // off the edge; then give it the first row where it does not overlap.
    struct Placed {
      const Item* item;
      double lx;  // label position
      bool label_left;
      int row;
    };
    std::vector<Placed> placed;
    std::vector<double> row_end;
    for (const Item& it : lanes[lane]) {
      const double xs = X(it.start), xe = X(it.end);
      const double lw = TextWidth(it.label, kLabelSize);
      bool left = xe + kMarkRadius + 3 + lw > width;
      double span_lo = left ? xs - kMarkRadius - 3 - lw : xs - kMarkRadius;
      double span_hi = left ? xe + kMarkRadius : xe + kMarkRadius + 3 + lw;
      int row = -1;
      for (size_t r = 0; r < row_end.size(); ++r) {
        if (row_end[r] + 4 <= span_lo) {
          row = static_cast<int>(r);
          break;
        }
      }
      if (row < 0 && static_cast<int>(row_end.size()) < kMaxRows) {
        row_end.push_back(-1e9);
        row = static_cast<int>(row_end.size()) - 1;
      } else if (row < 0) {
        row = static_cast<int>(
            std::min_element(row_end.begin(), row_end.end()) - row_end.begin());
      }
      row_end[row] = std::max(row_end[row], span_hi);
      placed.push_back(
          {&it, left ? xs - kMarkRadius - 3 : xe + kMarkRadius + 3, left, row});
    }
    const int rows = std::max<int>(1, static_cast<int>(row_end.size()));
    const double lane_h = rows * kRowHeight + 6;
    if (lane % 2 == 0) chart.rects.push_back({0, y, width, lane_h, 0xf2f5f8});
    chart.texts.push_back({4, y + 11, kLaneTitles[lane], 7.5,
                           Chart::Text::Anchor::kStart, true, 0x333333});
    for (const Placed& p : placed) {
      const Item& it = *p.item;
      const double cy = y + 3 + p.row * kRowHeight + kRowHeight / 2;
      if (it.end != it.start) {
        chart.lines.push_back(
            {X(it.start), cy, X(it.end), cy, 2.0, it.color, false});
        chart.marks.push_back({Shape::kCircle, X(it.start), cy, 2.0, it.color});
      }
      chart.marks.push_back({it.shape, X(it.end), cy, kMarkRadius, it.color});
      chart.texts.push_back({p.lx, cy + 2.5, it.label, kLabelSize,
                             p.label_left ? Chart::Text::Anchor::kEnd
                                          : Chart::Text::Anchor::kStart,
                             false, 0x222222});
      if (std::find(legend_used.begin(), legend_used.end(), it.legend) ==
          legend_used.end()) {
        legend_used.push_back(it.legend);
        legend_items.push_back({it.legend, &it});
      }
    }
    y += lane_h;
  }

  // Decisions cut across every lane.
  for (absl::Time t : decisions) {
    chart.lines.push_back({X(t), 2, X(t), y, 0.8, 0x444444, true});
  }
  // The time axis.
  const double axis = y + 3;
  chart.lines.push_back({x0, axis, x1, axis, 0.8, 0x333333, false});
  for (const Tick& tick : Ticks(lo, hi)) {
    const double x = X(tick.at);
    chart.lines.push_back({x, axis, x, axis + 3, 0.8, 0x333333, false});
    chart.texts.push_back({x, axis + 11, tick.label, 7,
                           Chart::Text::Anchor::kMiddle, false, 0x333333});
  }
  // The legend, wrapped to the width.
  double lx = x0, ly = axis + 26;
  for (const auto& [name, item] : legend_items) {
    const double w = 2 * kMarkRadius + 4 + TextWidth(name, kLabelSize) + 12;
    if (lx + w > width && lx > x0) {
      lx = x0;
      ly += 12;
    }
    chart.marks.push_back(
        {item->shape, lx + kMarkRadius, ly - 2.5, kMarkRadius, item->color});
    chart.texts.push_back({lx + 2 * kMarkRadius + 4, ly, name, kLabelSize,
                           Chart::Text::Anchor::kStart, false, 0x333333});
    lx += w;
  }
  chart.texts.push_back({4, axis + 26, "Legend", 7.5,
                         Chart::Text::Anchor::kStart, true, 0x333333});
  chart.height = ly + 6;
  return chart;
}

}  // namespace caseledger::bundle::internal
