#include "tools/server/service.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ledger/checkpoint.h"
#include "ledger/file_sync.h"
#include "ledger/merkle.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/deadline_index.h"
#include "tools/server/page_length.h"
#include "tools/server/rpc_status.h"
#include "tools/server/wire.h"

namespace caseledger::server {
namespace {

constexpr char kAuthorization[] = "authorization";
constexpr char kBearer[] = "bearer ";

// The bearer token of the call, or "" when it carries none. Two are refused
// rather than one of them taken: the first was, so a client's header overrode
// the one a proxy adds after it (found by a raw gRPC client).
absl::StatusOr<std::string> BearerToken(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto [it, end] = metadata.equal_range(kAuthorization);
  if (it == end) return "";
  if (std::next(it) != end) {
    return absl::UnauthenticatedError(
        absl::StrCat("the call carries ", std::distance(it, end),
                     " authorization headers; send one bearer token"));
  }
  std::string value(it->second.data(), it->second.size());
  if (value.size() <= sizeof(kBearer) - 1 ||
      !absl::StartsWithIgnoreCase(value, kBearer)) {
    return "";
  }
  return std::string(
      absl::StripAsciiWhitespace(value.substr(sizeof(kBearer) - 1)));
}

// A TLS identity as one word: a name holding a space would read as two (a
// common name "x tls:admin.example" as the names x and admin.example; found
// by an adversarial test, and again with a tab, a line feed and the no-break,
// em and ideographic spaces in its place). '%', every space and control, what
// shows as nothing and bytes that are not UTF-8 are percent-encoded, byte by
// byte; other characters, accented letters included, are kept.
std::string TlsNameAsWritten(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size();) {
    size_t len = 1;
    const int32_t r = DecodeUtf8(name, i, &len);
    if (r < 0) len = 1;
    if (r < 0 || r <= ' ' || r == '%' || IsLayoutControl(r) ||
        IsOtherSpace(r) || ShowsAsNothing(r)) {
      for (char c : name.substr(i, len)) {
        absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
      }
    } else {
      out.append(name.substr(i, len));
    }
    i += len;
  }
  return out;
}

// The peer address, and the TLS client identity when mutual TLS is on.
std::string PeerOf(const grpc::ServerContext& context) {
  std::string peer = AddressAsWritten(context.peer());
  auto auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const auto& id : auth->GetPeerIdentity()) {
      absl::StrAppend(&peer, " tls:",
                      TlsNameAsWritten(std::string_view(id.data(), id.size())));
    }
  }
  return peer;
}

// The longest case id validation takes (ledger/event_validation.cc).
constexpr size_t kMostCaseIdBytes = 64;

// A case id or other short value of a request, as the access log names it:
// cut past kMostCaseIdBytes bytes (no valid one is longer), then "...". Every
// call is recorded before it is authorized, so an unauthenticated caller
// chose how long its record was: a case id of 8 MiB of control bytes made
// one of 48 MiB, written and synced, about once a second (found by an
// adversarial test).
std::string LoggedValue(std::string_view value) {
  if (value.size() <= kMostCaseIdBytes) return std::string(value);
  // Not inside a character: the fields are UTF-8 (proto3 checks it).
  size_t cut = kMostCaseIdBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return std::string(value.substr(0, cut)).append("...");
}

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StatusCodeToString(code));
}

// A backup's folder name, checked so that a request can name nothing but a
// new folder directly under --backup-dir.
constexpr size_t kMostBackupNameBytes = 128;

absl::Status CheckBackupName(const std::string& name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "name: give the new backup folder's name (e.g. 2026-12-02)");
  }
  if (name.size() > kMostBackupNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name: ", name.size(), " bytes; at most ", kMostBackupNameBytes));
  }
  constexpr char kRule[] =
      "; a name is one folder of A-Z a-z 0-9 . _ - (no path), not starting "
      "with '.'";
  if (absl::EndsWith(name, ".partial")) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: '", Printable(name),
                     "' ends in '.partial', the mark of a copy in progress"));
  }
  if (name[0] == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("name: '", Printable(name), "' starts with '.'", kRule));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("name: '", Printable(name), "' has '",
                       Printable(std::string_view(&name[i], 1)), "' at byte ",
                       i + 1, kRule));
    }
  }
  return absl::OkStatus();
}

