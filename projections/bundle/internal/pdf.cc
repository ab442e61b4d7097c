// PDF rendering of the report (document.h) with cairo and pango.
//
// Determinism: the fonts come from a private fontconfig configuration that
// holds only the DejaVu files of the given folder and the fixed fallback
// files below (no other system fonts, no substitution rules), hinting is off,
// the resolution is 72 dpi so that font sizes are points, and the creation and
// modification dates are the document's date. cairo then writes the same bytes
// for the same document (docs/bundle-format.md §7 says what the reproducibility
// rests on).
//
// Layout: blocks become atoms (a text line, a table row, the chart) that
// never split; atoms flow onto US Letter pages, headings stay with what
// follows them and a table's header row repeats on each page it continues
// on. Layout runs until the page numbers printed in the record index are
// the pages the records land on.
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "ledger/status_macros.h"
#include "projections/bundle/internal/document.h"

namespace caseledger::bundle::internal {
namespace {

constexpr double kPageWidth = 612, kPageHeight = 792;  // US Letter
constexpr double kMarginX = 54, kMarginTop = 62, kMarginBottom = 58;
constexpr double kBodyWidth = kPageWidth - 2 * kMarginX;
constexpr double kBodyHeight = kPageHeight - kMarginTop - kMarginBottom;
constexpr double kCellPad = 3;
// Table cells longer than this, or taller than this, are cut in the PDF (a
// row is never split, so it must fit a page below the repeated header); the
// HTML report and the bundle's JSON files keep the full text.
constexpr size_t kMaxCellBytes = 1500;
constexpr double kMaxCellHeight = kBodyHeight - 72;
// How often a render asks whether it is still wanted (RenderPdf): every
// this many pieces laid out (a table row, a line of text), ~30 ms.
constexpr size_t kPiecesBetweenAsks = 64;

constexpr const char* kFontFiles[] = {
    "DejaVuSans.ttf",     "DejaVuSans-Bold.ttf",     "DejaVuSans-Oblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
};
constexpr const char* kRequiredFontFiles[] = {
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"};
// Scripts DejaVu lacks, in which applicants' names, subjects and notes come:
// Chinese and Japanese (fonts-droid-fallback), Korean (fonts-nanum), and the
// scripts of South and South-East Asia and of Ethiopia (fonts-noto-core).
// DejaVu stays first, so text it can draw is set exactly as before. Each file
// is optional: without it, its characters print as boxes, and the page says so.
constexpr const char* kFallbackFontFiles[] = {
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansGurmukhi-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansBengali-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansGujarati-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansOriya-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansTamil-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansTelugu-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansKannada-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMalayalam-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansSinhala-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansLao-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansKhmer-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMyanmar-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf",
};

struct GObjectUnref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
using LayoutPtr = std::shared_ptr<PangoLayout>;

LayoutPtr Share(PangoLayout* layout) {
  return LayoutPtr(layout, GObjectUnref());
}

void SetColor(cairo_t* cr, Rgb c) {
  cairo_set_source_rgb(cr, ((c >> 16) & 0xff) / 255.0,
                       ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0);
}

// The private font setup: one fontconfig configuration with the DejaVu
// files and the fallbacks only, one pango context at 72 dpi without hinting.
class Fonts {
 public:
  static absl::StatusOr<std::unique_ptr<Fonts>> Load(const std::string& dir) {
    for (const char* f : kRequiredFontFiles) {
      std::error_code ec;
      if (!std::filesystem::exists(std::filesystem::path(dir) / f, ec)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the PDF report needs the DejaVu fonts (Debian package "
            "fonts-dejavu-core): ",
            dir, "/", f, " is missing"));
      }
    }
    FcConfig* config = FcConfigCreate();
    if (config == nullptr) {
      return absl::ResourceExhaustedError("fontconfig: cannot create config");
    }
    std::vector<std::string> paths;
    for (const char* f : kFontFiles) {
      paths.push_back((std::filesystem::path(dir) / f).string());
    }
    paths.insert(paths.end(), std::begin(kFallbackFontFiles),
                 std::end(kFallbackFontFiles));
    for (const std::string& path : paths) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) continue;
      if (!FcConfigAppFontAddFile(
              config, reinterpret_cast<const FcChar8*>(path.c_str()))) {
        FcConfigDestroy(config);
        return absl::FailedPreconditionError(
            absl::StrCat("fontconfig cannot load ", path));
      }
    }
    auto fonts = std::unique_ptr<Fonts>(new Fonts());
    fonts->map_ = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
    if (fonts->map_ == nullptr) {
      FcConfigDestroy(config);
      return absl::FailedPreconditionError("pango has no FreeType font map");
    }
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(fonts->map_), config);
    FcConfigDestroy(config);  // the font map holds its own reference
    fonts->context_ = pango_font_map_create_context(fonts->map_);
    pango_cairo_context_set_resolution(fonts->context_, 72);
    cairo_font_options_t* options = cairo_font_options_create();
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
    pango_cairo_context_set_font_options(fonts->context_, options);
    cairo_font_options_destroy(options);
    return fonts;
  }

  ~Fonts() {
    if (context_ != nullptr) g_object_unref(context_);
    if (map_ != nullptr) g_object_unref(map_);
  }

  // A layout of `text` in `font` (a pango font description string), wrapped
  // at `width` points (0: no wrapping).
  LayoutPtr Layout(std::string_view text, const char* font, double width,
                   bool wrap_anywhere = false) {
    LayoutPtr layout = Share(pango_layout_new(context_));
    PangoFontDescription* desc = pango_font_description_from_string(font);
    // Named second so that Chinese and Japanese come from one font: by
    // fontconfig's own order NanumGothic, which holds some of the same
    // characters, would set those and Droid only the rest.
    const std::string families = absl::StrCat(
        pango_font_description_get_family(desc), ",Droid Sans Fallback");
    pango_font_description_set_family(desc, families.c_str());
    pango_layout_set_font_description(layout.get(), desc);
    pango_font_description_free(desc);
    if (width > 0) {
      pango_layout_set_width(layout.get(),
                             static_cast<int>(width * PANGO_SCALE));
      pango_layout_set_wrap(
          layout.get(), wrap_anywhere ? PANGO_WRAP_CHAR : PANGO_WRAP_WORD_CHAR);
      // A word broken to fit is broken without a hyphen: Pango's own was
      // read as part of a token or an address, and inside a message shown
      // as sent (found by an outside reading).
      PangoAttrList* attrs = pango_attr_list_new();
      pango_attr_list_insert(attrs, pango_attr_insert_hyphens_new(FALSE));
      pango_layout_set_attributes(layout.get(), attrs);
      pango_attr_list_unref(attrs);
    }
    const std::string clean = CleanText(text);
    pango_layout_set_text(layout.get(), clean.data(),
                          static_cast<int>(clean.size()));
    return layout;
  }

 private:
  Fonts() = default;
  PangoFontMap* map_ = nullptr;
  PangoContext* context_ = nullptr;
};

