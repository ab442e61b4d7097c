// `caseledger serve` as a child process and `caseledger --server ...` client
// mode, end to end: the readiness line, identical outputs in both modes,
// SIGTERM under load with every acknowledged append kept.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "ledger/sha256.h"
#include "projections/deadline_index.h"
#include "tests/server/server_fixture.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/deadline_index.h"
#include "tests/testing/test_util.h"
#include "tools/client.h"

namespace caseledger {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

using testing::CliRun;

// `caseledger serve` in a child process.
class ServeProcess {
 public:
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Starts it, with `env` (NAME, value) added to its environment, and waits
  // (at most 30 s) for "listening on HOST:PORT"; returns HOST:PORT, or ""
  // when it did not come. With `stdout_full`, its standard output is
  // /dev/full, and the line is looked for in its standard error.
  std::string Start(
      const std::vector<std::string>& args, const std::string& err_path,
      const std::vector<std::pair<std::string, std::string>>& env = {},
      bool stdout_full = false) {
    int out[2];
    if (::pipe(out) != 0) return "";
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& [name, value] : env) {
        ::setenv(name.c_str(), value.c_str(), 1);
      }
      ::dup2(stdout_full ? ::open("/dev/full", O_WRONLY) : out[1], 1);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(err, 2);
      ::close(out[0]);
      std::vector<std::string> all = {CASELEDGER_BINARY, "serve"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(CASELEDGER_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_fd_ = out[0];
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    if (stdout_full) {
      for (; absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(20))) {
        const std::string err = testing::FileContents(err_path);
        const size_t at = err.find("listening on ");
        const size_t end = err.find('\n', at);
        if (end != std::string::npos && at != std::string::npos) {
          return err.substr(at + 13, end - at - 13);
        }
      }
      return "";
    }
    std::string line;
    while (absl::Now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, 1000);
      if (ready <= 0) continue;
      char c;
      if (::read(out_fd_, &c, 1) != 1) return "";  // exited
      if (c != '\n') {
        line += c;
        continue;
      }
      if (absl::StartsWith(line, "listening on ")) {
        return line.substr(sizeof("listening on ") - 1);
      }
      line.clear();
    }
    return "";
  }

  pid_t pid() const { return pid_; }

  // Sends `signal` and returns the exit code (-1 unless it exited).
  int Stop(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
};

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One token per role; the server's tokens file has their digests.
    std::string table = "# tokens of the test\n";
    for (const char* role : {"appender", "reader", "admin"}) {
      CliRun r =
          Cli(absl::StrCat("token --role ", role, " --name ", role, "-1"));
      ASSERT_EQ(r.code, 0) << r.err;
      std::vector<std::string> lines =
          absl::StrSplit(r.out, '\n', absl::SkipEmpty());
      ASSERT_EQ(lines.size(), 2u);
      // Readable by its owner alone, as a secret is kept (others reading
      // it are warned of: ATokenFileOthersCanReadIsWarnedOf).
      std::filesystem::permissions(
          Write(absl::StrCat(role, ".token"), lines[0] + "\n"),
          std::filesystem::perms::owner_read |
              std::filesystem::perms::owner_write);
      token_[role] = lines[0];
      absl::StrAppend(&table, lines[1], "\n");
    }
    Write("tokens", table);
  }

  CliRun Cli(const std::string& args, const std::string& stdin_text = "") {
    return testing::RunCli(CASELEDGER_BINARY, args, dir_, stdin_text);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Client-mode prefix for `role`.
  std::string Remote(const std::string& address, const std::string& role) {
    return absl::StrCat("--server ", address, " --token-file ",
                        dir_.Sub(role + ".token"), " ");
  }

  // Serves `db` on a free port with the test's tokens and `flags` besides.
  std::string Serve(
      ServeProcess& p, const std::string& db,
      const std::vector<std::string>& flags = {},
      const std::vector<std::pair<std::string, std::string>>& env = {}) {
    std::vector<std::string> args = {
        "--db", db, "--listen", "127.0.0.1:0", "--tokens", dir_.Sub("tokens")};
    args.insert(args.end(), flags.begin(), flags.end());
    return p.Start(args, dir_.Sub("serve.err"), env);
  }
  // Changes the second record of the access log at `path` (a read's
  // from_position), which breaks the chain at the third; returns the text
  // written.
  std::string EditSecondRecord(const std::string& path) {
    std::string text = testing::FileContents(path);
    const size_t what = text.find("from_position=1", text.find('\n'));
    EXPECT_NE(what, std::string::npos) << text;
    if (what != std::string::npos) text.replace(what, 15, "from_position=9");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return text;
  }
  // The same with `backups` (made here) as its --backup-dir.
  std::string ServeWithBackups(ServeProcess& p, const std::string& db,
                               const std::string& backups) {
    std::filesystem::create_directory(backups);
    return Serve(p, db, {"--backup-dir", backups});
  }

  std::string Example(const std::string& name) const {
    return testing::SharedDir() + "/examples/" + name;
  }

  // A new ledger in `db`, served with `flags` and holding the
  // bounce-handled example (10 events), appended through the server: its
  // address, or "" (with a failure recorded) when any step failed.
  std::string ServeTheExample(ServeProcess& p, const std::string& db,
                              const std::vector<std::string>& flags) {
    if (Cli("init --db " + db + " --name e2e.test/log").code != 0) {
      ADD_FAILURE() << "init failed";
      return "";
    }
    std::string address = Serve(p, db, flags);
    if (address.empty()) {
      ADD_FAILURE() << testing::FileContents(dir_.Sub("serve.err"));
      return "";
    }
    if (Cli(Remote(address, "appender") + "append " +
            Example("bounce-handled.jsonl"))
            .code != 0) {
      ADD_FAILURE() << "append through the server failed";
      return "";
    }
    return address;
  }

  // Serves the example (10 events) and stops the server with `signal`,
  // named `name`: it stops as SIGTERM stops it, saying so, with exit 0, the
  // size it stopped at, the deadline index taken up and a final checkpoint
  // signed over the appends (the automatic one waits a minute).
  void StopsAsSigtermDoes(int signal, const std::string& name) {
    const std::string db = dir_.Sub("ledger");
    ServeProcess server;
    ASSERT_FALSE(ServeTheExample(server, db, {}).empty());
    EXPECT_EQ(server.Stop(signal), 0)
        << testing::FileContents(dir_.Sub("serve.err"));
    const std::string err = testing::FileContents(dir_.Sub("serve.err"));
    EXPECT_THAT(err, HasSubstr("caseledger serve: " + name +
                               ": no new calls; finishing the calls in "
                               "flight\n"));
    EXPECT_THAT(err, HasSubstr("caseledger serve: stopped; ledger size 10\n"));
    {
      LedgerOptions read_only;
      read_only.read_only = true;
      ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(db, read_only));
      ASSERT_OK_AND_ASSIGN(
          uint64_t indexed,
          ledger->ProjectionPosition(projections::DeadlineIndex::kName));
      EXPECT_EQ(indexed, 10u);
    }
    CliRun verified = Cli("verify --db " + db);
    EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
    EXPECT_THAT(verified.out, HasSubstr(", 1 checkpoint verified\n"));
  }

  // A new ledger in `db`, served with `flags` on a disk whose log syncs
  // each take `sync_ms` more (fsync_fails.cc, preloaded): the example is
  // appended through it in client mode, and SIGTERM sent while that append
  // waits for the disk. Returns the client's run, once both ended; the
  // server's exit code in `*stopped`.
  CliRun AppendInFlightAtSigterm(const std::string& db,
                                 const std::vector<std::string>& flags,
                                 int sync_ms, int* stopped) {
    CliRun appended;
    if (Cli("init --db " + db).code != 0) {
      ADD_FAILURE() << "init failed";
      return appended;
    }
    const std::string syncing = dir_.Sub("syncing");
    std::vector<std::pair<std::string, std::string>> env =
        testing::Preloading(CASELEDGER_FSYNC_FAILS);
    env.emplace_back("CASELEDGER_TEST_SLOW_LOG_SYNC_MS",
                     std::to_string(sync_ms));
    env.emplace_back("CASELEDGER_TEST_SLOW_LOG_SYNC_MARK", syncing);
    ServeProcess server;
    const std::string address = Serve(server, db, flags, env);
    if (address.empty()) {
      ADD_FAILURE() << testing::FileContents(dir_.Sub("serve.err"));
      return appended;
    }
    std::filesystem::remove(syncing);  // a sync of the start, if any
    std::thread client([&] {
      appended = Cli(Remote(address, "appender") + "append " +
                     Example("bounce-handled.jsonl"));
    });
    for (absl::Time give_up = absl::Now() + absl::Seconds(30);
         absl::Now() < give_up && !std::filesystem::exists(syncing);
         absl::SleepFor(absl::Milliseconds(10))) {
    }
    EXPECT_TRUE(std::filesystem::exists(syncing));
    *stopped = server.Stop(SIGTERM);
    client.join();
    return appended;
  }

  // Runs `caseledger ARGS` (a client-mode call to a server of this
  // process that notifies `arrived` when the call reaches it and holds it
  // until `release`), sends the client SIGTERM once the call arrived, waits
  // (at most 10 s) for the client to say it heard it, then releases the
  // call; returns the client's run.
  CliRun SigtermWhileTheServerHoldsTheCall(const std::string& args,
                                           absl::Notification& arrived,
                                           absl::Notification& release) {
    const std::string pid_file = dir_.Sub("client.pid");
    CliRun r;
    std::thread client([&] {
      r = testing::RunCli(
          absl::StrCat("{ ", CASELEDGER_BINARY),
          absl::StrCat(args, " & echo $! > ", pid_file, "; wait $!; }"), dir_);
    });
    const bool came = arrived.WaitForNotificationWithTimeout(absl::Seconds(30));
    EXPECT_TRUE(came);
    if (came) {
      std::string pid_text;  // written by the shell as it starts the client
      for (absl::Time give_up = absl::Now() + absl::Seconds(10);
           absl::Now() < give_up && !absl::EndsWith(pid_text, "\n");
           absl::SleepFor(absl::Milliseconds(20))) {
        pid_text = testing::FileContents(pid_file);
      }
      const pid_t pid = std::atoi(pid_text.c_str());
      EXPECT_GT(pid, 0) << pid_text;
      if (pid > 0) ::kill(pid, SIGTERM);
      // Its handler says at once that it heard the signal (or the process
      // is gone).
      for (absl::Time give_up = absl::Now() + absl::Seconds(10);
           absl::Now() < give_up && pid > 0 && ::kill(pid, 0) == 0 &&
           !absl::StrContains(testing::FileContents(dir_.Sub("stderr")),
                              "SIGTERM received");
           absl::SleepFor(absl::Milliseconds(20))) {
      }
    }
    release.Notify();
    client.join();
    return r;
  }

  testing::TempFolder dir_;
  std::map<std::string, std::string> token_;
};

