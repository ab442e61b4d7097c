// Client mode: `caseledger --server ADDR --token-file F <verb>` runs the data
// verbs against a server (docs/service.md), printing exactly what the local
// verb prints. The flags, checks and output formats mirror verbs_*.cc; the
// end-to-end tests in tests/server compare both modes byte for byte.
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ledger/base64.h"
#include "ledger/event_json.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"
#include "projections/policy.h"
#include "tools/cli.h"
#include "tools/client.h"
#include "tools/server/tokens.h"
#include "tools/server/wire.h"

namespace caseledger::cli {
namespace {

// The global flags of client mode, each taking a value.
const char* const kRemoteFlags[] = {"server", "token-file", "tls-ca",
                                    "tls-cert", "tls-key"};

std::string* RemoteField(RemoteFlags* flags, const std::string& name) {
  if (name == "server") return &flags->server;
  if (name == "token-file") return &flags->token_file;
  if (name == "tls-ca") return &flags->tls_ca;
  if (name == "tls-cert") return &flags->tls_cert;
  if (name == "tls-key") return &flags->tls_key;
  return nullptr;
}

absl::StatusOr<std::unique_ptr<client::LedgerClient>> Connect(
    const RemoteFlags& flags, const Args& args, Io& io) {
  if (args.Has("db")) {
    return absl::InvalidArgumentError(
        "--db and --server exclude each other: the server has the ledger");
  }
  client::ClientOptions options;
  options.server = flags.server;
  if (flags.token_file.empty()) {
    return absl::InvalidArgumentError(
        "--server needs --token-file FILE (the token alone)");
  }
  auto token = server::ReadClientToken(flags.token_file);
  if (!token.ok()) return token.status();
  options.token = *token;
  for (auto [path, pem] : {std::pair{&flags.tls_ca, &options.tls_ca_pem},
                           std::pair{&flags.tls_cert, &options.tls_cert_pem},
                           std::pair{&flags.tls_key, &options.tls_key_pem}}) {
    if (path->empty()) continue;
    auto text = ReadInput(*path, io);
    if (!text.ok()) return text.status();
    *pem = *text;
  }
  return client::LedgerClient::Connect(std::move(options));
}

// As verbs_ledger.cc: "event 3: ..." becomes "line 7: ...".
int AppendFailure(Io& io, const absl::Status& status,
                  const std::vector<EventLine>& lines) {
  std::optional<size_t> index = FailedEventIndex(status);
  if (!index || *index >= lines.size()) return Fail(io, "append", status);
  absl::string_view message = status.message();
  absl::ConsumePrefix(&message, absl::StrCat("event ", *index, ": "));
  return Fail(
      io, "append",
      absl::Status(status.code(),
                   absl::StrCat("line ", lines[*index].line, ": ", message)));
}

int RemoteAppend(const RemoteFlags& flags, const Args& args, Io& io) {
  auto json = WantsJson(args);
  if (!json.ok()) return Fail(io, "append", json.status());
  ExpectedVersion expected;
  if (args.Has("expected-version")) {
    auto parsed = ExpectedVersion::Parse(args.Get("expected-version"));
    if (!parsed.ok()) return Fail(io, "append", parsed.status());
    expected = *parsed;
  }
  auto text = ReadInput(args.positional()[0], io);
  if (!text.ok()) return Fail(io, "append", text.status());
  std::istringstream in(*text);
  auto lines = ReadEventLines(in);
  if (!lines.ok()) return Fail(io, "append", lines.status());
  if (lines->empty())
    return UsageError(io, "append", "the input holds no events");
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "append", client.status());
  std::vector<v1::Event> events;
  events.reserve(lines->size());
  for (const EventLine& l : *lines) events.push_back(l.event);
  auto result = (*client)->Append(std::move(events), expected);
  if (!result.ok()) return AppendFailure(io, result.status(), *lines);
  size_t duplicates = 0;
  for (const auto& e : result->events) duplicates += e.duplicate ? 1 : 0;
  if (*json) {
    io.out << "{\"tree_size\": " << result->tree_size << ", \"events\": [";
    for (size_t i = 0; i < result->events.size(); ++i) {
      const auto& e = result->events[i];
      io.out << (i ? ", " : "") << "{\"event_id\": \"" << e.event_id
             << "\", \"position\": " << e.position
             << ", \"case_version\": " << e.case_version
             << ", \"duplicate\": " << (e.duplicate ? "true" : "false") << "}";
    }
    io.out << "]}\n";
  } else {
    const auto& first = result->events.front();
    const auto& last = result->events.back();
    io.out << "appended " << result->events.size() - duplicates << " event"
           << (result->events.size() - duplicates == 1 ? "" : "s");
    if (duplicates > 0) {
      io.out << " (" << duplicates << " already stored, skipped)";
    }
    io.out << "; positions " << first.position << ".." << last.position
           << "; ledger size " << result->tree_size << "\n";
  }
  return kExitOk;
}

// As verbs_ledger.cc's read rows.
std::string ReadRowJson(const RecordedEvent& e) {
  return absl::StrCat("{\"position\": ", e.position,
                      ", \"case_version\": ", e.case_version,
                      ", \"recorded_at\": \"", projections::FormatUtc(e.recorded_at),
                      "\", \"event\": ", EventToJson(e.event),
                      ", \"entry\": \"", Base64Encode(e.entry_bytes), "\"}");
}

std::string ReadRowText(const RecordedEvent& e) {
  absl::Time occurred = absl::FromUnixSeconds(e.event.occurred_at().seconds()) +
                        absl::Nanoseconds(e.event.occurred_at().nanos());
  return absl::StrCat(
      "#", e.position, " ", e.event.case_id(), " v", e.case_version, " ",
      projections::FormatUtc(occurred), " ", EventType(e.event), " by ",
      v1::ActorKind::Value_Name(e.event.actor().kind()), ":",
      e.event.actor().id(), " (recorded ", projections::FormatUtc(e.recorded_at), ", id ",
      e.event.event_id(), ")");
}

absl::StatusOr<uint64_t> Count(const Args& args, const std::string& flag,
                               std::optional<uint64_t> fallback) {
  if (!args.Has(flag)) {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  uint64_t v;
  if (!absl::SimpleAtoi(args.Get(flag), &v)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": '", args.Get(flag), "' is not a whole number"));
  }
  return v;
}

