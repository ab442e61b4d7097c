#include "tools/client.h"

#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "ledger/event_validation.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "tools/server/rpc_status.h"
#include "tools/server/server.h"
#include "tools/server/tls_material.h"
#include "tools/server/wire.h"

namespace caseledger::client {
namespace {

// The server's limits (tools/server/server.h): requests up to 8 MiB,
// answers up to 64 MiB.
constexpr size_t kMaxRequestBytes = 8 << 20;
constexpr int kMaxResponseBytes = 64 << 20;
// A status naming 10,000 events of 36-character ids, base64 in metadata.
constexpr int kMaxStatusMetadataBytes = 4 << 20;

// Cancels a streaming call whose next message is awaited for longer than
// `idle`. A deadline bounds the whole call, which a long ledger outlasts,
// and so does a read whose output is read slowly (`read | less`): the
// stream was cut off after 60 s at 13,503 of 25,000 events, "Deadline
// Exceeded" (found by an adversarial test).
class IdleWatch {
 public:
  IdleWatch(grpc::ClientContext& context, absl::Duration idle)
      : context_(context), idle_(idle), thread_([this] { Watch(); }) {}
  ~IdleWatch() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      wake_.Signal();
    }
    thread_.join();
  }
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;

  // Around each wait for a message.
  void Waiting() {
    absl::MutexLock lock(&mu_);
    waiting_since_ = absl::Now();
    wake_.Signal();
  }
  void Received() {
    absl::MutexLock lock(&mu_);
    waiting_since_ = absl::InfiniteFuture();
  }
  // Whether it cancelled the call.
  bool Fired() {
    absl::MutexLock lock(&mu_);
    return fired_;
  }

 private:
  void Watch() {
    absl::MutexLock lock(&mu_);
    while (!done_) {
      const absl::Time due = waiting_since_ + idle_;
      if (absl::Now() >= due) {
        fired_ = true;
        context_.TryCancel();
        return;
      }
      wake_.WaitWithDeadline(&mu_, due);
    }
  }

  grpc::ClientContext& context_;
  const absl::Duration idle_;
  absl::Mutex mu_;
  absl::CondVar wake_;
  absl::Time waiting_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest is set
};

}  // namespace