// `service` served in this process on a free port of 127.0.0.1, as the
// real server would not answer; its address set in `address`.
std::unique_ptr<grpc::Server> ServeInProcess(grpc::Service* service,
                                             std::string* address) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  *address = absl::StrCat("127.0.0.1:", port);
  return port > 0 ? std::move(server) : nullptr;
}

// A server that answers proofs with a hash one byte short, as a broken or
// hostile one might: client mode must refuse to print such a proof.
class ShortHashProofs final : public v1::Ledger::Service {
  grpc::Status GetInclusionProof(grpc::ServerContext*,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override {
    response->set_leaf_index(request->position() - 1);
    response->set_tree_size(request->tree_size());
    response->add_hashes(std::string(32, 'a'));
    response->add_hashes(std::string(31, 'b'));
    return grpc::Status::OK;
  }
  grpc::Status GetConsistencyProof(
      grpc::ServerContext*, const v1::GetConsistencyProofRequest* request,
      v1::ConsistencyProof* response) override {
    response->set_old_size(request->old_size());
    response->set_new_size(request->new_size());
    response->add_hashes(std::string(31, 'b'));
    return grpc::Status::OK;
  }
};

TEST_F(ServeTest, ClientModeRefusesAProofWithAHashOfTheWrongLength) {
  ShortHashProofs service;
  std::string address;
  std::unique_ptr<grpc::Server> server = ServeInProcess(&service, &address);
  ASSERT_NE(server, nullptr);
  const std::string reader = Remote(address, "reader");

  CliRun inclusion = Cli(reader + "prove --position 3 --size 9");
  EXPECT_EQ(inclusion.code, 4) << inclusion.err;
  EXPECT_EQ(inclusion.out, "");
  EXPECT_THAT(inclusion.err, HasSubstr("hash 2 is 31 bytes long, not 32"));
  CliRun consistency = Cli(reader + "prove --from-size 2 --size 9");
  EXPECT_EQ(consistency.code, 4) << consistency.err;
  EXPECT_EQ(consistency.out, "");
  EXPECT_THAT(consistency.err, HasSubstr("hash 1 is 31 bytes long, not 32"));
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
}

// A server that holds each append until `release`, then answers it as
// stored at positions 1..N.
class HeldAppends final : public v1::Ledger::Service {
 public:
  absl::Notification arrived, release;

 private:
  grpc::Status Append(grpc::ServerContext*, const v1::AppendRequest* request,
                      v1::AppendResponse* response) override {
    if (request->events_size() == 0) return grpc::Status::OK;
    arrived.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
    for (int i = 0; i < request->events_size(); ++i) {
      v1::AppendedEvent* e = response->add_events();
      e->set_event_id(request->events(i).event_id());
      e->set_position(i + 1);
      e->set_case_version(i + 1);
    }
    response->set_tree_size(request->events_size());
    return grpc::Status::OK;
  }
};

// SIGTERM while a client-mode append waits for its answer: the answer is
// taken and printed, and the exit is 0, since the server may write the call
// whatever becomes of the client; ended at once, it left the user to guess.
TEST_F(ServeTest, AClientModeAppendSentSigtermPrintsItsOutcomeFirst) {
  HeldAppends service;
  std::string address;
  std::unique_ptr<grpc::Server> server = ServeInProcess(&service, &address);
  ASSERT_NE(server, nullptr);
  CliRun r = SigtermWhileTheServerHoldsTheCall(
      Remote(address, "appender") + "append " + Example("bounce-handled.jsonl"),
      service.arrived, service.release);
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "appended 10 events; positions 1..10; ledger size 10\n");
  EXPECT_THAT(r.err, HasSubstr("caseledger append: SIGTERM received while "
                               "appending; the append was finished first\n"));
}

// A server that sends the first bytes of a bundle, holds the rest until
// `release`, then sends them and the summary of a bundle of `kBundle`.
class HeldExports final : public v1::Ledger::Service {
 public:
  static constexpr char kBundle[] = "PK\3\4 the first half, the second half";
  absl::Notification arrived, release;

 private:
  grpc::Status ExportBundle(
      grpc::ServerContext*, const v1::ExportBundleRequest* request,
      grpc::ServerWriter<v1::BundleChunk>* writer) override {
    const std::string bundle = kBundle;
    const size_t half = bundle.find(',') + 1;
    v1::BundleChunk chunk;
    chunk.set_data(bundle.substr(0, half));
    writer->Write(chunk);
    arrived.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
    chunk.set_data(bundle.substr(half));
    writer->Write(chunk);
    v1::BundleChunk last;
    v1::BundleSummary* summary = last.mutable_summary();
    summary->set_case_id(request->case_id());
    summary->set_purpose(request->purpose());
    summary->set_tree_size(7);
    summary->set_events(6);
    summary->set_members(3);
    summary->set_bytes(bundle.size());
    summary->set_sha256(ToHex(Sha256(bundle)));
    summary->set_audit_position(8);
    writer->Write(last);
    return grpc::Status::OK;
  }
};

// SIGTERM while a client-mode export receives its bundle: the server has
// recorded the export by then, so the bundle is received and written and
// its line printed, exit 0; ended at once, the process left a disclosure
// on record and no bundle (RemoteExport's FinishingFirst, reached by no
// test until a mutation audit).
TEST_F(ServeTest, AClientModeExportSentSigtermWritesItsBundleFirst) {
  HeldExports service;
  std::string address;
  std::unique_ptr<grpc::Server> server = ServeInProcess(&service, &address);
  ASSERT_NE(server, nullptr);
  const std::string out = dir_.Sub("b.zip");
  CliRun r = SigtermWhileTheServerHoldsTheCall(
      Remote(address, "admin") +
          "export --case E2012-000417 --purpose investigation --out " + out,
      service.arrived, service.release);
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string bundle = HeldExports::kBundle;
  EXPECT_EQ(r.out, absl::StrCat("exported case E2012-000417 for INVESTIGATION "
                                "at tree size 7: ",
                                out, " (6 events, 3 files, ", bundle.size(),
                                " bytes, sha256 ", ToHex(Sha256(bundle)),
                                "); recorded as position 8\n"));
  EXPECT_EQ(testing::FileContents(out), bundle);
  EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
  EXPECT_THAT(r.err, HasSubstr("caseledger export: SIGTERM received while "
                               "exporting; the export was finished first\n"));
}

TEST_F(ServeTest, TokenVerbPrintsTokenThenItsTokensFileLine) {
  CliRun r = Cli("token --role exporter --name court-clerk");
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  ASSERT_EQ(lines.size(), 3u);  // two lines, each ending in a newline
  EXPECT_THAT(lines[0], StartsWith("clt_"));
  // The digest is the token's: a line of the name's digest passed when
  // only its opening was checked (found by a mutation).
  EXPECT_EQ(lines[1], "exporter court-clerk sha256:" + ToHex(Sha256(lines[0])));
  EXPECT_THAT(lines[1], ::testing::Not(HasSubstr(lines[0])));
  EXPECT_EQ(Cli("token --role root --name x").code, 2);
  EXPECT_EQ(Cli("token --role reader").code, 2);
}

TEST_F(ServeTest, ServeNeedsTokensAndALedger) {
  EXPECT_EQ(
      Cli("serve --db " + dir_.Sub("none") + " --listen 127.0.0.1:0").code, 2);
  CliRun r = Cli("serve --db " + dir_.Sub("none") +
                 " --listen 127.0.0.1:0 --tokens " + dir_.Sub("tokens"));
  EXPECT_EQ(r.code, 2) << r.err;
  Write("bad-tokens", "reader alice\n");
  r = Cli("serve --db " + dir_.Sub("none") + " --tokens " +
          dir_.Sub("bad-tokens"));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 1"));
  for (const char* grace : {"nan", "inf", "-1", "soon"}) {
    r = Cli("serve --db " + dir_.Sub("none") + " --tokens " +
            dir_.Sub("tokens") + " --grace " + grace);
    EXPECT_EQ(r.code, 2) << grace;
    EXPECT_THAT(r.err, HasSubstr("is not a number of seconds")) << grace;
  }
}

