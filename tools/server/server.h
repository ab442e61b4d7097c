// A running gRPC server of caseledger.v1.Ledger plus the standard health
// service (grpc.health.v1.Health) on one listening address, with TLS or
// mutual TLS when configured (docs/service.md).
//
// Thread safety: Shutdown() may be called from any thread, once or more.
#ifndef CASELEDGER_TOOLS_SERVER_SERVER_H_
#define CASELEDGER_TOOLS_SERVER_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "tools/server/health.h"
#include "tools/server/service.h"

namespace caseledger::server {

struct ServerOptions {
  // HOST:PORT to listen on; port 0 picks a free one. Default: 127.0.0.1:0.
  std::string listen = "127.0.0.1:0";
  // PEM text of the server's certificate chain and private key. Both empty:
  // plaintext (only for loopback and tests). Default: empty.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // PEM text of the CAs whose client certificates are accepted; non-empty
  // turns on mutual TLS (a client without a valid certificate cannot
  // connect). Bearer tokens are required either way. Default: empty.
  std::string tls_client_ca_pem;
  // How errors name where each of the three came from (serve: "--tls-cert
  // FILE"). Default: what each is ("the TLS certificate file", ...).
  std::string tls_cert_named = "the TLS certificate file";
  std::string tls_key_named = "the TLS key file";
  std::string tls_client_ca_named = "the client CA file";
  // Largest request received, in bytes. Default: 8 MiB.
  int max_message_bytes = 8 << 20;
  // Most threads serving calls. Default: 256.
  int max_threads = 256;
  ServiceOptions service;
};

// kInvalidArgument "'ADDRESS' is not HOST:PORT ..." unless `address` is a
// host name, an IPv4 address or a bracketed IPv6 one, then a port from
// `lowest` to 65535. gRPC takes a port past 65535 modulo 65536 and one left
// out as 0 or 443: a server listened, and a client connected, elsewhere than
// asked; a host that is no address it finds wrong only when it binds or
// connects.
absl::Status CheckHostAndPort(std::string_view address, uint32_t lowest);

class Server {
 public:
  // Starts serving. kInvalidArgument for a bad address or TLS material,
  // kUnavailable when the address cannot be bound (a port another process
  // listens on included). The health service reports NOT_SERVING from the
  // moment the ledger refuses appends (Ledger::AcceptsAppends).
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  // The checks of Start that need nothing opened (the address's form, the
  // TLS files' PEM text and that key and certificate go together), so that a
  // caller can refuse bad flags before it opens the ledger.
  // kInvalidArgument.
  static absl::Status CheckListenOptions(const ServerOptions& options);
  // Shuts down with no grace period if Shutdown() was not called.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // HOST:PORT actually bound, e.g. "127.0.0.1:41234".
  const std::string& address() const { return address_; }

  // Stops accepting calls, reports NOT_SERVING on the health service, ends
  // every subscription, and waits up to `grace` for calls in flight
  // (appends included) to finish before cancelling the rest. The ledger is
  // untouched: the caller closes it afterwards.
  void Shutdown(absl::Duration grace);

  // The ledger came to refuse appends outside any call (a failed sync of
  // its log): reports NOT_SERVING, as after an append refused, and tells
  // ServiceOptions::on_appends_refused.
  void AppendsRefused(const absl::Status& why);

 private:
  Server() = default;
  void StopServingHealth();

  std::unique_ptr<LedgerService> service_;
  std::function<void(const absl::Status&)> appends_refused_;
  HealthService health_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool not_serving_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_SERVER_H_