LedgerClient::LedgerClient(ClientOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<LedgerClient>> LedgerClient::Connect(
    ClientOptions options) {
  if (options.server.empty()) {
    return absl::InvalidArgumentError("--server ADDR is required");
  }
  if (absl::Status address = server::CheckHostAndPort(options.server, 1);
      !address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--server ", address.message()));
  }
  if (options.token.empty()) {
    return absl::InvalidArgumentError(
        "a token is required (--token-file FILE)");
  }
  if (options.tls_cert_pem.empty() != options.tls_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its private key, and the other way");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca_pem.empty()) {
    if (!options.tls_cert_pem.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate needs TLS (--tls-ca FILE)");
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    CASELEDGER_RETURN_IF_ERROR(
        server::CheckTlsMaterial({{options.tls_cert_pem, "--tls-cert"},
                                  {options.tls_key_pem, "--tls-key"},
                                  {options.tls_ca_pem, "--tls-ca"},
                                  "the client"}));
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_ca_pem;
    ssl.pem_cert_chain = options.tls_cert_pem;
    ssl.pem_private_key = options.tls_key_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  args.SetMaxSendMessageSize(static_cast<int>(kMaxRequestBytes));
  // A refused or unfinished append's status names its events (up to 10,000
  // ids, in the status details the server sends as metadata); gRPC's 8 KiB
  // default turned the server's answer for a few hundred into "received
  // initial metadata size exceeds limit", with neither cause nor ids.
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, kMaxStatusMetadataBytes);
  std::unique_ptr<LedgerClient> client(new LedgerClient(std::move(options)));
  client->channel_ =
      grpc::CreateCustomChannel(client->options_.server, credentials, args);
  client->stub_ = v1::Ledger::NewStub(client->channel_);
  return client;
}

std::unique_ptr<grpc::ClientContext> LedgerClient::NewContext(
    absl::Time deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization",
                       absl::StrCat("Bearer ", options_.token));
  if (deadline != absl::InfiniteFuture()) {
    context->set_deadline(absl::ToChronoTime(deadline));
  }
  return context;
}

absl::Status LedgerClient::Received(const grpc::Status& status) const {
  absl::Status s = server::FromGrpcStatus(status);
  // Bad input, which no retry mends: exit 2, not 4 (found by an audit).
  if (server::RefusedAsTooLarge(s)) {
    return absl::InvalidArgumentError(s.message());
  }
  if (!(absl::IsUnavailable(s) || absl::IsUnknown(s)) ||
      !absl::StartsWith(s.message(), server::kNoServerReached)) {
    return s;
  }
  // gRPC says why a TLS connection failed in OpenSSL's words, or only that
  // the server closed it: what to check is added (found by an adversarial
  // test: a plaintext client, or one without a certificate, got "Socket
  // closed" alone).
  const char* hint = "";
  const bool tls = !options_.tls_ca_pem.empty();
  if (absl::StrContains(s.message(), "wrong version number")) {
    hint = "the server does not seem to speak TLS: leave out --tls-ca";
  } else if (absl::StrContains(s.message(), "certificate verify failed")) {
    hint =
        "the server's certificate is not signed by a CA of --tls-ca, or "
        "is out of its dates";
  } else if (absl::StrContains(s.message(), "Socket closed")) {
    hint = !tls ? "the server may speak TLS: give --tls-ca FILE"
           : options_.tls_cert_pem.empty()
               ? "the server may require a client certificate: give "
                 "--tls-cert FILE --tls-key FILE"
               : "the server may not take this client certificate: is it "
                 "signed by a CA of the server's --client-ca?";
  }
  if (*hint == '\0') return s;
  absl::Status hinted(s.code(), absl::StrCat(s.message(), " (", hint, ")"));
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    hinted.SetPayload(url, payload);
  });
  return hinted;
}

template <typename Response, typename Request>
absl::StatusOr<Response> LedgerClient::Call(
    grpc::Status (v1::Ledger::Stub::*method)(grpc::ClientContext*,
                                             const Request&, Response*),
    const Request& request, absl::Duration timeout) {
  Response response;
  auto context = NewContext(absl::Now() + (timeout == absl::ZeroDuration()
                                               ? options_.timeout
                                               : timeout));
  absl::Status s =
      Received((stub_.get()->*method)(context.get(), request, &response));
  if (!s.ok()) return s;
  return response;
}

// gRPC (1.51) fails a call with these, before sending it, when it could
// not resolve the server's name or connect to it. A wording that changed
// with gRPC's version only leaves such a call's outcome "unknown" again,
// which is cautious, not wrong.
bool NeverSent(const absl::Status& s) {
  return absl::IsUnavailable(s) &&
         (absl::StartsWith(s.message(), server::kNoServerReached) ||
          absl::StartsWith(s.message(), "DNS resolution failed"));
}

absl::Status NothingSent(std::string_view outcome, const absl::Status& s) {
  return absl::Status(
      s.code(), absl::StrCat(AbslView(outcome),
                             ": the server could not be reached, so nothing "
                             "was sent: ",
                             s.message()));
}

namespace {

const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// Runs `attempt` until it is not refused for want of room on the server
// (server::RefusedForWantOfRoom), at most `retries` times more, 100 ms
// apart and doubling. `attempt` sets its argument to false once something
// came back (an event, a chunk): a refusal then came late, and is final.
// Refused at once, a call did nothing, so trying it again shows, exports or
// stores nothing twice.
template <typename Attempt>
auto TryWhileTheServerIsFull(int retries, Attempt attempt) {
  absl::Duration backoff = absl::Milliseconds(100);
  for (int tried = 0;; ++tried) {
    bool did_nothing = true;
    auto result = attempt(&did_nothing);
    if (!server::RefusedForWantOfRoom(StatusOf(result)) || !did_nothing ||
        tried >= retries) {
      return result;
    }
    absl::SleepFor(backoff);
    backoff *= 2;
  }
}

}  // namespace