// A token file others can read gives them the caller's access: the call
// is made, and the caller told, each time; kept private, nothing is said.
TEST_F(ServeTest, ATokenFileOthersCanReadIsWarnedOf) {
  const std::string db = dir_.Sub("warned");
  ASSERT_EQ(Cli("init --db " + db + " --name e2e.test/log").code, 0);
  ServeProcess server;
  const std::string address = Serve(server, db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  const std::string token = dir_.Sub("reader.token");
  CliRun kept = Cli(Remote(address, "reader") + "read");
  EXPECT_EQ(kept.code, 0) << kept.err;
  EXPECT_EQ(kept.err, "");
  // Its group is others too.
  std::filesystem::permissions(token, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  CliRun grouped = Cli(Remote(address, "reader") + "read");
  EXPECT_EQ(grouped.code, 0) << grouped.err;
  EXPECT_THAT(grouped.err, HasSubstr(" has mode 0640: others than its owner "
                                     "can read it"));
  std::filesystem::permissions(token, std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  CliRun open = Cli(Remote(address, "reader") + "read");
  EXPECT_EQ(open.code, 0) << open.err;
  EXPECT_EQ(open.err, "caseledger: warning: the token file " + token +
                          " has mode 0644: others than its owner can read "
                          "it, and whoever reads it can call the server as "
                          "you (chmod 600 " +
                          token + ")\n");
}

TEST_F(ServeTest, ClientModePrintsExactlyWhatLocalModePrints) {
  const std::string local_db = dir_.Sub("local"),
                    served_db = dir_.Sub("served");
  for (const std::string& db : {local_db, served_db}) {
    ASSERT_EQ(Cli("init --db " + db + " --name e2e.test/log").code, 0);
  }
  const std::string events = Example("bounce-handled.jsonl");
  CliRun local_append =
      Cli("append --db " + local_db + " --format json " + events);
  ASSERT_EQ(local_append.code, 0) << local_append.err;

  ServeProcess server;
  std::string address = Serve(server, served_db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  const std::string admin = Remote(address, "admin");
  const std::string reader = Remote(address, "reader");

  CliRun remote_append = Cli(admin + "append --format json " + events);
  ASSERT_EQ(remote_append.code, 0) << remote_append.err;
  EXPECT_EQ(remote_append.out, local_append.out);
  CliRun again = Cli(admin + "append " + events);
  EXPECT_EQ(again.out,
            "appended 0 events (10 already stored, skipped); positions 1..10; "
            "ledger size 10\n");
  std::string case_id = "E2012-000417";
  // The token may come on standard input rather than from a file (it was
  // opened as a file named '-').
  CliRun piped =
      Cli("--server " + address + " --token-file - read --format json",
          testing::FileContents(dir_.Sub("reader.token")));
  EXPECT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, Cli(reader + "read --format json").out);
  EXPECT_THAT(piped.out, HasSubstr(case_id));

  // The same verbs, locally (read-only, beside the server) and remotely.
  struct Case {
    std::string verb;
    int code;
  };
  const std::vector<Case> cases = {
      {"read", 0},
      {"read --format json", 0},
      {"read --case " + case_id + " --from 3 --limit 4", 0},
      {"read --from 8 --format json", 0},
      {"state --case " + case_id, 0},
      {"state --format json --as-of 2012-03-20 --case " + case_id, 0},
      {"deadlines", 0},
      {"deadlines --format json --as-of 2012-03-02", 0},
      {"deadlines --status SATISFIED --case " + case_id, 0},
      {"findings --case " + case_id, 0},
      {"findings --format json --known-at 2100-01-01 --case " + case_id, 0},
      {"timeline --case " + case_id, 0},
      {"timeline --format json --as-of 2012-03-02 --case " + case_id, 0},
      {"prove --position 3 --size 9", 0},
      {"prove --position 10", 0},
      {"prove --from-size 4", 0},
      {"prove --from-size 2 --size 7", 0},
      // Errors too: same message, same exit code.
      {"read --case NOPE", 2},
      {"read --case NOPE --from 3", 2},
      {"deadlines --case ''", 2},
      {"state --case NOPE", 2},
      {"state", 2},
      {"deadlines --status LATE", 2},
      {"prove --position 11", 2},
      {"prove --position 1 --size 0", 2},
      {"prove --from-size 1 --size 0", 2},
      {"prove", 2},
      {"timeline --as-of yesterday --case " + case_id, 2},
  };
  for (const Case& c : cases) {
    CliRun local = Cli(c.verb + " --db " + served_db);
    CliRun remote = Cli(reader + c.verb);
    EXPECT_EQ(local.code, c.code) << c.verb << "\n" << local.err;
    EXPECT_EQ(remote.code, local.code) << c.verb << "\n" << remote.err;
    EXPECT_EQ(remote.out, local.out) << c.verb;
    EXPECT_EQ(remote.err, local.err) << c.verb;
    if (c.code == 0) {
      EXPECT_FALSE(remote.out.empty()) << c.verb;
    }
  }
  CliRun findings_strict = Cli(reader + "findings --strict --case " + case_id);
  CliRun findings_local =
      Cli("findings --strict --case " + case_id + " --db " + served_db);
  EXPECT_EQ(findings_strict.code, findings_local.code);

  // Append errors: the local ledger holds the same case at the same version.
  Write(
      "bad.jsonl",
      R"({"case_id": "E2012-000417", "occurred_at": "2012-05-01T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "ok"}})"
      "\n"
      R"({"case_id": "E2012-000417", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "no time"}})"
      "\n");
  Write(
      "late.jsonl",
      R"({"case_id": "E2012-000417", "occurred_at": "2012-05-01T10:00:00Z", "actor": {"kind": "OFFICER", "id": "o"}, "officer_note_added": {"text": "late"}})"
      "\n");
  for (const std::string& verb :
       {"append " + dir_.Sub("bad.jsonl"),
        "append --expected-version 5 " + dir_.Sub("late.jsonl"),
        "append --expected-version no-stream " + dir_.Sub("late.jsonl")}) {
    CliRun local = Cli(verb + " --db " + local_db);
    CliRun remote = Cli(admin + verb);
    EXPECT_EQ(remote.code, local.code) << verb << "\n" << remote.err;
    EXPECT_EQ(remote.err, local.err) << verb;
    EXPECT_EQ(remote.out, local.out) << verb;
  }
  CliRun conflict =
      Cli(admin + "append --expected-version 5 " + dir_.Sub("late.jsonl"));
  EXPECT_EQ(conflict.code, 3);
  EXPECT_THAT(conflict.err, HasSubstr("expected version 5, actual version 10"));

  // Roles apply in client mode too.
  CliRun denied = Cli(reader + "append " + dir_.Sub("late.jsonl"));
  EXPECT_EQ(denied.code, 4);  // PERMISSION_DENIED (docs/cli.md)
  EXPECT_THAT(denied.err, HasSubstr("role reader may not call Append"));
  CliRun no_mode = Cli(admin + "verify");
  EXPECT_EQ(no_mode.code, 2);
  EXPECT_THAT(no_mode.err, HasSubstr("no client mode"));

  // Export: remote first (it appends its audit event, position 11), then
  // the same export locally on the other ledger, at the same size and as of
  // the same times, after its own note at position 11.
  CliRun remote_export =
      Cli(Remote(address, "admin") + "export --case " + case_id +
          " --purpose judicial-review --out " + dir_.Sub("remote.zip"));
  ASSERT_EQ(remote_export.code, 0) << remote_export.err;
  EXPECT_THAT(remote_export.out,
              HasSubstr("exported case E2012-000417 for JUDICIAL_REVIEW at "
                        "tree size 10: "));
  EXPECT_THAT(remote_export.out, HasSubstr("recorded as position 11\n"));
  std::string remote_zip = testing::FileContents(dir_.Sub("remote.zip"));
  EXPECT_EQ(remote_zip.substr(0, 2), "PK");
  EXPECT_THAT(remote_export.out,
              HasSubstr(absl::StrCat(remote_zip.size(), " bytes, sha256 ")));
  CliRun key = Cli("key --db " + served_db);
  Write("served.pub", key.out);
  CliRun verified = Cli("verify-bundle --pubkey " + dir_.Sub("served.pub") +
                        " " + dir_.Sub("remote.zip"));
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
  for (const std::string& bad :
       {std::string("export --case X --purpose gossip --out ") +
            dir_.Sub("x.zip"),
        std::string("export --case X --purpose investigation"),
        std::string("export --case X --purpose investigation --tree-size 0 "
                    "--out ") +
            dir_.Sub("x.zip")}) {
    CliRun local = Cli(bad + " --db " + local_db);
    CliRun remote = Cli(admin + bad);
    EXPECT_EQ(remote.code, local.code) << bad;
    EXPECT_EQ(remote.err, local.err) << bad;
  }
  CliRun denied_export =
      Cli(reader + "export --case " + case_id +
          " --purpose investigation --out " + dir_.Sub("denied.zip"));
  EXPECT_THAT(denied_export.err,
              HasSubstr("role reader may not call ExportBundle"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("denied.zip")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("denied.zip.partial")));

  CliRun remote_checkpoint = Cli(reader + "checkpoint");
  ASSERT_EQ(remote_checkpoint.code, 0) << remote_checkpoint.err;
  ASSERT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
  // Nothing was appended since: the local verb prints the same note.
  CliRun local_checkpoint = Cli("checkpoint --db " + served_db);
  EXPECT_EQ(local_checkpoint.out, remote_checkpoint.out);
  EXPECT_EQ(Cli("verify --db " + served_db).code, 0);
  EXPECT_THAT(testing::FileContents(served_db + "/access-log.jsonl"),
              HasSubstr(R"("who": "reader-1", "role": "reader")"));
}

// The JSON line of a note on the example's case; `text` needs no escaping.
std::string NoteLine(const std::string& text) {
  return absl::StrCat(R"({"case_id": "E2012-000417", "occurred_at": )"
                      R"("2012-05-01T10:00:00Z", "actor": {"kind": "OFFICER", )"
                      R"("id": "o"}, "officer_note_added": {"text": ")",
                      text, "\"}}\n");
}