// `text` cut to its first `bytes` bytes, back to the last space or comma
// when there is one in the last 64 (so that "#1207, #1208" is never cut into
// "#120", a position of its own), and marked as cut.
std::string CutCell(std::string_view text, size_t bytes) {
  if (bytes >= text.size()) return std::string(text);
  size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) {
    --cut;
  }
  const size_t gap = text.substr(0, cut).find_last_of(" ,\n");
  if (gap != std::string_view::npos && cut - gap < 64) cut = gap;
  while (cut > 0 && (text[cut - 1] == ',' || text[cut - 1] == ' ')) --cut;
  return absl::StrCat(std::string(text.substr(0, cut)), " [...]");
}

bool MissingGlyphs(PangoLayout* layout) {
  return pango_layout_get_unknown_glyphs_count(layout) > 0;
}

double Height(PangoLayout* layout) {
  PangoRectangle logical;
  pango_layout_get_extents(layout, nullptr, &logical);
  return logical.height / static_cast<double>(PANGO_SCALE);
}

double Width(PangoLayout* layout) {
  PangoRectangle logical;
  pango_layout_get_extents(layout, nullptr, &logical);
  return logical.width / static_cast<double>(PANGO_SCALE);
}

double Baseline(PangoLayout* layout) {
  return pango_layout_get_baseline(layout) / static_cast<double>(PANGO_SCALE);
}

