// The tokens file and the role table (tools/server/tokens.h).
#include "tools/server/tokens.h"

#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/sha256.h"
#include "tests/testing/test_util.h"

namespace caseledger::server {
namespace {

using ::testing::HasSubstr;

TEST(TokensTest, ParsesRolesNamesDigestsAndComments) {
  std::string text = absl::StrCat(
      "# the ingest service\n", TokenFileLine(Role::kAppender, "ingest", "t1"),
      "\n\n  ", TokenFileLine(Role::kReader, "portal", "t2"),
      "   # trailing comment\n",
      "admin ops sha256:", ToHex(Sha256("t3")).substr(0, 10),
      absl::AsciiStrToUpper(ToHex(Sha256("t3")).substr(10)), "\n");
  ASSERT_OK_AND_ASSIGN(TokenTable table, TokenTable::Parse(text, "tokens"));
  EXPECT_EQ(table.size(), 3u);
  ASSERT_TRUE(table.Find("t1").has_value());
  EXPECT_EQ(table.Find("t1")->name, "ingest");
  EXPECT_EQ(table.Find("t1")->role, Role::kAppender);
  EXPECT_EQ(table.Find("t2")->role, Role::kReader);
  EXPECT_EQ(table.Find("t3")->role, Role::kAdmin);  // hex in either case
  EXPECT_FALSE(table.Find("t4").has_value());
  EXPECT_FALSE(table.Find("").has_value());
}

// An empty token is no token, even in a tokens file that lists the digest
// of the empty text (a line made from an empty token file).
TEST(TokensTest, AnEmptyTokenMatchesNoLine) {
  ASSERT_OK_AND_ASSIGN(
      TokenTable table,
      TokenTable::Parse(TokenFileLine(Role::kAdmin, "blank", ""), "tokens"));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_FALSE(table.Find("").has_value());
}

TEST(TokensTest, MalformedLinesNameTheLine) {
  const std::string digest = "sha256:" + ToHex(Sha256("x"));
  struct Case {
    std::string text, message;
  } cases[] = {
      {"reader alice\n", "line 1: expected 'ROLE NAME sha256:HEX'"},
      {"# c\nroot alice " + digest + "\n", "line 2: unknown role 'root'"},
      {"reader alice md5:abcd\n", "line 1: the digest must start"},
      {"reader alice sha256:abcd\n", "line 1: the digest must be 64 hex"},
      {"reader a " + digest + "\nadmin b " + digest + "\n",
       "line 2: this token digest is listed twice"},
      // The name is shown in the access log.
      {"reader evil\x1b[31m " + digest + "\n",
       "line 1: the name 'evil\\x1b[31m' is not one word of text"},
      {"reader a\xff " + digest + "\n", "line 1: the name 'a\\xff'"},
      {"reader a\u202eb " + digest + "\n", "line 1: the name 'a\\u202eb'"},
      {"reader a\u200bb " + digest + "\n", "line 1: the name 'a\\u200bb'"},
  };
  for (const Case& c : cases) {
    auto table = TokenTable::Parse(c.text, "tokens.conf");
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(table.status().message()),
                HasSubstr("tokens.conf " + c.message))
        << c.text;
  }
}

// A folder opens as a stream that reads as empty: it must not pass for a
// tokens file that lists no tokens.
TEST(TokensTest, AFolderIsNotATokensFile) {
  testing::TempFolder dir;
  auto table = TokenTable::Load(dir.path());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(table.status().message()), HasSubstr("a folder"));
  // Nor for a client's token file that is empty.
  auto token = ReadClientToken(dir.path());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      token.status().message(),
      absl::StrCat("cannot read token file ", dir.path(), ": it is a folder"));
}

// A client's token file holds the token alone: both lines of `caseledger
// token` are refused as such, and an endless file is read no further than
// 1 MiB.
TEST(TokensTest, AClientsTokenFileHoldsTheTokenAlone) {
  testing::TempFolder dir;
  const std::string both = dir.Sub("both.tok");
  std::ofstream(both) << "clt_0123abcd\nreader r sha256:00ff\n";
  EXPECT_EQ(ReadClientToken(both).status(),
            absl::InvalidArgumentError(absl::StrCat(
                "token file ", both,
                " holds more than one line; it must hold the token alone, "
                "line 1 of 'caseledger token' (line 2 goes into the "
                "server's tokens file)")));
  EXPECT_EQ(ReadClientToken("/dev/zero").status(),
            absl::InvalidArgumentError(
                "token file /dev/zero is larger than 1048576 bytes"));
}