// A client-mode read cut off part way said "Deadline Exceeded" or
// "Socket closed" alone: whoever reads the output cannot tell it is
// incomplete (found by an adversarial test). It now says where the output
// ends and how to go on. Here the server is killed while the read's output
// waits to be taken.
TEST_F(ServeTest, AReadCutOffPartWaySaysWhereItsOutputEnds) {
  // The example, then 500 notes of 10,000 bytes: far more than gRPC holds
  // for a client that reads nothing.
  std::string text = testing::FileContents(Example("bounce-handled.jsonl"));
  for (int i = 0; i < 500; ++i) {
    absl::StrAppend(&text, NoteLine(absl::StrCat("note ", i, " ",
                                                 std::string(10000, 'a'))));
  }
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  CliRun imported = Cli("import --db " + db + " " + Write("notes.jsonl", text));
  ASSERT_EQ(imported.code, 0) << imported.err;
  ServeProcess server;
  const std::string address = Serve(server, db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  const std::string first = dir_.Sub("first");
  CliRun r = testing::RunCli(
      absl::StrCat("{ { ", CASELEDGER_BINARY),
      absl::StrCat(Remote(address, "reader"),
                   "read; echo \"read exited $?\" >&2; } | { head -c 4000 > ",
                   first, "; kill -KILL ", server.pid(),
                   "; sleep 1; cat; }; }"),
      dir_);
  server.Stop(SIGKILL);  // reaps it
  const std::string output = testing::FileContents(first) + r.out;
  const size_t lines = std::count(output.begin(), output.end(), '\n');
  ASSERT_GT(lines, 0u) << r.err;
  ASSERT_LT(lines, 510u) << "the read ended whole before the server went";
  EXPECT_THAT(r.err,
              HasSubstr(absl::StrCat("; the output ends at position ", lines,
                                     ": the same read with --from ", lines + 1,
                                     " goes on from there\n")));
  EXPECT_THAT(r.err, HasSubstr("read exited 4"));
  // gRPC's words alone ("Socket closed") said nothing of what happened.
  EXPECT_THAT(
      r.err,
      HasSubstr("caseledger read: the connection to the server broke ("));
}

// A server holds its ledger's write lock, so a file too large for one
// append reached it only split by hand (import had no client mode).
// Through the server an import checks, batches within what a call carries,
// resumes, and prints what it prints locally.
TEST_F(ServeTest, ImportInClientModeBatchesResumesAndPrintsAsLocally) {
  // The example, then 10 notes of 950,000 bytes: over 9 MiB, more than
  // one call carries, in the 1,000 events of one batch.
  std::string text = testing::FileContents(Example("bounce-handled.jsonl"));
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&text, NoteLine(std::string(950000, 'a' + i)));
  }
  const std::string file = Write("large.jsonl", text);
  const std::string local_db = dir_.Sub("local"),
                    served_db = dir_.Sub("served");
  for (const std::string& db : {local_db, served_db}) {
    ASSERT_EQ(Cli("init --db " + db + " --name e2e.test/log").code, 0);
  }
  CliRun local = Cli("import --db " + local_db + " " + file);
  ASSERT_EQ(local.code, 0) << local.err;
  ServeProcess server;
  const std::string address = Serve(server, served_db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  const std::string appender = Remote(address, "appender");

  CliRun remote = Cli(appender + "import " + file);
  ASSERT_EQ(remote.code, 0) << remote.err;
  EXPECT_EQ(remote.out,
            "imported 20 events (0 already stored, skipped) from 20 lines; "
            "ledger size 20\n");
  EXPECT_EQ(remote.out, local.out);
  EXPECT_THAT(remote.err, HasSubstr("import: line 20 of 20 (100%), 20 "
                                    "appended, 0 already stored"));
  CliRun again = Cli(appender + "import " + file);
  EXPECT_EQ(again.out,
            "imported 0 events (20 already stored, skipped) from 20 lines; "
            "ledger size 20\n");
  // The same events under the same derived ids, in the same order.
  const std::string reader = Remote(address, "reader");
  CliRun served = Cli(reader + "read --format json");
  CliRun stored = Cli("read --format json --db " + local_db);
  ASSERT_EQ(served.code, 0) << served.err;
  auto ids = [](const std::string& rows) {
    std::vector<std::string> out;
    for (absl::string_view row :
         absl::StrSplit(rows, '\n', absl::SkipEmpty())) {
      const size_t at = row.find(R"("event_id": ")");
      out.emplace_back(row.substr(at + 13, 36));
    }
    return out;
  };
  EXPECT_EQ(ids(served.out), ids(stored.out));
  EXPECT_EQ(ids(served.out).size(), 20u);

  // A malformed line is refused before anything is written, as locally.
  Write("bad.jsonl", R"({"case_id": "E2012-000417"})"
                     "\n");
  CliRun bad = Cli(appender + "import " + dir_.Sub("bad.jsonl"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("caseledger import: line 1: "));
  // Roles apply: a reader may not import, which is found before the
  // input is read (it was found after a whole file's check).
  CliRun denied = Cli(reader + "import " + file);
  EXPECT_EQ(denied.code, 4);
  EXPECT_EQ(denied.err,
            "caseledger import: role reader may not call Append (nothing is "
            "imported; the input is not read)\n");
  // A disclosure, which the server takes from no caller, is refused with
  // the bad input, nothing written (it stopped the import at its batch).
  Write("disclosure.jsonl",
        absl::StrCat(
            R"({"case_id": "E2012-000417", "occurred_at": )"
            R"("2012-05-01T10:00:00Z", "actor": {"kind": "OFFICER", "id": )"
            R"("o"}, "officer_note_added": {"text": "before"}})"
            "\n",
            R"({"case_id": "E2012-000417", "occurred_at": )"
            R"("2012-05-01T10:00:00Z", "actor": {"kind": "OFFICER", "id": )"
            R"("o"}, "evidence_bundle_exported": {"purpose": )"
            R"("RECONSIDERATION", "bundle_sha256": ")",
            std::string(64, 'a'),
            R"(", "tree_size": 1, "requested_by": "x"}})"
            "\n"));
  CliRun disclosure = Cli(appender + "import " + dir_.Sub("disclosure.jsonl"));
  EXPECT_EQ(disclosure.code, 2);
  EXPECT_THAT(disclosure.err,
              HasSubstr("caseledger import: line 2: evidence_bundle_exported "
                        "is appended by ExportBundle itself"));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_EQ(Cli("verify --db " + served_db).code, 0);
}

// Before, attach had no client mode: a ledger behind `serve` could store no
// message, and every email request's SENT_MESSAGE_PRESERVED warned.
TEST_F(ServeTest, AttachInClientModeStoresTheMessageTheFindingsLookFor) {
  const std::string db = dir_.Sub("served");
  ASSERT_EQ(Cli("init --db " + db + " --name e2e.test/log").code, 0);
  const std::string eml = Example("bounce-handled-DOC-1.eml");
  ASSERT_EQ(Cli("init --db " + dir_.Sub("scratch") + " --name s.test/log").code,
            0);
  CliRun local = Cli("attach --db " + dir_.Sub("scratch") + " " + eml);
  ASSERT_EQ(local.code, 0) << local.err;

  ServeProcess server;
  std::string address = Serve(server, db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  ASSERT_EQ(Cli(Remote(address, "admin") + "append " +
                Example("bounce-handled.jsonl"))
                .code,
            0);
  CliRun before = Cli(Remote(address, "reader") +
                      "findings --format json --case E2012-000417");
  ASSERT_EQ(before.code, 0) << before.err;

  CliRun refused = Cli(Remote(address, "reader") + "attach " + eml);
  EXPECT_EQ(refused.code, 4) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("role reader may not call AttachMessage"));
  CliRun remote = Cli(Remote(address, "appender") + "attach " + eml);
  ASSERT_EQ(remote.code, 0) << remote.err;
  EXPECT_EQ(remote.out, local.out);
  CliRun after = Cli(Remote(address, "reader") +
                     "findings --format json --case E2012-000417");
  ASSERT_EQ(after.code, 0) << after.err;
  // DOC-1's copy was missing and is now found.
  const std::string sha256(absl::StripTrailingAsciiWhitespace(remote.out));
  const std::string missing =
      absl::StrCat("for DOC-1 (sha256 ", sha256, ") is not stored");
  EXPECT_THAT(before.out, HasSubstr(missing));
  EXPECT_THAT(after.out, Not(HasSubstr(missing)));
  EXPECT_THAT(after.out,
              HasSubstr(absl::StrCat(
                  "for DOC-1 is stored in the ledger (sha256 ", sha256, ")")));
}

// A backup through the server checks the deadline index it copies, as a
// local one does: the copy said it verifies while verify failed its index.
TEST_F(ServeTest, ABackupThroughTheServerChecksTheDeadlineIndexItCopies) {
  const std::string db = dir_.Sub("served");
  const std::string backups = dir_.Sub("backups");
  std::filesystem::create_directory(backups);
  {
    ServeProcess first;
    ASSERT_FALSE(ServeTheExample(first, db, {}).empty());
    ASSERT_EQ(first.Stop(SIGTERM), 0);
  }
  ASSERT_OK(testing::RemoveTheFirstDeadline(db, 10));
  ServeProcess server;
  const std::string address = Serve(server, db, {"--backup-dir", backups});
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  CliRun remote = Cli(Remote(address, "admin") + "backup --to nightly");
  EXPECT_EQ(remote.code, 1) << remote.out << remote.err;
  EXPECT_THAT(remote.out,
              HasSubstr("; the copy verifies\nFAIL position 4: the deadline "
                        "index lacks the deadline 2012-04-15T23:59:59Z that "
                        "this document_request_sent sets for request DOC-1 of "
                        "case E2012-000417; run 'caseledger rebuild'\n"));
  EXPECT_THAT(remote.err,
              HasSubstr("caseledger backup: the store in " + backups +
                        "/nightly verifies, but the deadline index copied "
                        "with it fails its check (above), as the original's "
                        "does: run 'caseledger rebuild' on the ledger, then "
                        "back up again\n"));
  EXPECT_TRUE(std::filesystem::exists(backups + "/nightly/store"));  // kept
  ASSERT_EQ(server.Stop(SIGTERM), 0);
}

// Before, a ledger behind `serve` could not be backed up without stopping
// the server: the backup verb needs the writer, which the server holds.
TEST_F(ServeTest, BackupInClientModeCopiesTheLedgerTheServerHolds) {
  const std::string db = dir_.Sub("served");
  const std::string backups = dir_.Sub("backups");
  ServeProcess server;
  std::filesystem::create_directory(backups);
  const std::string address =
      ServeTheExample(server, db, {"--backup-dir", backups});
  ASSERT_FALSE(address.empty());
  CliRun local = Cli("backup --db " + db + " --to " + dir_.Sub("local"));
  EXPECT_EQ(local.code, 4) << local.err;  // the server holds the writer

  CliRun refused = Cli(Remote(address, "appender") + "backup --to nightly");
  EXPECT_EQ(refused.code, 4) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("role appender may not call Backup"));
  CliRun remote = Cli(Remote(address, "admin") + "backup --to nightly");
  ASSERT_EQ(remote.code, 0) << remote.err;
  EXPECT_THAT(remote.out, StartsWith("backed up 10 entries of e2e.test/log, "
                                     "root "));
  EXPECT_THAT(remote.out, HasSubstr(", last checkpoint at size 10 to " +
                                    backups + "/nightly; the copy verifies\n"));
  CliRun again = Cli(Remote(address, "admin") + "backup --to nightly");
  EXPECT_EQ(again.code, 3) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already exists"));

  // Checked and restored where it is, as a backup made locally.
  CliRun verified = Cli("backup --verify " + backups + "/nightly");
  ASSERT_EQ(verified.code, 0) << verified.err;
  const std::string described = remote.out.substr(
      std::string("backed up ").size(),
      remote.out.find(" to " + backups) - std::string("backed up ").size());
  EXPECT_THAT(verified.out, HasSubstr(described));
  CliRun restored = Cli("restore --from " + backups + "/nightly --db " +
                        dir_.Sub("restored"));
  ASSERT_EQ(restored.code, 0) << restored.err;
  EXPECT_THAT(restored.out, HasSubstr(described));
  ASSERT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(testing::FileContents(db + "/access-log.jsonl"),
              HasSubstr(R"("rpc": "Backup", "what": "name=nightly", )"
                        R"("outcome": "OK")"));

  // A server that is gone got nothing: the call says so, rather than that
  // what it left is unknown (found by an outside reading).
  CliRun unanswered = Cli(Remote(address, "admin") + "backup --to weekly");
  EXPECT_EQ(unanswered.code, 4) << unanswered.err;
  EXPECT_THAT(unanswered.err,
              HasSubstr("caseledger backup: backup not made: the server could "
                        "not be reached, so nothing was sent: "));
}

