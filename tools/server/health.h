// The standard health service (grpc.health.v1.Health) of `caseledger
// serve`, open to every caller. The server and caseledger.v1.Ledger share
// one status: SERVING while the ledger takes appends.
//
// gRPC's own service keeps a Watch open until the server's grace period
// ends, so one load balancer watching made every stop take --grace (30 s;
// found by an audit). This one ends each Watch with UNAVAILABLE as soon as
// the server stops, after the watcher has seen NOT_SERVING.
//
// Thread safety: thread-safe.
#ifndef CASELEDGER_TOOLS_SERVER_HEALTH_H_
#define CASELEDGER_TOOLS_SERVER_HEALTH_H_

#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/server/call_limit.h"

namespace caseledger::server {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // Most Watch calls at once; each holds a server thread. Beyond it a
  // Watch is RESOURCE_EXHAUSTED.
  static constexpr int kMaxWatches = 32;

  // Starts NOT_SERVING.
  HealthService() = default;

  void SetServing(bool serving);
  // NOT_SERVING from now on, whatever SetServing says; every Watch ends.
  void Shutdown();

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // Sends the status at once and again on each change, until the client
  // leaves (CANCELLED) or the server stops (UNAVAILABLE). An unknown
  // service name gets SERVICE_UNKNOWN and the call stays open, as the
  // protocol asks.
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>*
                         writer) override;

 private:
  // The status of `service`, or SERVICE_UNKNOWN.
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(
      const std::string& service) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  CallLimit watches_{"health watches", kMaxWatches};
};

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_HEALTH_H_
