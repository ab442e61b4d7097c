// Client mode: `caseledger --server ADDR --token-file F <verb>` runs the data
// verbs against a server (docs/service.md), printing exactly what the local
// verb prints. The flags, checks and output formats mirror verbs_*.cc; the
// end-to-end tests in tests/server compare both modes byte for byte.
#include <sys/stat.h>

#include <cstdio>
#include <string_view>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpc/support/log.h"
#include "ledger/base64.h"
#include "ledger/event_json.h"
#include "ledger/proof_json.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"
#include "projections/bundle/bundle.h"
#include "projections/deadlines.h"
#include "tools/cli.h"
#include "tools/client.h"
#include "tools/output.h"
#include "tools/server/rpc_status.h"
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

bool HasFlag(const VerbSpec& verb, std::string_view name) {
  for (const FlagSpec& f : verb.flags) {
    if (f.name == name) return true;
  }
  return false;
}

const VerbSpec* FindVerb(const std::vector<Verb>& verbs,
                         std::string_view name) {
  for (const Verb& v : verbs) {
    if (v.spec.name == name) return &v.spec;
  }
  return nullptr;
}

// gRPC logs a failed TLS handshake on stderr in its own layout ("E1206
// 05:01:15.370471190 23543 ssl_transport_security.cc:1501] Handshake failed
// with fatal error SSL_ERROR_SSL: ... certificate verify failed."), and the
// call's status then says the same, which the verb prints with what to
// check: the line is dropped. This process is only a client, so no
// server's record of a handshake is lost. Anything else gRPC logs is kept.
void DropHandshakeFailures(gpr_log_func_args* args) {
  const absl::string_view message =
      args->message == nullptr ? "" : args->message;
  if (absl::StartsWith(message, "Handshake failed")) return;
  std::fprintf(stderr, "%s gRPC %s:%d] %.*s\n",
               gpr_log_severity_string(args->severity),
               args->file == nullptr ? "" : args->file, args->line,
               static_cast<int>(message.size()), message.data());
}

// A file holding the caller's secret (its bearer token, its TLS key) that
// others than its owner can read gives them the caller's access to the
// ledger; a copy made with loose modes said nothing of it (found by a
// mutation audit). Nothing is refused, since some file systems keep no
// Unix modes: the signing key's check does the same.
void WarnIfOthersCanRead(Io& io, const std::string& path,
                         std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 044) == 0) return;
  io.err << "caseledger: warning: "
         << ForTerminal(absl::StrFormat(
                "the %s %s has mode %04o: others than its owner can read it, "
                "and whoever reads it can call the server as you (chmod 600 "
                "%s)",
                AbslView(what), path, st.st_mode & 07777, path))
         << "\n";
}

absl::StatusOr<std::unique_ptr<client::LedgerClient>> Connect(
    const RemoteFlags& flags, const Args& args, Io& io) {
  if (args.Has("db")) {
    return absl::InvalidArgumentError(kDbWithServer);
  }
  client::ClientOptions options;
  options.server = flags.server;
  if (flags.token_file.empty()) {
    return absl::InvalidArgumentError(
        "--server needs --token-file FILE (the token alone)");
  }
  // '-' keeps the token out of files and command lines.
  absl::StatusOr<std::string> token;
  if (flags.token_file == "-") {
    auto text = ReadInput("-", io, kMaxSmallInputBytes,
                          ", far more than a token (--token-file -)");
    if (!text.ok()) return text.status();
    token = server::ClientTokenFrom(*text, "the token on standard input");
  } else {
    token = server::ReadClientToken(flags.token_file);
    if (token.ok()) WarnIfOthersCanRead(io, flags.token_file, "token file");
  }
  if (!token.ok()) return token.status();
  options.token = *token;
  for (auto [flag, path, pem] :
       {std::tuple{"tls-ca", &flags.tls_ca, &options.tls_ca_pem},
        std::tuple{"tls-cert", &flags.tls_cert, &options.tls_cert_pem},
        std::tuple{"tls-key", &flags.tls_key, &options.tls_key_pem}}) {
    if (path->empty()) continue;
    auto text = ReadPemFile(flag, *path, io);
    if (!text.ok()) return text.status();
    *pem = *text;
    if (pem == &options.tls_key_pem) {
      WarnIfOthersCanRead(io, *path, "TLS key file");
    }
  }
  if (!options.tls_ca_pem.empty()) gpr_set_log_function(&DropHandshakeFailures);
  return client::LedgerClient::Connect(std::move(options));
}