// An unsplittable piece of the page flow.
struct Atom {
  double height = 0;
  double space_before = 0;  // dropped at the top of a page
  bool page_break = false;
  bool keep_with_next = false;
  std::string anchor;
  int outline_level = -1;  // 0 or 1 for a PDF outline entry
  std::string outline_text;
  // When above 0: the atom this many before, a table's header row, is drawn
  // first when this one opens a page. Relative, so that a block's atoms do
  // not depend on where the block stands.
  int header_back = 0;
  // Holds characters the fonts lack, drawn as boxes with their code: the
  // page says so, or a reader of the paper copy could not tell.
  bool missing_glyphs = false;
  // Draws the atom with its top at body offset `y`.
  std::function<void(cairo_t*, double y)> draw;
};

struct Placement {
  size_t atom;
  double y;
};
using Pages = std::vector<std::vector<Placement>>;

// Makes the atoms of a document, in order, and hands each to `take` as soon
// as it is made, so that a caller can let its layouts go.
class Builder {
 public:
  // `going` is asked after each piece is taken; once it says no, the
  // block in hand is left unfinished.
  Builder(Fonts& fonts, const std::map<std::string, int>& pages_of,
          std::function<void(Atom)> take, std::function<bool()> going)
      : fonts_(fonts),
        pages_of_(pages_of),
        take_(std::move(take)),
        going_(std::move(going)) {}

  void Add(const Block& b) {
    switch (b.kind) {
      case Block::Kind::kTitle:
        AddLines(fonts_.Layout(b.text, "DejaVu Sans Bold 17", kBodyWidth), 0, 0,
                 0x111111, b, -1);
        break;
      case Block::Kind::kHeading:
        AddLines(fonts_.Layout(b.text, "DejaVu Sans Bold 13", kBodyWidth), 0,
                 16, 0x111111, b, 0, 0xffffffff, true);
        break;
      case Block::Kind::kSubheading:
        AddLines(fonts_.Layout(b.text, "DejaVu Sans Bold 10", kBodyWidth), 0,
                 10, 0x111111, b, b.anchor.empty() ? -1 : 1, 0xffffffff, true);
        break;
      case Block::Kind::kParagraph:
        AddLines(fonts_.Layout(b.text, "DejaVu Sans 9", kBodyWidth), 0, 4,
                 0x222222, b, -1);
        break;
      case Block::Kind::kNote:
        AddLines(fonts_.Layout(b.text, "DejaVu Sans 7.5", kBodyWidth), 0, 3,
                 0x555555, b, -1);
        break;
      case Block::Kind::kField: {
        LayoutPtr layout = fonts_.Layout(absl::StrCat(b.label, ": ", b.text),
                                         "DejaVu Sans 9", kBodyWidth);
        // Added to the layout's own attributes (no hyphens), not in their
        // place.
        PangoAttrList* attrs =
            pango_attr_list_copy(pango_layout_get_attributes(layout.get()));
        if (attrs == nullptr) attrs = pango_attr_list_new();
        PangoAttribute* bold = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
        bold->start_index = 0;
        bold->end_index = static_cast<guint>(CleanText(b.label).size() + 1);
        pango_attr_list_insert(attrs, bold);
        pango_layout_set_attributes(layout.get(), attrs);
        pango_attr_list_unref(attrs);
        AddLines(layout, 0, 2, 0x222222, b, -1);
        break;
      }
      case Block::Kind::kPre:
        AddLines(fonts_.Layout(b.text, "DejaVu Sans Mono 7", kBodyWidth - 8,
                               /*wrap_anywhere=*/true),
                 4, 4, 0x222222, b, -1, 0xf4f4f4);
        break;
      case Block::Kind::kTable:
        AddTable(b);
        break;
      case Block::Kind::kChart:
        AddChart(b);
        break;
      case Block::Kind::kPageBreak: {
        Atom a;
        a.page_break = true;
        Take(std::move(a));
        break;
      }
    }
  }

