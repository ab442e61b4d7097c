// Load generator for the network service: concurrent clients append for a
// fixed time and it reports events/s and the latency of each Append call;
// or, in subscriber mode, it follows the ledger as readers do. Flags:
// kUsage below, which --help prints. Results: docs/service.md
// ("Performance"). tests/server/serve_soak.sh runs the subscriber mode
// beside the append load.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "caseledger/v1/ledger.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "ledger/checkpoint.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/recorded_event.h"
#include "ledger/sha256.h"
#include "tools/client.h"
#include "tools/server/server.h"
#include "tools/server/tokens.h"
#include "tools/server/wire.h"

namespace caseledger {
namespace {

struct Flags {
  std::string server, token_file, tls_ca;
  bool embedded = false;
  int clients = 16;
  double seconds = 10;
  std::vector<int> batches = {1, 10};
  // Subscriber mode (see RunSubscribers): streams over every case, plus one
  // of this case when set.
  int subscribers = 0;
  std::string subscribe_case, pubkey, target_file;
};

constexpr char kUsage[] =
    R"(usage: caseledger_load_generator --embedded [--clients N] [--seconds S]
           [--batch N[,N...]]
       caseledger_load_generator --server HOST:PORT --token-file F
           [--tls-ca F] [--clients N] [--seconds S] [--batch N[,N...]]
       caseledger_load_generator --server HOST:PORT --token-file F
           [--tls-ca F] --subscribers N [--subscribe-case CASE]
           [--pubkey F] [--target-file F] [--seconds S]

N concurrent clients, each on its own connection and its own case, append
for S seconds, single events or batches of each size given, and the
events/s and the latency of each Append call are reported.

  --embedded           start a server over a fresh ledger in a temp folder
                       inside this process (loopback, plaintext, synced
                       appends as in production) and remove it afterwards
  --server HOST:PORT   append to a running `caseledger serve`, with the
                       bearer token in --token-file (an appender's) and,
                       for TLS, the CA certificate in --tls-ca
  --clients N          concurrent clients (default 16)
  --seconds S          how long each batch size runs (default 10)
  --batch N[,N...]     events per Append call, one run each (default 1,10)

Subscriber mode appends nothing: N Subscribe streams (a reader's token,
1 <= N <= 100) follow the ledger while other clients append, beside a health
Watch and a health Check every 2 s, and check what a subscriber relies on
(docs/service.md, "Subscribe" and "Lifecycle"). It runs until the server
stops, and fails if it is still running after --seconds.

  --subscribe-case CASE  one more stream, of that case alone
  --pubkey F           the ledger's public key: each checkpoint sent must
                       verify with it
  --target-file F      written by the caller once its appenders stopped,
                       "SIZE [CASE_EVENTS]": every stream over all cases
                       must reach SIZE and no further, and the case's
                       stream hold CASE_EVENTS events
)";

int Usage(const std::string& why) {
  std::fprintf(stderr, "caseledger_load_generator: %s\n%s", why.c_str(),
               kUsage);
  return 2;
}

v1::Event MakeEvent(const std::string& case_id, bool first) {
  std::string json =
      first
          ? absl::StrCat(
                R"({"case_id": ")", case_id,
                R"(", "occurred_at": "2011-01-10T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "load", "case_opened": {"program": "SP", "office_id": "VO-DELHI", "office_mailbox": "visa-office@office.example", "applicant_country": "PH", "language": "en"}})")
          : absl::StrCat(
                R"({"case_id": ")", case_id,
                R"(", "occurred_at": "2011-01-11T10:00:00Z", "actor": {"kind": "OFFICER", "id": "off-17"}, "source": "load", "officer_note_added": {"text": "Called the applicant; no answer. Left a message asking for the documents."}})");
  auto e = ParseEventJson(json);
  if (!e.ok()) std::abort();
  return *e;
}

struct PhaseResult {
  int batch = 0;
  uint64_t calls = 0, events = 0, errors = 0;
  double seconds = 0;
  absl::Duration p50, p99, max;
};

