// The report of an evidence bundle as a flow of blocks, rendered twice: to
// self-contained HTML (html.cc) and to PDF (pdf.cc). Keeping one model means
// the two renderings always say the same thing in the same order.
//
// All text is UTF-8; renderers escape or sanitise it, never interpret it.
//
// Thread safety: plain values.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_DOCUMENT_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_DOCUMENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace caseledger::bundle::internal {

// A colour as 0xRRGGBB.
using Rgb = uint32_t;

// The timeline picture in drawing units (points): primitives drawn in the
// order rects, lines, marks, texts.
struct Chart {
  struct Rect {
    double x, y, w, h;
    Rgb fill;
  };
  struct Line {
    double x1, y1, x2, y2, width;
    Rgb color;
    bool dashed = false;
  };
  struct Mark {
    enum class Shape { kCircle, kSquare, kDiamond, kTriangle, kCross };
    Shape shape;
    double x, y, r;
    Rgb color;
  };
  struct Text {
    enum class Anchor { kStart, kMiddle, kEnd };
    double x, y;  // y is the baseline
    std::string text;
    double size;
    Anchor anchor = Anchor::kStart;
    bool bold = false;
    Rgb color = 0x222222;
  };
  double width = 0, height = 0;
  std::vector<Rect> rects;
  std::vector<Line> lines;
  std::vector<Mark> marks;
  std::vector<Text> texts;
};

// How a table cell is shaded: by finding or deadline status.
enum class Tone { kNone, kGood, kBad, kWarn, kNeutral };

struct Cell {
  Cell() = default;
  Cell(std::string t, Tone tn = Tone::kNone) : text(std::move(t)), tone(tn) {}
  // A cell holding the number of the page on which the block with `anchor`
  // starts (PDF); HTML links to the block instead.
  static Cell PageOf(std::string anchor) {
    Cell c;
    c.page_of = std::move(anchor);
    return c;
  }

  std::string text;
  Tone tone = Tone::kNone;
  std::string page_of;  // see PageOf()
};

struct Table {
  // Column titles and their share of the width (summing to 1).
  std::vector<std::string> columns;
  std::vector<double> widths;
  std::vector<std::vector<Cell>> rows;
};

struct Block {
  enum class Kind {
    kTitle,       // the document title
    kHeading,     // a section (PDF outline level 0)
    kSubheading,  // a record or sub-section (outline level 1 when anchored)
    kParagraph,
    kNote,   // smaller, muted text
    kField,  // "label: text", the label in bold
    kTable,
    kPre,  // monospaced, line breaks kept (messages, signed notes)
    kChart,
    kPageBreak,  // PDF only
  };
  Kind kind = Kind::kParagraph;
  std::string text;
  std::string label;   // kField
  std::string anchor;  // headings: a target for Cell::page_of and links
  Table table;
  std::shared_ptr<const Chart> chart;
};

struct Document {
  std::string title;
  // Printed at the top of every PDF page, e.g. "Case X · evidence bundle".
  std::string running_head;
  std::string subject;   // PDF metadata
  std::string creator;   // PDF metadata, e.g. "caseledger 0.1.0"
  std::string language;  // HTML lang, e.g. "en"
  // PDF creation and modification date; never the wall clock.
  absl::Time date;
  std::vector<Block> blocks;
};

// Returns `text` as valid UTF-8 with invalid sequences replaced by U+FFFD and
// control characters other than '\n' and '\t' by spaces.
std::string CleanText(std::string_view text);

// Self-contained HTML: inline CSS and SVG, no scripts, no external reference.
std::string RenderHtml(const Document& doc);

// The SVG element of a chart (no XML prolog, no namespace reference).
std::string RenderChartSvg(const Chart& chart);

// A US Letter PDF with searchable text, "Page i of n" on every page and an
// outline of the headings, set in the DejaVu fonts of `font_dir` and fixed
// fallback files for the scripts DejaVu lacks, only (a private font
// configuration, so that the output does not depend on the machine's other
// fonts). kFailedPrecondition when the DejaVu fonts are missing.
// `still_wanted`, when given, is asked every few pieces laid out (table
// rows, lines): an error from it ends the render with that error (a report
// of 20,000 events takes about a minute, mostly text shaping).
absl::StatusOr<std::string> RenderPdf(
    const Document& doc, const std::string& font_dir,
    const std::function<absl::Status()>& still_wanted = nullptr);

}  // namespace caseledger::bundle::internal

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_DOCUMENT_H_