 private:
  // One atom per line of `layout`, so that long text flows across pages.
  void AddLines(const LayoutPtr& layout, double indent, double space_before,
                Rgb color, const Block& block, int outline_level,
                Rgb background = 0xffffffff, bool keep_with_next = false) {
    const bool missing_glyphs = MissingGlyphs(layout.get());
    PangoLayoutIter* it = pango_layout_get_iter(layout.get());
    bool first = true;
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(it, nullptr, &logical);
      const double top = logical.y / static_cast<double>(PANGO_SCALE);
      const double h = logical.height / static_cast<double>(PANGO_SCALE);
      const double base = pango_layout_iter_get_baseline(it) /
                              static_cast<double>(PANGO_SCALE) -
                          top;
      const double lx = logical.x / static_cast<double>(PANGO_SCALE);
      PangoLayoutLine* line = pango_layout_iter_get_line_readonly(it);
      Atom a;
      a.height = h;
      a.keep_with_next = keep_with_next;
      a.missing_glyphs = missing_glyphs;
      if (first) {
        a.space_before = space_before;
        a.anchor = block.anchor;
        a.outline_level = outline_level;
        a.outline_text = block.text;
      }
      a.draw = [layout, line, lx, base, indent, color, h, background](
                   cairo_t* cr, double y) {
        if (background != 0xffffffff) {
          SetColor(cr, background);
          cairo_rectangle(cr, kMarginX, kMarginTop + y, kBodyWidth, h);
          cairo_fill(cr);
        }
        SetColor(cr, color);
        cairo_move_to(cr, kMarginX + indent + lx, kMarginTop + y + base);
        pango_cairo_show_layout_line(cr, line);
      };
      Take(std::move(a));
      first = false;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
  }

  void AddTable(const Block& b) {
    const Table& t = b.table;
    const size_t n = t.columns.size();
    std::vector<double> widths(n, n ? kBodyWidth / n : 0);
    for (size_t c = 0; c < n && c < t.widths.size(); ++c) {
      widths[c] = t.widths[c] * kBodyWidth;
    }
    auto row_atom = [&](const std::vector<Cell>& cells, bool header) {
      std::vector<LayoutPtr> layouts;
      std::vector<Tone> tones;
      double h = 0;
      bool missing_glyphs = false;
      for (size_t c = 0; c < n; ++c) {
        std::string text = c < cells.size() ? cells[c].text : "";
        if (c < cells.size() && text.empty() && !cells[c].page_of.empty()) {
          auto it = pages_of_.find(cells[c].page_of);
          text = it == pages_of_.end() ? "-" : absl::StrCat(it->second);
        }
        if (text.size() > kMaxCellBytes) text = CutCell(text, kMaxCellBytes);
        const char* font = header ? "DejaVu Sans Bold 7.5" : "DejaVu Sans 7.5";
        const double width = widths[c] - 2 * kCellPad;
        LayoutPtr layout = fonts_.Layout(text, font, width);
        const int lines = pango_layout_get_line_count(layout.get());
        if (Height(layout.get()) > kMaxCellHeight && lines > 1) {
          // Keep the lines that fit, less one for the mark; cut the text
          // as laid out (cleaned), where the first line left out starts.
          const double line = Height(layout.get()) / lines;
          const int keep =
              std::max(1, static_cast<int>(kMaxCellHeight / line) - 1);
          const std::string laid_out = pango_layout_get_text(layout.get());
          layout = fonts_.Layout(
              CutCell(laid_out,
                      static_cast<size_t>(
                          pango_layout_get_line_readonly(layout.get(), keep)
                              ->start_index)),
              font, width);
        }
        missing_glyphs = missing_glyphs || MissingGlyphs(layout.get());
        layouts.push_back(std::move(layout));
        tones.push_back(c < cells.size() ? cells[c].tone : Tone::kNone);
        h = std::max(h, Height(layouts.back().get()));
      }
      h += 2 * kCellPad;
      Atom a;
      a.height = h;
      a.missing_glyphs = missing_glyphs;
      a.draw = [layouts, tones, widths, h, header](cairo_t* cr, double y) {
        double x = kMarginX;
        for (size_t c = 0; c < layouts.size(); ++c) {
          Rgb fill = 0xffffff;
          if (header) {
            fill = 0xe6e6e6;
          } else {
            switch (tones[c]) {
              case Tone::kGood:
                fill = 0xdff0d8;
                break;
              case Tone::kBad:
                fill = 0xf6d2d2;
                break;
              case Tone::kWarn:
                fill = 0xfcefc7;
                break;
              case Tone::kNeutral:
                fill = 0xeeeeee;
                break;
              case Tone::kNone:
                break;
            }
          }
          if (fill != 0xffffff) {
            SetColor(cr, fill);
            cairo_rectangle(cr, x, kMarginTop + y, widths[c], h);
            cairo_fill(cr);
          }
          SetColor(cr, 0x999999);
          cairo_set_line_width(cr, 0.5);
          cairo_rectangle(cr, x, kMarginTop + y, widths[c], h);
          cairo_stroke(cr);
          SetColor(cr, 0x222222);
          cairo_move_to(cr, x + kCellPad, kMarginTop + y + kCellPad);
          pango_cairo_show_layout(cr, layouts[c].get());
          x += widths[c];
        }
      };
      return a;
    };
    std::vector<Cell> titles;
    for (const std::string& c : t.columns) titles.push_back(Cell{c});
    Atom header = row_atom(titles, true);
    header.space_before = 4;
    header.keep_with_next = !t.rows.empty();
    header.anchor = b.anchor;
    Take(std::move(header));
    int back = 0;
    for (const std::vector<Cell>& row : t.rows) {
      if (!going_on_) return;
      Atom a = row_atom(row, false);
      a.header_back = ++back;
      Take(std::move(a));
    }
  }