// `serve --tls-cert F --tls-key F --client-ca F` from the command line (its
// --tls-* flags were once taken as client-mode flags and refused), and
// client mode with --tls-ca, --tls-cert and --tls-key against it.
TEST_F(ServeTest, ServeWithTlsFlagsServesClientModeOverMutualTls) {
  // A CA, a server certificate for 127.0.0.1 and a client certificate.
  const std::string d = dir_.path();
  Write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  Write("client.ext", "extendedKeyUsage=clientAuth\n");
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  std::string script = absl::StrCat(
      "set -e; cd ", d, "; openssl req -x509 ", key,
      " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=e2e-ca; ",
      "for who in server client; do openssl req ", key,
      " -nodes -keyout $who.key -out $who.csr -subj /CN=e2e-$who; ",
      "openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out $who.pem -days 2 -extfile $who.ext; done");
  ASSERT_EQ(
      std::system(absl::StrCat("sh -c '", script, "' >", d, "/openssl.log 2>&1")
                      .c_str()),
      0)
      << testing::FileContents(d + "/openssl.log");

  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  ASSERT_EQ(
      Cli("append --db " + db + " " + Example("bounce-handled.jsonl")).code, 0);
  CliRun local = Cli("read --db " + db);
  ASSERT_EQ(local.code, 0) << local.err;

  ServeProcess server;
  std::string address = server.Start(
      {"--db", db, "--listen", "127.0.0.1:0", "--tokens", dir_.Sub("tokens"),
       "--tls-cert", dir_.Sub("server.pem"), "--tls-key",
       dir_.Sub("server.key"), "--client-ca", dir_.Sub("ca.pem")},
      dir_.Sub("serve.err"));
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));

  const std::string trusting =
      Remote(address, "reader") + "--tls-ca " + dir_.Sub("ca.pem") + " ";
  CliRun remote = Cli(trusting + "--tls-cert " + dir_.Sub("client.pem") +
                      " --tls-key " + dir_.Sub("client.key") + " read");
  EXPECT_EQ(remote.code, 0) << remote.err;
  EXPECT_EQ(remote.out, local.out);
  EXPECT_EQ(remote.err, "");
  // A client key others can read is used, and said.
  std::filesystem::permissions(dir_.Sub("client.key"),
                               std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  CliRun open_key = Cli(trusting + "--tls-cert " + dir_.Sub("client.pem") +
                        " --tls-key " + dir_.Sub("client.key") + " read");
  EXPECT_EQ(open_key.code, 0) << open_key.err;
  EXPECT_EQ(open_key.out, local.out);
  EXPECT_THAT(open_key.err,
              StartsWith("caseledger: warning: the TLS key file " +
                         dir_.Sub("client.key") + " has mode 06"));
  // The port speaks mutual TLS only: no client certificate, or plaintext,
  // is refused (exit 4, UNAVAILABLE).
  EXPECT_EQ(Cli(trusting + "read").code, 4);
  EXPECT_EQ(Cli(Remote(address, "reader") + "read").code, 4);
  // A server the client does not trust: the verb's one line says so and
  // what to check; gRPC's own log line of the handshake, which said the
  // same before it, is left out.
  CliRun untrusted = Cli(Remote(address, "reader") + "--tls-ca " +
                         dir_.Sub("client.pem") + " read");
  EXPECT_EQ(untrusted.code, 4);
  EXPECT_THAT(untrusted.err, StartsWith("caseledger read: "));
  EXPECT_THAT(untrusted.err,
              HasSubstr("certificate verify failed (the server's certificate "
                        "is not signed by a CA of --tls-ca, or is out of its "
                        "dates)\n"));
  EXPECT_EQ(std::count(untrusted.err.begin(), untrusted.err.end(), '\n'), 1)
      << untrusted.err;

  EXPECT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(testing::FileContents(db + "/access-log.jsonl"),
              HasSubstr("tls:e2e-client"));
  // The start line names the transport, so that TLS left off shows.
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              HasSubstr(", mutual TLS (client certificates required)\n"));
  ASSERT_FALSE(server
                   .Start({"--db", db, "--listen", "127.0.0.1:0", "--tokens",
                           dir_.Sub("tokens")},
                          dir_.Sub("serve.err"))
                   .empty());
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              HasSubstr(", plaintext (no TLS)\n"));
}

// The access log's chain was checked by a library function no verb ran:
// an edited record went unnoticed by every command (found by an outside
// reading). verify and backup --verify check it now.
TEST_F(ServeTest, VerifyChecksTheAccessLogsChain) {
  const std::string db = dir_.Sub("ledger");
  const std::string backups = dir_.Sub("backups");
  ServeProcess server;
  std::filesystem::create_directory(backups);
  const std::string address =
      ServeTheExample(server, db, {"--backup-dir", backups});
  ASSERT_FALSE(address.empty());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Cli(Remote(address, "reader") + "read").code, 0);
  }
  CliRun backed_up = Cli(Remote(address, "admin") + "backup --to copy");
  ASSERT_EQ(backed_up.code, 0) << backed_up.err;
  EXPECT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
  const std::string log = db + "/access-log.jsonl";
  CliRun intact = Cli("verify --db " + db);
  EXPECT_EQ(intact.code, 0) << intact.out << intact.err;
  EXPECT_THAT(intact.out, HasSubstr("OK access log " + log + ": "));
  EXPECT_THAT(intact.out,
              HasSubstr(" records, each chained to the one before"));

  // Bytes after the last newline (a record being written, or cut short)
  // are not checked, and verify says so rather than let OK cover them.
  const std::string whole_log = testing::FileContents(log);
  std::ofstream(log, std::ios::binary | std::ios::app) << R"({"seq": 9)";
  CliRun unfinished = Cli("verify --db " + db);
  EXPECT_EQ(unfinished.code, 0) << unfinished.out << unfinished.err;
  EXPECT_THAT(unfinished.out,
              HasSubstr("NOTE access log " + log +
                        " ends with 9 bytes after its last whole record"));
  // A server started on it cuts them off, and says so: an audit log that
  // lost bytes without a word looks like an edit (found by an outside test).
  ServeProcess on_torn_log;
  ASSERT_FALSE(Serve(on_torn_log, db).empty())
      << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_EQ(on_torn_log.Stop(SIGTERM), 0);
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              HasSubstr("caseledger serve: access log " + log +
                        " ended with 9 bytes of a record that a crash or kill "
                        "cut short (its access was never granted); they were "
                        "cut off\n"));
  EXPECT_EQ(testing::FileContents(log), whole_log);
  // Started on a whole log, it says nothing of the kind.
  ServeProcess on_whole_log;
  ASSERT_FALSE(Serve(on_whole_log, db).empty());
  EXPECT_EQ(on_whole_log.Stop(SIGTERM), 0);
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              Not(HasSubstr("cut short")));

  EditSecondRecord(log);
  CliRun edited = Cli("verify --db " + db);
  EXPECT_EQ(edited.code, 1) << edited.out << edited.err;
  EXPECT_THAT(edited.out,
              MatchesRegex("FAIL access log " + log +
                           " line [0-9]+: prev does not match the SHA-256 of "
                           "line [0-9]+: a record was edited, removed or "
                           "moved\n"));
  // The ledger's own failures are told before the log's: for a day the log
  // was checked first, and a rolled-back store carrying an edited log was
  // told of the log alone (found by a review). Here: another ledger's key.
  const std::string other = dir_.Sub("other");
  ASSERT_EQ(Cli("init --db " + other).code, 0);
  const std::string other_key = dir_.Sub("other.key");
  std::ofstream(other_key) << Cli("key --db " + other).out;
  CliRun both = Cli("verify --db " + db + " --pubkey " + other_key);
  EXPECT_EQ(both.code, 1) << both.out << both.err;
  EXPECT_THAT(both.out, StartsWith("FAIL "));
  EXPECT_THAT(both.out, Not(HasSubstr("access log")));
  // Kept elsewhere (serve --access-log FILE), it is named.
  std::filesystem::rename(log, dir_.Sub("elsewhere.jsonl"));
  CliRun elsewhere =
      Cli("verify --db " + db + " --access-log " + dir_.Sub("elsewhere.jsonl"));
  EXPECT_EQ(elsewhere.code, 1) << elsewhere.out << elsewhere.err;
  // Something else in its place in the ledger folder is damage, not usage.
  std::filesystem::create_directory(log);
  CliRun folder = Cli("verify --db " + db);
  EXPECT_EQ(folder.code, 1) << folder.out << folder.err;
  EXPECT_THAT(folder.out,
              HasSubstr("FAIL access log " + log + " is not a regular file"));
  std::filesystem::remove(log);
  CliRun missing = Cli("verify --db " + db + " --access-log nowhere.jsonl");
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err,
              HasSubstr("caseledger verify: --access-log: cannot read the "
                        "access log nowhere.jsonl: No such file or "
                        "directory"));
  // Told before the ledger's walk, which said nothing of it for seconds.
  EXPECT_THAT(missing.err, Not(HasSubstr("entries")));

  // The backup carries the log as it was when copied.
  const std::string backup = backups + "/copy";
  CliRun copy = Cli("backup --verify " + backup);
  EXPECT_EQ(copy.code, 0) << copy.out << copy.err;
  EXPECT_THAT(copy.out,
              HasSubstr("OK access log " + backup + "/access-log.jsonl: "));
  // A backup whose access log was edited said the restored ledger verifies,
  // and verify then failed on it. The store is restored, and the log as it
  // is, and the restore fails naming it; so does a backup of such a ledger.
  const std::string copied_log = backup + "/access-log.jsonl";
  const std::string copied = EditSecondRecord(copied_log);
  EXPECT_EQ(Cli("backup --verify " + backup).code, 1);
  const std::string restored_db = dir_.Sub("restored");
  CliRun restored = Cli("restore --db " + restored_db + " --from " + backup);
  EXPECT_EQ(restored.code, 1) << restored.out << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("; the restored ledger verifies\n"));
  EXPECT_THAT(restored.out, HasSubstr("FAIL access log " + restored_db +
                                      "/access-log.jsonl"));
  EXPECT_THAT(restored.err,
              HasSubstr("caseledger restore: the store in " + restored_db +
                        " verifies, but the access log copied with it fails "
                        "its check (above), as the original's does"));
  EXPECT_EQ(testing::FileContents(restored_db + "/access-log.jsonl"), copied);
  CliRun again =
      Cli("backup --db " + restored_db + " --to " + dir_.Sub("again"));
  EXPECT_EQ(again.code, 1) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("; the copy verifies\n"));
  EXPECT_THAT(again.err, HasSubstr("caseledger backup: the store in "));
}

