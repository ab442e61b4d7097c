// Load generator for the network service: N concurrent clients, each on its
// own connection and its own case, append for a fixed time (single events or
// batches) and report events/s and the latency of each Append call.
//
//   caseledger_load_generator --embedded [--clients 16] [--seconds 10]
//       [--batch 1,10]
//   caseledger_load_generator --server HOST:PORT --token-file F [--tls-ca F]
//       [--clients 16] [--seconds 10] [--batch 1,10]
//
// --embedded starts a server over a fresh ledger in a temp folder inside this
// process (loopback, plaintext, synced appends as in production) and removes
// it afterwards. Results: docs/service.md ("Performance").
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/support/channel_arguments.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"
#include "tools/client.h"
#include "tools/server/server.h"
#include "tools/server/tokens.h"

namespace caseledger {
namespace {

struct Flags {
  std::string server, token_file, tls_ca;
  bool embedded = false;
  int clients = 16;
  double seconds = 10;
  std::vector<int> batches = {1, 10};
};

int Usage(const std::string& why) {
  std::fprintf(
      stderr,
      "caseledger_load_generator: %s\nusage: caseledger_load_generator "
      "(--embedded | --server HOST:PORT --token-file F [--tls-ca F])\n"
      "  [--clients N] [--seconds S] [--batch 1,10]\n",
      why.c_str());
  return 2;
}

v1::Event MakeEvent(const std::string& case_id, bool first) {
  std::string json =
      first
          ? absl::StrCat(
                R"({"case_id": ")", case_id,
                R"(", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "load", "case_opened": {"program": "SP", "office_id": "VO-DELHI", "office_mailbox": "visa-office@office.example", "applicant_country": "PH", "language": "en"}})")
          : absl::StrCat(
                R"({"case_id": ")", case_id,
                R"(", "occurred_at": "2011-01-11T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "load", "officer_note_added": {"text": "Called the applicant; no answer. Left a message asking for the documents."}})");
  auto e = ParseEventJson(json);
  if (!e.ok()) std::abort();
  return *e;
}

struct PhaseResult {
  int batch = 0;
  uint64_t calls = 0, events = 0, errors = 0;
  double seconds = 0;
  absl::Duration p50, p99, max;
};