  void AddChart(const Block& b) {
    if (b.chart == nullptr) return;
    auto chart = b.chart;
    const double scale = chart->width > 0 ? kBodyWidth / chart->width : 1;
    // Text layouts are made now, with the pango context, and drawn later.
    std::vector<LayoutPtr> texts;
    for (const Chart::Text& t : chart->texts) {
      std::string font = absl::StrFormat("DejaVu Sans%s %.2f",
                                         t.bold ? " Bold" : "", t.size * scale);
      texts.push_back(fonts_.Layout(t.text, font.c_str(), 0));
    }
    Atom a;
    a.space_before = 6;
    a.height = chart->height * scale;
    a.anchor = b.anchor;
    a.draw = [chart, texts, scale](cairo_t* cr, double y) {
      cairo_save(cr);
      cairo_translate(cr, kMarginX, kMarginTop + y);
      auto X = [&](double v) { return v * scale; };
      for (const Chart::Rect& r : chart->rects) {
        SetColor(cr, r.fill);
        cairo_rectangle(cr, X(r.x), X(r.y), X(r.w), X(r.h));
        cairo_fill(cr);
      }
      for (const Chart::Line& l : chart->lines) {
        SetColor(cr, l.color);
        cairo_set_line_width(cr, l.width * scale);
        if (l.dashed) {
          const double dash[] = {3 * scale, 2 * scale};
          cairo_set_dash(cr, dash, 2, 0);
        }
        cairo_move_to(cr, X(l.x1), X(l.y1));
        cairo_line_to(cr, X(l.x2), X(l.y2));
        cairo_stroke(cr);
        cairo_set_dash(cr, nullptr, 0, 0);
      }
      for (const Chart::Mark& m : chart->marks) {
        SetColor(cr, m.color);
        const double x = X(m.x), my = X(m.y), r = X(m.r);
        switch (m.shape) {
          case Chart::Mark::Shape::kCircle:
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, my, r, 0, 2 * G_PI);
            cairo_fill(cr);
            break;
          case Chart::Mark::Shape::kSquare:
            cairo_rectangle(cr, x - r, my - r, 2 * r, 2 * r);
            cairo_fill(cr);
            break;
          case Chart::Mark::Shape::kDiamond:
            cairo_move_to(cr, x, my - r);
            cairo_line_to(cr, x + r, my);
            cairo_line_to(cr, x, my + r);
            cairo_line_to(cr, x - r, my);
            cairo_close_path(cr);
            cairo_fill(cr);
            break;
          case Chart::Mark::Shape::kTriangle:
            cairo_move_to(cr, x, my - r);
            cairo_line_to(cr, x + r, my + r);
            cairo_line_to(cr, x - r, my + r);
            cairo_close_path(cr);
            cairo_fill(cr);
            break;
          case Chart::Mark::Shape::kCross:
            cairo_set_line_width(cr, 2 * scale);
            cairo_move_to(cr, x - r, my - r);
            cairo_line_to(cr, x + r, my + r);
            cairo_move_to(cr, x - r, my + r);
            cairo_line_to(cr, x + r, my - r);
            cairo_stroke(cr);
            break;
        }
      }
      for (size_t i = 0; i < chart->texts.size(); ++i) {
        const Chart::Text& t = chart->texts[i];
        PangoLayout* layout = texts[i].get();
        double x = X(t.x);
        if (t.anchor == Chart::Text::Anchor::kMiddle) x -= Width(layout) / 2;
        if (t.anchor == Chart::Text::Anchor::kEnd) x -= Width(layout);
        SetColor(cr, t.color);
        cairo_move_to(cr, x, X(t.y) - Baseline(layout));
        pango_cairo_show_layout(cr, layout);
      }
      cairo_restore(cr);
    };
    Take(std::move(a));
  }

  void Take(Atom a) {
    take_(std::move(a));
    going_on_ = going_on_ && going_();
  }

  Fonts& fonts_;
  const std::map<std::string, int>& pages_of_;
  std::function<void(Atom)> take_;
  std::function<bool()> going_;
  bool going_on_ = true;
};

