// A client of the caseledger.v1.Ledger service, for the CLI's client mode
// (`caseledger --server ADDR --token-file F <verb>`), the load generator and
// tests. docs/service.md describes the API.
//
// Every call sends the bearer token and has a deadline; errors come back as
// the server's absl::Status (code, message and payloads, see
// tools/server/rpc_status.h).
//
// Thread safety: a LedgerClient may be used from many threads at once (one
// HTTP/2 channel is shared).
#ifndef CASELEDGER_TOOLS_CLIENT_H_
#define CASELEDGER_TOOLS_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/service.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "ledger/ledger.h"
#include "ledger/recorded_event.h"

namespace caseledger::client {

struct ClientOptions {
  // HOST:PORT of the server.
  std::string server;
  // The bearer token (the token alone, as in a client's token file).
  std::string token;
  // TLS: PEM text of the CAs that the server's certificate must chain to.
  // Empty: plaintext. Default: empty.
  std::string tls_ca_pem;
  // Mutual TLS: the client's certificate chain and key (PEM text).
  // Default: empty.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // Deadline of each unary call; a streaming read fails when it waits this
  // long for its next event (however long the whole read). Default: 60 s.
  absl::Duration timeout = absl::Seconds(60);
  // Deadline of a Backup, which copies and verifies the whole ledger, of an
  // ExportBundle, which builds a whole case's bundle first (a case of
  // 20,000 events takes about a minute: under the 60 s of `timeout` such a
  // case could not be exported at all, found by an audit), and of a
  // projection (every case's deadlines took 4.3 s for 550,056 events, so
  // over a minute for 10 million; the server stops one whose caller has
  // left). Default: 2 hours.
  absl::Duration long_timeout = absl::Hours(2);
  // Appends retried after UNAVAILABLE (the same event ids, so that a retry
  // never appends twice). Default: 4.
  int append_retries = 4;
  // Calls other than appends and backups (streaming reads, projections,
  // checkpoints, proofs, exports, attaches) retried when the server had no
  // room for them (RESOURCE_EXHAUSTED: a cap on such calls reached, or every
  // thread at work) and nothing came back, 100 ms apart and doubling: such
  // a call did nothing. Default: 4.
  int busy_retries = 4;
};

// Whether a call failed before it was sent: gRPC could not resolve the
// server's name or connect to it, so the call did nothing on the server.
bool NeverSent(const absl::Status& s);

// `s`, a call NeverSent, told as "OUTCOME: the server could not be reached,
// so nothing was sent: ..." (OUTCOME such as "append not written").
absl::Status NothingSent(std::string_view outcome, const absl::Status& s);

class LedgerClient {
 public:
  // Creates the channel (connecting lazily). kInvalidArgument when the
  // options are incomplete.
  static absl::StatusOr<std::unique_ptr<LedgerClient>> Connect(
      ClientOptions options);

  // Appends `events` atomically. Events without an event_id get a fresh
  // UUID here, so that retries after UNAVAILABLE are idempotent. An event
  // the answer calls a duplicate is reported as this call's own append
  // (`duplicate` false) when an unanswered attempt of this call may have
  // stored it: its id was made here, or it stands past the largest tree
  // size an earlier Append of this client was told.
  absl::StatusOr<AppendResult> Append(std::vector<v1::Event> events,
                                      ExpectedVersion expected = {});
  // OK when the server can be reached and the token may append: an empty
  // Append, which the server refuses as such once the token is checked.
  // The refusal otherwise (UNAUTHENTICATED, PERMISSION_DENIED), or
  // kUnavailable "the server could not be reached: ...".
  absl::Status CheckMayAppend();
  // Stores `message` (RFC 5322 bytes) beside the log and returns its
  // lowercase hex SHA-256, checked against the bytes sent. Storing it again
  // stores nothing new, so a call refused for want of room is tried again
  // (busy_retries).
  absl::StatusOr<std::string> AttachMessage(std::string_view message);
  // Calls `visit` for each event of the case from `from_version`, at most
  // `limit` (0: all); stops at the first error `visit` returns.
  absl::Status ReadCase(
      const std::string& case_id, uint64_t from_version, uint64_t limit,
      const std::function<absl::Status(const RecordedEvent&)>& visit);
  // As ReadCase, over the whole ledger from `from_position`.
  absl::Status ReadAll(
      uint64_t from_position, uint64_t limit,
      const std::function<absl::Status(const RecordedEvent&)>& visit);
  // The signed note: the current checkpoint (signing one when due) when
  // `tree_size` is 0, else the stored one of that size.
  absl::StatusOr<v1::CheckpointResponse> GetCheckpoint(uint64_t tree_size);
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(uint64_t position,
                                                       uint64_t tree_size);
  absl::StatusOr<v1::ConsistencyProof> GetConsistencyProof(uint64_t old_size,
                                                           uint64_t new_size);
  enum class View { kState, kDeadlines, kFindings, kTimeline };
  absl::StatusOr<v1::RenderedDocument> Project(
      View view, const v1::ProjectionRequest& request);
  // Streams the bundle to `sink` and returns what was exported; kCancelled
  // when `sink` returns false. Tells `progress` (may be null) each step the
  // server tells of a large case's build.
  absl::StatusOr<v1::BundleSummary> ExportBundle(
      const v1::ExportBundleRequest& request,
      const std::function<bool(const std::string&)>& sink,
      const std::function<void(const std::string& step)>& progress = nullptr);

  // Has the server write a verified backup of its ledger into the folder
  // `name` under its --backup-dir (admin only).
  absl::StatusOr<v1::BackupResponse> Backup(const std::string& name);

  // A context with the token and, when `deadline` is finite, the deadline;
  // for calls made on stub() directly (Subscribe).
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Time deadline) const;
  v1::Ledger::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  explicit LedgerClient(ClientOptions options);
  // FromGrpcStatus, with what to check added to a failed TLS connection.
  absl::Status Received(const grpc::Status& status) const;
  // One unary call of `method` (a member of v1::Ledger::Stub) with a fresh
  // context: the token and `timeout` (0: options_.timeout).
  template <typename Response, typename Request>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::Ledger::Stub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
      const Request& request, absl::Duration timeout = absl::ZeroDuration());
  // Call, for a method that changes nothing (a projection, a proof), tried
  // again while every server thread is at work (busy_retries).
  template <typename Response, typename Request>
  absl::StatusOr<Response> CallChangingNothing(
      grpc::Status (v1::Ledger::Stub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
      const Request& request, absl::Duration timeout = absl::ZeroDuration());
  absl::Status ReadStream(
      const std::function<std::unique_ptr<grpc::ClientReader<v1::StoredEvent>>(
          grpc::ClientContext*)>& open,
      const std::function<absl::Status(const RecordedEvent&)>& visit);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
  // The largest tree size an Append's answer gave; 0 before the first.
  std::atomic<uint64_t> size_told_{0};
};

}  // namespace caseledger::client

#endif  // CASELEDGER_TOOLS_CLIENT_H_