// A backup through the server checks the access log it copies, as a local
// one does: it said the copy verifies, and backup --verify then failed it
// (found by an outside reading).
TEST_F(ServeTest, ABackupThroughTheServerChecksTheAccessLogItCopies) {
  const std::string db = dir_.Sub("ledger");
  const std::string backups = dir_.Sub("backups");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  {
    ServeProcess server;
    std::string address = ServeWithBackups(server, db, backups);
    ASSERT_FALSE(address.empty())
        << testing::FileContents(dir_.Sub("serve.err"));
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(Cli(Remote(address, "reader") + "read").code, 0);
    }
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
  EditSecondRecord(db + "/access-log.jsonl");

  ServeProcess server;
  std::string address = ServeWithBackups(server, db, backups);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  CliRun copy = Cli(Remote(address, "admin") + "backup --to copy");
  EXPECT_EQ(copy.code, 1) << copy.out << copy.err;
  const std::string copied = backups + "/copy";
  EXPECT_THAT(copy.out, HasSubstr("; the copy verifies\n"));
  EXPECT_THAT(copy.out, HasSubstr("FAIL access log " + copied +
                                  "/access-log.jsonl line 3: prev does not "
                                  "match the SHA-256 of line 2"));
  EXPECT_THAT(copy.err, HasSubstr("caseledger backup: the store in " + copied +
                                  " verifies, but the access log "
                                  "copied with it fails its check"));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_EQ(Cli("backup --verify " + copied).code, 1);
}

// The server records an export before it sends the bundle; one the client
// could not write said "the bundle could not be written", not why (found
// by an adversarial test).
TEST_F(ServeTest, AClientModeExportThatCannotBeWrittenSaysWhy) {
  const std::string db = dir_.Sub("ledger");
  ServeProcess server;
  const std::string address = ServeTheExample(server, db, {});
  ASSERT_FALSE(address.empty());
  // Files of at most 16 blocks of 512 bytes: the bundle is larger.
  CliRun r = testing::RunCli(absl::StrCat("ulimit -f 16; ", CASELEDGER_BINARY),
                             Remote(address, "admin") +
                                 "export --case E2012-000417 --purpose "
                                 "investigation --out " +
                                 dir_.Sub("b.zip"),
                             dir_);
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_THAT(
      r.err, HasSubstr("caseledger export: error writing " + dir_.Sub("b.zip") +
                       ".partial: File too large; no bundle was "
                       "written, but the server may have recorded "
                       "the export"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("b.zip.partial")));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// The terminal a server runs in closing stops it as SIGTERM does: drained,
// its index taken up, a final checkpoint signed, exit 0 (it exited 129 at
// once; found by an audit).
TEST_F(ServeTest, SighupStopsTheServerAsSigtermDoes) {
  StopsAsSigtermDoes(SIGHUP, "SIGHUP");
}

// Ctrl-C in the terminal it runs in: the same stop (SIGINT was stopped by
// nothing else, and a server it ended at once was told by no test).
TEST_F(ServeTest, SigintStopsTheServerAsSigtermDoes) {
  StopsAsSigtermDoes(SIGINT, "SIGINT");
}

// A server whose ledger folder was removed under it refuses the next
// append, and its stop says so with the exit code of data loss: it went on
// acknowledging appends into the removed folder, and stopped with exit 0
// (found by an outside reading).
TEST_F(ServeTest, AServerWhoseLedgerWasRemovedSaysSoAtItsStop) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  ServeProcess server;
  std::string address = Serve(server, db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  std::filesystem::remove_all(db);
  CliRun appended = Cli(Remote(address, "appender") + "append " +
                        Example("bounce-handled.jsonl"));
  EXPECT_EQ(appended.code, 1) << appended.err;
  EXPECT_THAT(appended.err, HasSubstr("append outcome unknown"));
  EXPECT_EQ(server.Stop(SIGTERM), 1)
      << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              HasSubstr("caseledger serve: the ledger refused appends when it "
                        "stopped: append not written"));
}

// What waits for the "listening on" line learns the address from standard
// error when standard output cannot take it: the server ran on, its line
// lost (found by an adversarial test).
TEST_F(ServeTest, AServerWhoseOutputFailsNamesItsAddressOnStandardError) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  ServeProcess server;
  const std::string address = server.Start(
      {"--db", db, "--listen", "127.0.0.1:0", "--tokens", dir_.Sub("tokens")},
      dir_.Sub("serve.err"), {}, /*stdout_full=*/true);
  const std::string err = testing::FileContents(dir_.Sub("serve.err"));
  ASSERT_FALSE(address.empty()) << err;
  EXPECT_THAT(err, HasSubstr("caseledger serve: standard output could not be "
                             "written; listening on 127.0.0.1:"));
  CliRun appended = Cli(Remote(address, "appender") + "append " +
                        Example("bounce-handled.jsonl"));
  EXPECT_EQ(appended.code, 0) << appended.err;
  // The lost line is a failed output, told again at the stop.
  EXPECT_EQ(server.Stop(SIGTERM), 4);
}

TEST_F(ServeTest, SigtermUnderLoadKeepsEveryAcknowledgedAppend) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  ServeProcess server;
  std::string address = Serve(server, db);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));

  constexpr int kClients = 8;
  constexpr int kAckedBeforeStop = 400;
  absl::Mutex mu;
  std::vector<std::string> acked;  // event ids acknowledged by the server
  std::atomic<int> acked_count{0};
  absl::Notification enough;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      client::ClientOptions options;
      options.server = address;
      options.token = token_["appender"];
      options.append_retries = 0;
      options.timeout = absl::Seconds(20);
      auto c = client::LedgerClient::Connect(options);
      ASSERT_TRUE(c.ok());
      std::string case_id = absl::StrCat("LOAD-", i);
      std::vector<v1::Event> batch = {testing::CaseOpened(case_id)};
      for (int n = 0;; ++n) {
        auto r = (*c)->Append(batch);
        if (!r.ok()) {
          // Only the server going away may end the load.
          EXPECT_TRUE(absl::IsUnavailable(r.status()) ||
                      absl::IsCancelled(r.status()))
              << r.status();
          // Told which: a call the stop cut or refused may have been
          // written (retry with the same ids), one never sent was not.
          EXPECT_THAT(std::string(r.status().message()),
                      ::testing::AnyOf(StartsWith("append outcome unknown: "),
                                       StartsWith("append not written: ")))
              << r.status();
          return;
        }
        {
          absl::MutexLock lock(&mu);
          for (const auto& e : r->events) acked.push_back(e.event_id);
        }
        // Exactly one thread's addition crosses the line: checking
        // HasBeenNotified() instead would let two threads notify at once.
        const int before = acked_count.fetch_add(r->events.size());
        if (before < kAckedBeforeStop &&
            before + static_cast<int>(r->events.size()) >= kAckedBeforeStop) {
          enough.Notify();
        }
        // Singles and batches of 1..4 notes.
        batch.assign(1 + n % 4, testing::Note(case_id, "load"));
      }
    });
  }
  ASSERT_TRUE(enough.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
  for (std::thread& t : clients) t.join();
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              HasSubstr("stopped; ledger size"));

  // Restart: every acknowledged event is there.
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(db));
  absl::MutexLock lock(&mu);
  ASSERT_GE(acked.size(), static_cast<size_t>(kAckedBeforeStop));
  for (const std::string& id : acked) {
    EXPECT_TRUE(ledger->ReadEvent(id).ok()) << id;
  }
  EXPECT_GE(ledger->Size(), acked.size());
  ASSERT_OK(ledger->Verify().status());
  // The run's appends are in the stored deadline index: serve takes them up
  // as it stops, where readers folded in a tail that grew with every call
  // (found by an audit).
  ASSERT_OK_AND_ASSIGN(
      uint64_t indexed,
      ledger->ProjectionPosition(projections::DeadlineIndex::kName));
  EXPECT_EQ(indexed, ledger->Size());
}

// SIGTERM while an append waits for the disk: the stop lets the call finish
// and answers it, rather than cancel a call that may be written and leave
// its client with an outcome unknown.
TEST_F(ServeTest, SigtermAnswersTheAppendInFlightBeforeStopping) {
  int stopped = -1;
  CliRun appended =
      AppendInFlightAtSigterm(dir_.Sub("ledger"), {}, 1000, &stopped);
  EXPECT_EQ(stopped, 0) << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_EQ(appended.code, 0) << appended.err;
  EXPECT_EQ(appended.out,
            "appended 10 events; positions 1..10; ledger size 10\n");
  const std::string err = testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(err, HasSubstr("caseledger serve: SIGTERM: no new calls; "
                             "finishing the calls in flight\n"));
  EXPECT_THAT(err, HasSubstr("caseledger serve: stopped; ledger size 10\n"));
}

// --grace is what a stop waits for a call in flight: with --grace 0 the
// append waiting for the disk is cancelled at once, its client told the
// outcome is unknown, where with a grace longer than the disk's wait it is
// answered. A grace ignored (one fixed wait) passed every test, since only
// the default was ever stopped with a call in flight (found by a mutation
// audit). Each sync takes 3 s, so that the cancellation, however slow the
// machine, comes while the append still waits.
TEST_F(ServeTest, AStopWaitsForTheAppendInFlightOnlyForItsGrace) {
  int stopped = -1;
  CliRun cut = AppendInFlightAtSigterm(dir_.Sub("no-grace"), {"--grace", "0"},
                                       3000, &stopped);
  EXPECT_EQ(stopped, 0) << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_NE(cut.code, 0) << cut.out;
  EXPECT_EQ(cut.out, "");
  EXPECT_THAT(cut.err, HasSubstr("append outcome unknown"));

  CliRun answered = AppendInFlightAtSigterm(dir_.Sub("grace"),
                                            {"--grace", "20"}, 3000, &stopped);
  EXPECT_EQ(stopped, 0) << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_EQ(answered.code, 0) << answered.err;
  EXPECT_EQ(answered.out,
            "appended 10 events; positions 1..10; ledger size 10\n");
}