// Whether `b` prints the pages anchors land on, which can change from one
// layout pass to the next.
bool PrintsPageNumbers(const Block& b) {
  return b.kind == Block::Kind::kTable &&
         absl::c_any_of(b.table.rows, [](const std::vector<Cell>& row) {
           return absl::c_any_of(
               row, [](const Cell& c) { return !c.page_of.empty(); });
         });
}

// Flows atoms onto pages; fills `pages_of` with the 1-based page of each
// anchor.
Pages Paginate(const std::vector<Atom>& atoms,
               std::map<std::string, int>* pages_of) {
  Pages pages(1);
  double y = 0;
  auto new_page = [&] {
    pages.emplace_back();
    y = 0;
  };
  for (size_t i = 0; i < atoms.size(); ++i) {
    const Atom& a = atoms[i];
    if (a.page_break) {
      if (!pages.back().empty()) new_page();
      continue;
    }
    double need = (y == 0 ? 0 : a.space_before) + a.height;
    // Keep a run of keep-with-next atoms (a heading, a table header) with
    // the atom after it.
    for (size_t j = i; j + 1 < atoms.size() && atoms[j].keep_with_next &&
                       !atoms[j + 1].page_break && j < i + 4;
         ++j) {
      need += atoms[j + 1].space_before + atoms[j + 1].height;
    }
    if (y > 0 && y + need > kBodyHeight) {
      new_page();
      if (a.header_back > 0) {
        const size_t header = i - a.header_back;
        pages.back().push_back({header, 0});
        y = atoms[header].height;
      }
    }
    if (y > 0) y += a.space_before;
    pages.back().push_back({i, y});
    if (!a.anchor.empty() && !pages_of->count(a.anchor)) {
      (*pages_of)[a.anchor] = static_cast<int>(pages.size());
    }
    y += a.height;
  }
  if (pages.size() > 1 && pages.back().empty()) pages.pop_back();
  return pages;
}

// Draws each page as soon as the atoms it holds are made, and lets an atom
// go after the last page it is drawn on, so that a render holds the layouts
// of about one page (holding every page's took ~60 KB per event: 1.2 GB for
// a case of 20,000 events). The atoms must be those of the build that
// `pages` was paginated from, in the same order.
class PageDrawer {
 public:
  PageDrawer(Fonts& fonts, const Document& doc,
             const std::vector<Atom>& measured, const Pages& pages,
             cairo_surface_t* surface, cairo_t* cr)
      : fonts_(fonts),
        doc_(doc),
        measured_(measured),
        pages_(pages),
        surface_(surface),
        cr_(cr),
        needs_(pages.size(), 0),
        last_page_(measured.size(), -1) {
    for (size_t p = 0; p < pages.size(); ++p) {
      for (const Placement& placed : pages[p]) {
        needs_[p] = std::max(needs_[p], placed.atom + 1);
        last_page_[placed.atom] = static_cast<int>(p);
      }
    }
  }

