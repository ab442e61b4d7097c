#include "tools/server/tokens.h"

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"

namespace caseledger::server {

namespace {
constexpr char kDigestPrefix[] = "sha256:";
constexpr char kTokenPrefix[] = "clt_";

// The text of the `what` ("tokens file", "token file") at `path`, at most
// `max_bytes` of it. A folder opens as a stream that reads as empty: a
// table of no tokens, or "token file DIR is empty" (found by an outside
// reading); /dev/zero would be read until memory ran out.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path,
                                          absl::string_view what,
                                          size_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " ", path, ": it is a folder"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", what, " ", path, ": ", std::strerror(errno)));
  }
  std::string text;
  char chunk[1 << 16];
  while (in) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", path, " is larger than ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", what, " ", path, ": ", std::strerror(errno)));
  }
  return text;
}

// A tokens file of a million lines is ~100 MB; a token is 68 bytes
// ('caseledger token'), and gRPC refuses a header of more than 8 KiB.
constexpr size_t kMaxTokensFileBytes = size_t{256} << 20;
constexpr size_t kMaxTokenFileBytes = size_t{1} << 20;
constexpr size_t kMaxTokenBytes = 4096;
}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAppender:
      return "appender";
    case Role::kReader:
      return "reader";
    case Role::kExporter:
      return "exporter";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(std::string_view name) {
  for (Role r :
       {Role::kAppender, Role::kReader, Role::kExporter, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role '", std::string(name),
                   "' (appender, reader, exporter or admin)"));
}

bool Allows(Role role, Permission permission) {
  switch (role) {
    case Role::kAdmin:
      return true;
    case Role::kAppender:
      return permission == Permission::kAppend ||
             permission == Permission::kProve;
    case Role::kReader:
      return permission == Permission::kRead ||
             permission == Permission::kProve;
    case Role::kExporter:
      return permission == Permission::kExport ||
             permission == Permission::kProve;
  }
  return false;
}

absl::Status CheckHolderName(std::string_view name) {
  // Names reached the access log raw, or as U+FFFD for bytes that are not
  // UTF-8, so that two names logged alike (found by an outside reading).
  if (IsOneWordOfText(name, "#")) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the name '", Printable(name),
                   "' is not one word of text: no spaces or '#', nor control, "
                   "bidirectional or invisible characters"));
}

absl::StatusOr<TokenTable> TokenTable::Parse(std::string_view text,
                                             std::string_view source) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(std::string(text), '\n')) {
    ++line_number;
    std::string line(raw);
    if (size_t hash = line.find('#'); hash != std::string::npos) {
      line.resize(hash);
    }
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(source), " line ", line_number, ": ", why));
    };
    if (fields.size() != 3) {
      return bad("expected 'ROLE NAME sha256:HEX'");
    }
    auto role = ParseRole(fields[0]);
    if (!role.ok()) return bad(std::string(role.status().message()));
    if (absl::Status name = CheckHolderName(fields[1]); !name.ok()) {
      return bad(std::string(name.message()));
    }
    if (!absl::StartsWith(fields[2], kDigestPrefix)) {
      return bad("the digest must start with 'sha256:'");
    }
    std::string hex =
        absl::AsciiStrToLower(fields[2].substr(sizeof(kDigestPrefix) - 1));
    if (!IsLowerHexSha256(hex)) {
      return bad("the digest must be 64 hex digits");
    }
    if (table.by_digest_.contains(hex)) {
      return bad("this token digest is listed twice");
    }
    table.by_digest_[hex] = Principal{fields[1], *role};
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  CASELEDGER_ASSIGN_OR_RETURN(
      std::string text,
      ReadTokenFile(path, "tokens file", kMaxTokensFileBytes));
  return Parse(text, path);
}

std::optional<Principal> TokenTable::Find(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  auto it = by_digest_.find(ToHex(Sha256(token)));
  if (it == by_digest_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::string> NewToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("the OS random generator failed");
  }
  return absl::StrCat(
      kTokenPrefix,
      ToHex(std::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes))));
}

std::string TokenFileLine(Role role, std::string_view name,
                          std::string_view token) {
  return absl::StrCat(std::string(RoleName(role)), " ", std::string(name), " ",
                      kDigestPrefix, ToHex(Sha256(token)));
}

absl::StatusOr<std::string> ReadClientToken(const std::string& path) {
  CASELEDGER_ASSIGN_OR_RETURN(
      std::string text, ReadTokenFile(path, "token file", kMaxTokenFileBytes));
  return ClientTokenFrom(text, absl::StrCat("token file ", path));
}

absl::StatusOr<std::string> ClientTokenFrom(std::string_view text,
                                            std::string_view source_text) {
  const absl::string_view source = AbslView(source_text);
  std::string token(absl::StripAsciiWhitespace(AbslView(text)));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " is empty"));
  }
  // The server would refuse the header without reading it, and record
  // nothing (found by an outside reading).
  if (token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, " holds ", token.size(), " bytes; a token is at most ",
        kMaxTokenBytes, " ('caseledger token' makes them of 68)"));
  }
  // gRPC aborts the process on a header value it cannot send, printing the
  // value: a file holding both lines of `caseledger token` killed the client
  // and showed the token on its standard error.
  if (const size_t line_end = token.find('\n'); line_end != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        " holds more than one line; it must hold the token alone, line 1 of "
        "'caseledger token' (line 2 goes into the server's tokens file)"));
  }
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: byte %d (0x%02x) cannot be part of a token, which "
          "is printable ASCII without spaces",
          source, i + 1, c));
    }
  }
  return token;
}

}  // namespace caseledger::server
