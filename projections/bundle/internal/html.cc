// HTML rendering of the report (document.h). Self-contained by construction:
// the only markup is written here, every piece of case text is escaped, the
// picture is inline SVG, and a Content-Security-Policy forbids loading
// anything should a browser ever find a reference.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "projections/bundle/internal/document.h"

namespace caseledger::bundle::internal {
namespace {

std::string Escape(std::string_view text) {
  std::string clean = CleanText(text);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Num(double v) { return absl::StrFormat("%.2f", v); }

std::string Color(Rgb c) { return absl::StrFormat("#%06x", c & 0xffffff); }

// An anchor is used as an id; keep it to a safe alphabet.
std::string Id(std::string_view anchor) {
  std::string out;
  for (char c : anchor) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_';
    out.push_back(ok ? c : '-');
  }
  return out;
}

const char* ToneClass(Tone t) {
  switch (t) {
    case Tone::kGood:
      return " class=\"good\"";
    case Tone::kBad:
      return " class=\"bad\"";
    case Tone::kWarn:
      return " class=\"warn\"";
    case Tone::kNeutral:
      return " class=\"neutral\"";
    case Tone::kNone:
      break;
  }
  return "";
}

// Printed, pages are numbered as the PDF's are ("Page 3 of 12"), where the
// browser draws page margin boxes (Chromium since 2024; not Firefox).
// Values take their direction from their own first letters, as the PDF's
// Pango layouts do: a table cell or a message paragraph by paragraph, and
// aligned to its start (right for Arabic or Hebrew); a field's value, inline
// after its label, as a whole, isolated from the label. A note in Arabic
// then reads right to left with its full stop at its end, instead of taking
// the English report's direction.
constexpr char kStyle[] = R"css(
@page { size: letter; margin: 0.75in;
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #666; } }
body { font-family: "DejaVu Sans", "Helvetica", "Arial", sans-serif;
  font-size: 10.5pt; line-height: 1.4; color: #222; max-width: 8in;
  margin: 2em auto; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0 0 0.4em; }
h2 { font-size: 14pt; margin: 1.6em 0 0.5em; border-bottom: 1px solid #999;
  page-break-after: avoid; }
h3 { font-size: 11.5pt; margin: 1.2em 0 0.3em; page-break-after: avoid; }
p { margin: 0.3em 0; }
p.note { font-size: 9pt; color: #555; }
p.field { white-space: pre-line; }
p.field b { font-weight: bold; }
td, pre, .value { unicode-bidi: plaintext; text-align: start; }
td, .value, p.field { overflow-wrap: anywhere; }
.running { font-size: 8.5pt; color: #666; border-bottom: 1px solid #ccc;
  margin-bottom: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em;
  font-size: 9pt; }
th, td { border: 1px solid #aaa; padding: 3px 5px; text-align: start;
  vertical-align: top; white-space: pre-line; }
th { background: #e6e6e6; }
td.good { background: #dff0d8; }
td.bad { background: #f6d2d2; }
td.warn { background: #fcefc7; }
td.neutral { background: #eeeeee; }
pre { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt;
  background: #f7f7f7; border: 1px solid #ddd; padding: 6px;
  white-space: pre-wrap; word-break: break-all; }
svg { width: 100%; height: auto; display: block; margin: 0.5em 0 1em; }
.pagebreak { page-break-after: always; }
@media print { body { margin: 0; max-width: none; } }
)css";

}  // namespace

std::string CleanText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\n' && c != '\t') {
        out.push_back(' ');
      } else if (c == 0x7f) {
        out.push_back(' ');
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // Decode one multi-byte sequence strictly (RFC 3629).
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (ok) {
      if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
          (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        ok = false;
      }
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    // C1 controls (U+0080..U+009F) become spaces too. Bidirectional
    // embeddings, overrides and isolates would reorder what a reader sees
    // ("exe.live" for "evil.exe"): they are shown, not obeyed.
    if (cp >= 0x80 && cp <= 0x9f) {
      out.push_back(' ');
    } else if ((cp >= 0x202a && cp <= 0x202e) ||
               (cp >= 0x2066 && cp <= 0x2069)) {
      absl::StrAppend(&out, absl::StrFormat("[U+%04X]", cp));
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string RenderChartSvg(const Chart& chart) {
  std::string out = absl::StrCat(
      "<svg viewBox=\"0 0 ", Num(chart.width), " ", Num(chart.height),
      "\" role=\"img\" aria-label=\"Timeline of the case\" "
      "font-family=\"DejaVu Sans, sans-serif\">\n");
  for (const Chart::Rect& r : chart.rects) {
    absl::StrAppend(&out, "<rect x=\"", Num(r.x), "\" y=\"", Num(r.y),
                    "\" width=\"", Num(r.w), "\" height=\"", Num(r.h),
                    "\" fill=\"", Color(r.fill), "\"/>\n");
  }
  for (const Chart::Line& l : chart.lines) {
    absl::StrAppend(&out, "<line x1=\"", Num(l.x1), "\" y1=\"", Num(l.y1),
                    "\" x2=\"", Num(l.x2), "\" y2=\"", Num(l.y2),
                    "\" stroke=\"", Color(l.color), "\" stroke-width=\"",
                    Num(l.width), "\"",
                    l.dashed ? " stroke-dasharray=\"3 2\"" : "", "/>\n");
  }
  for (const Chart::Mark& m : chart.marks) {
    const std::string fill = Color(m.color);
    const double x = m.x, y = m.y, r = m.r;
    switch (m.shape) {
      case Chart::Mark::Shape::kCircle:
        absl::StrAppend(&out, "<circle cx=\"", Num(x), "\" cy=\"", Num(y),
                        "\" r=\"", Num(r), "\" fill=\"", fill, "\"/>\n");
        break;
      case Chart::Mark::Shape::kSquare:
        absl::StrAppend(&out, "<rect x=\"", Num(x - r), "\" y=\"", Num(y - r),
                        "\" width=\"", Num(2 * r), "\" height=\"", Num(2 * r),
                        "\" fill=\"", fill, "\"/>\n");
        break;
      case Chart::Mark::Shape::kDiamond:
        absl::StrAppend(&out, "<polygon points=\"", Num(x), ",", Num(y - r),
                        " ", Num(x + r), ",", Num(y), " ", Num(x), ",",
                        Num(y + r), " ", Num(x - r), ",", Num(y), "\" fill=\"",
                        fill, "\"/>\n");
        break;
      case Chart::Mark::Shape::kTriangle:
        absl::StrAppend(&out, "<polygon points=\"", Num(x), ",", Num(y - r),
                        " ", Num(x + r), ",", Num(y + r), " ", Num(x - r), ",",
                        Num(y + r), "\" fill=\"", fill, "\"/>\n");
        break;
      case Chart::Mark::Shape::kCross:
        absl::StrAppend(&out, "<path d=\"M", Num(x - r), " ", Num(y - r), "L",
                        Num(x + r), " ", Num(y + r), "M", Num(x - r), " ",
                        Num(y + r), "L", Num(x + r), " ", Num(y - r),
                        "\" stroke=\"", fill, "\" stroke-width=\"2\"/>\n");
        break;
    }
  }
  for (const Chart::Text& t : chart.texts) {
    const char* anchor = t.anchor == Chart::Text::Anchor::kMiddle ? "middle"
                         : t.anchor == Chart::Text::Anchor::kEnd  ? "end"
                                                                  : "start";
    absl::StrAppend(&out, "<text x=\"", Num(t.x), "\" y=\"", Num(t.y),
                    "\" font-size=\"", Num(t.size), "\" text-anchor=\"", anchor,
                    "\" fill=\"", Color(t.color), "\"",
                    t.bold ? " font-weight=\"bold\"" : "", ">", Escape(t.text),
                    "</text>\n");
  }
  out += "</svg>\n";
  return out;
}

std::string RenderHtml(const Document& doc) {
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"", Escape(doc.language),
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"generator\" content=\"",
      Escape(doc.creator), "\">\n<title>", Escape(doc.title),
      "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n",
      "<div class=\"running\">", Escape(doc.running_head), "</div>\n");
  for (const Block& b : doc.blocks) {
    const std::string id =
        b.anchor.empty() ? "" : absl::StrCat(" id=\"", Id(b.anchor), "\"");
    switch (b.kind) {
      case Block::Kind::kTitle:
        absl::StrAppend(&out, "<h1", id, ">", Escape(b.text), "</h1>\n");
        break;
      case Block::Kind::kHeading:
        absl::StrAppend(&out, "<h2", id, ">", Escape(b.text), "</h2>\n");
        break;
      case Block::Kind::kSubheading:
        absl::StrAppend(&out, "<h3", id, ">", Escape(b.text), "</h3>\n");
        break;
      case Block::Kind::kParagraph:
        absl::StrAppend(&out, "<p", id, ">", Escape(b.text), "</p>\n");
        break;
      case Block::Kind::kNote:
        absl::StrAppend(&out, "<p class=\"note\"", id, ">", Escape(b.text),
                        "</p>\n");
        break;
      case Block::Kind::kField:
        absl::StrAppend(&out, "<p class=\"field\"", id, "><b>", Escape(b.label),
                        ":</b> <span class=\"value\">", Escape(b.text),
                        "</span></p>\n");
        break;
      case Block::Kind::kPre:
        absl::StrAppend(&out, "<pre", id, ">", Escape(b.text), "</pre>\n");
        break;
      case Block::Kind::kChart:
        if (b.chart != nullptr) out += RenderChartSvg(*b.chart);
        break;
      case Block::Kind::kPageBreak:
        out += "<div class=\"pagebreak\"></div>\n";
        break;
      case Block::Kind::kTable: {
        absl::StrAppend(&out, "<table", id, ">\n<thead><tr>");
        for (size_t c = 0; c < b.table.columns.size(); ++c) {
          const double w =
              c < b.table.widths.size() ? b.table.widths[c] * 100 : 0;
          absl::StrAppend(&out, "<th style=\"width:", Num(w), "%\">",
                          Escape(b.table.columns[c]), "</th>");
        }
        out += "</tr></thead>\n<tbody>\n";
        for (const std::vector<Cell>& row : b.table.rows) {
          out += "<tr>";
          for (const Cell& cell : row) {
            absl::StrAppend(&out, "<td", ToneClass(cell.tone), ">");
            if (cell.text.empty() && !cell.page_of.empty()) {
              absl::StrAppend(&out, "<a href=\"#", Id(cell.page_of),
                              "\">view</a>");
            } else {
              out += Escape(cell.text);
            }
            out += "</td>";
          }
          out += "</tr>\n";
        }
        out += "</tbody>\n</table>\n";
        break;
      }
    }
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace caseledger::bundle::internal
