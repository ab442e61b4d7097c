// A real server on 127.0.0.1 with an ephemeral port over a real ledger in a
// temp folder, one token per role, and clients; for the tests of
// tests/server.
#ifndef CASELEDGER_TESTS_SERVER_SERVER_FIXTURE_H_
#define CASELEDGER_TESTS_SERVER_SERVER_FIXTURE_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/clock.h"
#include "ledger/event_json.h"
#include "ledger/internal/fault_injection.h"
#include "ledger/ledger.h"
#include "tests/testing/test_util.h"
#include "tools/client.h"
#include "tools/server/access_log.h"
#include "tools/server/bundles.h"
#include "tools/server/projections.h"
#include "tools/server/server.h"
#include "tools/server/tokens.h"

namespace caseledger::testing {

// The event JSON of a case's first event.
inline v1::Event CaseOpened(const std::string& case_id) {
  auto e = ParseEventJson(absl::StrCat(
      R"({"case_id": ")", case_id,
      R"(", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "test", "case_opened": {"program": "SP", "office_id": "VO-DELHI", "office_mailbox": "visa-office@office.example", "applicant_country": "PH", "language": "en"}})"));
  EXPECT_TRUE(e.ok()) << e.status();
  return *e;
}

// A free note on a case; `text` must need no JSON escaping.
inline v1::Event Note(const std::string& case_id, const std::string& text) {
  auto e = ParseEventJson(absl::StrCat(
      R"({"case_id": ")", case_id,
      R"(", "occurred_at": "2011-01-11T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "test", "officer_note_added": {"text": ")",
      text, R"("}})"));
  EXPECT_TRUE(e.ok()) << e.status();
  return *e;
}

class ServerFixture : public ::testing::Test {
 protected:
  struct Tokens {
    std::string appender, reader, exporter, admin;
  };

  void SetUp() override {
    LedgerOptions ledger_options;
    ledger_options.checkpoint_every_entries = checkpoint_every_;
    ledger_options.faults = faults_;
    auto ledger =
        Ledger::Create(dir_.Sub("ledger"), "server.test/log", ledger_options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = std::move(*ledger);
    std::string table;
    for (auto [role, token] :
         {std::pair{server::Role::kAppender, &tokens_.appender},
          std::pair{server::Role::kReader, &tokens_.reader},
          std::pair{server::Role::kExporter, &tokens_.exporter},
          std::pair{server::Role::kAdmin, &tokens_.admin}}) {
      auto t = server::NewToken();
      ASSERT_TRUE(t.ok());
      *token = *t;
      absl::StrAppend(&table, "# ", std::string(server::RoleName(role)), "\n",
                      server::TokenFileLine(role, server::RoleName(role), *t),
                      "\n");
    }
    auto parsed = server::TokenTable::Parse(table, "test tokens");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    token_table_ = std::move(*parsed);
    auto log = server::AccessLog::Open(AccessLogPath(), &SystemClock());
    ASSERT_TRUE(log.ok()) << log.status();
    access_log_ = std::move(*log);
    projections_ = server::NewProjectionRenderer(&SystemClock());
    bundles_ = server::NewBundleExporter(&SystemClock());
    if (start_server_) StartServer();
  }

  void TearDown() override {
    server_.reset();
    ledger_.reset();
  }

  // Starts the server with `options` (its service part is filled in here).
  void StartServer(server::ServerOptions options = {}) {
    options.listen = listen_;
    options.service.ledger = ledger_.get();
    options.service.tokens = &token_table_;
    options.service.access_log = access_log_.get();
    options.service.clock = &SystemClock();
    options.service.projections = projections_.get();
    options.service.bundles = bundles_.get();
    options.service.most_events_per_page = most_events_per_page_;
    auto server = server::Server::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // (Re)starts the server with `backup_dir` (created here) as its
  // --backup-dir.
  void StartServerWithBackupDir(const std::string& backup_dir) {
    server_.reset();
    std::filesystem::create_directories(backup_dir);
    server::ServerOptions options;
    options.service.backup_dir = backup_dir;
    StartServer(std::move(options));
  }

  std::unique_ptr<client::LedgerClient> Client(
      const std::string& token, client::ClientOptions options = {}) {
    options.server = server_->address();
    options.token = token;
    options.timeout = absl::Seconds(20);
    auto c = client::LedgerClient::Connect(std::move(options));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  std::string AccessLogPath() const { return dir_.Sub("access-log.jsonl"); }
  // The served ledger's verifier key, to check what the server signs.
  VerifierKey LedgerKey() const {
    absl::StatusOr<std::string> text = ledger_->VerifierKeyText();
    EXPECT_TRUE(text.ok()) << text.status();
    absl::StatusOr<VerifierKey> key = ParseVerifierKey(text.ok() ? *text : "");
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *key : VerifierKey{};
  }

  // Set before SetUp() (in a derived constructor) to change them.
  uint64_t checkpoint_every_ = 1000;
  uint64_t most_events_per_page_ = 256;
  bool start_server_ = true;
  std::string listen_ = "127.0.0.1:0";
  // Storage faults under the ledger (tests only); none when null.
  std::shared_ptr<internal::FaultInjection> faults_;

  TempFolder dir_;
  std::unique_ptr<Ledger> ledger_;
  Tokens tokens_;
  server::TokenTable token_table_;
  std::unique_ptr<server::AccessLog> access_log_;
  std::unique_ptr<server::ProjectionRenderer> projections_;
  std::unique_ptr<server::BundleExporter> bundles_;
  std::unique_ptr<server::Server> server_;
};

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_SERVER_SERVER_FIXTURE_H_