  void Take(Atom a) {
    const size_t i = taken_++;
    if (!status_.ok()) return;
    // The build is deterministic; were it not, the pages would cut atoms.
    if (i >= measured_.size() || a.height != measured_[i].height) {
      status_ = absl::InternalError(absl::StrCat(
          "the report's layout changed between passes at piece ", i + 1));
      return;
    }
    if (last_page_[i] >= next_page_) window_.emplace(i, std::move(a));
    while (next_page_ < static_cast<int>(pages_.size()) &&
           needs_[next_page_] <= taken_) {
      DrawPage(next_page_++);
      std::erase_if(window_, [&](const auto& held) {
        return last_page_[held.first] < next_page_;
      });
    }
  }

  // Draws what is left (an empty document's one page).
  absl::Status Finish() {
    if (status_.ok() && taken_ != measured_.size()) {
      status_ = absl::InternalError(
          absl::StrCat("the report's layout made ", measured_.size(),
                       " pieces when measured and ", taken_, " when drawn"));
    }
    if (!status_.ok()) return status_;
    while (next_page_ < static_cast<int>(pages_.size())) {
      DrawPage(next_page_++);
    }
    return absl::OkStatus();
  }

 private:
  void DrawPage(int p) {
    cairo_t* cr = cr_;
    const int total = static_cast<int>(pages_.size());
    // Running head and page number.
    LayoutPtr head =
        fonts_.Layout(doc_.running_head, "DejaVu Sans 7", kBodyWidth);
    SetColor(cr, 0x666666);
    cairo_move_to(cr, kMarginX, 30);
    pango_cairo_show_layout(cr, head.get());
    cairo_set_line_width(cr, 0.5);
    SetColor(cr, 0xbbbbbb);
    cairo_move_to(cr, kMarginX, 44);
    cairo_line_to(cr, kPageWidth - kMarginX, 44);
    cairo_stroke(cr);
    LayoutPtr number = fonts_.Layout(
        absl::StrCat("Page ", p + 1, " of ", total), "DejaVu Sans 8", 0);
    SetColor(cr, 0x333333);
    cairo_move_to(cr, (kPageWidth - Width(number.get())) / 2, kPageHeight - 36);
    pango_cairo_show_layout(cr, number.get());

    if (absl::c_any_of(pages_[p], [&](const Placement& placed) {
          return measured_[placed.atom].missing_glyphs;
        })) {
      LayoutPtr note = fonts_.Layout(
          "Boxes showing a code stand for characters this PDF's fonts lack; "
          "report.html and events.json hold the text as entered.",
          "DejaVu Sans Oblique 6.5", kBodyWidth);
      SetColor(cr, 0x666666);
      cairo_move_to(cr, kMarginX, kPageHeight - kMarginBottom + 6);
      pango_cairo_show_layout(cr, note.get());
    }
    for (const Placement& placed : pages_[p]) {
      const Atom& a = window_.at(placed.atom);
      if (a.outline_level >= 0 && !a.outline_text.empty()) {
        const std::string link = absl::StrFormat(
            "page=%d pos=[%.2f %.2f]", p + 1, kMarginX, kMarginTop + placed.y);
        const std::string text = CleanText(a.outline_text);
        int id = cairo_pdf_surface_add_outline(
            surface_,
            a.outline_level == 0 ? CAIRO_PDF_OUTLINE_ROOT : outline_parent_,
            text.c_str(), link.c_str(),
            static_cast<cairo_pdf_outline_flags_t>(0));
        if (a.outline_level == 0) outline_parent_ = id;
      }
      a.draw(cr, placed.y);
    }
    cairo_show_page(cr);
  }