// What a projection or an export shows depends on more than its case: the
// times it is seen at, the policy it is judged by. The access log names
// them all, so that it tells which view of a case was disclosed (it named
// the case alone; found by an audit). A policy is named by its SHA-256.
std::string ViewParameters(const google::protobuf::Timestamp* as_of,
                           const google::protobuf::Timestamp* known_at,
                           const std::string& policy_json) {
  std::string out;
  auto time = [&](const char* name, const google::protobuf::Timestamp* t) {
    if (t == nullptr) return;
    absl::StrAppend(&out, " ", name, "=",
                    absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                                     FromTimestamp(*t), absl::UTCTimeZone()));
  };
  time("as_of", as_of);
  time("known_at", known_at);
  if (!policy_json.empty()) {
    absl::StrAppend(&out, " policy_sha256=", ToHex(Sha256(policy_json)));
  }
  return out;
}

// A refused Append is on record nowhere but the access log: it names the
// cases the call would have written and how many events, as the client sent
// them (it named nothing; found by an adversarial test). A batch of
// thousands of cases is named by its first ones, and a case id longer than
// any valid one by its first 64 bytes (then "...").
std::string AppendParameters(const v1::AppendRequest& request) {
  constexpr size_t kMostListedBytes = 512;
  std::string cases;
  size_t unlisted = 0;
  absl::flat_hash_set<std::string_view> seen;
  for (const v1::Event& event : request.events()) {
    std::string_view id = event.case_id();
    if (!seen.insert(id).second) continue;
    if (cases.size() >= kMostListedBytes) {
      ++unlisted;
      continue;
    }
    if (!cases.empty()) cases += ',';
    cases += LoggedValue(id);
  }
  std::string out;
  if (!cases.empty()) absl::StrAppend(&out, "case_id=", cases);
  if (unlisted > 0) absl::StrAppend(&out, " and ", unlisted, " more cases");
  absl::StrAppend(&out, out.empty() ? "" : " ",
                  "events=", request.events_size());
  return out;
}

// Checked as an event's times are: out of range, one reached a bundle's
// manifest, whose reader refuses it, after the export was recorded (found
// by an outside reading).
absl::Status CheckViewTimes(const google::protobuf::Timestamp* as_of,
                            const google::protobuf::Timestamp* known_at) {
  if (as_of != nullptr) {
    CASELEDGER_RETURN_IF_ERROR(CheckTimestamp("as_of", *as_of));
  }
  if (known_at != nullptr) {
    CASELEDGER_RETURN_IF_ERROR(CheckTimestamp("known_at", *known_at));
  }
  return absl::OkStatus();
}

// Whether `dir` is where a file system is mounted: on another device than
// its parent. A bind mount within one file system is not seen.
bool IsMountPoint(const std::string& dir) {
  struct stat here, parent;
  return ::stat(dir.c_str(), &here) == 0 &&
         ::stat((std::filesystem::path(dir) / "..").c_str(), &parent) == 0 &&
         here.st_dev != parent.st_dev;
}

std::vector<std::string> HashBytes(const std::vector<merkle::Hash>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const merkle::Hash& h : hashes) out.push_back(DigestBytes(h));
  return out;
}

}  // namespace

LedgerService::LedgerService(ServiceOptions options)
    : options_(std::move(options)),
      subscriptions_("subscriptions", options_.max_subscriptions),
      reads_("streaming reads", options_.max_reads),
      exports_("exports", options_.max_exports),
      attached_messages_("messages being attached",
                         options_.max_attached_messages),
      projections_("projections", options_.max_projections) {
  backup_dir_was_mount_point_ =
      !options_.backup_dir.empty() && IsMountPoint(options_.backup_dir);
}

absl::StatusOr<CallLimit::Place> LedgerService::TakePlace(
    CallLimit& limit, const Caller& caller, std::string_view rpc,
    const std::string& what) {
  CallLimit::Place place = limit.Take();
  if (place) return place;
  const absl::Status full = absl::ResourceExhaustedError(limit.Refusal());
  // The grant is on record: close it, as every stream's end is.
  RecordAccess(caller, rpc, what, CodeName(full.code()), 0).IgnoreError();
  return full;
}

void LedgerService::BeginShutdown() { shutting_down_.store(true); }