int RemoteRead(const RemoteFlags& flags, const Args& args, Io& io) {
  auto json = WantsJson(args);
  if (!json.ok()) return Fail(io, "read", json.status());
  auto from = Count(args, "from", 1);
  if (!from.ok()) return Fail(io, "read", from.status());
  auto limit = Count(args, "limit", 0);
  if (!limit.ok()) return Fail(io, "read", limit.status());
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "read", client.status());
  uint64_t printed = 0;
  auto print = [&](const RecordedEvent& e) {
    io.out << (*json ? ReadRowJson(e) : ReadRowText(e)) << "\n";
    ++printed;
    return absl::OkStatus();
  };
  if (args.Has("case")) {
    absl::Status s =
        (*client)->ReadCase(args.Get("case"), *from, *limit, print);
    if (!s.ok()) return Fail(io, "read", s);
    if (printed == 0 && *from <= 1) {
      return Fail(
          io, "read",
          absl::NotFoundError(absl::StrCat("no case ", args.Get("case"))));
    }
    return kExitOk;
  }
  absl::Status s = (*client)->ReadAll(*from, *limit, print);
  if (!s.ok()) return Fail(io, "read", s);
  return kExitOk;
}

int RemoteCheckpoint(const RemoteFlags& flags, const Args& args, Io& io) {
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "checkpoint", client.status());
  auto checkpoint = (*client)->GetCheckpoint(0);
  if (!checkpoint.ok()) return Fail(io, "checkpoint", checkpoint.status());
  io.out << checkpoint->note();  // exactly the signed note, nothing else
  return kExitOk;
}

std::string HashesJson(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  std::string out = "[";
  for (int i = 0; i < hashes.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", "\"", Base64Encode(hashes[i]), "\"");
  }
  return out + "]";
}

int RemoteProve(const RemoteFlags& flags, const Args& args, Io& io) {
  if (args.Has("position") == args.Has("from-size")) {
    return UsageError(io, "prove",
                      "give exactly one of --position P (inclusion) or "
                      "--from-size A (consistency)");
  }
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "prove", client.status());
  auto size = Count(args, "size", 0);  // 0: the server's current size
  if (!size.ok()) return Fail(io, "prove", size.status());
  if (args.Has("position")) {
    auto position = Count(args, "position", std::nullopt);
    if (!position.ok()) return Fail(io, "prove", position.status());
    auto proof = (*client)->GetInclusionProof(*position, *size);
    if (!proof.ok()) return Fail(io, "prove", proof.status());
    io.out << "{\"leaf_index\": " << proof->leaf_index()
           << ", \"tree_size\": " << proof->tree_size()
           << ", \"hashes\": " << HashesJson(proof->hashes()) << "}\n";
    return kExitOk;
  }
  auto from = Count(args, "from-size", std::nullopt);
  if (!from.ok()) return Fail(io, "prove", from.status());
  auto proof = (*client)->GetConsistencyProof(*from, *size);
  if (!proof.ok()) return Fail(io, "prove", proof.status());
  io.out << "{\"old_size\": " << proof->old_size()
         << ", \"new_size\": " << proof->new_size()
         << ", \"hashes\": " << HashesJson(proof->hashes()) << "}\n";
  return kExitOk;
}

