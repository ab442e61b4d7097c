// The gRPC service caseledger.v1.Ledger over one open Ledger
// (proto/caseledger/v1/service.proto, docs/service.md).
//
// Every RPC first authenticates the bearer token and checks that its role
// allows the RPC (UNAUTHENTICATED, PERMISSION_DENIED), then validates the
// request exactly as the CLI does (the ledger's own validation), and maps
// the ledger's absl::Status to the same gRPC code. Reads of case data and
// exports are written to the access log before any data is sent.
//
// Streams read the store in pages (PageLength: a few events first, then as
// many as fit 4 MiB, at most `most_events_per_page`) and write them with gRPC's
// flow control, so a slow reader holds at most one page in memory and never
// delays appends.
//
// Thread safety: gRPC calls the handlers from many threads at once.
#ifndef CASELEDGER_TOOLS_SERVER_SERVICE_H_
#define CASELEDGER_TOOLS_SERVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/service.grpc.pb.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "tools/server/access_log.h"
#include "tools/server/call_limit.h"
#include "tools/server/tokens.h"

namespace caseledger::server {

// The projections behind GetState, ListDeadlines, GetFindings and
// GetTimeline, supplied by the tool so that the server renders exactly what
// the CLI verbs print (tools/verbs_serve.cc).
class ProjectionRenderer {
 public:
  enum class View { kState, kDeadlines, kFindings, kTimeline };
  virtual ~ProjectionRenderer() = default;
  // Renders `view` of the ledger for `request`; errors as the CLI verb's.
  // Asks `wanted` before each case it reads and once the case is folded:
  // an error from it (the call was cancelled: the caller left, its deadline
  // passed, or a stopping server's grace ran out) is returned at once, so
  // that an answer across every case lets its place go soon after.
  virtual absl::StatusOr<v1::RenderedDocument> Render(
      View view, Ledger& ledger, const v1::ProjectionRequest& request,
      const std::function<absl::Status()>& wanted) = 0;
};

// The evidence bundle behind ExportBundle, supplied by the tool.
class BundleExporter {
 public:
  virtual ~BundleExporter() = default;
  // Writes the bundle of `request` to `sink` in pieces and returns what was
  // exported; `requested_by` names the caller for the bundle's own audit
  // event. Asks `wanted` as the bundle is built and once more before its
  // export is recorded: an error from it (the call was cancelled: the
  // caller left, or a stopping server's grace ran out) is returned, nothing
  // recorded and nothing sent. Stops with kCancelled when `sink` returns
  // false. Tells `progress` (may be null) each step of a large case's
  // build, as a local export tells them.
  virtual absl::StatusOr<v1::BundleSummary> Export(
      Ledger& ledger, const v1::ExportBundleRequest& request,
      const std::string& requested_by,
      const std::function<absl::Status()>& wanted,
      const std::function<bool(std::string_view)>& sink,
      const std::function<void(std::string_view step)>& progress) = 0;
};

struct ServiceOptions {
  // Not owned; each must outlive the service. `projections` and `bundles`
  // may be null: their RPCs then fail with UNIMPLEMENTED.
  Ledger* ledger = nullptr;
  const TokenTable* tokens = nullptr;
  AccessLog* access_log = nullptr;
  Clock* clock = nullptr;
  ProjectionRenderer* projections = nullptr;
  BundleExporter* bundles = nullptr;
  // The folder Backup writes into (each backup a new folder in it, named by
  // the request). Empty: Backup fails with FAILED_PRECONDITION. A folder
  // that is a mount point when the service is made and no longer one at a
  // backup (its disk unmounted) refuses it. Default: empty.
  std::string backup_dir;
  // Most events in one Append. Default: 10,000.
  size_t max_batch_events = 10000;
  // Largest message AttachMessage stores, in bytes: the whole message is
  // held in memory to be hashed and written at once. Default: 64 MiB.
  size_t max_attached_message_bytes = 64 << 20;
  // Largest message sent, in bytes: more than a request may hold, since a
  // read sends a stored event twice (parsed, and its exact bytes) and one
  // rendered document (every case's deadlines, a long case's timeline)
  // grows with the ledger; a larger document is refused with
  // RESOURCE_EXHAUSTED, saying how to narrow it. Default: 64 MiB.
  int max_response_bytes = 64 << 20;
  // Most events read from the store at a time by streams; fewer when they
  // are large (PageLength). Default: 256.
  uint64_t most_events_per_page = 256;
  // How long an idle subscription waits for new events before it checks for
  // cancellation and shutdown again. Default: 200 ms.
  absl::Duration idle_check = absl::Milliseconds(200);
  // Most calls of each kind that hold a server thread for as long as their
  // client keeps them open, or their work lasts; more fail with
  // RESOURCE_EXHAUSTED, so that together (with the 32 health watches) they
  // never take every server thread (256) and an Append still finds one
  // (call_limit.h).
  // Subscriptions. Default: 128.
  int max_subscriptions = 128;
  // ReadCase and ReadAll streams. Default: 64.
  int max_reads = 64;
  // ExportBundle calls, each of which also holds its bundle in memory (up
  // to 1 GiB). Default: 4.
  int max_exports = 4;
  // AttachMessage streams, each of which also holds its message in memory
  // (up to max_attached_message_bytes). Default: 16.
  int max_attached_messages = 16;
  // GetState, ListDeadlines, GetFindings and GetTimeline calls: one of a
  // case of thousands of events, or of every case's deadlines, works for
  // seconds whatever its client's deadline. Default: 8.
  int max_projections = 8;
  // Called after an Append fails when the ledger has stopped taking
  // appends (Ledger::AcceptsAppends), with its error; may be called more
  // than once. Default: none.
  std::function<void(const absl::Status&)> on_appends_refused;
  // Called when the access log stops taking records, with the error, and
  // again with OK when it takes one anew: meanwhile reads, exports and
  // backups are refused, and refusals go unrecorded, so the operator must
  // hear of it. Default: none.
  std::function<void(const absl::Status&)> on_access_log;
};

class LedgerService final : public v1::Ledger::Service {
 public:
  explicit LedgerService(ServiceOptions options);