template <typename Response, typename Request>
absl::StatusOr<Response> LedgerClient::CallChangingNothing(
    grpc::Status (v1::Ledger::Stub::*method)(grpc::ClientContext*,
                                             const Request&, Response*),
    const Request& request, absl::Duration timeout) {
  return TryWhileTheServerIsFull(options_.busy_retries, [&](bool*) {
    return Call(method, request, timeout);
  });
}

absl::StatusOr<AppendResult> LedgerClient::Append(std::vector<v1::Event> events,
                                                  ExpectedVersion expected) {
  v1::AppendRequest request;
  std::vector<bool> id_made_here;
  for (v1::Event& e : events) {
    id_made_here.push_back(e.event_id().empty());
    if (e.event_id().empty()) {
      auto id = NewEventId();
      if (!id.ok()) return id.status();
      e.set_event_id(*id);
    }
    *request.add_events() = std::move(e);
  }
  *request.mutable_expected_version() = server::ToWire(expected);
  // gRPC would refuse to send it with its own words ("Sent message larger
  // than max"), which name neither the events nor what to do.
  if (const size_t bytes = request.ByteSizeLong(); bytes > kMaxRequestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "append not sent: its ", request.events_size(),
        request.events_size() == 1 ? " event comes" : " events come", " to ",
        bytes, " bytes, and one call carries at most ", kMaxRequestBytes,
        " (8 MiB); split the input into smaller files, or import it where "
        "the ledger is"));
  }
  // No answer from the server (gRPC's own UNAVAILABLE, the deadline, or a
  // call the server cancelled as it stopped) leaves the outcome unknown: the
  // call may have been written. Retrying with the same ids appends each event
  // once either way. The ledger's own failures carry a payload and are final:
  // after a failed write it refuses appends until reopened, and a retry's "not
  // written" would hide that the first write may have landed.
  auto unanswered = [](const absl::Status& s) {
    return (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
            absl::IsCancelled(s)) &&
           !s.GetPayload(kEventIdsPayload) &&
           !s.GetPayload(kAppendsRefusedPayload);
  };
  absl::StatusOr<v1::AppendResponse> response;
  absl::Duration backoff = absl::Milliseconds(100);
  bool maybe_sent = false;
  // Whether an attempt before the last may have been written.
  bool earlier_maybe_sent = false;
  const uint64_t size_told_before = size_told_.load();
  // A call refused for want of a server thread never reached the ledger:
  // it is retried as one that never got through.
  auto busy = server::RefusedForWantOfRoom;
  for (int attempt = 0;; ++attempt) {
    earlier_maybe_sent = maybe_sent;
    response = Call(&v1::Ledger::Stub::Append, request);
    if (!NeverSent(response.status()) && !busy(response.status())) {
      maybe_sent = true;
    }
    const bool again =
        busy(response.status()) || (absl::IsUnavailable(response.status()) &&
                                    unanswered(response.status()));
    if (!again || attempt >= options_.append_retries) break;
    absl::SleepFor(backoff);
    backoff *= 2;
  }
  if (unanswered(response.status()) && !maybe_sent) {
    return NothingSent("append not written", response.status());
  }
  // A busy server's refusal is final only if no earlier attempt may have
  // been written.
  if (unanswered(response.status()) ||
      (busy(response.status()) && maybe_sent)) {
    // The ids this client made up are the caller's only way to retry safely.
    absl::Status unknown(
        response.status().code(),
        absl::StrCat("append outcome unknown: no answer from the server, and "
                     "the events may have been written; a retry with the same "
                     "event ids appends each once: ",
                     response.status().message()));
    std::string ids;
    for (const v1::Event& e : request.events()) {
      absl::StrAppend(&ids, e.event_id(), "\n");
    }
    unknown.SetPayload(kEventIdsPayload, absl::Cord(ids));
    return unknown;
  }
  if (!response.ok()) return response.status();
  AppendResult result;
  result.tree_size = response->tree_size();
  for (uint64_t told = size_told_before;
       told < result.tree_size &&
       !size_told_.compare_exchange_weak(told, result.tree_size);) {
  }
  for (int i = 0; i < response->events_size(); ++i) {
    const v1::AppendedEvent& e = response->events(i);
    // A fresh id names nothing stored before this call: stored already, it
    // was stored by an attempt of this call that got no answer, which for
    // the caller is this call's append, not an earlier one's. So is an
    // event stored past what this client was last told, after an attempt
    // that may have been written (import's ids, derived from the content,
    // were counted as stored by an earlier run; found by an adversarial
    // test): only a writer beside this client could have put it there.
    const bool made_here =
        static_cast<size_t>(i) < id_made_here.size() && id_made_here[i];
    const bool stored_by_a_lost_attempt = earlier_maybe_sent &&
                                          size_told_before > 0 &&
                                          e.position() > size_told_before;
    const bool stored_before =
        e.duplicate() && !made_here && !stored_by_a_lost_attempt;
    result.events.push_back(
        {e.event_id(), e.position(), e.case_version(), stored_before});
  }
  return result;
}