// The flags of verbs_projections.cc's queries, checked here exactly as the
// local verb checks them, then sent for the server to evaluate.
absl::StatusOr<v1::ProjectionRequest> ProjectionQuery(const Args& args,
                                                      Io& io) {
  v1::ProjectionRequest request;
  auto json = WantsJson(args);
  if (!json.ok()) return json.status();
  request.set_format(*json ? v1::ProjectionRequest::JSON
                           : v1::ProjectionRequest::TEXT);
  for (const char* flag : {"as-of", "known-at"}) {
    if (!args.Has(flag)) continue;
    auto t = projections::ParseEvaluationTime(args.Get(flag), flag);
    if (!t.ok()) return t.status();
    *(std::string(flag) == "as-of" ? request.mutable_as_of()
                                   : request.mutable_known_at()) =
        server::ToTimestamp(*t);
  }
  if (args.Has("policy")) {
    auto text = ReadInput(args.Get("policy"), io);
    if (!text.ok()) return text.status();
    auto policy = projections::ParsePolicy(*text);
    if (!policy.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          args.Get("policy"), ": ", policy.status().message()));
    }
    request.set_policy_json(*text);
  }
  return request;
}

int RemoteProjection(const RemoteFlags& flags, const std::string& verb,
                     const Args& args, Io& io) {
  client::LedgerClient::View view = client::LedgerClient::View::kDeadlines;
  if (verb == "state") view = client::LedgerClient::View::kState;
  if (verb == "timeline") view = client::LedgerClient::View::kTimeline;
  if (verb == "findings") view = client::LedgerClient::View::kFindings;
  if (view != client::LedgerClient::View::kDeadlines && !args.Has("case")) {
    return UsageError(io, verb, "--case C is required");
  }
  auto request = ProjectionQuery(args, io);
  if (!request.ok()) return Fail(io, verb, request.status());
  if (args.Has("case")) request->set_case_id(args.Get("case"));
  if (view == client::LedgerClient::View::kDeadlines && args.Has("status")) {
    auto parsed = projections::ParseDeadlineState(args.Get("status"));
    if (!parsed.ok()) return Fail(io, verb, parsed.status());
    request->set_status(args.Get("status"));
  }
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, verb, client.status());
  auto document = (*client)->Project(view, *request);
  if (!document.ok()) return Fail(io, verb, document.status());
  io.out << document->body();
  if (verb == "findings" && document->has_fail() && args.Has("strict")) {
    return kExitCheckFailed;
  }
  return kExitOk;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> TakeRemoteFlags(
    const std::vector<std::string>& argv, RemoteFlags* flags) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      rest.insert(rest.end(), argv.begin() + i, argv.end());
      break;
    }
    std::string* field = nullptr;
    std::string name;
    for (const char* f : kRemoteFlags) {
      std::string flag = absl::StrCat("--", f);
      if (a == flag || absl::StartsWith(a, flag + "=")) {
        name = f;
        field = RemoteField(flags, f);
        break;
      }
    }
    if (field == nullptr) {
      rest.push_back(a);
      continue;
    }
    if (size_t eq = a.find('='); eq != std::string::npos) {
      *field = a.substr(eq + 1);
    } else if (i + 1 < argv.size()) {
      *field = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value"));
    }
  }
  if (flags->server.empty() &&
      !(flags->token_file.empty() && flags->tls_ca.empty() &&
        flags->tls_cert.empty() && flags->tls_key.empty())) {
    return absl::InvalidArgumentError(
        "--token-file and --tls-* are for client mode: give --server ADDR "
        "too");
  }
  return rest;
}

int RunRemote(const RemoteFlags& flags, const std::string& verb,
              const Args& args, Io& io) {
  if (verb == "append") return RemoteAppend(flags, args, io);
  if (verb == "read") return RemoteRead(flags, args, io);
  if (verb == "checkpoint") return RemoteCheckpoint(flags, args, io);
  if (verb == "prove") return RemoteProve(flags, args, io);
  if (verb == "state" || verb == "deadlines" || verb == "findings" ||
      verb == "timeline") {
    return RemoteProjection(flags, verb, args, io);
  }
  return UsageError(io, verb,
                    "has no client mode: run it where the ledger is, without "
                    "--server");
}

}  // namespace caseledger::cli