// A Subscribe open when SIGTERM comes is ended by the stop, UNAVAILABLE,
// and the server exits long before its grace: a subscription waits for
// appends with no end of its own, and a stop that left it to the grace
// took the whole of it (30 s by default) whenever a reader followed the
// ledger. server_test's ShutdownEndsSubscriptionsPromptly holds the
// server's part; this one the serve verb's.
TEST_F(ServeTest, SigtermEndsAnOpenSubscriptionWellBeforeTheGrace) {
  const std::string db = dir_.Sub("ledger");
  ServeProcess server;
  const std::string address = ServeTheExample(server, db, {"--grace", "30"});
  ASSERT_FALSE(address.empty());
  client::ClientOptions options;
  options.server = address;
  options.token = token_["reader"];
  ASSERT_OK_AND_ASSIGN(auto c, client::LedgerClient::Connect(options));
  auto context = c->NewContext(absl::Now() + absl::Seconds(60));
  auto reader = c->stub().Subscribe(context.get(), v1::SubscribeRequest());
  v1::SubscribeResponse message;
  // The example's events, then caught up: the stream waits for appends.
  do {
    ASSERT_TRUE(reader->Read(&message));
  } while (!message.has_caught_up());
  const absl::Time stopping = absl::Now();
  EXPECT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
  // Half the grace. The stop takes about 5 s: gRPC waits that long for this
  // client's connection, still open, to close (docs/service.md, Lifecycle
  // step 3); one that waited for the stream took the 30 s.
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(15));
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A deadline index the server cannot take up is said once at the start,
// not again at the first tick of its catch-up (found by an adversarial
// test), nor with "run 'caseledger rebuild'" twice.
TEST_F(ServeTest, AnIndexTheServerCannotTakeUpIsSaidOnce) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  {
    ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(db));
    ASSERT_OK(writer->WriteProjection(projections::DeadlineIndex::kName, {},
                                      1000000));
  }
  ServeProcess server;
  ASSERT_FALSE(Serve(server, db, {"--index-every", "0.05"}).empty());
  absl::SleepFor(absl::Milliseconds(500));  // ten ticks
  ASSERT_EQ(server.Stop(SIGTERM), 0);
  const std::string err = testing::FileContents(dir_.Sub("serve.err"));
  const std::string warning =
      "caseledger serve: warning: deadline index not updated: the deadline "
      "index has applied position 1000000 but the ledger has only 0 entries; "
      "run 'caseledger rebuild'\n";
  // Once at the start and once as it stops.
  size_t said = 0;
  for (size_t at = err.find(warning); at != std::string::npos;
       at = err.find(warning, at + 1)) {
    ++said;
  }
  EXPECT_EQ(said, 2u) << err;
  EXPECT_THAT(err, Not(HasSubstr("tried again"))) << err;
}

// The warning of a failed take-up of the deadline index is said once per
// spell of failures, and again when the index fails after it was taken up:
// a flag never reset after a success passed every test, and left a disk
// that failed hours after a bad start unsaid (found by a mutation audit).
// The first spell is an index ahead of the ledger, which appends end; the
// second, the disk failing at the take-up's write (fsync_fails.cc: the
// append's sync, the first once the file `failing` exists, passes; the
// next, the take-up's, fails, and every write after it fails too).
TEST_F(ServeTest, AnIndexFailingAgainAfterATakeUpIsSaidAgain) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  {
    ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(db));
    ASSERT_OK(
        writer->WriteProjection(projections::DeadlineIndex::kName, {}, 5));
  }
  const std::string failing = dir_.Sub("failing");
  std::vector<std::pair<std::string, std::string>> env =
      testing::Preloading(CASELEDGER_FSYNC_FAILS);
  env.emplace_back("CASELEDGER_TEST_FAIL_LOG_SYNC_FROM", "2");
  env.emplace_back("CASELEDGER_TEST_COUNT_LOG_SYNCS_ONCE", failing);
  ServeProcess server;
  const std::string address = Serve(server, db, {"--index-every", "0.05"}, env);
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  // Past the index's position 5: the next take-up passes, to 10.
  ASSERT_EQ(Cli(Remote(address, "appender") + "append " +
                Example("bounce-handled.jsonl"))
                .code,
            0);
  LedgerOptions read_only;
  read_only.read_only = true;
  uint64_t indexed = 0;
  for (absl::Time give_up = absl::Now() + absl::Seconds(20);
       absl::Now() < give_up && indexed != 10;
       absl::SleepFor(absl::Milliseconds(50))) {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(db, read_only));
    ASSERT_OK_AND_ASSIGN(
        indexed, ledger->ProjectionPosition(projections::DeadlineIndex::kName));
  }
  ASSERT_EQ(indexed, 10u);
  std::ofstream(failing) << "";
  const std::string opened =
      Write("opened.jsonl",
            R"({"case_id": "DISK-1", "occurred_at": "2011-02-01T09:00:00Z", )"
            R"("actor": {"kind": "OFFICER", "id": "off-17"}, "source": "t", )"
            R"("case_opened": {"program": "TRV", "office_id": "VO-DAKAR", )"
            R"("office_mailbox": "visa-office@office.example", )"
            R"("applicant_country": "SN", "language": "fr"}})"
            "\n");
  CliRun appended = Cli(Remote(address, "appender") + "append " + opened);
  EXPECT_EQ(appended.code, 0) << appended.err;
  const std::string again =
      "(tried again while the server runs and as it stops; 'caseledger "
      "rebuild' mends it)";
  for (absl::Time give_up = absl::Now() + absl::Seconds(20);
       absl::Now() < give_up &&
       !absl::StrContains(testing::FileContents(dir_.Sub("serve.err")), again);
       absl::SleepFor(absl::Milliseconds(50))) {
  }
  absl::SleepFor(absl::Milliseconds(500));  // ten ticks more, failing
  // The failed write is told at once as a refusal of appends, and the stop
  // fails: with no append after it, the server said SERVING and stopped
  // with exit 0 (found by an audit).
  EXPECT_NE(server.Stop(SIGTERM), 0);
  const std::string err = testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(err, HasSubstr("caseledger serve: the ledger refuses appends "
                             "until the server is restarted (health: "
                             "NOT_SERVING): "));
  EXPECT_THAT(err, HasSubstr("the ledger refused appends when it stopped"));
  // The first spell, at the start (its ticks say nothing more).
  EXPECT_THAT(err, HasSubstr("caseledger serve: warning: deadline index not "
                             "updated: the deadline index has applied "
                             "position 5 but the ledger has only 0 entries; "
                             "run 'caseledger rebuild'\n"));
  // The second, once.
  size_t said = 0;
  for (size_t at = err.find(again); at != std::string::npos;
       at = err.find(again, at + 1)) {
    ++said;
  }
  EXPECT_EQ(said, 1u) << err;
}

// The stored deadline index follows the server's appends while it runs, so
// "every request overdue on D" folds in at most --index-every's worth of the
// log; it was taken up only at start and stop, and a run of months left every
// such query folding in all it had appended (found by an audit).
TEST_F(ServeTest, TheDeadlineIndexTakesUpAppendsWhileServing) {
  const std::string db = dir_.Sub("ledger");
  ServeProcess server;
  const std::string address =
      ServeTheExample(server, db, {"--index-every", "0.1"});
  ASSERT_FALSE(address.empty());

  LedgerOptions read_only;
  read_only.read_only = true;
  uint64_t indexed = 0, size = 0;
  for (absl::Time give_up = absl::Now() + absl::Seconds(20);
       absl::Now() < give_up; absl::SleepFor(absl::Milliseconds(50))) {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(db, read_only));
    ASSERT_OK_AND_ASSIGN(
        indexed, ledger->ProjectionPosition(projections::DeadlineIndex::kName));
    size = ledger->Size();
    if (size > 0 && indexed == size) break;
  }
  EXPECT_GT(size, 0u);
  EXPECT_EQ(indexed, size);
  // Cross-case deadlines through the server still list the example's
  // requests, now from the stored index.
  CliRun deadlines = Cli(Remote(address, "reader") +
                         "deadlines --as-of 2012-06-01 --format json");
  EXPECT_EQ(deadlines.code, 0) << deadlines.err;
  EXPECT_THAT(deadlines.out, HasSubstr("\"request_id\": \"DOC-1\""));
  EXPECT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
}

// --index-every takes a positive number of seconds, --checkpoint-every one
// from 1; anything else is refused before the ledger is opened.
TEST_F(ServeTest, IntervalsOutOfTheirRangeAreRefused) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(Cli("init --db " + db).code, 0);
  struct Interval {
    const char* flag;
    std::vector<const char*> refused;
    const char* range;
  };
  for (const Interval& interval :
       {Interval{"index-every", {"0", "-1", "soon", "nan"}, "a positive"},
        Interval{"checkpoint-every",
                 {"0", "0.5", "-1", "soon", "inf"},
                 "a number of seconds from 1"}}) {
    for (const char* every : interval.refused) {
      CliRun r =
          Cli(absl::StrCat("serve --db ", db, " --tokens ", dir_.Sub("tokens"),
                           " --", interval.flag, " ", every));
      EXPECT_EQ(r.code, 2) << interval.flag << " " << every;
      EXPECT_THAT(r.err,
                  HasSubstr(absl::StrCat("--", interval.flag, ": '", every,
                                         "' is not ", interval.range)));
    }
  }
}

// With the default, appends under 1,000 entries wait up to a minute for a
// checkpoint to sign them and for the copy beside the store that finds a
// log cut back past them; --checkpoint-every shortens that.
TEST_F(ServeTest, ACheckpointIntervalSignsAndKeepsAppendsThatSoon) {
  const std::string db = dir_.Sub("ledger");
  ServeProcess server;
  const std::string address =
      ServeTheExample(server, db, {"--checkpoint-every", "1"});
  ASSERT_FALSE(address.empty());
  const std::string size = "\n10\n";  // the example's 10 events
  std::string kept;
  for (absl::Time give_up = absl::Now() + absl::Seconds(20);
       absl::Now() < give_up && !absl::StrContains(kept, size);
       absl::SleepFor(absl::Milliseconds(50))) {
    kept = testing::FileContents(db + "/latest-checkpoint");
  }
  EXPECT_THAT(kept, HasSubstr(size));
  EXPECT_EQ(server.Stop(SIGTERM), 0)
      << testing::FileContents(dir_.Sub("serve.err"));
}