int RemoteAppend(const RemoteFlags& flags, const Args& args, Io& io) {
  auto input = ReadAppendInput(args, io);
  if (!input.ok()) return Fail(io, "append", input.status());
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "append", client.status());
  // The server may write the call whatever becomes of this process; a
  // client that died with it would leave the user to guess.
  return FinishingFirst(io, "append", "appending", kAppendLeftUnknown, [&] {
    auto result = (*client)->Append(input->Events(), input->expected);
    if (!result.ok()) return AppendFailure(io, result.status(), input->lines);
    io.out << AppendResultOutput(*result, input->json);
    WarnOfEventsDatedAhead(*input, *result, "append", io);
    return kExitOk;
  });
}

// Half of what one call carries (8 MiB), an event being at most 1 MiB.
constexpr size_t kImportBatchBytes = 4 << 20;

int RemoteImport(const RemoteFlags& flags, const Args& args, Io& io) {
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "import", client.status());
  ImportTarget target;
  target.append = [&client](absl::Span<const v1::Event> batch) {
    return (*client)->Append(
        std::vector<v1::Event>(batch.begin(), batch.end()));
  };
  // No call asks the server whether an id is stored: a malformed line is
  // refused even when it is (docs/service.md). What the server refuses
  // whatever it holds is found before anything is read or written (found
  // by an adversarial test: a reader's token, after a whole file's check;
  // a disclosure, with the batches before it stored).
  target.ready = [&client] { return (*client)->CheckMayAppend(); };
  target.refuses = [](const v1::Event& event) {
    return event.has_evidence_bundle_exported()
               ? absl::InvalidArgumentError(absl::StrCat(
                     server::kDisclosureNotAppended,
                     " (through a server; import it where the ledger is)"))
               : absl::OkStatus();
  };
  return ImportLines(args.positional()[0], target, kImportBatchBytes, io,
                     [](bool) {});
}

int RemoteRead(const RemoteFlags& flags, const Args& args, Io& io) {
  auto read = ParseReadFlags(args);
  if (!read.ok()) return Fail(io, "read", read.status());
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "read", client.status());
  uint64_t printed = 0;
  uint64_t last = 0;  // the last position, or case version, printed
  auto print = [&](const RecordedEvent& e) {
    io.out << ReadRow(e, read->json) << "\n";
    ++printed;
    last = args.Has("case") ? e.case_version : e.position;
    return absl::OkStatus();
  };
  // A stream cut off part way (the server stopped, or sent nothing for the
  // timeout) says how far the output goes and how to go on from there.
  auto cut_off = [&](const absl::Status& s) {
    if (printed == 0) return Fail(io, "read", s);
    // gRPC's own words ("Socket closed", "FD shutdown") said nothing of
    // what had happened (found by an adversarial test).
    const std::string why =
        absl::IsUnavailable(s)
            ? absl::StrCat("the connection to the server broke (", s.message(),
                           ")")
            : std::string(s.message());
    const std::string where =
        absl::StrCat("; the output ends at ",
                     args.Has("case") ? "case version " : "position ", last);
    // Every event asked for came, the call's end did not: there is nothing
    // to go on with (a --limit 0 would be refused).
    if (read->limit != 0 && printed >= read->limit) {
      return Fail(io, "read",
                  absl::Status(s.code(),
                               absl::StrCat(why, where, ", the last of the ",
                                            read->limit, " events asked for")));
    }
    std::string again = absl::StrCat("--from ", last + 1);
    if (read->limit != 0) {
      absl::StrAppend(&again, " --limit ", read->limit - printed);
    }
    return Fail(
        io, "read",
        absl::Status(s.code(), absl::StrCat(why, where, ": the same read with ",
                                            again, " goes on from there")));
  };
  if (args.Has("case")) {
    absl::Status s =
        (*client)->ReadCase(args.Get("case"), read->from, read->limit, print);
    if (!s.ok()) return cut_off(s);
    // As a local read says it (verbs_ledger.cc).
    if (printed == 0) {
      bool held = false;
      s = (*client)->ReadCase(args.Get("case"), 1, 1,
                              [&](const RecordedEvent&) {
                                held = true;
                                return absl::OkStatus();
                              });
      if (!s.ok()) return Fail(io, "read", s);
      if (!held) return Fail(io, "read", NoSuchCase(args.Get("case")));
    }
    return kExitOk;
  }
  absl::Status s = (*client)->ReadAll(read->from, read->limit, print);
  if (!s.ok()) return cut_off(s);
  return kExitOk;
}

