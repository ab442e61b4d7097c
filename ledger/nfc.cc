#include "ledger/nfc.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "ledger/untrusted_text.h"

namespace caseledger {
namespace {

struct Composition {
  char32_t first, second, composite;
};
struct CombiningClass {
  char32_t code_point;
  uint8_t value;
};
struct Decomposition {
  char32_t code_point;
  uint16_t start, length;
};

#include "ledger/internal/nfc_tables.inc"

uint8_t ClassOf(char32_t r) {
  const auto* it = std::lower_bound(
      std::begin(kCombiningClasses), std::end(kCombiningClasses), r,
      [](const CombiningClass& c, char32_t v) { return c.code_point < v; });
  return it != std::end(kCombiningClasses) && it->code_point == r ? it->value
                                                                  : 0;
}

// Hangul syllables decompose and compose by arithmetic (Unicode §3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161,
                   kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28,
                   kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void AppendDecomposed(char32_t r, std::vector<char32_t>& out) {
  if (r >= kSBase && r < kSBase + kSCount) {
    const char32_t s = r - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + s % kNCount / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const auto* it = std::lower_bound(
      std::begin(kDecompositions), std::end(kDecompositions), r,
      [](const Decomposition& d, char32_t v) { return d.code_point < v; });
  if (it == std::end(kDecompositions) || it->code_point != r) {
    out.push_back(r);
    return;
  }
  out.insert(out.end(), kDecomposed + it->start,
             kDecomposed + it->start + it->length);
}

// The composite of `first` and `second`, or 0.
char32_t Composed(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount &&
      (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto* it = std::lower_bound(
      std::begin(kCompositions), std::end(kCompositions),
      std::make_pair(first, second),
      [](const Composition& c, const std::pair<char32_t, char32_t>& v) {
        return std::make_pair(c.first, c.second) < v;
      });
  return it != std::end(kCompositions) && it->first == first &&
                 it->second == second
             ? it->composite
             : 0;
}

// Unicode §3.11 and UAX #15: decomposed, marks in canonical order, then
// composed.
std::vector<char32_t> Nfc(const std::vector<char32_t>& text) {
  struct Classed {
    char32_t r;
    uint8_t cls;
  };
  std::vector<Classed> d;
  {
    std::vector<char32_t> decomposed;
    for (char32_t r : text) AppendDecomposed(r, decomposed);
    d.reserve(decomposed.size());
    for (char32_t r : decomposed) d.push_back({r, ClassOf(r)});
  }
  // Canonical order: a stable sort of each run of marks by class, in
  // O(n log n) (an insertion sort let a run of alternating marks cost
  // minutes per identifier; found by a review).
  for (size_t i = 0; i < d.size();) {
    if (d[i].cls == 0) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < d.size() && d[end].cls != 0) ++end;
    std::stable_sort(
        d.begin() + i, d.begin() + end,
        [](const Classed& a, const Classed& b) { return a.cls < b.cls; });
    i = end;
  }
  std::vector<char32_t> out;
  std::optional<size_t> starter;
  int last_class = -1;  // of what follows the starter; -1: nothing yet
  for (const auto [r, cls] : d) {
    const bool blocked =
        last_class != -1 && (last_class == 0 || last_class >= cls);
    if (starter && !blocked) {
      if (char32_t composite = Composed(out[*starter], r)) {
        out[*starter] = composite;
        continue;
      }
    }
    if (cls == 0) {
      starter = out.size();
      last_class = -1;
    } else {
      last_class = cls;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace

std::optional<NotNfc> FirstNotNfc(std::string_view text) {
  // ASCII is in NFC, and nearly every identifier is ASCII: it is checked on
  // every append, so without allocating.
  if (std::all_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80;
      })) {
    return std::nullopt;
  }
  std::vector<char32_t> code_points;
  std::vector<size_t> offsets;
  for (size_t i = 0, len = 1; i < text.size(); i += len) {
    len = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    code_points.push_back(
        c < 0x80 ? c : static_cast<char32_t>(DecodeUtf8(text, i, &len)));
    offsets.push_back(i);
  }
  const std::vector<char32_t> nfc = Nfc(code_points);
  const auto [at, _] = std::mismatch(code_points.begin(), code_points.end(),
                                     nfc.begin(), nfc.end());
  if (at == code_points.end() && nfc.size() == code_points.size()) {
    return std::nullopt;
  }
  // NFC only joins and reorders: where it is shorter or differs, a code
  // point of the text is the first it does not keep.
  const size_t i =
      std::min<size_t>(at - code_points.begin(), code_points.size() - 1);
  return NotNfc{offsets[i], code_points[i]};
}

std::vector<char32_t> NfcCodePoints(std::string_view text) {
  std::vector<char32_t> code_points;
  code_points.reserve(text.size());
  bool ascii = true;
  for (size_t i = 0, len = 1; i < text.size(); i += len) {
    const int32_t r = DecodeUtf8(text, i, &len);
    if (r < 0) len = 1;  // each byte of a bad sequence
    code_points.push_back(r < 0 ? 0xFFFD : static_cast<char32_t>(r));
    ascii = ascii && code_points.back() < 0x80;
  }
  // ASCII is its own NFC: most notes are, and need no table look-ups.
  return ascii ? code_points : Nfc(code_points);
}

}  // namespace caseledger