PhaseResult RunPhase(const client::ClientOptions& base, const Flags& flags,
                     int batch, int phase) {
  std::vector<std::vector<absl::Duration>> latencies(flags.clients);
  std::atomic<uint64_t> events{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int i = 0; i < flags.clients; ++i) {
    threads.emplace_back([&, i] {
      auto c = client::LedgerClient::Connect(base);
      if (!c.ok()) {
        ++errors;
        return;
      }
      std::string case_id =
          absl::StrCat("LOAD-", absl::ToUnixMillis(start), "-", phase, "-", i);
      std::vector<v1::Event> events_of_call = {MakeEvent(case_id, true)};
      while (!stop.load()) {
        absl::Time t0 = absl::Now();
        auto r = (*c)->Append(events_of_call);
        absl::Duration took = absl::Now() - t0;
        if (!r.ok()) {
          ++errors;
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          absl::SleepFor(absl::Milliseconds(10));
          continue;
        }
        latencies[i].push_back(took);
        events += r->events.size();
        events_of_call.assign(batch, MakeEvent(case_id, false));
      }
    });
  }
  absl::SleepFor(absl::Seconds(flags.seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  PhaseResult result;
  result.batch = batch;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<absl::Duration> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  result.calls = all.size();
  result.events = events.load();
  result.errors = errors.load();
  if (!all.empty()) {
    result.p50 = all[all.size() / 2];
    result.p99 = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    result.max = all.back();
  }
  return result;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--embedded") {
      flags.embedded = true;
    } else if (a == "--server") {
      flags.server = value();
    } else if (a == "--token-file") {
      flags.token_file = value();
    } else if (a == "--tls-ca") {
      flags.tls_ca = value();
    } else if (a == "--clients") {
      if (!absl::SimpleAtoi(value(), &flags.clients) || flags.clients < 1)
        return Usage("--clients N, N >= 1");
    } else if (a == "--seconds") {
      if (!absl::SimpleAtod(value(), &flags.seconds) || flags.seconds <= 0)
        return Usage("--seconds S, S > 0");
    } else if (a == "--batch") {
      flags.batches.clear();
      for (absl::string_view b : absl::StrSplit(value(), ',')) {
        int n;
        if (!absl::SimpleAtoi(b, &n) || n < 1 || n > 10000)
          return Usage("--batch N[,N...], 1 <= N <= 10000");
        flags.batches.push_back(n);
      }
    } else {
      return Usage(absl::StrCat("unknown argument ", a));
    }
  }
  if (flags.embedded == !flags.server.empty()) {
    return Usage("give exactly one of --embedded or --server");
  }

  client::ClientOptions options;
  options.append_retries = 0;
  options.timeout = absl::Seconds(30);
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<server::Server> server;
  server::TokenTable tokens;
  std::string dir;
  if (flags.embedded) {
    dir = (std::filesystem::temp_directory_path() /
           absl::StrCat("caseledger-load-", getpid()))
              .string();
    auto created = Ledger::Create(dir, "load.test/log");
    if (!created.ok()) return Usage(std::string(created.status().message()));
    ledger = std::move(*created);
    auto token = server::NewToken();
    if (!token.ok()) return Usage(std::string(token.status().message()));
    auto table = server::TokenTable::Parse(
        server::TokenFileLine(server::Role::kAppender, "load", *token), "t");
    if (!table.ok()) return Usage(std::string(table.status().message()));
    tokens = std::move(*table);
    server::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.service.ledger = ledger.get();
    server_options.service.tokens = &tokens;
    server_options.service.clock = &SystemClock();
    auto started = server::Server::Start(std::move(server_options));
    if (!started.ok()) return Usage(std::string(started.status().message()));
    server = std::move(*started);
    options.server = server->address();
    options.token = *token;
  } else {
    options.server = flags.server;
    auto token = server::ReadClientToken(flags.token_file);
    if (!token.ok()) return Usage(std::string(token.status().message()));
    options.token = *token;
    if (!flags.tls_ca.empty()) {
      std::ifstream in(flags.tls_ca);
      std::stringstream s;
      s << in.rdbuf();
      options.tls_ca_pem = s.str();
    }
  }

  std::printf("server %s, %d clients, %.0f s per phase%s\n",
              options.server.c_str(), flags.clients, flags.seconds,
              flags.embedded ? " (embedded, synced appends)" : "");
  std::printf(
      "| events per Append | clients | events/s | Appends/s | p50 "
      "latency | p99 latency | max | errors |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int phase = 0;
  uint64_t failed = 0;
  for (int batch : flags.batches) {
    PhaseResult r = RunPhase(options, flags, batch, phase++);
    failed += r.errors;
    std::printf(
        "| %d | %d | %.0f | %.0f | %.2f ms | %.2f ms | %.2f ms | %llu "
        "|\n",
        r.batch, flags.clients, r.events / r.seconds, r.calls / r.seconds,
        absl::ToDoubleMilliseconds(r.p50), absl::ToDoubleMilliseconds(r.p99),
        absl::ToDoubleMilliseconds(r.max),
        static_cast<unsigned long long>(r.errors));
    std::fflush(stdout);
  }
  if (ledger != nullptr) {
    Ledger::Stats stats = ledger->GetStats();
    std::printf(
        "ledger: %llu appends in %llu synced writes (%.1f appends "
        "per sync)\n",
        static_cast<unsigned long long>(stats.appends),
        static_cast<unsigned long long>(stats.writes),
        stats.writes ? static_cast<double>(stats.appends) / stats.writes : 0.0);
    server->Shutdown(absl::Seconds(5));
    server.reset();
    ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  // A run whose calls failed measured something else than the server's
  // appends; a script must not take it for a good one.
  if (failed > 0) {
    std::fprintf(stderr,
                 "load generator: %llu calls failed (their errors are above)\n",
                 static_cast<unsigned long long>(failed));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace caseledger

int main(int argc, char** argv) { return caseledger::Main(argc, argv); }