// A client's token is printable ASCII of at most 4096 bytes: DEL is not
// printable, and 4096 bytes are taken.
TEST(TokensTest, AClientsTokenIsAtMost4096PrintableBytes) {
  ASSERT_OK_AND_ASSIGN(std::string longest,
                       ClientTokenFrom(std::string(4096, 'a'), "token file t"));
  EXPECT_EQ(longest, std::string(4096, 'a'));
  EXPECT_EQ(ClientTokenFrom(std::string(4097, 'a'), "token file t").status(),
            absl::InvalidArgumentError(
                "token file t holds 4097 bytes; a token is at most 4096 "
                "('caseledger token' makes them of 68)"));
  EXPECT_EQ(ClientTokenFrom("clt_\x7f", "token file t").status(),
            absl::InvalidArgumentError(
                "token file t: byte 5 (0x7f) cannot be part of a token, "
                "which is printable ASCII without spaces"));
  ASSERT_OK_AND_ASSIGN(std::string tilde, ClientTokenFrom(" clt_~\n", "t"));
  EXPECT_EQ(tilde, "clt_~");
}

TEST(TokensTest, NewTokensAreRandomAndTheirLineMatches) {
  ASSERT_OK_AND_ASSIGN(std::string a, NewToken());
  ASSERT_OK_AND_ASSIGN(std::string b, NewToken());
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 4u + 64u);
  EXPECT_EQ(a.substr(0, 4), "clt_");
  ASSERT_OK_AND_ASSIGN(
      TokenTable table,
      TokenTable::Parse(TokenFileLine(Role::kExporter, "x", a), "t"));
  EXPECT_EQ(table.Find(a)->role, Role::kExporter);
  EXPECT_FALSE(table.Find(b).has_value());
}

TEST(TokensTest, RolesGrantFixedPermissions) {
  EXPECT_TRUE(Allows(Role::kAppender, Permission::kAppend));
  EXPECT_FALSE(Allows(Role::kAppender, Permission::kRead));
  EXPECT_FALSE(Allows(Role::kAppender, Permission::kExport));
  EXPECT_TRUE(Allows(Role::kReader, Permission::kRead));
  EXPECT_FALSE(Allows(Role::kReader, Permission::kAppend));
  EXPECT_FALSE(Allows(Role::kReader, Permission::kExport));
  EXPECT_TRUE(Allows(Role::kExporter, Permission::kExport));
  EXPECT_FALSE(Allows(Role::kExporter, Permission::kRead));
  for (Role r :
       {Role::kAppender, Role::kReader, Role::kExporter, Role::kAdmin}) {
    EXPECT_TRUE(Allows(r, Permission::kProve));
    EXPECT_EQ(Allows(r, Permission::kAdminister), r == Role::kAdmin);
    EXPECT_EQ(*ParseRole(RoleName(r)), r);
  }
  for (Permission p :
       {Permission::kAppend, Permission::kRead, Permission::kExport,
        Permission::kProve, Permission::kAdminister}) {
    EXPECT_TRUE(Allows(Role::kAdmin, p));
  }
}

// Each role grants exactly its row of docs/service.md's table: the checks
// above left out some pairs (an exporter that could append passed them).
TEST(TokensTest, EachRoleGrantsExactlyItsRowOfTheTable) {
  const std::set<Permission> all = {Permission::kAppend, Permission::kRead,
                                    Permission::kExport, Permission::kProve,
                                    Permission::kAdminister};
  const std::pair<Role, std::set<Permission>> rows[] = {
      {Role::kAppender, {Permission::kAppend, Permission::kProve}},
      {Role::kReader, {Permission::kRead, Permission::kProve}},
      {Role::kExporter, {Permission::kExport, Permission::kProve}},
      {Role::kAdmin, all},
  };
  for (const auto& [role, grants] : rows) {
    for (Permission p : all) {
      EXPECT_EQ(Allows(role, p), grants.contains(p))
          << RoleName(role) << " permission " << static_cast<int>(p);
    }
  }
}

}  // namespace
}  // namespace caseledger::server