absl::Status LedgerService::RecordAccess(const Caller& caller,
                                         std::string_view rpc,
                                         const std::string& what,
                                         std::string_view outcome,
                                         uint64_t events, bool authenticated) {
  if (options_.access_log == nullptr) return absl::OkStatus();
  AccessRecord r;
  r.who = caller.principal.name;
  r.role = std::string(authenticated ? RoleName(caller.principal.role)
                                     : std::string_view("-"));
  r.peer = caller.peer;
  r.rpc = std::string(rpc);
  r.what = what;
  r.outcome = std::string(outcome);
  r.events = events;
  absl::Status recorded = options_.access_log->Record(r);
  const bool failing = !recorded.ok();
  if (failing != access_log_failing_.exchange(failing) &&
      options_.on_access_log) {
    options_.on_access_log(recorded);
  }
  return recorded;
}

absl::StatusOr<LedgerService::Caller> LedgerService::Authorize(
    grpc::ServerContext* context, Permission permission, std::string_view rpc,
    const std::string& what) {
  return Authorize(context, permission, rpc, [&what] { return what; });
}

absl::StatusOr<LedgerService::Caller> LedgerService::Authorize(
    grpc::ServerContext* context, Permission permission, std::string_view rpc,
    absl::FunctionRef<std::string()> what) {
  // A backup discloses every case, and the signing key with them. Every
  // refusal is recorded, whatever the call: a stolen reader token tried on
  // Append, or tokens guessed against proofs, are what an audit looks for.
  const bool audited = permission == Permission::kRead ||
                       permission == Permission::kExport ||
                       permission == Permission::kAdminister;
  Caller caller;
  caller.peer = PeerOf(*context);
  absl::StatusOr<std::string> token = BearerToken(*context);
  std::optional<Principal> principal =
      token.ok() ? options_.tokens->Find(*token) : std::nullopt;
  absl::Status denied;
  if (!token.ok()) {
    denied = token.status();
  } else if (token->empty()) {
    denied = absl::UnauthenticatedError(
        "missing bearer token (metadata 'authorization: Bearer <token>')");
  } else if (!principal) {
    denied = absl::UnauthenticatedError("unknown token");
  } else if (!Allows(principal->role, permission)) {
    denied = absl::PermissionDeniedError(
        absl::StrCat("role ", std::string(RoleName(principal->role)),
                     " may not call ", std::string(rpc)));
  }
  if (principal) caller.principal = *principal;
  if (!denied.ok()) {
    Caller who = caller;
    if (!principal) who.principal.name.assign(1, '-');
    // The denial stands whether or not it could be recorded.
    RecordAccess(who, rpc, what(), CodeName(denied.code()), 0,
                 /*authenticated=*/principal.has_value())
        .IgnoreError();
    return denied;
  }
  if (audited) {
    absl::Status logged = RecordAccess(caller, rpc, what(), "granted", 0);
    if (!logged.ok()) {
      // No unrecorded disclosure: refuse when the access log fails.
      absl::Status refused = absl::UnavailableError(
          absl::StrCat("the access log cannot be written: ", logged.message(),
                       "; nothing of this call was done"));
      refused.SetPayload(kNothingDonePayload, absl::Cord(""));
      return refused;
    }
  }
  return caller;
}

grpc::Status LedgerService::Append(grpc::ServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) {
  auto what = [request] { return AppendParameters(*request); };
  auto caller = Authorize(context, Permission::kAppend, "Append", what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->events().empty()) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("the batch holds no events"));
  }
  if (static_cast<size_t>(request->events_size()) > options_.max_batch_events) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "the batch holds ", request->events_size(), " events; at most ",
        options_.max_batch_events,
        " per Append: split the input into smaller files, each appended "
        "whole, or import it, which appends in batches")));
  }
  // A disclosure is on record because the export records it (the spec:
  // "appended by the export itself"); one appended by a caller would put
  // on record a disclosure that never happened. Refused whatever the role,
  // and recorded as refusals are.
  for (int i = 0; i < request->events_size(); ++i) {
    if (!request->events(i).has_evidence_bundle_exported()) continue;
    const absl::Status denied =
        AboutEvent(absl::PermissionDeniedError(kDisclosureNotAppended), i);
    RecordAccess(*caller, "Append", what(), CodeName(denied.code()), 0)
        .IgnoreError();
    return ToGrpcStatus(denied);
  }
  auto expected = FromWire(request->expected_version());
  if (!expected.ok()) return ToGrpcStatus(expected.status());
  auto result = options_.ledger->Append(request->events(), *expected);
  if (!result.ok()) {
    if (absl::Status refusing = options_.ledger->AcceptsAppends();
        !refusing.ok() && options_.on_appends_refused) {
      options_.on_appends_refused(refusing);
    }
    return ToGrpcStatus(result.status());
  }
  for (const AppendResult::Appended& e : result->events) {
    v1::AppendedEvent* out = response->add_events();
    out->set_event_id(e.event_id);
    out->set_position(e.position);
    out->set_case_version(e.case_version);
    out->set_duplicate(e.duplicate);
  }
  response->set_tree_size(result->tree_size);
  return grpc::Status::OK;
}

