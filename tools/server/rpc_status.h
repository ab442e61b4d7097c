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

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace caseledger::server {

// How FromGrpcStatus's message for that refusal begins.
inline constexpr char kServerBusy[] =
    "the server is busy: every one of its threads is at work";

// How gRPC's message begins when a call found no server to connect to
// (UNAVAILABLE, before anything was sent).
inline constexpr char kNoServerReached[] = "failed to connect to all addresses";

// Carried by a refusal the server makes before the call does anything (its
// access log cannot be written): the outcome is known, where UNAVAILABLE
// alone reads as a call that may have been done.
inline constexpr char kNothingDonePayload[] = "caseledger.dev/nothing-done";

// Why Append refuses an evidence_bundle_exported event whatever the
// caller's role (PERMISSION_DENIED), which a client can foresee.
inline constexpr char kDisclosureNotAppended[] =
    "evidence_bundle_exported is appended by ExportBundle itself, when it "
    "discloses a bundle; an Append may not claim a disclosure";

// How the server's refusals of what is too large for it begin
// (RESOURCE_EXHAUSTED): an attached message over its limit, an answer over
// the most one reply carries. The client takes them for bad input, which
// no retry mends (exit 2, as a local attach of too large a file).
inline constexpr char kMessageTooLarge[] = "the message is over ";
inline constexpr char kAnswerTooLarge[] = "the answer would be ";

grpc::Status ToGrpcStatus(const absl::Status& status);
// gRPC's refusal for want of a thread comes back as RESOURCE_EXHAUSTED with
// a message that begins with kServerBusy and says that nothing was done.
// An IPv6 address gRPC could not reach is shown as given, not URI-encoded.
absl::Status FromGrpcStatus(const grpc::Status& status);
// Whether `status` is a refusal for want of room, made before the call did
// anything: every server thread at work, or a cap on such calls reached
// (CallLimit). Not a message over a size limit, also RESOURCE_EXHAUSTED.
bool RefusedForWantOfRoom(const absl::Status& status);
// Whether `status` is a refusal of what is too large (kMessageTooLarge,
// kAnswerTooLarge).
bool RefusedAsTooLarge(const absl::Status& status);
// gRPC's text of an address, with an IPv6 address's brackets URI-encoded
// ("ipv6:%5B::1%5D:7420"), as an address is written ("ipv6:[::1]:7420").
std::string AddressAsWritten(std::string text);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_RPC_STATUS_H_