  Fonts& fonts_;
  const Document& doc_;
  const std::vector<Atom>& measured_;
  const Pages& pages_;
  cairo_surface_t* surface_;
  cairo_t* cr_;
  // Atoms page p needs made before it is drawn; the last page of each atom.
  std::vector<size_t> needs_;
  std::vector<int> last_page_;
  std::map<size_t, Atom> window_;
  size_t taken_ = 0;
  int next_page_ = 0;
  int outline_parent_ = CAIRO_PDF_OUTLINE_ROOT;
  absl::Status status_;
};

cairo_status_t Append(void* closure, const unsigned char* data,
                      unsigned int length) {
  static_cast<std::string*>(closure)->append(
      reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

absl::StatusOr<std::string> RenderPdf(
    const Document& doc, const std::string& font_dir,
    const std::function<absl::Status()>& still_wanted) {
  // Asked every kPiecesBetweenAsks pieces, not between blocks: one block,
  // the table of a large case's events, is most of its report, and its
  // layout went 20 s without an ask, so without telling its time (found
  // by a probe).
  absl::Status wanted;
  size_t pieces = 0;
  auto going = [&] {
    if (wanted.ok() && still_wanted && ++pieces % kPiecesBetweenAsks == 0) {
      wanted = still_wanted();
    }
    return wanted.ok();
  };
  // cairo, pango and fontconfig are thread-safe for separate objects, and
  // every call here makes its own; one render at a time still rules out
  // surprises in their process-wide caches, at no cost at export rates.
  static absl::Mutex render_mutex(absl::kConstInit);
  absl::MutexLock lock(&render_mutex);
  auto fonts_or = Fonts::Load(font_dir);
  if (!fonts_or.ok()) return fonts_or.status();
  Fonts& fonts = **fonts_or;

  // Lay out until the record index shows the pages the records land on,
  // keeping of each pass only what pagination needs. Only the blocks that
  // print page numbers are laid out again in later passes; the pages are
  // drawn from one more build, with the page numbers of the last pass.
  std::map<std::string, int> pages_of;
  std::vector<std::vector<Atom>> by_block(doc.blocks.size());
  std::vector<Atom> measured;
  Pages pages;
  for (int pass = 0; pass < 4; ++pass) {
    std::vector<Atom>* into = nullptr;
    Builder builder(
        fonts, pages_of,
        [&](Atom a) {
          a.draw = nullptr;
          into->push_back(std::move(a));
        },
        going);
    measured.clear();
    for (size_t b = 0; b < doc.blocks.size(); ++b) {
      if (pass == 0 || PrintsPageNumbers(doc.blocks[b])) {
        into = &by_block[b];
        into->clear();
        builder.Add(doc.blocks[b]);
      }
      CASELEDGER_RETURN_IF_ERROR(wanted);
      measured.insert(measured.end(), by_block[b].begin(), by_block[b].end());
    }
    std::map<std::string, int> landed;
    pages = Paginate(measured, &landed);
    if (landed == pages_of || pass == 3) break;
    pages_of = std::move(landed);
  }
  by_block = {};

  std::string out;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(
      Append, &out, kPageWidth, kPageHeight);
  cairo_pdf_surface_restrict_to_version(surface, CAIRO_PDF_VERSION_1_5);
  const std::string date =
      absl::FormatTime("%E4Y-%m-%dT%H:%M:%SZ", doc.date, absl::UTCTimeZone());
  const std::string title = CleanText(doc.title);
  const std::string subject = CleanText(doc.subject);
  const std::string creator = CleanText(doc.creator);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
                                 title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT,
                                 subject.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
                                 creator.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE,
                                 date.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE,
                                 date.c_str());
  cairo_t* cr = cairo_create(surface);

  PageDrawer drawer(fonts, doc, measured, pages, surface, cr);
  Builder builder(
      fonts, pages_of, [&](Atom a) { drawer.Take(std::move(a)); }, going);
  for (size_t b = 0; b < doc.blocks.size() && wanted.ok(); ++b) {
    builder.Add(doc.blocks[b]);
  }
  const absl::Status drawn = wanted.ok() ? drawer.Finish() : wanted;
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (!drawn.ok()) return drawn;
  if (status != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cairo: ", cairo_status_to_string(status)));
  }
  return out;
}

}  // namespace caseledger::bundle::internal