  // Ends every subscription (UNAVAILABLE) within `idle_check` and refuses
  // new ones, so that grpc::Server::Shutdown() only waits for short calls.
  void BeginShutdown();

  grpc::Status Append(grpc::ServerContext* context,
                      const v1::AppendRequest* request,
                      v1::AppendResponse* response) override;
  grpc::Status AttachMessage(grpc::ServerContext* context,
                             grpc::ServerReader<v1::MessageChunk>* reader,
                             v1::AttachedMessage* response) override;
  grpc::Status ReadCase(grpc::ServerContext* context,
                        const v1::ReadCaseRequest* request,
                        grpc::ServerWriter<v1::StoredEvent>* writer) override;
  grpc::Status ReadAll(grpc::ServerContext* context,
                       const v1::ReadAllRequest* request,
                       grpc::ServerWriter<v1::StoredEvent>* writer) override;
  grpc::Status Subscribe(
      grpc::ServerContext* context, const v1::SubscribeRequest* request,
      grpc::ServerWriter<v1::SubscribeResponse>* writer) override;
  grpc::Status GetState(grpc::ServerContext* context,
                        const v1::ProjectionRequest* request,
                        v1::RenderedDocument* response) override;
  grpc::Status ListDeadlines(grpc::ServerContext* context,
                             const v1::ProjectionRequest* request,
                             v1::RenderedDocument* response) override;
  grpc::Status GetFindings(grpc::ServerContext* context,
                           const v1::ProjectionRequest* request,
                           v1::RenderedDocument* response) override;
  grpc::Status GetTimeline(grpc::ServerContext* context,
                           const v1::ProjectionRequest* request,
                           v1::RenderedDocument* response) override;
  grpc::Status ExportBundle(
      grpc::ServerContext* context, const v1::ExportBundleRequest* request,
      grpc::ServerWriter<v1::BundleChunk>* writer) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::CheckpointResponse* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(
      grpc::ServerContext* context,
      const v1::GetConsistencyProofRequest* request,
      v1::ConsistencyProof* response) override;
  grpc::Status Backup(grpc::ServerContext* context,
                      const v1::BackupRequest* request,
                      v1::BackupResponse* response) override;

 private:
  // The caller, once authenticated and authorized.
  struct Caller {
    Principal principal;
    std::string peer;
  };
  // Authenticates the call and checks `permission`. Every denial is
  // recorded in the access log, and so is every granted read, export and
  // backup (with `what`), before any data is sent or copied.
  absl::StatusOr<Caller> Authorize(grpc::ServerContext* context,
                                   Permission permission, std::string_view rpc,
                                   const std::string& what);
  // The same with `what` made only when a record needs it: an Append's
  // names every case of its batch, and is recorded only when refused.
  absl::StatusOr<Caller> Authorize(grpc::ServerContext* context,
                                   Permission permission, std::string_view rpc,
                                   absl::FunctionRef<std::string()> what);
  // A place in `limit` for a granted call, or RESOURCE_EXHAUSTED, recorded
  // in the access log as the end of the call.
  absl::StatusOr<CallLimit::Place> TakePlace(CallLimit& limit,
                                             const Caller& caller,
                                             std::string_view rpc,
                                             const std::string& what);
  absl::Status RecordAccess(const Caller& caller, std::string_view rpc,
                            const std::string& what, std::string_view outcome,
                            uint64_t events, bool authenticated = true);
  grpc::Status Project(ProjectionRenderer::View view, std::string_view rpc,
                       grpc::ServerContext* context,
                       const v1::ProjectionRequest* request,
                       v1::RenderedDocument* response);

  const ServiceOptions options_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> access_log_failing_{false};
  CallLimit subscriptions_, reads_, exports_, attached_messages_, projections_;
  // Set while a backup runs, so that a second one is refused rather than
  // left waiting for the first's copy and verify.
  std::atomic<bool> backing_up_{false};
  // Whether backup_dir was a mount point when the service was made.
  bool backup_dir_was_mount_point_ = false;
};

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_SERVICE_H_