PhaseResult RunPhase(const client::ClientOptions& base, const Flags& flags,
                     int batch, int phase) {
  std::vector<std::vector<absl::Duration>> latencies(flags.clients);
  std::atomic<uint64_t> events{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int i = 0; i < flags.clients; ++i) {
    threads.emplace_back([&, i] {
      auto c = client::LedgerClient::Connect(base);
      if (!c.ok()) {
        ++errors;
        return;
      }
      std::string case_id =
          absl::StrCat("LOAD-", absl::ToUnixMillis(start), "-", phase, "-", i);
      std::vector<v1::Event> events_of_call = {MakeEvent(case_id, true)};
      while (!stop.load()) {
        absl::Time t0 = absl::Now();
        auto r = (*c)->Append(events_of_call);
        absl::Duration took = absl::Now() - t0;
        if (!r.ok()) {
          ++errors;
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          absl::SleepFor(absl::Milliseconds(10));
          continue;
        }
        latencies[i].push_back(took);
        events += r->events.size();
        events_of_call.assign(batch, MakeEvent(case_id, false));
      }
    });
  }
  absl::SleepFor(absl::Seconds(flags.seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  PhaseResult result;
  result.batch = batch;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<absl::Duration> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  result.calls = all.size();
  result.events = events.load();
  result.errors = errors.load();
  if (!all.empty()) {
    result.p50 = all[all.size() / 2];
    result.p99 = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    result.max = all.back();
  }
  return result;
}

// ---- Subscriber mode (--subscribers) ---------------------------------------
//
// What a subscriber may rely on (docs/service.md, "Subscribe"), checked on
// every message:
// - Positions: a stream over every case sends from_position, +1, +2, ...
//   with no gap and no repeat, across the switch from catch-up to live and
//   across resubscribing from the last position + 1; a stream of one case
//   sends only that case's events, positions increasing and case versions
//   1, 2, 3, ...
// - Each event is well formed: event_bytes parse and are `event`; the entry
//   parses and names the same position, case, case version, type and time;
//   its event_digest is SHA-256(salt || event_bytes); recorded_at never
//   decreases; within a case the versions go up by one.
// - caught_up comes once per stream, when every event up to its position is
//   sent; a checkpoint covers only events already sent, its note verifies
//   with the ledger's key (--pubkey) and, for a subscriber that has every
//   leaf from position 1, its root is consistent (RFC 9162 proof from the
//   server, checked here) with the root of the leaves received.
// - At the end (--target-file holds "SIZE [CASE_EVENTS]", written once the
//   appenders stopped) every subscriber over all cases reaches SIZE and no
//   further, and the one-case subscriber has CASE_EVENTS events.
// - When the server stops (SIGTERM), every stream ends UNAVAILABLE, soon.
//
// Health: Check every 2 s must answer SERVING for "" and for
// caseledger.v1.Ledger and NOT_FOUND for another name; one Watch must see
// SERVING at once, no change while the server runs, then NOT_SERVING at the
// stop and end UNAVAILABLE; a Check after that must not say SERVING.
//
// Kinds, by index: kSteady, kReconnecting, kSlow, kLive, then again; with
// --subscribe-case one kCase more.

enum class SubscriberKind { kSteady, kReconnecting, kSlow, kLive, kCase };

const char* KindName(SubscriberKind kind) {
  switch (kind) {
    case SubscriberKind::kSteady:
      return "steady";
    case SubscriberKind::kReconnecting:
      return "reconnecting";
    case SubscriberKind::kSlow:
      return "slow";
    case SubscriberKind::kLive:
      return "live";
    case SubscriberKind::kCase:
      return "case";
  }
  return "?";
}

// One connection of its own per stream (a local subchannel pool): gRPC
// would otherwise share one TCP connection between the process's channels,
// and a slow subscriber is a slow connection in production.
std::shared_ptr<grpc::Channel> OwnChannel(const client::ClientOptions& o) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (o.tls_ca_pem.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = o.tls_ca_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);  // the server's answer limit
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(o.server, credentials, args);
}

std::string CodeText(const grpc::Status& s) {
  return absl::StrCat(static_cast<int>(s.error_code()), " (", s.error_message(),
                      ")");
}

struct Subscriber {
  int index = 0;
  SubscriberKind kind = SubscriberKind::kSteady;
  uint64_t from = 1;  // first position asked for
  // Written by its thread, read by the main and health threads.
  std::atomic<uint64_t> last_position{0};  // of the last event received
  std::atomic<uint64_t> events{0}, streams{0}, checkpoints{0}, stalls{0};
  std::atomic<uint64_t> roots{0};  // checkpoints checked against the leaves
  std::atomic<uint64_t> max_lag{0};
  std::atomic<int64_t> end_ms{-1};  // its stream's end after NOT_SERVING
  std::atomic<bool> done{false};
  absl::Mutex mu;
  // The stream in progress, for cancelling it when the run is abandoned.
  grpc::ClientContext* context ABSL_GUARDED_BY(mu) = nullptr;

  bool every_case() const { return kind != SubscriberKind::kCase; }
  bool has_history() const {
    return kind != SubscriberKind::kLive && kind != SubscriberKind::kCase;
  }
};

struct SubscribeRun {
  const Flags* flags = nullptr;
  client::ClientOptions options;
  std::unique_ptr<client::LedgerClient> client;  // contexts and proofs
  std::optional<VerifierKey> key;
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> ledger_size{0};  // as the health thread last saw it
  std::atomic<uint64_t> target{0};       // 0 until --target-file is read
  std::atomic<uint64_t> target_case_events{0};
  // The target is known: every stream reads at full speed and stays.
  std::atomic<bool> final{false};
  // The Watch saw NOT_SERVING: the server is stopping.
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> not_serving_at_ms{0};
  std::atomic<bool> abandon{false};  // --seconds passed
  std::atomic<uint64_t> health_checks{0}, not_serving_after_stop{0};
  std::atomic<bool> watch_saw_serving{false}, watch_ended_unavailable{false};
  absl::Mutex mu;
  grpc::ClientContext* watch_context ABSL_GUARDED_BY(mu) = nullptr;
  std::string after_stop ABSL_GUARDED_BY(mu) = "not asked";
  std::vector<std::unique_ptr<Subscriber>> subscribers;

  // Counts a failed check or call and prints it (the first 100).
  void Fail(const std::string& what) {
    if (failures.fetch_add(1) < 100) {
      std::fprintf(
          stderr, "subscribe: %s FAILED: %s\n",
          absl::FormatTime("%H:%M:%S", absl::Now(), absl::UTCTimeZone())
              .c_str(),
          what.c_str());
    }
  }
  // True once the server is stopping, waiting up to `wait` for the Watch to
  // say so: a stream may end before the Watch's NOT_SERVING arrives.
  bool StoppingWithin(absl::Duration wait) {
    absl::Time until = absl::Now() + wait;
    while (!stopping.load() && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return stopping.load();
  }
  int64_t MsSinceNotServing() const {
    return absl::ToUnixMillis(absl::Now()) - not_serving_at_ms.load();
  }
};

std::pair<int64_t, int32_t> TimeOf(const google::protobuf::Timestamp& t) {
  return {t.seconds(), t.nanos()};
}

// What one subscriber has seen, across its streams.
struct SubscriberState {
  uint64_t last = 0;  // last position received (or from - 1)
  std::pair<int64_t, int32_t> last_recorded{0, 0};
  std::unordered_map<std::string, uint64_t> versions;  // case -> last version
  std::optional<merkle::MerkleFrontier> frontier;      // leaves 1..last
};

// What is wrong with one event, given what came before it (OK: nothing).
absl::Status EventProblem(const Subscriber& sub, const std::string& case_id,
                          const v1::StoredEvent& s,
                          const SubscriberState& state) {
  const uint64_t p = s.position();
  if (sub.every_case() ? p != state.last + 1 : p <= state.last) {
    return absl::DataLossError(absl::StrCat(
        "position ", p, " after ", state.last,
        sub.every_case() ? " (a gap or a repeat)" : " (not increasing)"));
  }
  auto e = server::FromStoredEvent(s);
  if (!e.ok()) return e.status();
  // Equal messages serialize to equal bytes (no maps in events.proto).
  if (e->event.SerializeAsString() != s.event().SerializeAsString()) {
    return absl::DataLossError(absl::StrCat(
        "position ", p, ": `event` differs from what event_bytes hold"));
  }
  const v1::Event& event = s.event();
  if (event.case_id().empty() || event.event_id().size() != 36 ||
      EventType(event).empty()) {
    return absl::DataLossError(absl::StrCat(
        "position ", p, ": no case id, event id or payload: case '",
        event.case_id(), "', id '", event.event_id(), "'"));
  }
  if (!case_id.empty() && event.case_id() != case_id) {
    return absl::DataLossError(absl::StrCat("position ", p, ": case ",
                                            event.case_id(), " in a stream of ",
                                            case_id));
  }
  v1::LedgerEntry entry;
  if (s.salt().size() != 16 || !entry.ParseFromString(s.entry_bytes())) {
    return absl::DataLossError(
        absl::StrCat("position ", p, ": salt of ", s.salt().size(),
                     " bytes or entry_bytes that do not parse"));
  }
  if (entry.position() != p || entry.case_version() != s.case_version() ||
      entry.case_id() != event.case_id() ||
      entry.event_type() != EventType(event) ||
      TimeOf(entry.recorded_at()) != TimeOf(s.recorded_at())) {
    return absl::DataLossError(absl::StrCat(
        "position ", p, ": the entry says position ", entry.position(),
        ", case ", entry.case_id(), " version ", entry.case_version(), ", ",
        entry.event_type(), "; the message says version ", s.case_version(),
        ", ", EventType(event), " (or their recorded_at differ)"));
  }
  if (entry.event_digest() != DigestBytes(Sha256(s.salt(), s.event_bytes()))) {
    return absl::DataLossError(absl::StrCat(
        "position ", p, ": event_digest is not SHA-256(salt || event_bytes)"));
  }
  if (TimeOf(s.recorded_at()) < state.last_recorded) {
    return absl::DataLossError(
        absl::StrCat("position ", p, ": recorded_at goes back in time"));
  }
  auto it = state.versions.find(event.case_id());
  const uint64_t before = it == state.versions.end() ? 0 : it->second;
  // A live subscriber meets cases halfway; everyone else from version 1.
  const bool any_start =
      it == state.versions.end() && !sub.has_history() && sub.every_case();
  if (!any_start && s.case_version() != before + 1) {
    return absl::DataLossError(
        absl::StrCat("position ", p, ": case ", event.case_id(), " version ",
                     s.case_version(), " after version ", before));
  }
  return absl::OkStatus();
}

// Checks one event and moves the state on to it, whether it is right or not,
// so that one wrong event is reported once rather than again with each
// event after it. The leaves are then no longer all there to check
// checkpoints against.
absl::Status CheckEvent(const Subscriber& sub, const std::string& case_id,
                        const v1::StoredEvent& s, SubscriberState& state) {
  absl::Status problem = EventProblem(sub, case_id, s, state);
  state.last = s.position();
  state.versions[s.event().case_id()] = s.case_version();
  state.last_recorded = std::max(state.last_recorded, TimeOf(s.recorded_at()));
  if (!problem.ok()) {
    state.frontier.reset();
  } else if (state.frontier) {
    state.frontier->Append(merkle::LeafHash(s.entry_bytes()));
  }
  return problem;
}

// Checks a checkpoint message; `previous` is the last one of this stream.
absl::Status CheckCheckpoint(SubscribeRun& run, Subscriber& sub,
                             const v1::Checkpoint& c, uint64_t previous,
                             const SubscriberState& state) {
  if (c.tree_size() <= previous) {
    return absl::DataLossError(absl::StrCat("checkpoint of size ",
                                            c.tree_size(), " after one of ",
                                            previous, " in the same stream"));
  }
  if (sub.every_case() && c.tree_size() > state.last) {
    return absl::DataLossError(
        absl::StrCat("checkpoint of size ", c.tree_size(),
                     " when only position ", state.last, " was sent"));
  }
  absl::StatusOr<Checkpoint> cp = run.key ? VerifyCheckpoint(c.note(), *run.key)
                                          : ParseCheckpointBody(c.note());
  if (!cp.ok()) return cp.status();
  if (cp->tree_size != c.tree_size()) {
    return absl::DataLossError(absl::StrCat("checkpoint note of size ",
                                            cp->tree_size, " sent as size ",
                                            c.tree_size()));
  }
  if (!state.frontier || state.frontier->size() != state.last) {
    return absl::OkStatus();
  }
  const uint64_t have = state.frontier->size();
  std::vector<merkle::Hash> proof;
  if (cp->tree_size < have) {
    auto wire = run.client->GetConsistencyProof(cp->tree_size, have);
    if (!wire.ok()) {
      return absl::Status(
          wire.status().code(),
          absl::StrCat("GetConsistencyProof(", cp->tree_size, ", ", have,
                       "): ", wire.status().message()));
    }
    for (const std::string& h : wire->hashes()) {
      auto d = DigestFromBytes(h);
      if (!d) return absl::DataLossError("a proof hash of other than 32 bytes");
      proof.push_back(*d);
    }
  }
  absl::Status consistent = merkle::VerifyConsistency(
      cp->tree_size, have, cp->root_hash, state.frontier->Root(), proof);
  if (!consistent.ok()) {
    return absl::DataLossError(
        absl::StrCat("the checkpoint of size ", cp->tree_size,
                     " does not match the leaves received up to ", have, ": ",
                     consistent.message()));
  }
  ++sub.roots;
  return absl::OkStatus();
}

void RunSubscriber(SubscribeRun& run, Subscriber& sub) {
  auto stub = v1::Ledger::NewStub(OwnChannel(run.options));
  const std::string case_id =
      sub.kind == SubscriberKind::kCase ? run.flags->subscribe_case : "";
  const bool leaves = sub.kind == SubscriberKind::kReconnecting ||
                      sub.kind == SubscriberKind::kLive ||
                      sub.kind == SubscriberKind::kCase;
  SubscriberState state;
  state.last = sub.from - 1;
  if (sub.has_history()) state.frontier.emplace();
  sub.last_position = state.last;
  std::mt19937 random(sub.index + 1);
  // The slow subscriber's cycle: stops reading for kStall (the server's
  // writes block on flow control), reads a message per 2 ms for kSlowRead,
  // then at full speed until it is close behind again.
  constexpr absl::Duration kStall = absl::Seconds(20);
  constexpr absl::Duration kSlowRead = absl::Seconds(10);
  enum class Phase { kFast, kSlowRead } phase = Phase::kFast;
  absl::Time phase_since = absl::Now();
  while (!run.abandon.load()) {
    auto context = run.client->NewContext(absl::InfiniteFuture());
    {
      absl::MutexLock lock(&sub.mu);
      sub.context = context.get();
    }
    v1::SubscribeRequest request;
    request.set_from_position(state.last + 1);
    request.set_case_id(case_id);
    const uint64_t from = state.last + 1;
    ++sub.streams;
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
        stub->Subscribe(context.get(), request);
    const absl::Time leave_at =
        absl::Now() + absl::Milliseconds(3000 + random() % 9000);
    bool left = false, caught_up = false;
    uint64_t checkpoint_size = 0;
    v1::SubscribeResponse m;
    while (reader->Read(&m)) {
      // Built only for a failure: this loop runs for every event.
      auto who = [&] {
        return absl::StrCat("subscriber ", sub.index, " (", KindName(sub.kind),
                            ", stream from ", from, "): ");
      };
      switch (m.message_case()) {
        case v1::SubscribeResponse::kEvent: {
          absl::Status ok = CheckEvent(sub, case_id, m.event(), state);
          if (!ok.ok()) run.Fail(who() + std::string(ok.message()));
          sub.last_position = state.last;
          ++sub.events;
          break;
        }
        case v1::SubscribeResponse::kCaughtUp: {
          const uint64_t at = m.caught_up().position();
          if (caught_up || at + 1 < from ||
              (sub.every_case() ? at != state.last : at < state.last)) {
            run.Fail(absl::StrCat(who(), caught_up ? "a second " : "",
                                  "caught_up at ", at, " after position ",
                                  state.last));
          }
          caught_up = true;
          break;
        }
        case v1::SubscribeResponse::kCheckpoint: {
          absl::Status ok =
              CheckCheckpoint(run, sub, m.checkpoint(), checkpoint_size, state);
          if (!ok.ok()) {
            // The server stopping may fail the proof's call.
            if (!(absl::IsUnavailable(ok) &&
                  run.StoppingWithin(absl::Seconds(5)))) {
              run.Fail(who() + std::string(ok.message()));
            }
          } else {
            ++sub.checkpoints;
          }
          checkpoint_size = m.checkpoint().tree_size();
          break;
        }
        default:
          run.Fail(who() +
                   "a message with neither event, caught_up nor checkpoint");
      }
      if (sub.kind == SubscriberKind::kSlow && !run.final.load()) {
        const absl::Duration in_phase = absl::Now() - phase_since;
        if (phase == Phase::kSlowRead) {
          absl::SleepFor(absl::Milliseconds(2));
          if (in_phase >= kSlowRead) {
            phase = Phase::kFast;
            phase_since = absl::Now();
          }
        } else if (in_phase >= absl::Seconds(5) &&
                   (run.ledger_size.load() < state.last + 2000 ||
                    in_phase >= absl::Minutes(1))) {
          // Close behind again (or a minute passed): stop reading.
          ++sub.stalls;
          const absl::Time until = absl::Now() + kStall;
          while (absl::Now() < until && !run.final.load() &&
                 !run.abandon.load()) {
            absl::SleepFor(absl::Milliseconds(100));
          }
          phase = Phase::kSlowRead;
          phase_since = absl::Now();
        }
      }
      if (leaves && !run.final.load() && !run.stopping.load() &&
          absl::Now() >= leave_at) {
        context->TryCancel();
        left = true;
        break;
      }
    }
    const grpc::Status end = reader->Finish();
    {
      absl::MutexLock lock(&sub.mu);
      sub.context = nullptr;
    }
    if (run.abandon.load()) break;
    if (left) {
      if (end.error_code() != grpc::StatusCode::CANCELLED) {
        run.Fail(absl::StrCat("subscriber ", sub.index,
                              ": a stream it left "
                              "ended with ",
                              CodeText(end), ", not CANCELLED"));
      }
      continue;  // from the last position + 1
    }
    // Only the server's stop may end a stream the client did not leave.
    if (end.error_code() == grpc::StatusCode::UNAVAILABLE &&
        run.StoppingWithin(absl::Seconds(5))) {
      // 0 when the stream ended before the Watch's NOT_SERVING arrived.
      sub.end_ms = std::max<int64_t>(0, run.MsSinceNotServing());
      break;
    }
    run.Fail(absl::StrCat("subscriber ", sub.index, " (", KindName(sub.kind),
                          "): its stream from ", from, " ended with ",
                          CodeText(end), " after position ", state.last,
                          " without the server stopping"));
    if (run.stopping.load()) break;
    absl::SleepFor(absl::Seconds(1));
  }
  sub.done = true;
}

// One Watch for the whole run (reopened if it ends while the server runs).
void RunWatch(SubscribeRun& run) {
  namespace health = grpc::health::v1;
  auto stub = health::Health::NewStub(OwnChannel(run.options));
  while (!run.abandon.load() && !run.stopping.load()) {
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&run.mu);
      run.watch_context = &context;
    }
    health::HealthCheckRequest request;  // "": the server as a whole
    auto reader = stub->Watch(&context, request);
    health::HealthCheckResponse r;
    int seen = 0;
    bool not_serving = false;
    while (reader->Read(&r)) {
      ++seen;
      const auto status = r.status();
      if (seen == 1 && status == health::HealthCheckResponse::SERVING) {
        run.watch_saw_serving = true;
      } else if (!not_serving &&
                 status == health::HealthCheckResponse::NOT_SERVING) {
        not_serving = true;
        run.not_serving_at_ms = absl::ToUnixMillis(absl::Now());
        run.stopping = true;
        if (!run.final.load()) {
          run.Fail("the health Watch saw NOT_SERVING while the load ran");
        }
      } else {
        run.Fail(absl::StrCat(
            "the health Watch's message ", seen, " is ",
            health::HealthCheckResponse::ServingStatus_Name(status),
            not_serving ? " after NOT_SERVING"
                        : " (SERVING first, then changes only)"));
      }
    }
    const grpc::Status end = reader->Finish();
    {
      absl::MutexLock lock(&run.mu);
      run.watch_context = nullptr;
    }
    if (run.abandon.load()) break;
    if (not_serving && end.error_code() == grpc::StatusCode::UNAVAILABLE) {
      run.watch_ended_unavailable = true;
      break;
    }
    run.Fail(absl::StrCat("the health Watch ended with ", CodeText(end),
                          not_serving ? " after NOT_SERVING, not UNAVAILABLE"
                                      : " before NOT_SERVING"));
    if (!run.stopping.load()) absl::SleepFor(absl::Seconds(1));
  }
}

