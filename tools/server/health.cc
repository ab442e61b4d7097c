#include "tools/server/health.h"

#include <optional>

#include "absl/time/time.h"
#include "caseledger/v1/service.grpc.pb.h"

namespace caseledger::server {

using grpc::health::v1::HealthCheckResponse;

namespace {

// How often an idle Watch looks whether its client left: gRPC does not
// wake a blocked handler when its call is cancelled.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(200);

}  // namespace

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (!shut_down_) serving_ = serving;
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  serving_ = false;
  shut_down_ = true;
}

HealthCheckResponse::ServingStatus HealthService::StatusOf(
    const std::string& service) const {
  if (!service.empty() && service != v1::Ledger::service_full_name()) {
    return HealthCheckResponse::SERVICE_UNKNOWN;
  }
  return serving_ ? HealthCheckResponse::SERVING
                  : HealthCheckResponse::NOT_SERVING;
}

grpc::Status HealthService::Check(
    grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  absl::ReaderMutexLock lock(&mu_);
  const auto status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no service of that name");
  }
  response->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(
    grpc::ServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    grpc::ServerWriter<HealthCheckResponse>* writer) {
  const CallLimit::Place place = watches_.Take();
  if (!place) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        watches_.Refusal());
  }
  absl::MutexLock lock(&mu_);
  std::optional<HealthCheckResponse::ServingStatus> sent;
  grpc::Status ended;
  for (;;) {
    const auto status = StatusOf(request->service());
    if (status != sent) {
      HealthCheckResponse response;
      response.set_status(status);
      mu_.Unlock();
      const bool written = writer->Write(response);
      mu_.Lock();
      if (!written) {
        ended = grpc::Status(grpc::StatusCode::CANCELLED, "the client left");
        break;
      }
      sent = status;
      continue;  // it may have changed meanwhile
    }
    if (shut_down_) {
      ended =
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping");
      break;
    }
    if (context->IsCancelled()) {
      ended = grpc::Status(grpc::StatusCode::CANCELLED, "the client left");
      break;
    }
    // Woken by a change or the stop; the timeout looks at the client.
    struct Waiting {
      const HealthService* self;
      bool was_serving;
    } waiting{this, serving_};
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](Waiting* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                               return w->self->shut_down_ ||
                                      w->self->serving_ != w->was_serving;
                             },
                             &waiting),
                         kWatchPoll);
  }
  return ended;
}

}  // namespace caseledger::server
