#include "ledger/internal/key_in_message.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/base64.h"
#include "ledger/untrusted_text.h"

namespace caseledger::internal {
namespace {

// The value of each base64 character, -1 for others: the standard alphabet
// and the URL-safe one's '-' and '_' (RFC 4648 §5) alike.
constexpr std::array<int8_t, 256> kValues = [] {
  std::array<int8_t, 256> v{};
  for (int8_t& x : v) x = -1;
  constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(kAlphabet[i])] = i;
  v['-'] = 62;
  v['_'] = 63;
  return v;
}();

// What a run of base64 text skips, as a MIME decoder does: line breaks,
// white space, and the '>' of a quoted reply (found by a review: a key
// attached with trailing spaces, indented, or quoted was stored).
bool Skipped(char c) {
  return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '>';
}

// `run` (base64 characters only) decoded from its start; a last group of
// two or three characters gives its one or two bytes, as unpadded base64.
std::string Decoded(std::string_view run) {
  std::string out;
  out.reserve(run.size() / 4 * 3 + 2);
  for (size_t i = 0; i + 2 <= run.size(); i += 4) {
    const size_t n = std::min<size_t>(4, run.size() - i);
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      group <<= 6;
      if (j < n) group |= kValues[static_cast<unsigned char>(run[i + j])];
    }
    out.push_back(static_cast<char>(group >> 16));
    if (n >= 3) out.push_back(static_cast<char>(group >> 8 & 0xFF));
    if (n == 4) out.push_back(static_cast<char>(group & 0xFF));
  }
  return out;
}

bool HoldsAny(std::string_view text, const std::vector<std::string>& needles) {
  for (const std::string& needle : needles) {
    if (!needle.empty() && text.find(needle) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// Whether decoded bytes read as text (tabs, line breaks, printable ASCII
// and well-formed UTF-8 beyond it, nearly all): a message or file in base64
// inside another, worth reading for runs of its own. The wrong alignments of
// a run decode to bytes that do not. (A forwarded message in Japanese or
// Arabic was ASCII for only a quarter of its bytes; found by a review.)
bool LooksLikeText(std::string_view bytes) {
  size_t text = 0;
  for (size_t i = 0, len = 1; i < bytes.size(); i += len) {
    len = 1;
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      text += b == '\t' || b == '\n' || b == '\r' || b >= 0x20;
    } else if (DecodeUtf8(bytes, i, &len) >= 0) {
      text += len;
    }
  }
  return text >= bytes.size() - bytes.size() / 20;
}

// A message forwarded as an attachment holds its own attachments in base64
// inside base64 (found by a second review); deeper is not looked into.
constexpr int kNestedLevels = 2;

bool Carries(std::string_view message, const std::vector<std::string>& needles,
             int levels) {
  if (HoldsAny(message, needles)) return true;
  // The shortest run worth decoding: the seed's own base64, unpadded.
  constexpr size_t kShortestRun = 43;
  std::string run;
  auto carried = [&] {
    // The PEM's lines as they are, rewrapped or quoted.
    if (run.size() >= kShortestRun && HoldsAny(run, needles)) return true;
    for (size_t skip = 0; run.size() >= kShortestRun + skip && skip < 4;
         ++skip) {
      const std::string decoded = Decoded(std::string_view(run).substr(skip));
      if (HoldsAny(decoded, needles)) return true;
      if (levels > 1 && LooksLikeText(decoded) &&
          Carries(decoded, needles, levels - 1)) {
        return true;
      }
    }
    return false;
  };
  for (size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (kValues[static_cast<unsigned char>(c)] >= 0) {
      run.push_back(c);
    } else if (Skipped(c)) {
      continue;
    } else if (c == '=' && (message.substr(i + 1, 2) == "\r\n" ||
                            message.substr(i + 1, 1) == "\n")) {
      // A quoted-printable soft line break: the line goes on.
      continue;
    } else {
      if (carried()) return true;
      run.clear();
    }
  }
  return carried();
}

}  // namespace

bool CarriesPrivateKey(std::string_view message, std::string_view pem) {
  std::vector<std::string> needles;
  std::string body;
  for (size_t start = 0; start < pem.size();) {
    size_t end = pem.find('\n', start);
    if (end == std::string_view::npos) end = pem.size();
    const std::string_view line = pem.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line.substr(0, 5) == "-----") continue;
    needles.emplace_back(line);
    body.append(line);
  }
  // The seed ends the DER of an Ed25519 PKCS#8 key (version 1, 48 bytes,
  // as the ledger writes it; a version 2 key ends with its public key).
  if (absl::StatusOr<std::string> der = Base64Decode(body, "key");
      der.ok() && der->size() == 48) {
    needles.push_back(der->substr(der->size() - 32));
  }
  return Carries(message, needles, kNestedLevels);
}

}  // namespace caseledger::internal