// Health Check and the ledger's size every 2 s while the server runs; then
// Check until the server no longer answers, none of which may say SERVING.
void RunHealthChecks(SubscribeRun& run) {
  namespace health = grpc::health::v1;
  auto stub = health::Health::NewStub(OwnChannel(run.options));
  auto check = [&](const std::string& service, health::HealthCheckResponse* r) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    health::HealthCheckRequest request;
    request.set_service(service);
    return stub->Check(&context, request, r);
  };
  while (!run.abandon.load() && !run.stopping.load()) {
    for (const std::string service : {"", "caseledger.v1.Ledger"}) {
      health::HealthCheckResponse r;
      grpc::Status s = check(service, &r);
      if (s.ok() && r.status() == health::HealthCheckResponse::SERVING) {
        ++run.health_checks;
        continue;
      }
      if (run.StoppingWithin(absl::Seconds(2))) break;
      run.Fail(absl::StrCat(
          "health Check('", service, "') while the server runs: ",
          s.ok() ? health::HealthCheckResponse::ServingStatus_Name(r.status())
                 : CodeText(s)));
    }
    {
      health::HealthCheckResponse r;
      grpc::Status s = check("caseledger.v1.NoSuchService", &r);
      if (s.error_code() != grpc::StatusCode::NOT_FOUND &&
          !run.StoppingWithin(absl::Seconds(2))) {
        run.Fail(absl::StrCat("health Check of an unknown service: ",
                              CodeText(s), ", not NOT_FOUND"));
      }
    }
    if (run.stopping.load()) break;
    // The size through a consistency proof, which signs nothing.
    auto proof = run.client->GetConsistencyProof(1, 0);
    if (proof.ok()) {
      run.ledger_size = proof->new_size();
      for (auto& sub : run.subscribers) {
        if (!sub->every_case()) continue;
        uint64_t last = sub->last_position.load();
        uint64_t lag = proof->new_size() > last ? proof->new_size() - last : 0;
        if (lag > sub->max_lag.load()) sub->max_lag = lag;
      }
    } else if (!run.StoppingWithin(absl::Seconds(2))) {
      run.Fail(absl::StrCat("GetConsistencyProof(1, 0): ",
                            proof.status().ToString()));
    }
    absl::Time next = absl::Now() + absl::Seconds(2);
    while (absl::Now() < next && !run.stopping.load() && !run.abandon.load()) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  if (!run.stopping.load()) return;
  // The Watch saw NOT_SERVING: no Check from now on may say SERVING.
  absl::Time until = absl::Now() + absl::Seconds(10);
  std::string after = "still answering after 10 s";
  while (absl::Now() < until && !run.abandon.load()) {
    health::HealthCheckResponse r;
    grpc::Status s = check("", &r);
    if (!s.ok()) {
      after = absl::StrCat("then ", CodeText(s));
      break;
    }
    if (r.status() == health::HealthCheckResponse::NOT_SERVING) {
      ++run.not_serving_after_stop;
    } else {
      run.Fail(absl::StrCat(
          "health Check says ",
          health::HealthCheckResponse::ServingStatus_Name(r.status()),
          " after the Watch saw NOT_SERVING"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::MutexLock lock(&run.mu);
  run.after_stop = after;
}

// "SIZE [CASE_EVENTS]" once the file is complete (written elsewhere and
// renamed into place); nullopt before.
std::optional<std::pair<uint64_t, uint64_t>> ReadTarget(
    const std::string& file) {
  std::ifstream in(file);
  uint64_t size = 0, case_events = 0;
  if (!(in >> size) || size == 0) return std::nullopt;
  in >> case_events;
  return std::make_pair(size, case_events);
}

int RunSubscribers(const Flags& flags, client::ClientOptions options) {
  SubscribeRun run;
  run.flags = &flags;
  run.options = options;
  auto c = client::LedgerClient::Connect(options);
  if (!c.ok()) return Usage(std::string(c.status().message()));
  run.client = std::move(*c);
  if (!flags.pubkey.empty()) {
    std::ifstream in(flags.pubkey);
    std::stringstream text;
    text << in.rdbuf();
    auto key = ParseVerifierKey(text.str());
    if (!key.ok()) {
      return Usage(absl::StrCat("--pubkey ", flags.pubkey, ": ",
                                key.status().message()));
    }
    run.key = *key;
  }
  auto size = run.client->GetConsistencyProof(1, 0);
  if (!size.ok()) {
    std::fprintf(stderr, "subscribe: the ledger's size: %s\n",
                 size.status().ToString().c_str());
    return 1;
  }
  run.ledger_size = size->new_size();
  const int n = flags.subscribers + (flags.subscribe_case.empty() ? 0 : 1);
  for (int i = 0; i < n; ++i) {
    auto sub = std::make_unique<Subscriber>();
    sub->index = i;
    sub->kind = i == flags.subscribers ? SubscriberKind::kCase
                                       : static_cast<SubscriberKind>(i % 4);
    // The live one starts past what the ledger holds now.
    sub->from = sub->kind == SubscriberKind::kLive ? size->new_size() + 1 : 1;
    run.subscribers.push_back(std::move(sub));
  }
  std::printf("subscribers: %d on %s from ledger size %llu%s\n", n,
              options.server.c_str(),
              static_cast<unsigned long long>(size->new_size()),
              run.key ? ", checkpoints verified with --pubkey" : "");
  std::fflush(stdout);
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (auto& sub : run.subscribers) {
    threads.emplace_back([&run, s = sub.get()] { RunSubscriber(run, *s); });
  }
  std::thread watch([&run] { RunWatch(run); });
  std::thread checks([&run] { RunHealthChecks(run); });

  auto all_done = [&] {
    for (auto& sub : run.subscribers) {
      if (!sub->done.load()) return false;
    }
    return true;
  };
  absl::Time target_at = absl::InfiniteFuture(), status_at = start;
  bool announced = false;
  while (!all_done()) {
    absl::SleepFor(absl::Milliseconds(200));
    const absl::Time now = absl::Now();
    if (now - status_at >= absl::Seconds(30)) {
      status_at = now;
      std::string line =
          absl::StrCat("subscribers at ", absl::ToInt64Seconds(now - start),
                       " s, ledger size ", run.ledger_size.load(), ":");
      for (auto& sub : run.subscribers) {
        absl::StrAppend(&line, " ", sub->index, "@", sub->last_position.load());
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
    if (run.target.load() == 0 && !flags.target_file.empty()) {
      if (auto t = ReadTarget(flags.target_file)) {
        run.target_case_events = t->second;
        run.target = t->first;
        run.final = true;
        target_at = now;
        std::printf("subscribers: target size %llu, case events %llu\n",
                    static_cast<unsigned long long>(t->first),
                    static_cast<unsigned long long>(t->second));
        std::fflush(stdout);
      }
    }
    if (run.target.load() != 0 && !announced) {
      bool there = true;
      for (auto& sub : run.subscribers) {
        there = there &&
                (sub->every_case()
                     ? sub->last_position.load() >= run.target.load()
                     : sub->events.load() >= run.target_case_events.load());
      }
      if (there || now - target_at > absl::Minutes(5)) {
        announced = true;
        if (!there) {
          run.Fail(absl::StrCat("not every subscriber reached size ",
                                run.target.load(), " within 5 minutes"));
        }
        // The soak stops the server once it reads this line.
        std::printf("subscribers: %s at size %llu after %.1f s\n",
                    there ? "all" : "NOT all",
                    static_cast<unsigned long long>(run.target.load()),
                    absl::ToDoubleSeconds(now - target_at));
        std::fflush(stdout);
      }
    }
    if (now - start > absl::Seconds(flags.seconds)) {
      run.Fail(absl::StrCat("still running after --seconds ", flags.seconds,
                            "; abandoned"));
      run.abandon = true;
      for (auto& sub : run.subscribers) {
        absl::MutexLock lock(&sub->mu);
        if (sub->context != nullptr) sub->context->TryCancel();
      }
      absl::MutexLock lock(&run.mu);
      if (run.watch_context != nullptr) run.watch_context->TryCancel();
      break;
    }
  }
  for (std::thread& t : threads) t.join();
  // The streams ended with the server's stop; the Watch ends with it too.
  if (!run.abandon.load() && !run.StoppingWithin(absl::Seconds(10))) {
    run.Fail("every stream ended, yet the Watch never saw NOT_SERVING");
  }
  if (!run.stopping.load()) {
    run.abandon = true;
    absl::MutexLock lock(&run.mu);
    if (run.watch_context != nullptr) run.watch_context->TryCancel();
  }
  watch.join();
  checks.join();

  std::printf(
      "| subscriber | kind | from | streams | events | last position | "
      "checkpoints verified | roots checked | max lag | stalls | end after "
      "NOT_SERVING |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (auto& sub : run.subscribers) {
    std::printf(
        "| %d | %s | %llu | %llu | %llu | %llu | %llu | %llu | %llu | %llu | "
        "%lld ms |\n",
        sub->index, KindName(sub->kind),
        static_cast<unsigned long long>(sub->from),
        static_cast<unsigned long long>(sub->streams.load()),
        static_cast<unsigned long long>(sub->events.load()),
        static_cast<unsigned long long>(sub->last_position.load()),
        static_cast<unsigned long long>(sub->checkpoints.load()),
        static_cast<unsigned long long>(sub->roots.load()),
        static_cast<unsigned long long>(sub->max_lag.load()),
        static_cast<unsigned long long>(sub->stalls.load()),
        static_cast<long long>(sub->end_ms.load()));
    if (run.target.load() == 0 || run.abandon.load()) continue;
    if (sub->every_case() && sub->last_position.load() != run.target.load()) {
      run.Fail(absl::StrCat("subscriber ", sub->index, " received up to ",
                            sub->last_position.load(), "; the ledger held ",
                            run.target.load()));
    }
    if (!sub->every_case() &&
        sub->events.load() != run.target_case_events.load()) {
      run.Fail(absl::StrCat("subscriber ", sub->index, " received ",
                            sub->events.load(), " events of ",
                            flags.subscribe_case, "; it holds ",
                            run.target_case_events.load()));
    }
    // Within 200 ms by docs/service.md; 5 s leaves room on a busy machine.
    if (sub->end_ms.load() < 0 || sub->end_ms.load() > 5000) {
      run.Fail(absl::StrCat("subscriber ", sub->index, "'s stream ended ",
                            sub->end_ms.load(),
                            " ms after NOT_SERVING (-1: not by the stop)"));
    }
  }
  if (!run.watch_saw_serving.load()) {
    run.Fail("the health Watch never began with SERVING");
  }
  if (!run.abandon.load() && !run.watch_ended_unavailable.load()) {
    run.Fail("the health Watch did not end UNAVAILABLE after NOT_SERVING");
  }
  {
    absl::MutexLock lock(&run.mu);
    std::printf(
        "health: %llu Checks SERVING while running; Watch: %s, %s; after "
        "NOT_SERVING %llu Checks answered NOT_SERVING, %s\n",
        static_cast<unsigned long long>(run.health_checks.load()),
        run.watch_saw_serving.load() ? "SERVING" : "no SERVING",
        run.watch_ended_unavailable.load() ? "NOT_SERVING, UNAVAILABLE"
                                           : "no clean end",
        static_cast<unsigned long long>(run.not_serving_after_stop.load()),
        run.after_stop.c_str());
  }
  std::fflush(stdout);
  if (run.failures.load() > 0) {
    std::fprintf(stderr,
                 "load generator: %llu subscriber or health checks failed "
                 "(their errors are above)\n",
                 static_cast<unsigned long long>(run.failures.load()));
    return 1;
  }
  return 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--embedded") {
      flags.embedded = true;
    } else if (a == "--server") {
      flags.server = value();
    } else if (a == "--token-file") {
      flags.token_file = value();
    } else if (a == "--tls-ca") {
      flags.tls_ca = value();
    } else if (a == "--clients") {
      if (!absl::SimpleAtoi(value(), &flags.clients) || flags.clients < 1)
        return Usage("--clients N, N >= 1");
    } else if (a == "--seconds") {
      if (!absl::SimpleAtod(value(), &flags.seconds) || flags.seconds <= 0)
        return Usage("--seconds S, S > 0");
    } else if (a == "--subscribers") {
      if (!absl::SimpleAtoi(value(), &flags.subscribers) ||
          flags.subscribers < 1 || flags.subscribers > 100)
        return Usage("--subscribers N, 1 <= N <= 100");
    } else if (a == "--subscribe-case") {
      flags.subscribe_case = value();
    } else if (a == "--pubkey") {
      flags.pubkey = value();
    } else if (a == "--target-file") {
      flags.target_file = value();
    } else if (a == "--batch") {
      flags.batches.clear();
      for (absl::string_view b : absl::StrSplit(value(), ',')) {
        int n;
        if (!absl::SimpleAtoi(b, &n) || n < 1 || n > 10000)
          return Usage("--batch N[,N...], 1 <= N <= 10000");
        flags.batches.push_back(n);
      }
    } else {
      return Usage(absl::StrCat("unknown argument ", a));
    }
  }
  if (flags.embedded == !flags.server.empty()) {
    return Usage("give exactly one of --embedded or --server");
  }
  if (flags.subscribers == 0 &&
      !(flags.subscribe_case.empty() && flags.pubkey.empty() &&
        flags.target_file.empty())) {
    return Usage(
        "--subscribe-case, --pubkey and --target-file need --subscribers");
  }
  if (flags.subscribers > 0 && flags.embedded) {
    return Usage("--subscribers follows a running server (--server)");
  }

  client::ClientOptions options;
  options.append_retries = 0;
  options.timeout = absl::Seconds(30);
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<server::Server> server;
  server::TokenTable tokens;
  std::string dir;
  if (flags.embedded) {
    dir = (std::filesystem::temp_directory_path() /
           absl::StrCat("caseledger-load-", getpid()))
              .string();
    auto created = Ledger::Create(dir, "load.test/log");
    if (!created.ok()) return Usage(std::string(created.status().message()));
    ledger = std::move(*created);
    auto token = server::NewToken();
    if (!token.ok()) return Usage(std::string(token.status().message()));
    auto table = server::TokenTable::Parse(
        server::TokenFileLine(server::Role::kAppender, "load", *token), "t");
    if (!table.ok()) return Usage(std::string(table.status().message()));
    tokens = std::move(*table);
    server::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.service.ledger = ledger.get();
    server_options.service.tokens = &tokens;
    server_options.service.clock = &SystemClock();
    auto started = server::Server::Start(std::move(server_options));
    if (!started.ok()) return Usage(std::string(started.status().message()));
    server = std::move(*started);
    options.server = server->address();
    options.token = *token;
  } else {
    options.server = flags.server;
    auto token = server::ReadClientToken(flags.token_file);
    if (!token.ok()) return Usage(std::string(token.status().message()));
    options.token = *token;
    if (!flags.tls_ca.empty()) {
      std::ifstream in(flags.tls_ca);
      std::stringstream s;
      s << in.rdbuf();
      options.tls_ca_pem = s.str();
    }
  }

  if (flags.subscribers > 0) return RunSubscribers(flags, options);

  std::printf("server %s, %d clients, %.0f s per phase%s\n",
              options.server.c_str(), flags.clients, flags.seconds,
              flags.embedded ? " (embedded, synced appends)" : "");
  std::printf(
      "| events per Append | clients | events/s | Appends/s | p50 "
      "latency | p99 latency | max | errors |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int phase = 0;
  uint64_t failed = 0;
  for (int batch : flags.batches) {
    PhaseResult r = RunPhase(options, flags, batch, phase++);
    failed += r.errors;
    std::printf(
        "| %d | %d | %.0f | %.0f | %.2f ms | %.2f ms | %.2f ms | %llu "
        "|\n",
        r.batch, flags.clients, r.events / r.seconds, r.calls / r.seconds,
        absl::ToDoubleMilliseconds(r.p50), absl::ToDoubleMilliseconds(r.p99),
        absl::ToDoubleMilliseconds(r.max),
        static_cast<unsigned long long>(r.errors));
    std::fflush(stdout);
  }
  if (ledger != nullptr) {
    Ledger::Stats stats = ledger->GetStats();
    std::printf(
        "ledger: %llu appends in %llu synced writes (%.1f appends "
        "per sync)\n",
        static_cast<unsigned long long>(stats.appends),
        static_cast<unsigned long long>(stats.writes),
        stats.writes ? static_cast<double>(stats.appends) / stats.writes : 0.0);
    server->Shutdown(absl::Seconds(5));
    server.reset();
    ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  // A run whose calls failed measured something else than the server's
  // appends; a script must not take it for a good one.
  if (failed > 0) {
    std::fprintf(stderr,
                 "load generator: %llu calls failed (their errors are above)\n",
                 static_cast<unsigned long long>(failed));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace caseledger

int main(int argc, char** argv) { return caseledger::Main(argc, argv); }
