#include "tools/server/rpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "caseledger/v1/service.pb.h"
#include "tools/server/call_limit.h"

namespace caseledger::server {

namespace {
// gRPC's message when no server thread was free to take a call, which it
// refuses before any handler runs.
constexpr char kThreadsExhausted[] = "Server Threadpool Exhausted";
}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  v1::ErrorDetails details;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    (*details.mutable_payloads())[std::string(url)] = std::string(payload);
  });
  const grpc::StatusCode code = static_cast<grpc::StatusCode>(status.code());
  // Only what the code and message do not say goes in a trailer
  // (docs/service.md, "Errors"); one was sent with every error.
  if (details.payloads().empty()) {
    return grpc::Status(code, std::string(status.message()));
  }
  v1::RpcStatus rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(std::string(status.message()));
  rpc.add_details()->PackFrom(details);
  return grpc::Status(code, std::string(status.message()),
                      rpc.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC's own words for a call no server thread was free to take say
  // neither that nothing of it ran nor what to do (found by a soak test).
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      status.error_message() == kThreadsExhausted) {
    return absl::ResourceExhaustedError(
        absl::StrCat(kServerBusy, " (gRPC: ", kThreadsExhausted,
                     "); nothing of this call was done: try again shortly"));
  }
  std::string message = status.error_message();
  // gRPC names an IPv6 server it could not reach as a URI, its brackets
  // encoded ("ipv6:%5B::1%5D:7420"): shown as the address was given.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      absl::StartsWith(message, kNoServerReached)) {
    message = AddressAsWritten(std::move(message));
  }
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), message);
  v1::RpcStatus rpc;
  if (!status.error_details().empty() &&
      rpc.ParseFromString(status.error_details())) {
    for (const auto& any : rpc.details()) {
      v1::ErrorDetails details;
      if (!any.UnpackTo(&details)) continue;
      for (const auto& [url, value] : details.payloads()) {
        out.SetPayload(url, absl::Cord(value));
      }
    }
  }
  return out;
}

std::string AddressAsWritten(std::string text) {
  return absl::StrReplaceAll(text, {{"%5B", "["}, {"%5D", "]"}});
}

bool RefusedForWantOfRoom(const absl::Status& status) {
  return absl::IsResourceExhausted(status) &&
         (absl::StartsWith(status.message(), kServerBusy) ||
          absl::StartsWith(status.message(), CallLimit::kNoPlace));
}

bool RefusedAsTooLarge(const absl::Status& status) {
  return absl::IsResourceExhausted(status) &&
         (absl::StartsWith(status.message(), kMessageTooLarge) ||
          absl::StartsWith(status.message(), kAnswerTooLarge));
}

}  // namespace caseledger::server
