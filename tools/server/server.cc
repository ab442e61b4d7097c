#include "tools/server/server.h"

#include <arpa/inet.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/grpc.h"
#include "grpc/support/log.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "ledger/string_view.h"
#include "tools/server/tls_material.h"

namespace caseledger::server {
namespace {

// gRPC tells why a port could not be bound in a raw log line on stderr
// ("E1204 ... chttp2_server.cc:1045] UNKNOWN:No address added ...
// os_error:\"Address already in use\"..."), before Start can say it in the
// program's words. While a server is built, what gRPC logs is held: a
// start that failed for a reason of the system quotes it and drops the
// lines; otherwise they are passed on as gRPC would have logged them.
struct HeldLine {
  std::string file;
  int line;
  gpr_log_severity severity;
  std::string message;
};
absl::Mutex held_mu(absl::kConstInit);
std::vector<HeldLine>& Held() ABSL_EXCLUSIVE_LOCKS_REQUIRED(held_mu) {
  static auto* held = new std::vector<HeldLine>;
  return *held;
}

void HoldGrpcLog(gpr_log_func_args* args) {
  absl::MutexLock lock(&held_mu);
  Held().push_back({args->file == nullptr ? "" : args->file, args->line,
                    args->severity,
                    args->message == nullptr ? "" : args->message});
}

class GrpcLogHeld {
 public:
  GrpcLogHeld() : one_start_at_a_time_(&start_mu_) {
    gpr_set_log_function(&HoldGrpcLog);
  }
  ~GrpcLogHeld() {
    gpr_set_log_function(nullptr);  // gRPC's own
    std::vector<HeldLine> lines;
    {
      absl::MutexLock lock(&held_mu);
      lines.swap(Held());
    }
    if (dropped_) return;
    for (const HeldLine& l : lines) {
      gpr_log_message(l.file.c_str(), l.line, l.severity, l.message.c_str());
    }
  }

  // The system's reason for the last failure gRPC logged, as it quotes it
  // (os_error:"Address already in use"), and the held lines are dropped:
  // the caller says what they said. Empty, and the lines kept for gRPC to
  // log, when it quoted none.
  std::string TakeReason() {
    absl::MutexLock lock(&held_mu);
    constexpr std::string_view kKey = "os_error:\"";
    for (auto it = Held().rbegin(); it != Held().rend(); ++it) {
      const size_t at = it->message.rfind(kKey);
      if (at == std::string::npos) continue;
      const size_t from = at + kKey.size();
      const size_t to = it->message.find('"', from);
      if (to == std::string::npos) continue;
      dropped_ = true;
      return it->message.substr(from, to - from);
    }
    return "";
  }

 private:
  static absl::Mutex start_mu_;
  absl::MutexLock one_start_at_a_time_;
  bool dropped_ = false;
};
absl::Mutex GrpcLogHeld::start_mu_(absl::kConstInit);

std::shared_ptr<grpc::ServerCredentials> Credentials(
    const ServerOptions& options) {
  if (options.tls_cert_pem.empty() && options.tls_key_pem.empty()) {
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl(
      options.tls_client_ca_pem.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = options.tls_client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({options.tls_key_pem, options.tls_cert_pem});
  return grpc::SslServerCredentials(ssl);
}

// Why `host` (the part before ":PORT", not empty) is no host gRPC can
// reach or listen on, or nullopt. gRPC takes anything and fails only when it
// connects or binds, with a log line and exit 4 where the address itself
// was wrong.
std::optional<std::string> WhatIsWrongWithHost(std::string_view host) {
  constexpr std::string_view kNameBytes =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  if (host.front() == '[' || host.back() == ']') {
    if (host.front() != '[' || host.back() != ']') {
      return "the brackets go around the IPv6 address alone ([::1]:PORT)";
    }
    // A zone ("[fe80::1%eth0]") names the interface; inet_pton knows none.
    std::string_view inside = host.substr(1, host.size() - 2);
    const size_t percent = inside.find('%');
    in6_addr ipv6;
    if (inet_pton(AF_INET6, std::string(inside.substr(0, percent)).c_str(),
                  &ipv6) != 1) {
      return "what is in brackets is not an IPv6 address";
    }
    if (percent != std::string_view::npos &&
        (percent + 1 == inside.size() ||
         inside.find_first_not_of(kNameBytes, percent + 1) !=
             std::string_view::npos)) {
      return "the zone after '%' is not an interface's name or number";
    }
    return std::nullopt;
  }
  if (host.find(':') != std::string_view::npos) {
    return "an IPv6 address goes in brackets ([::1]:PORT)";
  }
  if (host.find_first_not_of("0123456789.") == std::string_view::npos &&
      host.find_first_of("0123456789") != std::string_view::npos) {
    in_addr ipv4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &ipv4) != 1) {
      return absl::StrCat(AbslView(host),
                          " is not an IPv4 address (four decimal numbers of 0 "
                          "to 255, without leading zeros)");
    }
    return std::nullopt;
  }
  const size_t odd =
      host.find_first_not_of(absl::StrCat(AbslView(kNameBytes), "."));
  if (odd != std::string_view::npos) {
    return absl::StrCat(
        "a host name holds only letters, digits, '.', '-' and '_' (byte ",
        odd + 1, " of the host is none of them)");
  }
  // One trailing dot marks a name as complete (RFC 1034).
  std::string_view name = host;
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  absl::string_view last;
  for (absl::string_view label : absl::StrSplit(AbslView(name), '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' ||
        label.back() == '-') {
      return "a host name is parts of 1 to 63 letters, digits, '-' or '_' "
             "between dots, none beginning or ending with '-'";
    }
    last = label;
  }
  // No name ends in a number (RFC 3696, section 2): the system's resolver
  // reads "0x7f.0.0.1" as the address 127.0.0.1, which no name check sees.
  const bool hex = absl::StartsWithIgnoreCase(last, "0x") && last.size() > 2;
  if (last.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789",
                             hex ? 2 : 0) == absl::string_view::npos) {
    return absl::StrCat(AbslView(host),
                        " is not an IPv4 address (four decimal numbers of 0 "
                        "to 255, without leading zeros), and no host name "
                        "ends in a number");
  }
  return std::nullopt;
}

}  // namespace