int RemoteAttach(const RemoteFlags& flags, const Args& args, Io& io) {
  if (absl::Status files = CheckFilesToAttach(args); !files.ok()) {
    return Fail(io, "attach", files);
  }
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "attach", client.status());
  // The server checks what it is sent: a file it refuses stops the verb
  // with the files before it stored.
  return AttachFiles(
      args, io, [](std::string_view) { return absl::OkStatus(); },
      [&](std::string_view bytes) { return (*client)->AttachMessage(bytes); });
}

int RemoteCheckpoint(const RemoteFlags& flags, const Args& args, Io& io) {
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "checkpoint", client.status());
  auto checkpoint = (*client)->GetCheckpoint(0);
  if (!checkpoint.ok()) return Fail(io, "checkpoint", checkpoint.status());
  io.out << checkpoint->note();  // exactly the signed note, nothing else
  return kExitOk;
}

// The hashes of a proof the server sent, each checked to be a SHA-256
// digest, so that `prove` never prints a proof that no verifier can read.
absl::StatusOr<std::vector<merkle::Hash>> ProofHashes(
    const google::protobuf::RepeatedPtrField<std::string>& sent) {
  std::vector<merkle::Hash> hashes;
  for (int i = 0; i < sent.size(); ++i) {
    std::optional<merkle::Hash> hash = DigestFromBytes(sent[i]);
    if (!hash) {
      return absl::InternalError(
          absl::StrCat("the server sent a proof whose hash ", i + 1, " is ",
                       sent[i].size(), " bytes long, not 32"));
    }
    hashes.push_back(*hash);
  }
  return hashes;
}

int RemoteProve(const RemoteFlags& flags, const Args& args, Io& io) {
  if (absl::Status flags_ok = CheckProveFlags(args); !flags_ok.ok()) {
    return UsageError(io, "prove", std::string(flags_ok.message()));
  }
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "prove", client.status());
  auto size = ProofSizeFlag(args);  // 0: the server's current size
  if (!size.ok()) return Fail(io, "prove", size.status());
  if (args.Has("position")) {
    auto position = CountFlag(args, "position", std::nullopt);
    if (!position.ok()) return Fail(io, "prove", position.status());
    auto proof = (*client)->GetInclusionProof(*position, *size);
    if (!proof.ok()) return Fail(io, "prove", proof.status());
    auto hashes = ProofHashes(proof->hashes());
    if (!hashes.ok()) return Fail(io, "prove", hashes.status());
    io.out << merkle::InclusionProofJson(proof->leaf_index(),
                                         proof->tree_size(), *hashes);
    return kExitOk;
  }
  auto from = CountFlag(args, "from-size", std::nullopt);
  if (!from.ok()) return Fail(io, "prove", from.status());
  auto proof = (*client)->GetConsistencyProof(*from, *size);
  if (!proof.ok()) return Fail(io, "prove", proof.status());
  auto hashes = ProofHashes(proof->hashes());
  if (!hashes.ok()) return Fail(io, "prove", hashes.status());
  io.out << merkle::ConsistencyProofJson(proof->old_size(), proof->new_size(),
                                         *hashes);
  return kExitOk;
}

// The flags of verbs_projections.cc's queries, checked here exactly as the
// local verb checks them, then sent for the server to evaluate.
absl::StatusOr<v1::ProjectionRequest> ProjectionQuery(const Args& args,
                                                      Io& io) {
  auto flags = ParseQueryFlags(args, io);
  if (!flags.ok()) return flags.status();
  v1::ProjectionRequest request;
  request.set_format(flags->json ? v1::ProjectionRequest::JSON
                                 : v1::ProjectionRequest::TEXT);
  if (flags->as_of) *request.mutable_as_of() = ToTimestamp(*flags->as_of);
  if (flags->known_at) {
    *request.mutable_known_at() = ToTimestamp(*flags->known_at);
  }
  if (flags->policy_json) request.set_policy_json(*flags->policy_json);
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
  if (view == client::LedgerClient::View::kDeadlines) {
    auto status = DeadlineStatusFlag(args);
    if (!status.ok()) return Fail(io, verb, status.status());
    if (*status) request->set_status(args.Get("status"));
  }
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, verb, client.status());
  auto document = (*client)->Project(view, *request);
  if (!document.ok()) return Fail(io, verb, document.status());
  io.out << ShownAs(document->body(),
                    request->format() == v1::ProjectionRequest::JSON
                        ? projections::OutputFormat::kJson
                        : projections::OutputFormat::kText);
  if (verb == "findings" && document->has_fail() && args.Has("strict")) {
    return kExitCheckFailed;
  }
  return kExitOk;
}

