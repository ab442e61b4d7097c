// The tokens file and the role table (tools/server/tokens.h).
#include "tools/server/tokens.h"

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

}  // namespace
}  // namespace caseledger::server