absl::Status CheckHostAndPort(std::string_view address, uint32_t lowest) {
  // gRPC's own target names would be told their IPv6 address lacks brackets.
  constexpr std::string_view kSchemes[] = {
      "dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:", "xds:"};
  if (absl::StrContains(AbslView(address), "://") ||
      absl::c_any_of(kSchemes, [&](std::string_view scheme) {
        return absl::StartsWithIgnoreCase(AbslView(address), AbslView(scheme));
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AbslView(address),
                     "' is not HOST:PORT (gRPC target names such as "
                     "dns:///HOST:PORT or unix:PATH are not taken)"));
  }
  const size_t colon = address.rfind(':');
  const std::string_view port = colon == std::string_view::npos
                                    ? std::string_view()
                                    : address.substr(colon + 1);
  uint32_t number = 0;
  if (colon == std::string_view::npos || colon == 0 || port.empty() ||
      port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(AbslView(port), &number) || number > 65535 ||
      number < lowest) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", AbslView(address), "' is not HOST:PORT with a port from ", lowest,
        " to 65535"));
  }
  // "::1:7420" is not [::1]:7420: gRPC read it as another address.
  const std::string_view host = address.substr(0, colon);
  if (std::optional<std::string> wrong = WhatIsWrongWithHost(host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", AbslView(address), "' is not HOST:PORT: ", *wrong));
  }
  return absl::OkStatus();
}

absl::Status Server::CheckListenOptions(const ServerOptions& options) {
  if (options.tls_cert_pem.empty() != options.tls_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and its private key");
  }
  if (!options.tls_client_ca_pem.empty() && options.tls_cert_pem.empty()) {
    return absl::InvalidArgumentError(
        "mutual TLS (a client CA) needs the server's certificate and key");
  }
  if (absl::Status address = CheckHostAndPort(options.listen, 0);
      !address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address ", address.message()));
  }
  return CheckTlsMaterial(
      {{options.tls_cert_pem, options.tls_cert_named},
       {options.tls_key_pem, options.tls_key_named},
       {options.tls_client_ca_pem, options.tls_client_ca_named},
       "serve"});
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (absl::Status s = CheckListenOptions(options); !s.ok()) return s;
  if (options.service.ledger == nullptr || options.service.tokens == nullptr ||
      options.service.clock == nullptr) {
    return absl::InvalidArgumentError(
        "the service needs a ledger, tokens and a clock");
  }
  std::unique_ptr<Server> server(new Server());
  server->appends_refused_ =
      [s = server.get(), told = std::move(options.service.on_appends_refused)](
          const absl::Status& why) {
        s->StopServingHealth();
        if (told) told(why);
      };
  options.service.on_appends_refused =
      [s = server.get()](const absl::Status& why) { s->AppendsRefused(why); };
  server->service_ = std::make_unique<LedgerService>(options.service);

  GrpcLogHeld grpc_log;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, Credentials(options), &port);
  // gRPC lets a second server share a port by default; two ledgers behind
  // one address would each take some of the clients' appends.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  builder.RegisterService(&server->health_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.service.max_response_bytes);
  grpc::ResourceQuota quota("caseledger-serve");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  {
    // Under the lock that StopServingHealth takes, so that an append
    // refused meanwhile is not followed by a SERVING set here.
    absl::MutexLock lock(&server->mu_);
    server->server_ = builder.BuildAndStart();
    if (server->server_ != nullptr) {
      const bool serving = options.service.ledger->AcceptsAppends().ok();
      server->health_.SetServing(serving);
      server->not_serving_ = !serving;
    }
  }
  if (server->server_ == nullptr || port == 0) {
    constexpr char kWhy[] =
        "the port is taken, or the host is not one of this machine's "
        "addresses";
    const std::string reason = grpc_log.TakeReason();
    return absl::UnavailableError(
        reason.empty()
            ? absl::StrCat("cannot listen on ", options.listen, ": ", kWhy)
            : absl::StrCat("cannot listen on ", options.listen, ": ", reason,
                           " (", kWhy, ")"));
  }
  // CheckListenOptions made sure of the colon.
  server->address_ = absl::StrCat(
      options.listen.substr(0, options.listen.rfind(':')), ":", port);
  return server;
}

void Server::StopServingHealth() {
  absl::MutexLock lock(&mu_);
  // Once: the status never comes back to SERVING.
  if (server_ == nullptr || not_serving_) return;
  not_serving_ = true;
  health_.SetServing(false);
}

void Server::AppendsRefused(const absl::Status& why) { appends_refused_(why); }

Server::~Server() { Shutdown(absl::ZeroDuration()); }

void Server::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_ || server_ == nullptr) return;  // null: Start failed
    shut_down_ = true;
  }
  StopServingHealth();
  health_.Shutdown();
  service_->BeginShutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace caseledger::server