// A call that ended without the server's answer (its deadline, a lost
// connection, a server stopping): what it did on the server is unknown.
bool CutShort(const absl::Status& s) {
  return absl::IsDeadlineExceeded(s) || absl::IsUnavailable(s) ||
         absl::IsCancelled(s);
}

// As verbs_bundle.cc's export: the same checks in the same order, the
// bundle streamed into FILE.partial and renamed to FILE once complete, the
// same summary line. The requester recorded in the bundle's audit event is
// the token's NAME, which a client cannot choose.
int ReceiveBundle(const RemoteFlags& flags, const Args& args, Io& io) {
  std::string policy_text;
  auto parsed = ReadExportFlags(args, io, &policy_text);
  if (!parsed.ok()) return Fail(io, "export", parsed.status());
  if (args.Has("requested-by")) {
    return UsageError(io, "export",
                      "--requested-by: in client mode the requester is the "
                      "name of the token");
  }
  v1::ExportBundleRequest request;
  request.set_case_id(parsed->case_id);
  request.set_purpose(parsed->purpose);
  request.set_tree_size(parsed->tree_size);
  if (parsed->since_checkpoint) {
    request.set_since_checkpoint(*parsed->since_checkpoint);
  }
  request.set_policy_json(policy_text);
  if (parsed->as_of) *request.mutable_as_of() = ToTimestamp(*parsed->as_of);
  if (parsed->known_at) {
    *request.mutable_known_at() = ToTimestamp(*parsed->known_at);
  }
  request.set_include_after_decision(parsed->include_after_decision);

  const std::string out = args.Get("out");
  OutputFile file(out);
  if (absl::Status s = file.Open(); !s.ok()) return Fail(io, "export", s);
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "export", client.status());
  auto summary = (*client)->ExportBundle(
      request, [&](const std::string& chunk) { return file.Write(chunk); },
      [&io](const std::string& step) { TellExportStep(io, step); });
  if (!summary.ok()) {
    // The server records the export before it sends the bundle: a call cut
    // short may have left the disclosure on record with no bundle here.
    // Cut short by a failed write here, the write's error says why (it was
    // "the bundle could not be written"; found by an adversarial test).
    absl::Status s = summary.status();
    if (absl::Status written = file.WriteError(); !written.ok()) {
      s = absl::Status(s.code(), written.message());
    }
    // A server never reached recorded nothing: it was said that it may
    // have (found by an outside test), as a backup's was until 2026-12-05.
    if (client::NeverSent(s)) {
      return Fail(io, "export",
                  client::NothingSent("no bundle was written", s));
    }
    if (CutShort(s)) {
      return Fail(
          io, "export",
          absl::Status(s.code(),
                       absl::StrCat(s.message(),
                                    "; no bundle was written, but the server "
                                    "may have recorded the export "
                                    "(evidence_bundle_exported): read --case ",
                                    parsed->case_id, " shows whether it did")));
    }
    return Fail(io, "export", s);
  }
  if (absl::Status s = file.Commit(); !s.ok()) return Fail(io, "export", s);
  io.out << ExportedLine(*summary, out);
  return kExitOk;
}

// The server records the export whatever becomes of this process: one
// that died before the rename would leave a disclosure on record and no
// bundle.
int RemoteExport(const RemoteFlags& flags, const Args& args, Io& io) {
  return FinishingFirst(io, "export", "exporting", kExportLeftUnknown,
                        [&] { return ReceiveBundle(flags, args, io); });
}