absl::Status LedgerClient::CheckMayAppend() {
  const absl::Status s =
      Call(&v1::Ledger::Stub::Append, v1::AppendRequest()).status();
  if (NeverSent(s)) {
    return absl::UnavailableError(
        absl::StrCat("the server could not be reached: ", s.message()));
  }
  if (absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s)) return s;
  return absl::OkStatus();  // refused as empty, or for another reason
}

absl::Status LedgerClient::ReadStream(
    const std::function<std::unique_ptr<grpc::ClientReader<v1::StoredEvent>>(
        grpc::ClientContext*)>& open,
    const std::function<absl::Status(const RecordedEvent&)>& visit) {
  return TryWhileTheServerIsFull(options_.busy_retries, [&](bool* did_nothing) {
    auto context = NewContext(absl::InfiniteFuture());
    IdleWatch watch(*context, options_.timeout);
    auto reader = open(context.get());
    v1::StoredEvent stored;
    absl::Status visited;
    watch.Waiting();
    while (reader->Read(&stored)) {
      watch.Received();
      *did_nothing = false;
      auto event = server::FromStoredEvent(stored);
      visited = event.ok() ? visit(*event) : event.status();
      if (!visited.ok()) {
        context->TryCancel();
        break;
      }
      watch.Waiting();
    }
    watch.Received();
    absl::Status finished = Received(reader->Finish());
    if (watch.Fired()) {
      finished = absl::DeadlineExceededError(
          absl::StrCat("the server sent nothing for ",
                       absl::FormatDuration(options_.timeout)));
    }
    return visited.ok() ? finished : visited;
  });
}

absl::Status LedgerClient::ReadCase(
    const std::string& case_id, uint64_t from_version, uint64_t limit,
    const std::function<absl::Status(const RecordedEvent&)>& visit) {
  v1::ReadCaseRequest request;
  request.set_case_id(case_id);
  request.set_from_version(from_version);
  request.set_limit(limit);
  return ReadStream(
      [&](grpc::ClientContext* context) {
        return stub_->ReadCase(context, request);
      },
      visit);
}

absl::Status LedgerClient::ReadAll(
    uint64_t from_position, uint64_t limit,
    const std::function<absl::Status(const RecordedEvent&)>& visit) {
  v1::ReadAllRequest request;
  request.set_from_position(from_position);
  request.set_limit(limit);
  return ReadStream(
      [&](grpc::ClientContext* context) {
        return stub_->ReadAll(context, request);
      },
      visit);
}