grpc::Status LedgerService::AttachMessage(
    grpc::ServerContext* context, grpc::ServerReader<v1::MessageChunk>* reader,
    v1::AttachedMessage* response) {
  auto caller = Authorize(context, Permission::kAppend, "AttachMessage", "");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto place = TakePlace(attached_messages_, *caller, "AttachMessage", "");
  if (!place.ok()) return ToGrpcStatus(place.status());
  std::string message;
  v1::MessageChunk chunk;
  while (reader->Read(&chunk)) {
    if (message.size() + chunk.data().size() >
        options_.max_attached_message_bytes) {
      return ToGrpcStatus(absl::ResourceExhaustedError(absl::StrCat(
          kMessageTooLarge, options_.max_attached_message_bytes,
          " bytes, the most AttachMessage stores; attach it where the "
          "ledger is ('caseledger attach --db DIR')")));
    }
    message += chunk.data();
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client left");
  }
  if (message.empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("the message is empty"));
  }
  auto sha256 = options_.ledger->StoreMessage(message);
  if (!sha256.ok()) return ToGrpcStatus(sha256.status());
  response->set_sha256(*sha256);
  response->set_bytes(message.size());
  return grpc::Status::OK;
}

grpc::Status LedgerService::ReadCase(
    grpc::ServerContext* context, const v1::ReadCaseRequest* request,
    grpc::ServerWriter<v1::StoredEvent>* writer) {
  std::string what = absl::StrCat("case_id=", LoggedValue(request->case_id()),
                                  " from_version=", request->from_version(),
                                  " limit=", request->limit());
  auto caller = Authorize(context, Permission::kRead, "ReadCase", what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto place = TakePlace(reads_, *caller, "ReadCase", what);
  if (!place.ok()) return ToGrpcStatus(place.status());
  uint64_t next = std::max<uint64_t>(request->from_version(), 1);
  uint64_t remaining = request->limit() == 0
                           ? std::numeric_limits<uint64_t>::max()
                           : request->limit();
  uint64_t sent = 0;
  PageLength length(options_.most_events_per_page);
  while (remaining > 0 && !context->IsCancelled()) {
    uint64_t n = std::min(remaining, length.Next());
    auto page = options_.ledger->ReadCase(request->case_id(), next, n);
    if (!page.ok()) return ToGrpcStatus(page.status());
    length.After(*page);
    for (const RecordedEvent& e : *page) {
      if (!writer->Write(ToStoredEvent(e))) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "the client left");
      }
      next = e.case_version + 1;
      ++sent;
    }
    remaining -= page->size();
    if (page->size() < n) break;
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::ReadAll(
    grpc::ServerContext* context, const v1::ReadAllRequest* request,
    grpc::ServerWriter<v1::StoredEvent>* writer) {
  std::string what = absl::StrCat("from_position=", request->from_position(),
                                  " limit=", request->limit());
  auto caller = Authorize(context, Permission::kRead, "ReadAll", what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto place = TakePlace(reads_, *caller, "ReadAll", what);
  if (!place.ok()) return ToGrpcStatus(place.status());
  // Reads what the ledger holds when the call starts, so that the stream
  // ends even while appends go on (Subscribe follows them).
  const uint64_t end = options_.ledger->Size();
  uint64_t next = std::max<uint64_t>(request->from_position(), 1);
  uint64_t last = end;
  if (request->limit() != 0 && next <= end &&
      request->limit() - 1 < end - next) {
    last = next + request->limit() - 1;
  }
  PageLength length(options_.most_events_per_page);
  while (next <= last && !context->IsCancelled()) {
    uint64_t n = std::min(last - next + 1, length.Next());
    auto page = options_.ledger->ReadAll(next, n);
    if (!page.ok()) return ToGrpcStatus(page.status());
    length.After(*page);
    if (page->empty()) {
      return ToGrpcStatus(absl::InternalError(
          absl::StrCat("position ", next, " is missing from the store")));
    }
    for (const RecordedEvent& e : *page) {
      if (!writer->Write(ToStoredEvent(e))) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "the client left");
      }
      next = e.position + 1;
    }
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::Subscribe(
    grpc::ServerContext* context, const v1::SubscribeRequest* request,
    grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  std::string what = absl::StrCat("from_position=", request->from_position(),
                                  " case_id=", LoggedValue(request->case_id()));
  if (shutting_down_.load()) {
    return ToGrpcStatus(absl::UnavailableError("the server is shutting down"));
  }
  auto caller = Authorize(context, Permission::kRead, "Subscribe", what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto place = TakePlace(subscriptions_, *caller, "Subscribe", what);
  if (!place.ok()) return ToGrpcStatus(place.status());
  uint64_t sent = 0;
  absl::Status end = [&]() -> absl::Status {
    Ledger& ledger = *options_.ledger;
    // `next` is the only cursor (with, for one case, the case version it
    // stands at): each position is read once from the store, whether during
    // catch-up or live, so nothing is skipped or repeated when the stream
    // switches from one to the other.
    uint64_t next = std::max<uint64_t>(request->from_position(), 1);
    // A case's subscription reads its case, from this version on.
    const bool by_case = !request->case_id().empty();
    uint64_t case_version = 1;
    if (by_case) {
      CASELEDGER_ASSIGN_OR_RETURN(
          uint64_t before, ledger.CaseVersionAt(request->case_id(), next - 1));
      case_version = before + 1;
    }
    bool caught_up = false;
    uint64_t checkpoint_sent = 0;
    uint64_t known_size = 0;
    // The newest checkpoint whose tree holds only what was sent, during
    // catch-up too: a subscriber that stays behind the appends would
    // otherwise never have one to check its events against.
    auto send_checkpoint = [&]() -> absl::Status {
      if (next <= checkpoint_sent + 1) return absl::OkStatus();
      auto note = ledger.LatestCheckpointWithin(next - 1);
      if (absl::IsNotFound(note.status())) return absl::OkStatus();
      CASELEDGER_RETURN_IF_ERROR(note.status());
      auto parsed = ParseCheckpointBody(*note);
      if (!parsed.ok()) {
        return absl::DataLossError(
            absl::StrCat("a stored checkpoint does not read as one: ",
                         parsed.status().message()));
      }
      if (parsed->tree_size <= checkpoint_sent) return absl::OkStatus();
      v1::SubscribeResponse message;
      message.mutable_checkpoint()->set_note(*note);
      message.mutable_checkpoint()->set_tree_size(parsed->tree_size);
      if (!writer->Write(message)) {
        return absl::CancelledError("the client left");
      }
      checkpoint_sent = parsed->tree_size;
      return absl::OkStatus();
    };
    PageLength length(options_.most_events_per_page);
    auto send = [&](const RecordedEvent& e) -> absl::Status {
      v1::SubscribeResponse message;
      *message.mutable_event() = ToStoredEvent(e);
      if (!writer->Write(message)) {
        return absl::CancelledError("the client left");
      }
      ++sent;
      return absl::OkStatus();
    };
    // The next page of the log up to known_size.
    auto send_log_page = [&]() -> absl::Status {
      uint64_t n = std::min(known_size - next + 1, length.Next());
      CASELEDGER_ASSIGN_OR_RETURN(std::vector<RecordedEvent> page,
                                  ledger.ReadAll(next, n));
      length.After(page);
      if (page.empty()) {
        return absl::InternalError(
            absl::StrCat("position ", next, " is missing from the store"));
      }
      for (const RecordedEvent& e : page) {
        next = e.position + 1;
        CASELEDGER_RETURN_IF_ERROR(send(e));
      }
      return absl::OkStatus();
    };
    // The case's own next events up to known_size, through the case index:
    // reading every entry of the log to find them took 1.8 s to catch up
    // with a case of 5 events in 550,056 (found by an audit), and each
    // append woke every case's subscriber to read it.
    auto send_case_page = [&]() -> absl::Status {
      const uint64_t asked = length.Next();
      CASELEDGER_ASSIGN_OR_RETURN(
          std::vector<RecordedEvent> page,
          ledger.ReadCase(request->case_id(), case_version, asked));
      length.After(page);
      bool past_known = false;
      for (const RecordedEvent& e : page) {
        if (e.position > known_size) {
          past_known = true;
          break;
        }
        ++case_version;
        // Before from_position (one past the ledger's end when asked).
        if (e.position < next) continue;
        CASELEDGER_RETURN_IF_ERROR(send(e));
        next = e.position + 1;
      }
      // Every event of the case up to known_size is sent.
      if (past_known || page.size() < asked) next = known_size + 1;
      return absl::OkStatus();
    };
    while (true) {
      if (shutting_down_.load()) {
        return absl::UnavailableError("the server is shutting down");
      }
      if (context->IsCancelled()) {
        return absl::CancelledError("the client cancelled");
      }
      // Until caught up, the size as it is now: the stream catches up with
      // the ledger, not with what it held when the call came.
      if (!caught_up) known_size = ledger.Size();
      if (next <= known_size) {
        CASELEDGER_RETURN_IF_ERROR(by_case ? send_case_page()
                                           : send_log_page());
        CASELEDGER_RETURN_IF_ERROR(send_checkpoint());
        continue;
      }
      // Everything up to known_size is sent.
      if (!caught_up) {
        v1::SubscribeResponse message;
        message.mutable_caught_up()->set_position(known_size);
        if (!writer->Write(message)) {
          return absl::CancelledError("the client left");
        }
        caught_up = true;
      }
      CASELEDGER_RETURN_IF_ERROR(send_checkpoint());
      // A real-time timeout, not business time: the injected clock is for
      // what gets recorded.
      known_size =
          ledger.AwaitSize(known_size, absl::Now() + options_.idle_check);
    }
  }();
  RecordAccess(*caller, "Subscribe", what, CodeName(end.code()), sent)
      .IgnoreError();
  return ToGrpcStatus(end);
}

grpc::Status LedgerService::Project(ProjectionRenderer::View view,
                                    std::string_view rpc,
                                    grpc::ServerContext* context,
                                    const v1::ProjectionRequest* request,
                                    v1::RenderedDocument* response) {
  const auto* as_of = request->has_as_of() ? &request->as_of() : nullptr;
  const auto* known_at =
      request->has_known_at() ? &request->known_at() : nullptr;
  std::string what = absl::StrCat("case_id=", LoggedValue(request->case_id()));
  if (!request->status().empty()) {
    absl::StrAppend(&what, " status=", LoggedValue(request->status()));
  }
  absl::StrAppend(&what,
                  ViewParameters(as_of, known_at, request->policy_json()));
  auto caller = Authorize(context, Permission::kRead, rpc, what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status times = CheckViewTimes(as_of, known_at); !times.ok()) {
    return ToGrpcStatus(times);
  }
  if (options_.projections == nullptr) {
    return ToGrpcStatus(absl::UnimplementedError(
        absl::StrCat(std::string(rpc), " is not available in this server")));
  }
  auto place = TakePlace(projections_, *caller, rpc, what);
  if (!place.ok()) return ToGrpcStatus(place.status());
  // Every case's deadlines in a large ledger take a minute or more: a call
  // cancelled by then held one of the cap's places to the end, and
  // answered nobody (found by a review).
  auto wanted = [&]() -> absl::Status {
    if (context->IsCancelled()) {
      return absl::CancelledError(
          "the call was cancelled while its answer was made");
    }
    return absl::OkStatus();
  };
  auto document =
      options_.projections->Render(view, *options_.ledger, *request, wanted);
  if (!document.ok()) return ToGrpcStatus(document.status());
  // gRPC would refuse to send it in words that name neither what was too
  // large nor a way round (found by an outside reading).
  if (const size_t bytes = document->ByteSizeLong();
      bytes > static_cast<size_t>(options_.max_response_bytes)) {
    return ToGrpcStatus(absl::ResourceExhaustedError(
        absl::StrCat(kAnswerTooLarge, bytes, " bytes, more than the ",
                     options_.max_response_bytes, " one answer may carry: ",
                     view == ProjectionRenderer::View::kDeadlines
                         ? "narrow it with --case or --status"
                         : "narrow it with --as-of",
                     ", or run it where the ledger is (without --server)")));
  }
  *response = std::move(*document);
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetState(grpc::ServerContext* context,
                                     const v1::ProjectionRequest* request,
                                     v1::RenderedDocument* response) {
  return Project(ProjectionRenderer::View::kState, "GetState", context, request,
                 response);
}

grpc::Status LedgerService::ListDeadlines(grpc::ServerContext* context,
                                          const v1::ProjectionRequest* request,
                                          v1::RenderedDocument* response) {
  return Project(ProjectionRenderer::View::kDeadlines, "ListDeadlines", context,
                 request, response);
}

grpc::Status LedgerService::GetFindings(grpc::ServerContext* context,
                                        const v1::ProjectionRequest* request,
                                        v1::RenderedDocument* response) {
  return Project(ProjectionRenderer::View::kFindings, "GetFindings", context,
                 request, response);
}

grpc::Status LedgerService::GetTimeline(grpc::ServerContext* context,
                                        const v1::ProjectionRequest* request,
                                        v1::RenderedDocument* response) {
  return Project(ProjectionRenderer::View::kTimeline, "GetTimeline", context,
                 request, response);
}

grpc::Status LedgerService::ExportBundle(
    grpc::ServerContext* context, const v1::ExportBundleRequest* request,
    grpc::ServerWriter<v1::BundleChunk>* writer) {
  const auto* as_of = request->has_as_of() ? &request->as_of() : nullptr;
  const auto* known_at =
      request->has_known_at() ? &request->known_at() : nullptr;
  std::string what = absl::StrCat(
      "case_id=", LoggedValue(request->case_id()),
      " purpose=", v1::BundlePurpose::Value_Name(request->purpose()),
      " tree_size=", request->tree_size(),
      ViewParameters(as_of, known_at, request->policy_json()));
  if (!request->since_checkpoint().empty()) {
    absl::StrAppend(&what, " since_checkpoint_sha256=",
                    ToHex(Sha256(request->since_checkpoint())));
  }
  if (request->include_after_decision()) {
    absl::StrAppend(&what, " include_after_decision=true");
  }
  auto caller = Authorize(context, Permission::kExport, "ExportBundle", what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status times = CheckViewTimes(as_of, known_at); !times.ok()) {
    return ToGrpcStatus(times);
  }
  if (options_.bundles == nullptr) {
    return ToGrpcStatus(absl::UnimplementedError(
        "ExportBundle: evidence bundles are not available in this server "
        "yet"));
  }
  auto place = TakePlace(exports_, *caller, "ExportBundle", what);
  if (!place.ok()) return ToGrpcStatus(place.status());
  uint64_t bytes = 0;
  // Building a large case's bundle takes a while (a minute for 20,000
  // events). A call cancelled by then (the client left, or the server's
  // grace ran out while stopping) leaves no record of a disclosure that
  // never happened (one was appended after the client had been told the
  // call was cancelled; found by an audit).
  auto wanted = [&]() -> absl::Status {
    if (context->IsCancelled()) {
      return absl::CancelledError(
          "the call was cancelled while the bundle was built; its export is "
          "not recorded");
    }
    return absl::OkStatus();
  };
  auto send = [&](std::string_view piece) {
    v1::BundleChunk chunk;
    chunk.set_data(std::string(piece));
    bytes += piece.size();
    return writer->Write(chunk);
  };
  // The client tells them as a local export does (a large case's export
  // said nothing through the server for a minute).
  auto progress = [&](std::string_view step) {
    v1::BundleChunk told;
    told.set_progress(std::string(step));
    writer->Write(told);  // a client gone is found by `wanted`
  };
  auto summary =
      options_.bundles->Export(*options_.ledger, *request,
                               caller->principal.name, wanted, send, progress);
  absl::Status s = summary.status();
  if (s.ok()) {
    v1::BundleChunk last;
    *last.mutable_summary() = *summary;
    if (!writer->Write(last)) s = absl::CancelledError("the client left");
  }
  RecordAccess(*caller, "ExportBundle", absl::StrCat(what, " bytes=", bytes),
               CodeName(s.code()), s.ok() ? summary->events() : 0)
      .IgnoreError();
  return ToGrpcStatus(s);
}

grpc::Status LedgerService::GetCheckpoint(
    grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
    v1::CheckpointResponse* response) {
  auto caller = Authorize(context, Permission::kProve, "GetCheckpoint", "");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto note = request->tree_size() == 0
                  ? options_.ledger->SignCheckpoint()
                  : options_.ledger->CheckpointAt(request->tree_size());
  if (!note.ok()) return ToGrpcStatus(note.status());
  auto parsed = ParseCheckpointBody(*note);
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  response->set_note(*note);
  response->set_tree_size(parsed->tree_size);
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetInclusionProof(
    grpc::ServerContext* context, const v1::GetInclusionProofRequest* request,
    v1::InclusionProof* response) {
  auto caller = Authorize(context, Permission::kProve, "GetInclusionProof", "");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  uint64_t size = request->tree_size() == 0 ? options_.ledger->Size()
                                            : request->tree_size();
  auto proof = options_.ledger->InclusionProof(request->position(), size);
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  response->set_leaf_index(request->position() - 1);
  response->set_tree_size(size);
  for (std::string& h : HashBytes(*proof)) response->add_hashes(std::move(h));
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetConsistencyProof(
    grpc::ServerContext* context, const v1::GetConsistencyProofRequest* request,
    v1::ConsistencyProof* response) {
  auto caller =
      Authorize(context, Permission::kProve, "GetConsistencyProof", "");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  uint64_t size =
      request->new_size() == 0 ? options_.ledger->Size() : request->new_size();
  auto proof = options_.ledger->ConsistencyProof(request->old_size(), size);
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  response->set_old_size(request->old_size());
  response->set_new_size(size);
  for (std::string& h : HashBytes(*proof)) response->add_hashes(std::move(h));
  return grpc::Status::OK;
}

grpc::Status LedgerService::Backup(grpc::ServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) {
  // Cut only past the longest name a backup takes, so that two names the
  // log shows are two names (it cut at 64 bytes; found by an audit).
  std::string what =
      absl::StrCat("name=", Printable(request->name(), kMostBackupNameBytes));
  auto caller = Authorize(context, Permission::kAdminister, "Backup", what);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::Status s = [&]() -> absl::Status {
    if (options_.backup_dir.empty()) {
      return absl::FailedPreconditionError(
          "this server takes no backups: start it with --backup-dir DIR");
    }
    CASELEDGER_RETURN_IF_ERROR(CheckBackupName(request->name()));
    if (backing_up_.exchange(true)) {
      return absl::AbortedError(
          "another backup is running; ask again once it has finished");
    }
    absl::Cleanup finished = [this] { backing_up_.store(false); };
    // A disk unmounted under a running server leaves its mount point, an
    // empty folder of the disk below, where the backup would go unnoticed
    // (found by a review: only a folder gone altogether was refused). A
    // disk mounted after the server started, or mounted again on another
    // device number, is taken.
    if (backup_dir_was_mount_point_ && !IsMountPoint(options_.backup_dir)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the backup folder ", options_.backup_dir,
          " was a mount point when the server started and is not one now "
          "(its disk unmounted?): the backup is not made; mount the disk, or "
          "restart the server to take the folder as it is"));
    }
    const std::string path =
        (std::filesystem::path(options_.backup_dir) / request->name()).string();
    CASELEDGER_ASSIGN_OR_RETURN(Ledger::BackupSummary info,
                                options_.ledger->Backup(path));
    *response = ToWire(info, path);
    // As a local backup checks the deadline index it copies (found by an
    // adversarial test: the copy said it verifies, and verify failed it).
    LedgerOptions read_only;
    read_only.read_only = true;
    CASELEDGER_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> copy,
                                Ledger::Open(path, read_only));
    if (auto index = projections::DeadlineIndex::Verify(*copy); !index.ok()) {
      if (!absl::IsDataLoss(index.status())) return index.status();
      response->set_deadline_index_problem(
          std::string(index.status().message()));
    }
    // As a local backup checks the log it copies (found by an outside
    // reading: the copy said it verifies, and backup --verify failed it).
    const std::string copied_log =
        (std::filesystem::path(path) / kAccessLogFile).string();
    // A copy whose log could not be looked for is not said to verify
    // (found by an audit: a failed look read as "no log").
    absl::StatusOr<bool> copied = PathExists(copied_log);
    absl::Status problem = copied.status();
    if (copied.ok() && *copied) problem = VerifyAccessLog(copied_log).status();
    if (!problem.ok()) {
      response->set_access_log_problem(std::string(problem.message()));
    }
    return absl::OkStatus();
  }();
  RecordAccess(*caller, "Backup", what, CodeName(s.code()), 0).IgnoreError();
  return ToGrpcStatus(s);
}

}  // namespace caseledger::server