// As verbs_backup.cc's backup --to, written by the server into its
// --backup-dir; backup --verify reads a folder, so it runs where that is.
int RemoteBackup(const RemoteFlags& flags, const Args& args, Io& io) {
  if (args.Has("verify") || args.Has("pubkey")) {
    return UsageError(io, "backup",
                      args.Has("verify")
                          ? "--verify reads a backup folder: run it where the "
                            "backup is, without --server"
                          : "--pubkey checks a backup folder (--verify "
                            "BACKUP): run it where the backup is, without "
                            "--server");
  }
  if (!args.Has("to")) {
    return UsageError(io, "backup",
                      "--to NAME is required: the new folder under the "
                      "server's --backup-dir");
  }
  auto client = Connect(flags, args, io);
  if (!client.ok()) return Fail(io, "backup", client.status());
  auto backup = (*client)->Backup(args.Get("to"));
  if (!backup.ok()) {
    // Cut short, the call leaves the copy's fate on the server unknown (found
    // by an audit: "Socket closed" said nothing of it).
    const absl::Status& s = backup.status();
    // It was said unknown of a server that was never reached (found by an
    // outside reading), as an append's is not.
    if (client::NeverSent(s)) {
      return Fail(io, "backup", client::NothingSent("backup not made", s));
    }
    if (CutShort(s) && !s.GetPayload(server::kNothingDonePayload)) {
      const std::string name = args.Get("to");
      return Fail(
          io, "backup",
          absl::Status(
              s.code(),
              absl::StrCat(s.message(),
                           "; whether the server made the backup "
                           "is unknown: a finished one is ",
                           name,
                           " in its --backup-dir (check it there with backup "
                           "--verify); a ",
                           name,
                           ".partial left there is started over by the "
                           "next backup --to ",
                           name)));
    }
    return Fail(io, "backup", s);
  }
  auto info = server::FromWire(*backup);
  if (!info.ok()) return Fail(io, "backup", info.status());
  io.out << "backed up " << DescribeBackup(*info) << " to " << backup->path()
         << "; the copy verifies\n";
  int code = kExitOk;
  if (!backup->deadline_index_problem().empty()) {
    io.out << "FAIL " << backup->deadline_index_problem() << "\n";
    code = KeptBrokenPart(backup->path(), "backup", "deadline index",
                          kRebuildThenBackUpAgain, io);
  }
  if (!backup->access_log_problem().empty()) {
    io.out << AccessLogFailLine(backup->access_log_problem());
    code =
        KeptBrokenPart(backup->path(), "backup", "access log", kKeptAsItIs, io);
  }
  return code;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> TakeRemoteFlags(
    const std::vector<std::string>& argv, const std::vector<Verb>& verbs,
    RemoteFlags* flags) {
  std::vector<std::string> rest;
  // The verb is the first word left once client flags are taken out.
  const VerbSpec* verb = nullptr;
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
        // serve's own --tls-cert and --tls-key configure the server.
        if (verb == nullptr || !HasFlag(*verb, f)) {
          name = f;
          field = RemoteField(flags, f);
        }
        break;
      }
    }
    if (field == nullptr) {
      if (rest.empty()) verb = FindVerb(verbs, a);
      rest.push_back(a);
      continue;
    }
    std::string value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < argv.size()) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value"));
    }
    // As Args::Parse says of a verb's flags: the last of two servers or
    // tokens was taken in silence (found by an outside reading).
    if (!field->empty() && *field != value) {
      return FlagGivenTwice(name, *field, value);
    }
    *field = std::move(value);
    // As Args::Parse refuses an empty value: an empty --server ran the verb
    // on the local ledger, writes included, and an empty --tls-ca
    // connected in plaintext (found by an outside reading).
    if (field->empty()) {
      return EmptyFlagValue(name, name == "server" ? "HOST:PORT" : "FILE");
    }
  }
  if (flags->server.empty() &&
      !(flags->token_file.empty() && flags->tls_ca.empty() &&
        flags->tls_cert.empty() && flags->tls_key.empty())) {
    // Before `serve`, its own TLS flags read as the client's, and "give
    // --server" could not help (found by an outside reading).
    if (verb != nullptr && HasFlag(*verb, "tls-cert") &&
        flags->token_file.empty() && flags->tls_ca.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(verb->name,
                       "'s own --tls-cert and --tls-key go after it: "
                       "caseledger ",
                       verb->name, " --tls-cert FILE --tls-key FILE ..."));
    }
    return absl::InvalidArgumentError(
        "--token-file and --tls-* are for client mode: give --server ADDR "
        "too");
  }
  return rest;
}

ClientMode ClientModeOf(const std::string& verb) {
  if (verb == "attach") return RemoteAttach;
  if (verb == "append") return RemoteAppend;
  if (verb == "import") return RemoteImport;
  if (verb == "read") return RemoteRead;
  if (verb == "checkpoint") return RemoteCheckpoint;
  if (verb == "prove") return RemoteProve;
  if (verb == "export") return RemoteExport;
  if (verb == "backup") return RemoteBackup;
  if (verb == "state" || verb == "deadlines" || verb == "findings" ||
      verb == "timeline") {
    return [verb](const RemoteFlags& flags, const Args& args, Io& io) {
      return RemoteProjection(flags, verb, args, io);
    };
  }
  return nullptr;
}

}  // namespace caseledger::cli