absl::StatusOr<std::string> LedgerClient::AttachMessage(
    std::string_view message) {
  constexpr size_t kChunkBytes = 1 << 20;
  v1::AttachedMessage response;
  // The server refuses an upload beyond its cap before storing anything.
  CASELEDGER_RETURN_IF_ERROR(
      TryWhileTheServerIsFull(options_.busy_retries, [&](bool*) {
        auto context = NewContext(absl::Now() + options_.timeout);
        auto writer = stub_->AttachMessage(context.get(), &response);
        for (size_t at = 0; at < message.size(); at += kChunkBytes) {
          v1::MessageChunk chunk;
          chunk.set_data(std::string(message.substr(at, kChunkBytes)));
          // A failed write means the call ended; Finish says why.
          if (!writer->Write(chunk)) break;
        }
        writer->WritesDone();
        return Received(writer->Finish());
      }));
  const std::string sent = ToHex(Sha256(message));
  if (response.sha256() != sent) {
    return absl::DataLossError(
        absl::StrCat("the server stored the message as SHA-256 ",
                     response.sha256(), ", but the bytes sent have ", sent));
  }
  return sent;
}

absl::StatusOr<v1::BackupResponse> LedgerClient::Backup(
    const std::string& name) {
  v1::BackupRequest request;
  request.set_name(name);
  return Call(&v1::Ledger::Stub::Backup, request, options_.long_timeout);
}

absl::StatusOr<v1::CheckpointResponse> LedgerClient::GetCheckpoint(
    uint64_t tree_size) {
  v1::GetCheckpointRequest request;
  request.set_tree_size(tree_size);
  return CallChangingNothing(&v1::Ledger::Stub::GetCheckpoint, request);
}

absl::StatusOr<v1::InclusionProof> LedgerClient::GetInclusionProof(
    uint64_t position, uint64_t tree_size) {
  v1::GetInclusionProofRequest request;
  request.set_position(position);
  request.set_tree_size(tree_size);
  return CallChangingNothing(&v1::Ledger::Stub::GetInclusionProof, request);
}

absl::StatusOr<v1::ConsistencyProof> LedgerClient::GetConsistencyProof(
    uint64_t old_size, uint64_t new_size) {
  v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  return CallChangingNothing(&v1::Ledger::Stub::GetConsistencyProof, request);
}

absl::StatusOr<v1::RenderedDocument> LedgerClient::Project(
    View view, const v1::ProjectionRequest& request) {
  const absl::Duration timeout = options_.long_timeout;
  switch (view) {
    case View::kState:
      return CallChangingNothing(&v1::Ledger::Stub::GetState, request, timeout);
    case View::kDeadlines:
      return CallChangingNothing(&v1::Ledger::Stub::ListDeadlines, request,
                                 timeout);
    case View::kFindings:
      return CallChangingNothing(&v1::Ledger::Stub::GetFindings, request,
                                 timeout);
    case View::kTimeline:
      return CallChangingNothing(&v1::Ledger::Stub::GetTimeline, request,
                                 timeout);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown projection view ", static_cast<int>(view)));
}

absl::StatusOr<v1::BundleSummary> LedgerClient::ExportBundle(
    const v1::ExportBundleRequest& request,
    const std::function<bool(const std::string&)>& sink,
    const std::function<void(const std::string& step)>& progress) {
  std::optional<v1::BundleSummary> summary;
  bool stopped = false;
  // An export refused for want of room recorded nothing: the server
  // records an export as it sends the bundle.
  CASELEDGER_RETURN_IF_ERROR(
      TryWhileTheServerIsFull(options_.busy_retries, [&](bool* did_nothing) {
        auto context = NewContext(absl::Now() + options_.long_timeout);
        auto reader = stub_->ExportBundle(context.get(), request);
        v1::BundleChunk chunk;
        while (reader->Read(&chunk)) {
          *did_nothing = false;
          if (chunk.has_summary()) summary = chunk.summary();
          if (!chunk.progress().empty() && progress) progress(chunk.progress());
          if (!chunk.data().empty() && !sink(chunk.data())) {
            stopped = true;
            context->TryCancel();
            break;
          }
        }
        absl::Status finished = Received(reader->Finish());
        if (stopped) {
          return absl::CancelledError("the bundle could not be written");
        }
        return finished;
      }));
  if (!summary) {
    return absl::DataLossError("the bundle stream ended without its summary");
  }
  return *summary;
}

}  // namespace caseledger::client
