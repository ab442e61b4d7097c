// Bearer tokens and the roles they grant (domain.md §6, docs/service.md).
//
// The tokens file holds one token per line, `ROLE NAME sha256:HEX`, where HEX
// is the lowercase SHA-256 of the token's exact text; the token itself is
// never stored. `#` starts a comment; blank lines are ignored. A client's
// token file holds the token alone.
//
// Thread safety: a TokenTable is immutable after Parse(); Find() may be
// called from many threads.
#ifndef CASELEDGER_TOOLS_SERVER_TOKENS_H_
#define CASELEDGER_TOOLS_SERVER_TOKENS_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace caseledger::server {

enum class Role { kAppender, kReader, kExporter, kAdmin };

// What an RPC needs. Each role grants a fixed set (docs/service.md):
//   appender: kAppend, kProve        reader: kRead, kProve
//   exporter: kExport, kProve        admin: all of them, and kAdminister
enum class Permission { kAppend, kRead, kExport, kProve, kAdminister };

// "appender", "reader", "exporter", "admin".
std::string_view RoleName(Role role);
// Parses a role name; kInvalidArgument listing the valid ones otherwise.
absl::StatusOr<Role> ParseRole(std::string_view name);
// Returns true when `role` grants `permission`.
bool Allows(Role role, Permission permission);

// OK when `name` may name a token's holder: one word of text (no white
// space or '#', which end it in a tokens file), without control,
// bidirectional or invisible characters (it is shown in the access log).
// kInvalidArgument saying so otherwise.
absl::Status CheckHolderName(std::string_view name);

// Who called: the NAME and ROLE of the matching tokens-file line.
struct Principal {
  std::string name;
  Role role = Role::kReader;
};

class TokenTable {
 public:
  // Parses a tokens file's text. kInvalidArgument naming `source` and the
  // line for a malformed line, an unknown role, a name CheckHolderName
  // refuses, a digest that is not 64 hex digits, or a digest listed twice.
  static absl::StatusOr<TokenTable> Parse(std::string_view text,
                                          std::string_view source);
  // Reads and parses the file at `path`.
  static absl::StatusOr<TokenTable> Load(const std::string& path);

  // The principal whose digest is SHA-256(token); nullopt when none.
  std::optional<Principal> Find(std::string_view token) const;
  size_t size() const { return by_digest_.size(); }

 private:
  absl::flat_hash_map<std::string, Principal> by_digest_;  // lowercase hex
};

// A new random token (256 bits from the OS CSPRNG): "clt_" then 64 hex digits.
absl::StatusOr<std::string> NewToken();
// The tokens-file line for `token`: "ROLE NAME sha256:HEX".
std::string TokenFileLine(Role role, std::string_view name,
                          std::string_view token);
// Reads a client's token file: the token alone, surrounding white space
// trimmed. kInvalidArgument when unreadable or empty.
absl::StatusOr<std::string> ReadClientToken(const std::string& path);
// The same check of a token's `text` read elsewhere (standard input);
// `source` names it in errors, e.g. "token file F".
absl::StatusOr<std::string> ClientTokenFrom(std::string_view text,
                                            std::string_view source);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_TOKENS_H_
