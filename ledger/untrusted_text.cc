#include "ledger/untrusted_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace caseledger {

int32_t DecodeUtf8(std::string_view s, size_t i, size_t* len) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  if (c0 < 0x80) {
    *len = 1;
    return c0;
  }
  size_t n;
  int32_t r, min;
  if ((c0 & 0xE0) == 0xC0) {
    n = 2, r = c0 & 0x1F, min = 0x80;
  } else if ((c0 & 0xF0) == 0xE0) {
    n = 3, r = c0 & 0x0F, min = 0x800;
  } else if ((c0 & 0xF8) == 0xF0) {
    n = 4, r = c0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (s.size() - i < n) return -1;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return -1;
    r = r << 6 | (c & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return -1;
  *len = n;
  return r;
}

void AppendUtf8(char32_t r, std::string& out) {
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

bool LooksLikeUtf16(std::string_view text) {
  return text.size() >= 2 &&
         (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF") ||
          text[0] == '\0' || text[1] == '\0');
}

size_t FirstInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    if (DecodeUtf8(s, i, &len) < 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

size_t CharacterCount(std::string_view s) {
  size_t count = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool IsLayoutControl(int32_t r) {
  return r < 0x20 || (r >= 0x7F && r <= 0x9F) || r == 0x2028 || r == 0x2029 ||
         (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069);
}

bool IsOneLineOfText(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    const int32_t r = DecodeUtf8(s, i, &len);
    if (r < 0 || IsLayoutControl(r)) return false;
    i += len;
  }
  return true;
}

bool IsOneWordOfText(std::string_view s, std::string_view refused) {
  if (s.empty() || !IsOneLineOfText(s)) return false;
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    const int32_t r = DecodeUtf8(s, i, &len);
    if (r == ' ' || IsOtherSpace(r) || ShowsAsNothing(r) ||
        (r < 0x80 && refused.find(static_cast<char>(r)) != refused.npos)) {
      return false;
    }
  }
  return true;
}

bool ShowsAsNothing(int32_t r) {
  // DerivedCoreProperties.txt, Default_Ignorable_Code_Point (Unicode 15).
  return r == 0xAD || r == 0x34F || r == 0x61C || r == 0x115F || r == 0x1160 ||
         r == 0x17B4 || r == 0x17B5 || (r >= 0x180B && r <= 0x180F) ||
         (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) ||
         (r >= 0x2060 && r <= 0x206F) || r == 0x2800 || r == 0x3164 ||
         (r >= 0xFE00 && r <= 0xFE0F) || r == 0xFEFF || r == 0xFFA0 ||
         (r >= 0xFFF0 && r <= 0xFFF8) || (r >= 0x1BCA0 && r <= 0x1BCA3) ||
         (r >= 0x1D173 && r <= 0x1D17A) || (r >= 0xE0000 && r <= 0xE0FFF);
}

bool IsWhiteSpace(int32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0x2028:
    case 0x2029:
      return true;
    default:
      return IsOtherSpace(r);
  }
}

bool IsOtherSpace(int32_t r) {
  return r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200A) ||
         r == 0x202F || r == 0x205F || r == 0x3000;
}

std::optional<HiddenCharacter> FirstHiddenCharacter(std::string_view s) {
  int32_t before = 0;
  for (size_t i = 0, len = 1; i < s.size(); i += len) {
    // A byte that is not UTF-8 (-1) is stepped over, one at a time:
    // DecodeUtf8 leaves `len` as it was for it.
    len = 1;
    // ASCII hides nothing (what does begins at U+00A0): most text is all
    // ASCII, and this runs on every identifier and address appended.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      before = static_cast<unsigned char>(s[i]);
      continue;
    }
    const int32_t r = DecodeUtf8(s, i, &len);
    bool hidden = ShowsAsNothing(r) || IsOtherSpace(r);
    if (r == 0x200C || r == 0x200D) {
      size_t next_len = 0;
      const int32_t after =
          i + len < s.size() ? DecodeUtf8(s, i + len, &next_len) : 0;
      hidden = before < 0x80 || after < 0x80 || ShowsAsNothing(before) ||
               ShowsAsNothing(after);
    }
    if (hidden) return HiddenCharacter{r, i};
    before = r;
  }
  return std::nullopt;
}

bool IsInvisible(int32_t r) {
  return r == 0xAD || r == 0x61C || r == 0x200B || r == 0x200E || r == 0x200F ||
         (r >= 0x2060 && r <= 0x2064) || r == 0xFEFF;
}

std::string Printable(std::string_view s, size_t max_bytes, Quotes quotes) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    size_t len = 0;
    const int32_t r = DecodeUtf8(s, i, &len);
    if (r < 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    switch (r) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
      case '\'':
      case '"':
        if (quotes == Quotes::kEscape) out += '\\';
        out += static_cast<char>(r);
        break;
      default:
        if (r < 0x80 && IsLayoutControl(r)) {
          absl::StrAppendFormat(&out, "\\x%02x", r);
        } else if (IsLayoutControl(r) || IsInvisible(r)) {
          absl::StrAppendFormat(&out, "\\u%04x", r);
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
  if (i < s.size()) out += "...";
  return out;
}

std::string ForTerminal(std::string_view message) {
  std::string out;
  for (size_t start = 0; start <= message.size();) {
    size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    absl::StrAppend(&out, start == 0 ? "" : "\n",
                    Printable(message.substr(start, end - start),
                              std::string_view::npos, Quotes::kKeep));
    start = end + 1;
  }
  return out;
}

}  // namespace caseledger
