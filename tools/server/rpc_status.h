// absl::Status <-> grpc::Status. Codes map one to one (both are the canonical
// codes); the message is kept; the absl payloads (e.g.
// "caseledger.dev/expected-version", "caseledger.dev/actual-version",
// "caseledger.dev/event-index") travel in the standard binary details, a
// google.rpc.Status-compatible caseledger.v1.RpcStatus holding one
// caseledger.v1.ErrorDetails.
//
// Thread safety: pure functions.
#ifndef CASELEDGER_TOOLS_SERVER_RPC_STATUS_H_
#define CASELEDGER_TOOLS_SERVER_RPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace caseledger::server {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_RPC_STATUS_H_