// docs/bad-input.md, section 1.2: a writing verb on a ledger that `serve`
// holds is refused (exit 4) and writes nothing.
TEST_F(ServeTest, AWritingVerbIsRefusedWhileServeHoldsTheLedger) {
  const std::string db = dir_.Sub("held");
  ASSERT_EQ(Cli("init --db " + db + " --name held.example/log").code, 0);
  ServeProcess p;
  ASSERT_FALSE(Serve(p, db).empty())
      << testing::FileContents(dir_.Sub("serve.err"));
  CliRun r = Cli("append --db " + db + " " + Example("bounce-handled.jsonl"));
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_THAT(r.err, StartsWith("caseledger append: "));
  // The refusal names the server and how to reach the ledger through it.
  EXPECT_THAT(r.err,
              HasSubstr(absl::StrCat(
                  "(another process has this ledger open for writing: process ",
                  p.pid(), ": ")));
  EXPECT_THAT(r.err, HasSubstr(" serve --db " + db));
  EXPECT_THAT(r.err,
              HasSubstr("; it serves this ledger: stop it first, or run a "
                        "verb that has a client mode through it (--server "
                        "HOST:PORT --token-file FILE))"));
  // rebuild has no client mode, and is not offered one.
  CliRun rebuild = Cli("rebuild --db " + db);
  EXPECT_EQ(rebuild.code, 4) << rebuild.err;
  EXPECT_THAT(rebuild.err, StartsWith("caseledger rebuild: "));
  EXPECT_THAT(rebuild.err,
              EndsWith("; it serves this ledger: stop it first (rebuild has no "
                       "client mode; the server brings the index up to date "
                       "itself, every --index-every seconds))\n"));
  CliRun read = Cli("read --db " + db);
  EXPECT_EQ(read.code, 0) << read.err;
  EXPECT_EQ(read.out, "");
  p.Stop(SIGTERM);
}

// docs/bad-input.md, section 4: an address serve cannot listen on is
// refused before anything is served, and leaves no access log behind.
TEST_F(ServeTest, AnAddressThatCannotBeServedIsRefusedLeavingNothing) {
  const std::string db = dir_.Sub("refused");
  for (const std::string& name : {db, dir_.Sub("served")}) {
    ASSERT_EQ(Cli("init --db " + name + " --name refused.example/log").code, 0);
  }
  ServeProcess first;
  const std::string taken = Serve(first, dir_.Sub("served"));
  ASSERT_FALSE(taken.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  const std::string tokens = " --tokens " + dir_.Sub("tokens");
  struct Case {
    std::string listen;
    int code;
    std::string message;
  } cases[] = {
      {"127.0.0.1:abc", 2, "0 to 65535"},
      {"127.0.0.1:86000", 2, "0 to 65535"},
      // The system's reason, and only the program's line: gRPC's own log
      // line came first (found by an audit of the docs).
      {taken, 4,
       "caseledger serve: cannot listen on " + taken +
           ": Address already in use (the port is taken, or the host is not "
           "one of this machine's addresses)\n"},
  };
  for (const Case& c : cases) {
    CliRun r = Cli("serve --db " + db + " --listen " + c.listen + tokens);
    EXPECT_EQ(r.code, c.code) << c.listen << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.listen;
    if (c.code == 4) {
      EXPECT_EQ(r.err, c.message);
    }
    EXPECT_FALSE(std::filesystem::exists(db + "/access-log.jsonl")) << c.listen;
  }
  // The log goes only if this start made it: a link given as --access-log
  // that leads nowhere yet was itself removed, its target (made by the
  // open) left behind (found by an audit). The link stays; so does the
  // empty target.
  const std::string link = dir_.Sub("access-log-link");
  const std::string target = dir_.Sub("access-log-target.jsonl");
  std::filesystem::create_symlink(target, link);
  CliRun linked = Cli("serve --db " + db + " --listen " + taken + tokens +
                      " --access-log " + link);
  EXPECT_EQ(linked.code, 4) << linked.err;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(testing::FileContents(target), "");
  first.Stop(SIGTERM);
}

// docs/bad-input.md, section 4: a tokens file without tokens starts the
// server, with a warning.
TEST_F(ServeTest, ATokensFileWithoutTokensStartsWithAWarning) {
  const std::string db = dir_.Sub("lonely");
  ASSERT_EQ(Cli("init --db " + db + " --name lonely.example/log").code, 0);
  const std::string tokens = Write("no-tokens", "# nobody yet\n");
  ServeProcess p;
  const std::string address =
      p.Start({"--db", db, "--listen", "127.0.0.1:0", "--tokens", tokens},
              dir_.Sub("serve.err"));
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
              HasSubstr(absl::StrCat("caseledger serve: warning: ", tokens,
                                     " lists no tokens; every call will be "
                                     "refused")));
  p.Stop(SIGTERM);
}

// The binary on a disk whose log syncs fail from the `from`th on
// (fsync_fails.cc, preloaded).
std::vector<std::pair<std::string, std::string>> LogSyncsFailFrom(int from) {
  std::vector<std::pair<std::string, std::string>> env =
      testing::Preloading(CASELEDGER_FSYNC_FAILS);
  env.emplace_back("CASELEDGER_TEST_FAIL_LOG_SYNC_FROM", std::to_string(from));
  return env;
}

// A sync of the log the server makes by itself between calls (its
// automatic checkpoint's, once appends pause) fails: the ledger refuses
// appends from then on, and serve said nothing of it (health SERVING)
// until the next append was refused. It says so at once, and exits
// non-zero at SIGTERM.
TEST_F(ServeTest, AFailedSyncOfTheLogBetweenCallsIsToldAtOnce) {
  const std::string db = dir_.Sub("failing-disk");
  ASSERT_EQ(Cli("init --db " + db + " --name disk.example/log").code, 0);
  ServeProcess p;
  // The append's own sync passes; the checkpoint's, a second later, fails.
  const std::string address =
      Serve(p, db, {"--checkpoint-every", "1"}, LogSyncsFailFrom(2));
  ASSERT_FALSE(address.empty()) << testing::FileContents(dir_.Sub("serve.err"));
  ASSERT_EQ(Cli(Remote(address, "appender") + "append " +
                Example("bounce-handled.jsonl"))
                .code,
            0);
  const std::string told =
      "caseledger serve: the ledger refuses appends until the server is "
      "restarted (health: NOT_SERVING): ";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (
      !absl::StrContains(testing::FileContents(dir_.Sub("serve.err")), told) &&
      absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")), HasSubstr(told));
  EXPECT_NE(p.Stop(SIGTERM), 0);
  const std::string err = testing::FileContents(dir_.Sub("serve.err"));
  EXPECT_THAT(err, HasSubstr("the ledger refused appends when it stopped"));
  EXPECT_EQ(err.find(told), err.rfind(told)) << err;  // once
  CliRun verified = Cli("verify --db " + db);
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

// After a synced write of the deadline index failed, the writer's own sync
// of the log at close went into RocksDB's SyncWAL, whose assertion aborted
// the process (exit 134) once an automatic checkpoint waited for a sync
// (found by a review with fsync failing under LD_PRELOAD).
TEST_F(ServeTest, AnAppendWhoseLaterSyncsFailDoesNotAbort) {
  const std::string db = dir_.Sub("failing-append");
  ASSERT_EQ(Cli("init --db " + db + " --name disk.example/log").code, 0);
  // Past the 1,000 entries after which the writer stores a checkpoint.
  std::string lines = absl::StrCat(
      R"({"case_id": "DISK-1", "occurred_at": "2011-02-01T09:00:00Z", )",
      R"("actor": {"kind": "OFFICER", "id": "off-17"}, "source": "t", )",
      R"("case_opened": {"program": "TRV", "office_id": "VO-DAKAR", )",
      R"("office_mailbox": "visa-office@office.example", )",
      R"("applicant_country": "SN", "language": "fr"}})", "\n");
  for (int i = 0; i < 1100; ++i) {
    absl::StrAppend(
        &lines,
        R"({"case_id": "DISK-1", "occurred_at": "2011-02-01T10:00:00Z", )",
        R"("actor": {"kind": "OFFICER", "id": "off-17"}, "source": "t", )",
        R"("officer_note_added": {"text": "note"}})", "\n");
  }
  const std::string file = Write("many.jsonl", lines);
  CliRun r = testing::RunCli(
      testing::WithEnvironment(LogSyncsFailFrom(2), CASELEDGER_BINARY),
      "append --db " + db + " " + file, dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("appended 1101 events"));
  EXPECT_THAT(r.err, Not(HasSubstr("Assertion")));
  CliRun verified = Cli("verify --db " + db);
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

// A one-shot append whose appends were synced, and whose writer's own sync
// of the log failed after them (its checkpoint at close), exited 0 saying
// nothing of the failing disk. It warns; its appends are durable.
TEST_F(ServeTest, AOneShotVerbWarnsOfAWriteThatFailedAfterItsAppends) {
  const std::string db = dir_.Sub("failing-close");
  ASSERT_EQ(Cli("init --db " + db + " --name disk.example/log").code, 0);
  // The append's sync and the deadline index's pass; the third fails.
  CliRun r = testing::RunCli(
      testing::WithEnvironment(LogSyncsFailFrom(3), CASELEDGER_BINARY),
      "append --db " + db + " " + Example("bounce-handled.jsonl"), dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("appended 10 events"));
  EXPECT_THAT(r.err, HasSubstr("caseledger append: warning: a write failed "
                               "after this command's work was stored: "));
  EXPECT_THAT(r.err, HasSubstr("Input/output error; its work is durable, and "
                               "the next open takes the ledger as it is, but "
                               "check the disk\n"));
  CliRun verified = Cli("verify --db " + db);
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("OK 10 entries"));
}

// gRPC's default poller (epoll1) held a stop seconds past --grace, in its
// teardown, when clients had stopped reading (docs/service.md, stop step 3):
// the binary selects poll(2), unless the environment names a poller.
TEST_F(ServeTest, TheServerPollsWithPollUnlessToldOtherwise) {
  const std::string db = dir_.Sub("poller");
  ASSERT_EQ(Cli("init --db " + db + " --name e2e.test/log").code, 0);
  for (const auto& [given, used] :
       {std::pair<std::string, std::string>{"", "poll"},
        {"epoll1", "epoll1"}}) {
    ServeProcess p;
    ASSERT_FALSE(
        Serve(p, db, {},
              {{"GRPC_POLL_STRATEGY", given}, {"GRPC_VERBOSITY", "debug"}})
            .empty())
        << testing::FileContents(dir_.Sub("serve.err"));
    EXPECT_EQ(p.Stop(SIGTERM), 0);
    EXPECT_THAT(testing::FileContents(dir_.Sub("serve.err")),
                HasSubstr("Using polling engine: " + used + "\n"))
        << given;
  }
}

}  // namespace
}  // namespace caseledger
